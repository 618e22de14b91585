//! The compiled router: every keyword of every server in one Aho-Corasick automaton; patterns
//! behind one literal automaton (and one regex set for those without literals); a prompt is
//! scanned once per automaton whatever the number of servers.

use super::inflect::{self, Form};
use super::prefilter::Prefilter;
use crate::config::Rules;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a point of a score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A configured or built-in keyword.
    Keyword,
    /// A regex pattern.
    Pattern,
    /// A word from the server's live tool catalog.
    Catalog,
    /// A negative keyword (points taken away).
    Negative,
}

/// One server as the engine is built from it.
pub struct ServerInput {
    /// Its name.
    pub name: Arc<str>,
    /// Keywords, patterns and negative keywords.
    pub rules: Rules,
    /// Its tools: (exposed name, words derived from name and description).
    pub tools: Vec<(Arc<str>, Vec<String>)>,
}

/// What one automaton pattern stands for.
#[derive(Debug)]
struct Term {
    /// The keyword as configured (the first one that gave this stem).
    text: Arc<str>,
    form: Form,
    /// (server, weight, kind, tool index for catalog terms)
    hits: Vec<(u32, f64, Kind, Option<u32>)>,
}

/// One pattern of the regex set.
#[derive(Debug)]
struct Pattern {
    source: Arc<str>,
    server: u32,
    weight: f64,
    regex: Regex,
}

/// A match that counted.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// keyword | pattern | catalog | negative
    pub kind: Kind,
    /// The rule term (keyword or regex source).
    pub term: Arc<str>,
    /// Byte offsets in the prompt.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// Points it gave (negative for negative keywords).
    pub points: f64,
}

/// One server's score for a prompt.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// Server name.
    pub server: Arc<str>,
    /// Sum of its matches' points.
    pub score: f64,
    /// Every match that counted.
    pub matches: Vec<Match>,
    /// Its tools that the prompt matched best, best first (at most three).
    pub tools: Vec<Arc<str>>,
    /// Every tool of it the prompt matched, with the catalog points it earned, best first.
    #[serde(skip)]
    pub tool_scores: Vec<(Arc<str>, f64)>,
    /// Position of the server in the configuration.
    #[serde(skip)]
    pub index: usize,
}

/// The compiled rules of every server.
pub struct Engine {
    servers: Vec<Arc<str>>,
    tools: Vec<Vec<Arc<str>>>,
    automaton: Option<AhoCorasick>,
    terms: Vec<Term>,
    gate: Prefilter,
    patterns: Vec<Pattern>,
}

impl Engine {
    /// Compile. Patterns were validated when the configuration loaded; one that still fails is
    /// skipped with a warning rather than taking routing down.
    pub fn build(inputs: &[ServerInput], catalog_weight: f64) -> Engine {
        let mut by_stem: HashMap<String, usize> = HashMap::new();
        let mut terms: Vec<Term> = Vec::new();
        let mut add = |word: &str, hit: (u32, f64, Kind, Option<u32>)| {
            let form = inflect::form(word);
            if form.stem.is_empty() {
                return;
            }
            let i = *by_stem.entry(form.stem.clone()).or_insert_with(|| {
                terms.push(Term {
                    text: Arc::from(word.trim().to_lowercase()),
                    form,
                    hits: Vec::new(),
                });
                terms.len() - 1
            });
            terms[i].hits.push(hit);
        };
        let mut patterns = Vec::new();
        for (s, input) in inputs.iter().enumerate() {
            let s = s as u32;
            for k in &input.rules.keywords {
                add(&k.text, (s, k.weight, Kind::Keyword, None));
            }
            for k in &input.rules.negative {
                add(&k.text, (s, k.weight, Kind::Negative, None));
            }
            if catalog_weight > 0.0 {
                for (t, (_, words)) in input.tools.iter().enumerate() {
                    for w in words {
                        add(w, (s, catalog_weight, Kind::Catalog, Some(t as u32)));
                    }
                }
            }
            for p in &input.rules.patterns {
                match regex::RegexBuilder::new(&p.text)
                    .case_insensitive(true)
                    .build()
                {
                    Ok(regex) => patterns.push(Pattern {
                        source: Arc::from(p.text.as_str()),
                        server: s,
                        weight: p.weight,
                        regex,
                    }),
                    Err(e) => {
                        tracing::warn!(server = %input.name, pattern = %p.text, "skipping a pattern that does not compile: {e}")
                    }
                }
            }
        }
        let automaton = (!terms.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                // A full DFA: the fastest scan, and the cost per byte stays flat as the automaton grows.
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(terms.iter().map(|t| t.form.stem.as_str()))
                .expect("an automaton over plain strings builds")
        });
        let gate = Prefilter::build(
            &patterns
                .iter()
                .map(|p| p.regex.as_str())
                .collect::<Vec<_>>(),
        );
        Engine {
            servers: inputs.iter().map(|i| i.name.clone()).collect(),
            tools: inputs
                .iter()
                .map(|i| i.tools.iter().map(|(n, _)| n.clone()).collect())
                .collect(),
            automaton,
            terms,
            gate,
            patterns,
        }
    }

    /// Server names, in configuration order.
    pub fn servers(&self) -> &[Arc<str>] {
        &self.servers
    }

    /// Score every server for `prompt`: deterministic, ties broken by configuration order, every
    /// point traceable to a match. Servers without points are left out.
    pub fn score(&self, prompt: &str) -> Vec<Scored> {
        let bytes = prompt.as_bytes();
        let mut spans: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, term)
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(prompt) {
                let (start, stem_end) = (m.start(), m.end());
                if start > 0 && inflect::is_word_byte(bytes[start - 1]) {
                    continue; // inside a word: "time" in "sometimes"
                }
                let mut end = stem_end;
                while end < bytes.len() && inflect::is_word_byte(bytes[end]) {
                    end += 1;
                }
                let term = &self.terms[m.pattern().as_usize()];
                let rest = prompt[stem_end..end].to_ascii_lowercase();
                if inflect::accepts(&term.form, &rest) {
                    spans.push((start, end, m.pattern().as_usize()));
                }
            }
        }
        // A phrase wins over the words inside it ("pull request" over "request").
        let kept: Vec<(usize, usize, usize)> = spans
            .iter()
            .copied()
            .filter(|&(s, e, _)| {
                !spans
                    .iter()
                    .any(|&(s2, e2, _)| s2 <= s && e <= e2 && (e2 - s2) > (e - s))
            })
            .collect();
        // Only servers with a match get an entry: the cost follows the prompt, not the server count.
        let mut per: HashMap<u32, Scored> = HashMap::new();
        let mut tool_points: HashMap<(u32, u32), f64> = HashMap::new();
        let mut counted: std::collections::HashSet<(u32, usize, Kind)> =
            std::collections::HashSet::new();
        for (start, end, t) in kept {
            for &(server, weight, kind, tool) in &self.terms[t].hits {
                if let Some(tool) = tool {
                    *tool_points.entry((server, tool)).or_default() += weight;
                }
                // Each term counts once per server and kind, however often it occurs.
                if !counted.insert((server, t, kind)) {
                    continue;
                }
                let points = if kind == Kind::Negative {
                    -weight
                } else {
                    weight
                };
                let entry = self.entry(&mut per, server);
                entry.score += points;
                entry.matches.push(Match {
                    kind,
                    term: self.terms[t].text.clone(),
                    start,
                    end,
                    points,
                });
            }
        }
        {
            for (i, from) in self.gate.candidates(prompt) {
                let p = &self.patterns[i];
                let Some(m) = p.regex.find_at(prompt, from) else {
                    continue;
                };
                let entry = self.entry(&mut per, p.server);
                entry.score += p.weight;
                entry.matches.push(Match {
                    kind: Kind::Pattern,
                    term: p.source.clone(),
                    start: m.start(),
                    end: m.end(),
                    points: p.weight,
                });
            }
        }
        let mut ranked: Vec<Scored> = per.into_values().filter(|s| s.score > 0.0).collect();
        for s in &mut ranked {
            s.score = (s.score * 1000.0).round() / 1000.0;
            s.matches.sort_by_key(|m| (m.start, m.end));
            let mut tools: Vec<(u32, f64)> = tool_points
                .iter()
                .filter(|((srv, _), _)| *srv as usize == s.index)
                .map(|((_, t), p)| (*t, *p))
                .collect();
            tools.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            s.tool_scores = tools
                .iter()
                .map(|(t, p)| (self.tools[s.index][*t as usize].clone(), *p))
                .collect();
            s.tools = s
                .tool_scores
                .iter()
                .take(3)
                .map(|(t, _)| t.clone())
                .collect();
        }
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        ranked
    }

    fn entry<'a>(&self, per: &'a mut HashMap<u32, Scored>, server: u32) -> &'a mut Scored {
        per.entry(server).or_insert_with(|| Scored {
            server: self.servers[server as usize].clone(),
            score: 0.0,
            matches: Vec::new(),
            tools: Vec::new(),
            tool_scores: Vec::new(),
            index: server as usize,
        })
    }
}

#[cfg(test)]
mod tests;
