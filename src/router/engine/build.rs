//! Compiling the engine: every server's keywords, related words, places, example words and
//! catalog words (its name's and its tools', and the words WordNet relates to them) into one
//! automaton of stems (each term's hits per server, idf-weighted where derived), its patterns
//! behind the prefilter, and the fuzzy index.

use super::{Engine, Kind, Pattern, ServerInput, Term};
use crate::config::lexicons::SYNONYM_FACTOR;
use crate::router::context::Implied;
use crate::router::examples;
use crate::router::fuzzy::Fuzzy;
use crate::router::inflect;
use crate::router::prefilter::Prefilter;
use aho_corasick::{AhoCorasickBuilder, MatchKind};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Share of the catalog weight a word of a tool's description gives (a word of its name gives
/// the whole): chosen on the zero-rules evaluation (README, "Prompt routing").
const DESCRIPTION_SHARE: f64 = 0.5;

/// The terms so far, keyed by what they match.
#[derive(Default)]
struct Terms {
    by_stem: HashMap<String, usize>,
    terms: Vec<Term>,
}

impl Terms {
    /// Add a hit for `word`: a thesaurus's word matches as written, every other term through
    /// its stem. The term's index, or `None` for a word with no stem.
    fn add(&mut self, word: &str, hit: (u32, f64, Kind, Option<u32>)) -> Option<usize> {
        let form = match hit.2 {
            Kind::Synonym => inflect::exact(word),
            _ => inflect::form(word),
        };
        if form.stem.is_empty() {
            return None;
        }
        // Keyed by what the term matches: two keywords with one prefix may stem apart.
        let terms = &mut self.terms;
        let i = *self.by_stem.entry(form.key()).or_insert_with(|| {
            terms.push(Term {
                text: Arc::from(word.trim().to_lowercase()),
                form,
                hits: Vec::new(),
            });
            terms.len() - 1
        });
        self.terms[i].hits.push(hit);
        Some(i)
    }

    /// Server `s`'s rules: keywords, negative keywords, places, related words (for the keyword
    /// each stands for, into `synonym_of`) and example words (idf-weighted).
    fn add_rules(
        &mut self,
        input: &ServerInput,
        s: u32,
        vocabulary: &Vocabulary,
        synonym_of: &mut HashMap<(usize, u32), Arc<str>>,
    ) {
        let v = &vocabulary.servers[s as usize];
        for k in &input.rules.keywords {
            self.add(&k.text, (s, k.weight, Kind::Keyword, None));
        }
        for k in &input.rules.negative {
            self.add(&k.text, (s, k.weight, Kind::Negative, None));
        }
        for k in &input.rules.gazetteer {
            self.add(&k.text, (s, k.weight, Kind::Gazetteer, None));
        }
        for r in &input.rules.synonyms {
            if !v.keywords.contains(&inflect::root(&r.text)) {
                if let Some(t) = self.add(&r.text, (s, r.weight, Kind::Synonym, None)) {
                    synonym_of.insert((t, s), Arc::from(r.of.as_str()));
                }
            }
        }
        for (w, in_examples) in &v.example_words {
            let key = inflect::form(w).key();
            let points =
                examples::EXAMPLE_WEIGHT * examples::share(*in_examples) * vocabulary.idf(&key);
            if !v.keywords.contains(&inflect::root(w)) && points > 0.0 {
                self.add(w, (s, round(points), Kind::Example, None));
            }
        }
    }

    /// Server `s`'s catalog words: its own name's words and a tool's name words at `weight`, a
    /// tool's description words at [`DESCRIPTION_SHARE`] of it, all idf-weighted; and the words
    /// WordNet relates to each ([`crate::config::related_to`]) at [`SYNONYM_FACTOR`] of its
    /// points, as related words of it (into `synonym_of`), where the server has no such word of
    /// its own.
    fn add_catalog(
        &mut self,
        input: &ServerInput,
        s: u32,
        weight: f64,
        vocabulary: &Vocabulary,
        synonym_of: &mut HashMap<(usize, u32), Arc<str>>,
    ) {
        let own = &vocabulary.servers[s as usize].words;
        let named = input.name_words.iter().map(|w| (w, 1.0, None));
        let tools = input.tools.iter().enumerate().flat_map(|(t, tool)| {
            tool.words.iter().enumerate().map(move |(i, w)| {
                let share = match i < tool.from_name {
                    true => 1.0,
                    false => DESCRIPTION_SHARE,
                };
                (w, share, Some(t as u32))
            })
        });
        for (w, share, tool) in named.chain(tools) {
            let points = weight * share * vocabulary.idf(&inflect::form(w).key());
            if points <= 0.0 {
                continue;
            }
            self.add(w, (s, round(points), Kind::Catalog, tool));
            for r in crate::config::related_to(w) {
                if own.contains(&inflect::form(r).key()) {
                    continue;
                }
                let hit = (s, round(points * SYNONYM_FACTOR), Kind::Synonym, tool);
                if let Some(term) = self.add(r, hit) {
                    synonym_of
                        .entry((term, s))
                        .or_insert_with(|| Arc::from(w.as_str()));
                }
            }
        }
    }
}

impl Engine {
    /// Compile. Patterns were validated when the configuration loaded; one that still fails is
    /// skipped with a warning rather than taking routing down.
    pub fn build(inputs: &[ServerInput], catalog_weight: f64) -> Engine {
        let vocabulary = Vocabulary::of(inputs);
        let mut all = Terms::default();
        let mut synonym_of = HashMap::new();
        let mut patterns = Vec::new();
        for (s, input) in inputs.iter().enumerate() {
            let s = s as u32;
            all.add_rules(input, s, &vocabulary, &mut synonym_of);
            if catalog_weight > 0.0 {
                all.add_catalog(input, s, catalog_weight, &vocabulary, &mut synonym_of);
            }
            patterns.extend(compile(input, s));
        }
        let Terms { by_stem, mut terms } = all;
        // A server's score counts a term once: its best hit (a tool's name over a description).
        for t in &mut terms {
            t.hits.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        let implied = Implied::ALL
            .iter()
            .map(|&kind| {
                let words = kind.words().iter();
                let found = words.filter_map(|w| by_stem.get(&inflect::form(w).key()));
                (kind, found.copied().collect())
            })
            .collect();
        let automaton = (!terms.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                // A full DFA: the fastest scan, and the cost per byte stays flat as the automaton grows.
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(terms.iter().map(|t| t.form.stem.as_str()))
                .expect("an automaton over plain strings builds")
        });
        let sources: Vec<&str> = patterns.iter().map(|p| p.regex.as_str()).collect();
        let gate = Prefilter::build(&sources);
        Engine {
            fuzzy: fuzzy_index(&terms),
            synonym_of,
            implied,
            servers: inputs.iter().map(|i| i.name.clone()).collect(),
            tools: inputs
                .iter()
                .map(|i| i.tools.iter().map(|t| t.name.clone()).collect())
                .collect(),
            automaton,
            terms,
            gate,
            patterns,
        }
    }
}

/// Server `s`'s patterns, compiled (one that does not is skipped, with a warning).
fn compile(input: &ServerInput, s: u32) -> Vec<Pattern> {
    let mut out = Vec::new();
    for p in &input.rules.patterns {
        match regex::RegexBuilder::new(&p.text)
            .case_insensitive(true)
            .build()
        {
            Ok(regex) => out.push(Pattern {
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
    out
}

/// The fuzzy index over the terms that give points (a negative keyword is never guessed at).
fn fuzzy_index(terms: &[Term]) -> Fuzzy {
    Fuzzy::build(
        terms
            .iter()
            .enumerate()
            .filter(|(_, t)| t.hits.iter().any(|h| h.2 != Kind::Negative))
            .map(|(i, t)| (i as u32, &*t.text)),
    )
}

/// Points rounded to thousandths, as every score is shown.
fn round(points: f64) -> f64 {
    (points * 1000.0).round() / 1000.0
}

/// What each server's rules and catalog say, as match keys: for idf, and so that derived words
/// never double a server's own keyword.
struct Vocabulary {
    servers: Vec<ServerWords>,
    df: HashMap<String, usize>,
}

struct ServerWords {
    /// Its keywords' roots ([`inflect::root`]): a derived word that is one of them in another
    /// form ("row" of an example, keyword "rows") is not counted twice.
    keywords: HashSet<String>,
    /// Keys of every word it has: keywords, related words, example and catalog words.
    words: HashSet<String>,
    /// The content words of its examples, each with how many of them have it (by stem).
    example_words: Vec<(String, usize)>,
}

impl Vocabulary {
    fn of(inputs: &[ServerInput]) -> Vocabulary {
        let key = |w: &str| inflect::form(w).key();
        let mut servers = Vec::with_capacity(inputs.len());
        for input in inputs {
            let keywords: HashSet<String> = input
                .rules
                .keywords
                .iter()
                .map(|k| inflect::root(&k.text))
                .collect();
            let each: Vec<HashSet<String>> = input
                .rules
                .examples
                .iter()
                .map(|e| {
                    examples::words(std::slice::from_ref(e))
                        .iter()
                        .map(|w| key(w))
                        .collect()
                })
                .collect();
            // How many of its examples have each stem: a document frequency over its examples.
            let in_examples = examples::document_frequency(&each);
            let example_words: Vec<(String, usize)> = examples::words(&input.rules.examples)
                .into_iter()
                .map(|w| {
                    let n = in_examples.get(key(&w).as_str()).copied().unwrap_or(0);
                    (w, n)
                })
                .collect();
            let mut every: HashSet<String> =
                input.rules.keywords.iter().map(|k| key(&k.text)).collect();
            every.extend(input.rules.synonyms.iter().map(|r| key(&r.text)));
            every.extend(example_words.iter().map(|(w, _)| key(w)));
            every.extend(
                input
                    .tools
                    .iter()
                    .flat_map(|t| t.words.iter().map(|w| key(w))),
            );
            every.extend(input.name_words.iter().map(|w| key(w)));
            servers.push(ServerWords {
                keywords,
                words: every,
                example_words,
            });
        }
        let df = examples::document_frequency(servers.iter().map(|s| &s.words))
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        Vocabulary { servers, df }
    }

    /// idf of a key over the servers.
    fn idf(&self, key: &str) -> f64 {
        examples::idf(self.df.get(key).copied().unwrap_or(1), self.servers.len())
    }
}
