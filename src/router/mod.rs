//! Prompt routing: which servers and tools matter for what a user asked, and why.
//!
//! Rules (built-in, configured, from rule files) and words from the live tool catalog compile
//! into one [`Engine`]; [`Router::analyze`] explains every point of every score.

pub mod catalog_terms;
mod context;
pub mod defaults;
mod engine;
pub mod eval;
mod examples;
mod fuzzy;
mod inflect;
mod prefilter;
pub mod search;
pub mod semantic;
mod spans;
pub mod tool_eval;

pub use engine::{Engine, Kind, Match, Scored, ServerInput, ToolWords};

use crate::catalog::Catalog;
use crate::config::Config;
use serde::Serialize;
use std::sync::Arc;

/// The compiled router of one configuration and catalog; replaced whole when either changes.
pub struct Router {
    engine: Engine,
    threshold: f64,
    /// `router.fallback`'s position, when this router's servers include it.
    fallback: Option<usize>,
    /// Built-in rule sets attached to each server (for explanations).
    pub attached: Vec<Vec<String>>,
    /// Each server's example prompts, its own and its attached sets' (for the semantic scorer).
    pub examples: Vec<Vec<String>>,
    /// Whether each server is in this router's slice (every one but for an endpoint's).
    included: Vec<bool>,
    /// Whether any server in the slice has rules (its own or a built-in set's).
    ruled: bool,
}

/// The words of a server's name that count: its name's ([`catalog_terms::name_words`]) where
/// the router's slice includes it, none otherwise (a caller's endpoint never routes to a server
/// it leaves out).
fn counted_name_words(name: &str, included: bool) -> Vec<String> {
    match included {
        true => catalog_terms::name_words(name),
        false => Vec::new(),
    }
}

/// The answer of `/analyze`.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The prompt, as given.
    pub prompt: String,
    /// Servers with points, best first.
    pub ranking: Vec<Scored>,
    /// Servers at or above the threshold, best first; or `router.fallback` alone when none is.
    pub selected: Vec<Arc<str>>,
    /// Set when no server reached the threshold and `router.fallback` was put first (and
    /// selected) in their place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Arc<str>>,
    /// The spans of the prompt that imply something, as the engine found them
    /// ([`engine::Engine::read`]): what [`Analysis::spelled`] names.
    #[serde(skip)]
    implied: Vec<(context::Implied, usize, usize)>,
}

impl Router {
    /// Compile the rules of `config` and the words of `catalog` (when there is one).
    pub fn build(config: &Config, catalog: Option<&Catalog>) -> Router {
        Self::build_for(config, catalog, None)
    }

    /// [`Router::build`] for an endpoint's slice: only the rules of the servers it includes,
    /// and the words of its tools as it shows them (a renamed tool's new name counts too).
    pub fn build_for(
        config: &Config,
        catalog: Option<&Catalog>,
        endpoint: Option<&crate::config::Endpoint>,
    ) -> Router {
        let mut attached = Vec::with_capacity(config.servers.len());
        let mut examples = Vec::with_capacity(config.servers.len());
        let mut slice = Vec::with_capacity(config.servers.len());
        let mut ruled = false;
        let inputs: Vec<ServerInput> = config
            .servers
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let included = endpoint.is_none_or(|e| e.has_server(i));
                slice.push(included);
                let mut rules = if included {
                    spec.rules.clone()
                } else {
                    Default::default()
                };
                let mut names = Vec::new();
                if included && config.router.default_rules && spec.default_rules {
                    for d in defaults::attach(spec) {
                        rules.extend(d.rules.clone());
                        names.push(d.name.clone());
                    }
                }
                attached.push(names);
                ruled |= !rules.is_empty();
                examples.push(rules.examples.clone());
                let tools = tool_words(catalog, i, endpoint);
                if rules.gazetteer.is_empty() {
                    let words = tools
                        .iter()
                        .flat_map(|t| t.words.iter().map(String::as_str));
                    if let Some(places) = crate::config::gazetteer_for(words) {
                        rules.gazetteer = places;
                    }
                }
                ServerInput {
                    name: spec.name.clone(),
                    rules,
                    tools,
                    name_words: counted_name_words(&spec.name, included),
                }
            })
            .collect();
        let fallback = config.router.fallback.as_ref().and_then(|f| {
            let i = config.servers.iter().position(|s| s.name == *f)?;
            endpoint.is_none_or(|e| e.has_server(i)).then_some(i)
        });
        Router {
            engine: Engine::build(&inputs, config.router.catalog_weight),
            threshold: config.router.threshold,
            fallback,
            attached,
            examples,
            included: slice,
            ruled,
        }
    }

    /// Whether any server this router scores has rules (keywords, patterns, examples...), its
    /// own or a built-in set's; otherwise only catalog words speak.
    pub fn ruled(&self) -> bool {
        self.ruled
    }

    /// Whether server `i` (its position in the configuration) is in this router's slice: an
    /// endpoint's router scores only the servers the endpoint includes, by words or meaning.
    pub fn includes(&self, i: usize) -> bool {
        self.included.get(i).copied().unwrap_or(false)
    }

    /// The words of server `i`'s name that count for this router (by words and by meaning).
    pub fn name_words(&self, i: usize) -> Vec<String> {
        let name = self.engine.servers().get(i);
        name.map_or_else(Vec::new, |n| counted_name_words(n, self.includes(i)))
    }

    /// Rank the servers for `prompt`; `top` limits the ranking (0: all). When no server
    /// reaches the threshold, `router.fallback` (if any) is put first and selected.
    pub fn analyze(&self, prompt: &str, top: usize) -> Analysis {
        let (mut ranking, implied) = self.engine.read(prompt);
        let mut selected: Vec<Arc<str>> = ranking
            .iter()
            .filter(|s| s.score >= self.threshold)
            .map(|s| s.server.clone())
            .collect();
        let mut fallback = None;
        if let Some(i) = self.fallback.filter(|_| selected.is_empty()) {
            let s = match ranking.iter().position(|s| s.index == i) {
                Some(at) => ranking.remove(at),
                None => Scored::unmatched(self.engine.servers()[i].clone(), i),
            };
            selected.push(s.server.clone());
            fallback = Some(s.server.clone());
            ranking.insert(0, s);
        }
        if top > 0 {
            ranking.truncate(top);
        }
        Analysis {
            prompt: prompt.to_string(),
            ranking,
            selected,
            fallback,
            implied,
        }
    }

    /// The score a server needs to be selected (`router.threshold`).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The engine (for benchmarks and tests).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// The routing words of server `i`'s tools in `catalog`, as `endpoint` shows them (a renamed
/// tool's new name counts too).
fn tool_words(
    catalog: Option<&Catalog>,
    i: usize,
    endpoint: Option<&crate::config::Endpoint>,
) -> Vec<ToolWords> {
    let Some(c) = catalog else {
        return Vec::new();
    };
    c.tools
        .items()
        .iter()
        .filter(|t| t.server == i)
        .map(|t| {
            let renamed = endpoint.is_some_and(|e| e.renamed_from(&t.exposed).is_some());
            let name = match renamed {
                true => format!("{} {}", t.original, t.exposed),
                false => t.original.to_string(),
            };
            let (words, from_name) = catalog_terms::tool_words(&name, t.description.as_deref());
            ToolWords {
                name: t.exposed.clone(),
                words,
                from_name,
            }
        })
        .collect()
}

impl Analysis {
    /// The prompt with each word the router read as a typo of a term ([`Kind::Fuzzy`]) spelled
    /// as that term, and each thing it found named before it (`URL docs.rs/tokio`, `file
    /// notes.md`: [`context::Implied::mark`]): what the semantic scorer embeds, since a model
    /// reads "isssue" as noise where the fuzzy evidence says it is "issue", and a bare host as
    /// its words. Unchanged when it has neither; the typos from the whole ranking (an analysis
    /// cut to its `top` may miss some).
    pub fn spelled(&self) -> String {
        let prompt = self.prompt.as_str();
        let mut fixes: Vec<(usize, usize, &str)> = self
            .ranking
            .iter()
            .flat_map(|s| &s.matches)
            .filter(|m| m.kind == Kind::Fuzzy && prompt.is_char_boundary(m.start))
            .map(|m| (m.start, m.end, &*m.term))
            .collect();
        fixes.sort_by_key(|f| std::cmp::Reverse(f.0));
        fixes.dedup_by_key(|f| f.0);
        let marks = self
            .implied
            .iter()
            .map(|&(kind, start, _)| (start, start, kind.mark()));
        // From the end back (a mark after the fix at its offset), so that each edit leaves the
        // offsets before it as they were.
        let mut edits: Vec<(usize, usize, &str)> = fixes.into_iter().chain(marks).collect();
        edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        let mut out = prompt.to_string();
        for (start, end, text) in edits {
            if end <= out.len() && out.is_char_boundary(end) {
                if start == end {
                    out.insert(start, ' ');
                    out.insert_str(start, text);
                } else {
                    out.replace_range(start..end, text);
                }
            }
        }
        out
    }

    /// A readable table of the ranking.
    pub fn table(&self) -> String {
        let mut out = format!("prompt: {}\n", self.prompt);
        if self.ranking.is_empty() {
            out.push_str("no server matched\n");
            return out;
        }
        out.push_str(&format!(
            "{:<4} {:<20} {:>7}  {}\n",
            "RANK", "SERVER", "SCORE", "WHY"
        ));
        for (i, s) in self.ranking.iter().enumerate() {
            let why: Vec<String> = s
                .matches
                .iter()
                .map(|m| {
                    let text = self.prompt.get(m.start..m.end).unwrap_or("");
                    format!("{} {:?}{:+}", kind_name(m.kind), text, m.points)
                })
                .collect();
            let mark = if self.selected.contains(&s.server) {
                "*"
            } else {
                " "
            };
            out.push_str(&format!(
                "{:<4} {:<20} {:>7.3}  {}\n",
                format!("{}{mark}", i + 1),
                s.server,
                s.score,
                why.join(", ")
            ));
            if !s.tools.is_empty() {
                let tools: Vec<&str> = s.tools.iter().map(|t| &**t).collect();
                out.push_str(&format!(
                    "{:<4} {:<20} {:>7}  tools: {}\n",
                    "",
                    "",
                    "",
                    tools.join(", ")
                ));
            }
        }
        match &self.fallback {
            Some(f) => out.push_str(&format!(
                "* selected: no server reached the threshold, so router.fallback ({f})\n"
            )),
            None => out.push_str("* selected (score at or above the threshold)\n"),
        }
        out
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Keyword => "keyword",
        Kind::Pattern => "pattern",
        Kind::Catalog => "catalog",
        Kind::Negative => "negative",
        Kind::Fuzzy => "fuzzy",
        Kind::Gazetteer => "gazetteer",
        Kind::Example => "example",
        Kind::Synonym => "synonym",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_embedded_spells_typos_and_names_urls_and_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let toml = "[router]\ndefault_rules = false\n\n[servers.tracker]\ncommand = \"true\"\n\
                    keywords = [\"issue\"]\n";
        std::fs::write(&path, toml).unwrap();
        let router = Router::build(&Config::load(&path).unwrap(), None);
        let spelled = |p: &str| router.analyze(p, 0).spelled();
        assert_eq!(
            spelled("file an isssue about docs.rs/tokio, see src/main.rs"),
            "file an issue about URL docs.rs/tokio, see file src/main.rs"
        );
        assert_eq!(
            spelled("mail bob@example.com the https://example.com/a link"),
            "mail email address bob@example.com the URL https://example.com/a link"
        );
        assert_eq!(spelled("nothing to mark here"), "nothing to mark here");
    }
}
