//! `switchboard eval --model DIR`: tool search and routing with and without meaning. Over
//! labelled one-tool requests (a file whose first line carries the catalog, `{"tools": {name:
//! description}}`, then `{"prompt", "expected_tool"}` lines: `router-config/eval-metatool.jsonl`)
//! it reports precision@1 and recall@5 of `switchboard__find_tools`' ranking; over the router's
//! own labelled prompts (`{"prompt", "expected": [server]}`) precision@1 and recall@3 of server
//! routing, a server's semantic evidence being its best tool's similarity. Each for lexical
//! evidence alone, semantic alone, and both fusions ([`Fusion`]).

use super::eval::Case;
use super::search::{rank, Fusion, Meaning};
use super::semantic::{Semantic, Texts, ToolIndex};
use super::{Analysis, Router};
use crate::catalog::Catalog;
use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One labelled one-tool request.
#[derive(Debug, Clone, Deserialize)]
pub struct ToolCase {
    /// What a user asked.
    pub prompt: String,
    /// The tool that should serve it.
    pub expected_tool: String,
}

/// A tool-selection set: its catalog (one server, `tools`) and its requests.
pub fn load_tools(text: &str) -> Result<(Config, Catalog, Vec<ToolCase>), String> {
    #[derive(Deserialize)]
    struct Head {
        tools: BTreeMap<String, String>,
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Head = serde_json::from_str(lines.next().unwrap_or(""))
        .map_err(|e| format!("line 1 must carry the catalog ({{\"tools\": {{...}}}}): {e}"))?;
    let cases = lines
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 2)))
        .collect::<Result<Vec<ToolCase>, String>>()?;
    let tools: Vec<(String, String)> = head.tools.into_iter().collect();
    let (config, catalog) = super::eval::fleet(&[("tools".to_string(), tools)]);
    Ok((config, catalog, cases))
}

/// One method's scores.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `lexical`, `semantic`, `weighted` or `rrf`.
    pub method: &'static str,
    /// Share of requests whose best answer is right.
    pub precision_at_1: f64,
    /// Share of requests whose right answer is in the top `k`.
    pub recall_at_k: f64,
    /// That `k`.
    pub k: usize,
    /// Cases scored (a routing case none of whose servers is configured is skipped).
    pub cases: usize,
    /// Whether the gateway ranks this way (tool search: saturating; routing:
    /// [`super::search::routing_fusion`]).
    pub used: bool,
}

const METHODS: [(&str, Fusion); 5] = [
    ("lexical", Fusion::Lexical),
    ("semantic", Fusion::Semantic),
    ("weighted", Fusion::Weighted),
    ("rrf", Fusion::Rrf),
    ("saturating", Fusion::Saturating),
];

/// The vectors of `catalog` and of `router`'s examples, computed now (through the cache).
pub fn index_of(
    semantic: &Semantic,
    catalog: &Catalog,
    router: &Router,
) -> Result<ToolIndex, String> {
    semantic.index_now(Texts::of(catalog, router))
}

/// Score each method over `n` cases: `judge(i, meaning)` says whether case `i`'s best answer
/// is right and the share of its right answers in the top `k`.
fn each_method(
    semantic: Option<(&Semantic, &ToolIndex)>,
    queries: &[Vec<f32>],
    (k, used): (usize, Fusion),
    judge: impl Fn(usize, Option<&Meaning<'_>>) -> (bool, f64),
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (method, fusion) in METHODS {
        if fusion != Fusion::Lexical && semantic.is_none() {
            continue;
        }
        let (mut hit, mut found) = (0usize, 0.0f64);
        for (i, query) in queries.iter().enumerate() {
            let meaning = semantic.map(|(s, index)| Meaning {
                index,
                query,
                weight: s.weight,
                fusion,
            });
            let (h, f) = judge(i, meaning.as_ref());
            (hit, found) = (hit + usize::from(h), found + f);
        }
        let mut row = row(method, hit, found, queries.len(), k);
        row.used = fusion == used;
        rows.push(row);
    }
    rows
}

/// Tool search over `cases`, by each method (semantic ones only with `semantic`).
pub fn tools(
    router: &Router,
    catalog: &Catalog,
    semantic: Option<(&Semantic, &ToolIndex)>,
    cases: &[ToolCase],
) -> Result<Vec<Row>, String> {
    let analyses: Vec<Analysis> = cases.iter().map(|c| router.analyze(&c.prompt, 0)).collect();
    let queries = query_vectors(semantic.map(|(s, _)| s), &analyses)?;
    let used = (5, super::search::TOOL_FUSION);
    Ok(each_method(semantic, &queries, used, |i, meaning| {
        let c = &cases[i];
        let ranked = rank(catalog, &analyses[i], meaning, &|_| true);
        let names: Vec<&str> = ranked.iter().map(|f| &*f.tool.original).collect();
        let hit = names.first() == Some(&c.expected_tool.as_str());
        let found = names.iter().take(5).any(|n| *n == c.expected_tool);
        (hit, if found { 1.0 } else { 0.0 })
    }))
}

/// Server routing over `cases`, by each method ([`super::search::servers`]).
pub fn servers(
    router: &Router,
    semantic: Option<(&Semantic, &ToolIndex)>,
    cases: &[Case],
) -> Result<Vec<Row>, String> {
    let names = router.engine().servers().to_vec();
    // As `switchboard eval`: expected servers not configured are dropped, and a case left
    // with none is skipped.
    let cases: Vec<(&Case, Vec<String>)> = cases
        .iter()
        .map(|c| {
            let mine = c
                .expected
                .iter()
                .filter(|e| names.iter().any(|n| **n == ***e));
            (c, mine.cloned().collect::<Vec<String>>())
        })
        .filter(|(_, expected)| !expected.is_empty())
        .collect();
    let analyses: Vec<Analysis> = cases
        .iter()
        .map(|(c, _)| router.analyze(&c.prompt, 0))
        .collect();
    let queries = query_vectors(semantic.map(|(s, _)| s), &analyses)?;
    let used = (3, super::search::routing_fusion(router));
    Ok(each_method(semantic, &queries, used, |i, meaning| {
        let expected = &cases[i].1;
        let order: Vec<Arc<str>> = super::search::servers(router, &analyses[i], meaning, &|_| true)
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        let order: Vec<&str> = order.iter().map(|n| &**n).collect();
        super::eval::judge(&order, expected)
    }))
}

/// The vectors of the analysed prompts (as the router spells them: [`Analysis::spelled`]), in
/// batches.
fn query_vectors(
    semantic: Option<&Semantic>,
    analyses: &[Analysis],
) -> Result<Vec<Vec<f32>>, String> {
    let prompts: Vec<String> = analyses.iter().map(Analysis::spelled).collect();
    let prompts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    match semantic {
        Some(s) => prompts
            .chunks(32)
            .map(|c| s.model().embed(c))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.into_iter().flatten().collect()),
        None => Ok(vec![Vec::new(); prompts.len()]),
    }
}

fn row(method: &'static str, hit: usize, found: f64, n: usize, k: usize) -> Row {
    let share = |x: f64| {
        if n == 0 {
            0.0
        } else {
            (x / n as f64 * 1000.0).round() / 1000.0
        }
    };
    Row {
        method,
        precision_at_1: share(hit as f64),
        recall_at_k: share(found),
        k,
        cases: n,
        used: false,
    }
}

/// The rows as a table.
pub fn table(title: &str, rows: &[Row]) -> String {
    let n = rows.first().map_or(0, |r| r.cases);
    let mut out = format!(
        "{title} ({n} prompts)\n{:<11} {:>7} {:>9}\n",
        "METHOD", "P@1", "RECALL@K"
    );
    for r in rows {
        let method = format!("{}{}", r.method, if r.used { "*" } else { "" });
        out.push_str(&format!(
            "{method:<11} {:>7.3} {:>7.3}@{}\n",
            r.precision_at_1, r.recall_at_k, r.k
        ));
    }
    if rows.iter().any(|r| r.used) {
        out.push_str("* what the gateway does\n");
    }
    out
}
