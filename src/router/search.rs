//! Tool search (`switchboard__find_tools`, `eval --tools`): the tools of a catalog that fit a
//! query, best first, each with why. Lexical evidence is the router's: the score of the tool's
//! server for the query plus the points of the tool's own catalog words. With
//! `[router.semantic]`, each tool's similarity to the query counts too, fused with the lexical
//! score ([`Fusion`]); a tool with neither is left out.

use super::semantic::ToolIndex;
use super::{Analysis, Router};
use crate::catalog::{Catalog, Named};

/// A similarity below this is no evidence on its own (a tool without lexical points and no
/// nearer than this is left out).
pub const SIMILARITY_FLOOR: f32 = 0.2;

/// How much more a similarity counts in [`Fusion::Weighted`] (server routing) than `weight`
/// says: chosen on the development sets (`eval-personas-dev`, `eval.jsonl`), where 1.25 to 2.0
/// score within one prompt of each other and 1.0 one to two prompts lower; 1.5 is the middle
/// of that plateau (README, "Tool search by meaning").
pub const ROUTING_SHARE: f64 = 1.5;

/// A server's similarity to a prompt in routing: its nearest tool, example or name; for a
/// server with examples, this share of it is the similarity to the mean of its examples
/// instead, so that what its examples say together counts and one odd example or tool
/// description decides less. Chosen on the development sets with all-MiniLM-L6-v2 (README,
/// "Tool search by meaning"): 0 (nearest only) gave fused precision@1 0.900 on the persona dev
/// half and 0.942 on `eval.jsonl`, 0.3 0.900 / 0.942, 0.5 0.913 / 0.946, 0.7 0.913 / 0.946
/// (the typo set one prompt lower at 0.5, two at 0.7); 0.5.
pub const EXAMPLES_SHARE: f32 = 0.5;

/// How lexical and semantic evidence combine. Chosen on the evaluation sets (README, "Tool
/// search by meaning"): tool search fuses with [`Fusion::Saturating`] (its lexical evidence is
/// mostly catalog words, weak and noisy), server routing with [`Fusion::Weighted`] where rules
/// are written (their evidence is strong) and [`Fusion::Saturating`] where none is (catalog
/// words only, as tool search): [`routing_fusion`]; reciprocal-rank fusion did worse on every
/// development set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Lexical points only.
    Lexical,
    /// Similarity only.
    Semantic,
    /// The lexical score scaled to the best one for this query (0..1), plus [`ROUTING_SHARE`]
    /// times `weight` times the similarity.
    Weighted,
    /// Reciprocal-rank fusion: `1/(60 + lexical rank) + weight/(60 + semantic rank)`.
    Rrf,
    /// The lexical score saturated (`l / (l + 1)`: its absolute strength counts, so a query
    /// that rules match strongly keeps their answer), plus `weight` times the similarity.
    Saturating,
}

/// The query's vector and the catalog's, for semantic evidence.
pub struct Meaning<'a> {
    /// The catalog's vectors.
    pub index: &'a ToolIndex,
    /// The query's.
    pub query: &'a [f32],
    /// The semantic share (`[router.semantic] weight`).
    pub weight: f64,
    /// How evidence combines.
    pub fusion: Fusion,
}

/// One tool found.
#[derive(Debug)]
pub struct Found<'a> {
    /// The tool.
    pub tool: &'a Named,
    /// Its position in the catalog (ties keep catalog order).
    pub pos: usize,
    /// The fused score.
    pub score: f64,
    /// Its lexical score (server score plus the tool's catalog points).
    pub lexical: f64,
    /// The words of the query that counted for its server.
    pub words: Vec<String>,
    /// Its similarity to the query, and the text of it that was embedded.
    pub semantic: Option<(f32, &'a str)>,
}

/// The tools of `catalog` that `visible` admits, fit for the query `analysis` scored (its whole
/// ranking), best first.
pub fn rank<'a>(
    catalog: &'a Catalog,
    analysis: &Analysis,
    meaning: Option<&Meaning<'a>>,
    visible: &dyn Fn(&Named) -> bool,
) -> Vec<Found<'a>> {
    let query = analysis.prompt.as_str();
    let mut found: Vec<Found<'a>> = Vec::new();
    for (pos, t) in catalog.tools.items().iter().enumerate() {
        if !visible(t) {
            continue;
        }
        let (lexical, words) = match analysis.ranking.iter().find(|s| s.index == t.server) {
            Some(s) => {
                let points = s.tool_scores.iter().find(|(n, _)| *n == t.exposed);
                let words = s
                    .matches
                    .iter()
                    .map(|m| query.get(m.start..m.end).unwrap_or("").to_lowercase())
                    .collect();
                (s.score + points.map_or(0.0, |(_, p)| *p), words)
            }
            None => (0.0, Vec::new()),
        };
        let semantic = meaning.and_then(|m| {
            let e = m.index.get(t.server, &t.original)?;
            Some((super::semantic::cosine(&e.vector, m.query), e.text.as_str()))
        });
        if lexical <= 0.0 && semantic.is_none_or(|(s, _)| s < SIMILARITY_FLOOR) {
            continue;
        }
        found.push(Found {
            tool: t,
            pos,
            score: 0.0,
            lexical,
            words,
            semantic,
        });
    }
    let (fusion, weight) = meaning.map_or((Fusion::Lexical, 0.0), |m| (m.fusion, m.weight));
    fuse(&mut found, fusion, weight);
    found.retain(|f| f.score > 0.0);
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.pos.cmp(&b.pos)));
    found
}

/// Set each tool's fused score.
fn fuse(found: &mut [Found<'_>], fusion: Fusion, weight: f64) {
    let pairs: Vec<(f64, f64)> = found
        .iter()
        .map(|f| {
            (
                f.lexical,
                f.semantic.map_or(0.0, |(s, _)| s.max(0.0) as f64),
            )
        })
        .collect();
    for (f, score) in found.iter_mut().zip(fused(&pairs, fusion, weight)) {
        f.score = score;
    }
}

/// The fused score of each candidate's (lexical score, similarity), rounded to 0.001.
pub fn fused(pairs: &[(f64, f64)], fusion: Fusion, weight: f64) -> Vec<f64> {
    let best = pairs.iter().map(|p| p.0).fold(0.0, f64::max);
    let lexical = ranks(pairs, |p| p.0);
    let semantic = ranks(pairs, |p| p.1);
    pairs
        .iter()
        .enumerate()
        .map(|(i, &(l, s))| {
            let score = match fusion {
                Fusion::Lexical => l,
                Fusion::Semantic => s,
                Fusion::Weighted if best > 0.0 => l / best + ROUTING_SHARE * weight * s,
                Fusion::Weighted => ROUTING_SHARE * weight * s,
                Fusion::Saturating => l / (l + 1.0) + weight * s,
                Fusion::Rrf => {
                    lexical[i].map_or(0.0, |r| 1.0 / (60.0 + r as f64))
                        + semantic[i].map_or(0.0, |r| weight / (60.0 + r as f64))
                }
            };
            (score * 1000.0).round() / 1000.0
        })
        .collect()
}

/// How tool search (`find_tools`) fuses meaning with the words: see [`Fusion`].
pub const TOOL_FUSION: Fusion = Fusion::Saturating;

/// How server routing fuses meaning with `router`'s words: [`Fusion::Weighted`] when any server
/// it scores has rules (keywords, patterns, examples: its own or a built-in set's),
/// [`Fusion::Saturating`] when only catalog words speak. Chosen on the development half of
/// `router-config/eval-personas-*.jsonl`: with rules weighted 0.887 precision@1, saturating
/// 0.873; with zero rules over real servers weighted 0.682, saturating 0.705.
pub fn routing_fusion(router: &Router) -> Fusion {
    if router.ruled() {
        Fusion::Weighted
    } else {
        Fusion::Saturating
    }
}

/// Each candidate's rank (1 = best) by `key`, `None` for a key of zero.
fn ranks(pairs: &[(f64, f64)], key: impl Fn(&(f64, f64)) -> f64) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..pairs.len()).filter(|&i| key(&pairs[i]) > 0.0).collect();
    order.sort_by(|&a, &b| key(&pairs[b]).total_cmp(&key(&pairs[a])).then(a.cmp(&b)));
    let mut out = vec![None; pairs.len()];
    for (rank, i) in order.into_iter().enumerate() {
        out[i] = Some(rank + 1);
    }
    out
}

/// Servers for the prompt `analysis` scored (its whole ranking), best first, with their fused
/// scores and similarities: the router's score and, with `meaning`, each server's similarity
/// (its nearest example, name or tool that `admit` lets count, blended with its examples'
/// together: [`EXAMPLES_SHARE`]; `fusion` combines the two); servers with neither are left out.
pub fn servers(
    router: &Router,
    analysis: &Analysis,
    meaning: Option<&Meaning<'_>>,
    admit: &dyn Fn(&super::semantic::Embedded) -> bool,
) -> Vec<(std::sync::Arc<str>, f64, Option<f32>)> {
    let names = router.engine().servers();
    // A server's similarity is its nearest tool's, example's or name's, blended with its
    // examples' together ([`EXAMPLES_SHARE`]; examples are rules, like keywords: they count
    // whatever the caller may see of its tools); a server the router's slice leaves out has none.
    let best_similarity = |i: usize| -> Option<f32> {
        let m = meaning.filter(|_| router.includes(i))?;
        let tools = m.index.tools.iter().filter(|t| t.server == i && admit(t));
        let tool = tools.map(|t| super::semantic::cosine(&t.vector, m.query));
        let example = m.index.nearest_sentence(i, m.query);
        let nearest = tool.chain(example).reduce(f32::max)?;
        Some(match m.index.examples_similarity(i, m.query) {
            Some(together) => EXAMPLES_SHARE * together + (1.0 - EXAMPLES_SHARE) * nearest,
            None => nearest,
        })
    };
    let similarities: Vec<Option<f32>> = (0..names.len()).map(best_similarity).collect();
    let pairs: Vec<(f64, f64)> = (0..names.len())
        .map(|i| {
            let mut lexical = analysis
                .ranking
                .iter()
                .find(|s| s.index == i)
                .map_or(0.0, |s| s.score);
            // The fallback stands in for a server reaching the threshold: it counts as one.
            if analysis.fallback.as_deref() == Some(&*names[i]) {
                lexical = lexical.max(router.threshold());
            }
            (lexical, similarities[i].map_or(0.0, |s| s.max(0.0) as f64))
        })
        .collect();
    let (fusion, weight) = meaning.map_or((Fusion::Lexical, 0.0), |m| (m.fusion, m.weight));
    let scores = fused(&pairs, fusion, weight);
    let mut order: Vec<usize> = (0..names.len()).filter(|&i| scores[i] > 0.0).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .map(|i| (names[i].clone(), scores[i], similarities[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::semantic::{Embedded, Example, ToolIndex};
    use std::sync::Arc;

    fn unit(v: [f32; 3]) -> Vec<f32> {
        crate::router::semantic::unit(v.to_vec()).expect("not zero")
    }

    #[test]
    fn a_server_with_examples_is_as_near_as_they_are_together() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let toml = "[router]\ndefault_rules = false\n\n[servers.notes]\ncommand = \"true\"\n\n\
                    [servers.clock]\ncommand = \"true\"\n";
        std::fs::write(&path, toml).unwrap();
        let router = Router::build(&crate::config::Config::load(&path).unwrap(), None);
        // notes: one example exactly the query, one at a right angle; clock: a tool near it.
        let example = |v| Example {
            server: 0,
            text: "an example".into(),
            vector: unit(v),
        };
        let tool = Embedded {
            server: 1,
            original: Arc::from("now"),
            text: "now".into(),
            vector: unit([0.9, 0.1, 0.0]),
        };
        let examples = vec![example([1.0, 0.0, 0.0]), example([0.0, 1.0, 0.0])];
        let index = ToolIndex::new(vec![tool], examples, Vec::new());
        let query = [1.0, 0.0, 0.0];
        let together = index.examples_similarity(0, &query).unwrap();
        assert!((together - 0.5f32.sqrt()).abs() < 1e-6, "{together}");
        assert_eq!(index.examples_similarity(1, &query), None, "no examples");
        let meaning = Meaning {
            index: &index,
            query: &query,
            weight: 1.0,
            fusion: Fusion::Semantic,
        };
        let analysis = router.analyze("whatever", 0);
        let found = servers(&router, &analysis, Some(&meaning), &|_| true);
        let got: Vec<(&str, f32)> = found.iter().map(|(n, _, s)| (&**n, s.unwrap())).collect();
        // The exact example alone would put notes first (1.0 against 0.994).
        assert_eq!(got[0].0, "clock", "{got:?}");
        assert_eq!(got[1].0, "notes", "{got:?}");
        let blended = EXAMPLES_SHARE * together + (1.0 - EXAMPLES_SHARE) * 1.0;
        assert!((got[1].1 - blended).abs() < 1e-6, "{got:?}");
    }
}
