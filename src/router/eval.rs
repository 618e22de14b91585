//! `switchboard eval`: precision@1 and recall@3 of the router over a labelled prompt set
//! (`router-config/eval.jsonl`), and the "offline fleet" it runs against when no server is started.

use super::{Kind, Router};
use crate::catalog::{self, Catalog};
use crate::config::{Config, Launch, ServerSpec, Transport};
use crate::upstream::{Item, ListKind, Lists};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Tool catalogs of the well-known servers (names and descriptions as those servers publish them),
/// so the eval can count catalog words without starting any server.
pub const CATALOGS: &str = include_str!("../../router-config/catalogs.json");

/// One labelled prompt.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// What a user asked.
    pub prompt: String,
    /// The server(s) that should handle it.
    pub expected: Vec<String>,
}

/// Read a JSONL file of cases; a bad line is an error naming its number.
pub fn load(path: &std::path::Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// How the router did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Prompts evaluated.
    pub cases: usize,
    /// Prompts left out because none of their expected servers is configured.
    pub skipped: usize,
    /// Share of prompts whose best server is an expected one.
    pub precision_at_1: f64,
    /// Share of expected servers found in the top three, averaged over prompts.
    pub recall_at_3: f64,
    /// Prompts in which no configured keyword occurs (only patterns and catalog words can route them).
    pub without_keywords: usize,
    /// precision@1 over those prompts.
    pub precision_at_1_without_keywords: f64,
    /// Prompts whose best server was wrong: (prompt, expected, got).
    pub misses: Vec<(String, Vec<String>, Option<String>)>,
    /// Per prompt: the configured keywords that occur in it (empty: only patterns and catalog words).
    pub keywords: Vec<(String, Vec<String>)>,
}

/// Evaluate `router` on `cases`. Expected servers that are not configured are dropped from a
/// case, and a case left with none is skipped (counted in [`Report::skipped`]): a fleet without
/// a git server cannot be asked to route to one.
pub fn run(router: &Router, cases: &[Case]) -> Report {
    let (mut hits, mut recall, mut bare, mut bare_hits) = (0usize, 0.0f64, 0usize, 0usize);
    let mut misses = Vec::new();
    let mut keywords = Vec::new();
    let servers = router.engine().servers();
    let (mut evaluated, mut skipped) = (0usize, 0usize);
    for c in cases {
        let expected: Vec<String> = c
            .expected
            .iter()
            .filter(|e| servers.iter().any(|s| **s == ***e))
            .cloned()
            .collect();
        if expected.is_empty() {
            skipped += 1;
            continue;
        }
        evaluated += 1;
        let a = router.analyze(&c.prompt, 0);
        let order: Vec<&str> = a.ranking.iter().map(|s| &*s.server).collect();
        let first = order.first().copied();
        let (hit, found) = judge(&order, &expected);
        let mut words: Vec<String> = a
            .ranking
            .iter()
            .flat_map(|s| {
                s.matches
                    .iter()
                    .filter(|m| m.kind == Kind::Keyword)
                    .map(|m| m.term.to_string())
            })
            .collect();
        words.dedup();
        let keyworded = !words.is_empty();
        keywords.push((c.prompt.clone(), words));
        hits += usize::from(hit);
        if !keyworded {
            bare += 1;
            bare_hits += usize::from(hit);
        }
        recall += found;
        if !hit {
            misses.push((
                c.prompt.clone(),
                expected.clone(),
                first.map(str::to_string),
            ));
        }
    }
    let n = evaluated.max(1) as f64;
    Report {
        cases: evaluated,
        skipped,
        precision_at_1: hits as f64 / n,
        recall_at_3: recall / n,
        without_keywords: bare,
        precision_at_1_without_keywords: bare_hits as f64 / bare.max(1) as f64,
        misses,
        keywords,
    }
}

/// How a ranking of servers (best first) answers a prompt expecting `expected` (the configured
/// ones): whether the first is expected, and the share of `expected` in the first three (the
/// one measure of both harnesses: this one and [`super::tool_eval::servers`]).
pub fn judge(order: &[&str], expected: &[String]) -> (bool, f64) {
    let hit = order
        .first()
        .is_some_and(|f| expected.iter().any(|e| e == f));
    let top = &order[..order.len().min(3)];
    let found = expected
        .iter()
        .filter(|e| top.contains(&e.as_str()))
        .count();
    (hit, found as f64 / expected.len().max(1) as f64)
}

impl Report {
    /// A readable summary.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (p, e, g) in &self.misses {
            out.push_str(&format!(
                "miss: {p:?} expected {} got {}\n",
                e.join("|"),
                g.as_deref().unwrap_or("nothing")
            ));
        }
        out.push_str(&format!(
            "cases: {} ({} skipped: no expected server configured)\nprecision@1: {:.3}\nrecall@3: {:.3}\nwithout any configured keyword: {} ({:.0}%), precision@1 on those: {:.3}\n",
            self.cases,
            self.skipped,
            self.precision_at_1,
            self.recall_at_3,
            self.without_keywords,
            100.0 * self.without_keywords as f64 / self.cases.max(1) as f64,
            self.precision_at_1_without_keywords
        ));
        out
    }
}

/// One server per built-in rule set, named after it, with its catalog snapshot: what `eval`
/// runs against when no configuration is given.
pub fn offline_fleet() -> (Config, Catalog) {
    #[derive(Deserialize)]
    struct Tool {
        name: String,
        description: String,
    }
    let snapshot: HashMap<String, Vec<Tool>> =
        serde_json::from_str(CATALOGS).expect("the shipped catalogs parse (a test checks)");
    let servers: Vec<(String, Vec<(String, String)>)> = super::defaults::all()
        .iter()
        .map(|d| {
            let tools = snapshot.get(&*d.name).map_or_else(Vec::new, |tools| {
                tools
                    .iter()
                    .map(|t| (t.name.clone(), t.description.clone()))
                    .collect()
            });
            (d.name.to_string(), tools)
        })
        .collect();
    fleet(&servers)
}

/// A configuration of `servers` (name, its tools' names and descriptions) that start nothing,
/// and their catalog, for evaluations without live servers.
pub fn fleet(servers: &[(String, Vec<(String, String)>)]) -> (Config, Catalog) {
    let specs: Vec<ServerSpec> = servers
        .iter()
        .map(|(name, _)| {
            let nothing = Launch {
                program: "true".into(),
                args: Vec::new(),
                env: Vec::new(),
                cwd: None,
                inherit_env: false,
            };
            ServerSpec::new(name, Transport::Stdio(nothing))
        })
        .collect();
    let lists: Vec<Lists> = servers
        .iter()
        .map(|(_, tools)| {
            let items = tools
                .iter()
                .map(|(name, description)| {
                    let raw = serde_json::json!({ "name": name, "description": description, "inputSchema": { "type": "object" } });
                    Item { key: Arc::from(name.as_str()), raw: Arc::from(serde_json::value::to_raw_value(&raw).expect("JSON")) }
                })
                .collect();
            let mut l = Lists::default();
            l.items.insert(ListKind::Tools, Arc::new(items));
            l
        })
        .collect();
    let ups: Vec<catalog::Upstream<'_>> = specs
        .iter()
        .zip(&lists)
        .map(|(s, l)| catalog::Upstream {
            server: &s.name,
            prefix: true,
            lists: l,
            offers_resources: false,
        })
        .collect();
    let (catalog, _) = Catalog::build(&ups, "__", 64, &[], false);
    let config = Config {
        source: "<offline fleet>".into(),
        gateway: Default::default(),
        servers: specs,
        router: Default::default(),
        child_env: Vec::new(),
        auth: crate::config::AuthSettings::open(),
        policy: Vec::new(),
        audit: Default::default(),
        endpoints: Vec::new(),
        files: Vec::new(),
        telemetry: Default::default(),
        cluster: None,
    };
    (config, catalog)
}
