//! The compiled router: every keyword of every server in one Aho-Corasick automaton; patterns
//! behind one literal automaton (and one regex set for those without literals); a prompt is
//! scanned once per automaton whatever the number of servers.

use super::context::{self, Implied};
use super::fuzzy::{self, Fuzzy};
use super::inflect::{self, Form};
use super::prefilter::Prefilter;
use super::spans::outermost;
use crate::config::Rules;
use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
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
    /// A keyword or catalog word the prompt has with a typo ([`super::fuzzy`]).
    Fuzzy,
    /// A place from a gazetteer of the server's rule set.
    Gazetteer,
    /// A word that tells the server's example prompts apart ([`super::examples`]).
    Example,
    /// A word a lexical database relates to one of the server's keywords.
    Synonym,
}

/// One server as the engine is built from it.
pub struct ServerInput {
    /// Its name.
    pub name: Arc<str>,
    /// Keywords, patterns and negative keywords.
    pub rules: Rules,
    /// Its tools and their words.
    pub tools: Vec<ToolWords>,
    /// The words of its name ("memory", "github"), which count as a tool name's words do;
    /// none for a server the endpoint leaves out.
    pub name_words: Vec<String>,
}

/// One tool's routing words ([`super::catalog_terms::tool_words`]).
#[derive(Debug, Clone)]
pub struct ToolWords {
    /// Its exposed name.
    pub name: Arc<str>,
    /// Words of its name, then salient words of its description.
    pub words: Vec<String>,
    /// How many of `words` (the first ones) come from its name.
    pub from_name: usize,
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
    /// For a synonym: the keyword it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<Arc<str>>,
}

impl Match {
    /// A match of `term` of kind `kind` at `span` of the prompt, giving `points` (of nothing:
    /// only a synonym stands for a keyword).
    fn new(kind: Kind, term: Arc<str>, span: (usize, usize), points: f64) -> Match {
        let (start, end) = span;
        Match {
            kind,
            term,
            start,
            end,
            points,
            of: None,
        }
    }
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

impl Scored {
    /// Server `index`, called `server`, with no points.
    pub fn unmatched(server: Arc<str>, index: usize) -> Scored {
        Scored {
            server,
            score: 0.0,
            matches: Vec::new(),
            tools: Vec::new(),
            tool_scores: Vec::new(),
            index,
        }
    }
}

/// The compiled rules of every server.
pub struct Engine {
    servers: Vec<Arc<str>>,
    tools: Vec<Vec<Arc<str>>>,
    automaton: Option<AhoCorasick>,
    terms: Vec<Term>,
    gate: Prefilter,
    patterns: Vec<Pattern>,
    /// The single-word terms, for words with a typo.
    fuzzy: Fuzzy,
    /// For synonym terms: (term, server) -> the keyword it stands for.
    synonym_of: HashMap<(usize, u32), Arc<str>>,
    /// Per [`Implied`] kind, the terms of the words it stands for.
    implied: Vec<(Implied, Vec<usize>)>,
}

impl Engine {
    /// Server names, in configuration order.
    pub fn servers(&self) -> &[Arc<str>] {
        &self.servers
    }

    /// Score every server for `prompt`: deterministic, ties broken by configuration order, every
    /// point traceable to a match. Servers without points are left out. Linear in the prompt:
    /// one scan per automaton, and the matches sorted once.
    pub fn score(&self, prompt: &str) -> Vec<Scored> {
        self.read(prompt).0
    }

    /// [`Engine::score`], with the spans of the prompt that imply something
    /// ([`context::implied`]), found on the way: what [`super::Analysis::spelled`] names.
    pub fn read(&self, prompt: &str) -> (Vec<Scored>, Vec<(Implied, usize, usize)>) {
        let kept = outermost(self.keyword_spans(prompt));
        // Inside a URL only the URL and its host say anything ([`context`]).
        let urls = context::urls(prompt);
        let implied = context::implied(prompt, &urls);
        let counts = |s: usize, e: usize| context::counts(&urls, s, e);
        // A word inside a path names a file, not what is asked ("debug" in `target/debug`); one
        // inside an address a mailbox ("finance" in `finance@acme.com`).
        let word_counts = |s: usize, e: usize| {
            counts(s, e) && !context::inside(&implied, &[Implied::Path, Implied::Email], s, e)
        };
        // A pattern inside an address names the mailbox too ("@acme", "acme.com" of
        // `finance@acme.com`); inside a path it may be what is asked (`.db` of `notes.db`).
        let pattern_counts = |s: usize, e: usize| {
            counts(s, e) && !context::inside(&implied, &[Implied::Email], s, e)
        };
        let mut tally = Tally::default();
        for (i, &(start, end, t)) in kept.iter().enumerate() {
            if !word_counts(start, end) {
                continue;
            }
            // Spans come sorted: a word several terms matched has its terms side by side.
            let same = |j: usize| kept.get(j).is_some_and(|w| (w.0, w.1) == (start, end));
            let shared = same(i + 1) || (i > 0 && same(i - 1));
            self.count_keyword(&mut tally, (start, end, t), shared);
        }
        // A URL, a path, an address: catalog points for the thing it is.
        for (kind, start, end) in implied.iter().copied() {
            if let Some((_, ts)) = self.implied.iter().find(|(k, _)| *k == kind) {
                self.count_implied(&mut tally, start, end, ts);
            }
        }
        if !self.fuzzy.is_empty() {
            for (start, end, t) in self.slips(prompt, &kept) {
                if word_counts(start, end) {
                    self.count_fuzzy(&mut tally, start, end, t);
                }
            }
        }
        for (i, from) in self.gate.candidates(prompt) {
            let p = &self.patterns[i];
            // Its first match that counts: one inside a URL or an address does not hide a later
            // one outside.
            let mut at = from;
            let found = loop {
                let Some(m) = p.regex.find_at(prompt, at) else {
                    break None;
                };
                if pattern_counts(m.start(), m.end()) {
                    break Some(m);
                }
                at = match prompt[m.start()..].chars().next() {
                    Some(c) => m.end().max(m.start() + c.len_utf8()),
                    None => break None,
                };
            };
            let Some(m) = found else {
                continue;
            };
            let span = (m.start(), m.end());
            let m = Match::new(Kind::Pattern, p.source.clone(), span, p.weight);
            self.credit(&mut tally, p.server, None, m);
        }
        (self.rank(tally), implied)
    }

    /// Every keyword match at a word start that ends the word with an accepted ending:
    /// (start, end, term).
    fn keyword_spans(&self, prompt: &str) -> Vec<(usize, usize, usize)> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let bytes = prompt.as_bytes();
        let mut spans = Vec::new();
        // The end of the word a match starts, computed once per word start.
        let mut word_end: Option<(usize, usize)> = None;
        for m in ac.find_overlapping_iter(prompt) {
            let (start, stem_end) = (m.start(), m.end());
            if start > 0 && inflect::is_word_byte(bytes[start - 1]) {
                continue; // inside a word: "time" in "sometimes"
            }
            let end = match word_end {
                Some((s, e)) if s == start && e >= stem_end => e,
                _ => {
                    let mut e = stem_end;
                    while e < bytes.len() && inflect::is_word_byte(bytes[e]) {
                        e += 1;
                    }
                    word_end = Some((start, e));
                    e
                }
            };
            let term = &self.terms[m.pattern().as_usize()];
            let found = prompt[start..end].to_ascii_lowercase();
            if inflect::accepts(&term.form, &found) {
                spans.push((start, end, m.pattern().as_usize()));
            }
        }
        spans
    }

    /// The prompt's words no keyword matched that are a slip of a term: (start, end, term).
    fn slips(&self, prompt: &str, kept: &[(usize, usize, usize)]) -> Vec<(usize, usize, usize)> {
        let bytes = prompt.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !inflect::is_word_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && inflect::is_word_byte(bytes[i]) {
                i += 1;
            }
            let word = &prompt[start..i];
            if word.len() < fuzzy::MIN_LEN
                || !word.bytes().all(|b| b.is_ascii_alphabetic())
                || kept.iter().any(|&(s, e, _)| s < i && start < e)
            {
                continue;
            }
            if let Some(&t) = self.fuzzy.lookup(&word.to_ascii_lowercase()).first() {
                out.push((start, i, t as usize));
            }
        }
        out
    }

    /// The servers with a positive score, best first, each with its best tools.
    fn rank(&self, tally: Tally) -> Vec<Scored> {
        let mut tools_of: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
        for ((server, tool), points) in tally.tool_points {
            tools_of.entry(server).or_default().push((tool, points));
        }
        let mut ranked: Vec<Scored> = tally.per.into_values().filter(|s| s.score > 0.0).collect();
        for s in &mut ranked {
            s.score = (s.score * 1000.0).round() / 1000.0;
            s.matches.sort_by_key(|m| (m.start, m.end));
            let mut tools = tools_of.remove(&(s.index as u32)).unwrap_or_default();
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
        per.entry(server).or_insert_with(|| {
            Scored::unmatched(self.servers[server as usize].clone(), server as usize)
        })
    }
}

/// How much more a thing in the prompt (a URL, a path, an address: [`Implied`]) says than the
/// catalog word it stands for: the thing is what the tool takes. Chosen on the development half
/// of `router-config/eval-personas-*.jsonl` with zero rules over real servers (README,
/// "Prompt routing"): 1 (the word's own points) gave precision@1 0.523, 2 (a tool name's) 0.545,
/// 3 0.591, 4 0.591; the rules' figures did not move. A URL then outweighs one generic tool-name
/// word ("open" of `open_nodes`).
pub const IMPLIED_FACTOR: f64 = 3.0;

/// What one prompt's matches add up to, per server.
#[derive(Default)]
struct Tally {
    per: HashMap<u32, Scored>,
    tool_points: HashMap<(u32, u32), f64>,
    counted: HashSet<(u32, usize, Kind)>,
    /// Per (server, start, end, kind): where its match is in the server's matches, and its term.
    spans: HashMap<(u32, usize, usize, Kind), (usize, usize)>,
}

mod build;
mod count;

#[cfg(test)]
mod tests;
