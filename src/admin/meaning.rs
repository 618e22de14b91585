//! Meaning in `/analyze` and `/route` (`[router.semantic]`): the semantic evidence `/analyze`
//! shows beside the words', and the fused server order, which `/analyze` explains and `/route`
//! acts on, so the two never disagree.

use crate::call::Identity;
use crate::catalog::Named;
use crate::gateway::{Gateway, Meant, View};
use crate::router::search::{routing_fusion, servers, Meaning};
use crate::router::semantic::{cosine, Embedded};
use crate::router::{Analysis, Scored};
use serde_json::{json, Value};
use std::sync::Arc;

/// The tool `e` is in the caller's view, if the caller may see it.
fn named<'v>(gw: &Gateway, view: &'v View, caller: &Identity, e: &Embedded) -> Option<&'v Named> {
    view.catalog
        .tool_by_original(e.server, &e.original)
        .filter(|t| gw.may_see(view, caller, &t.exposed))
}

/// Servers in the fused order (the router's score, weighted, and each server's nearest tool the
/// caller may see or example): (name, fused score, similarity).
fn fused(
    gw: &Gateway,
    view: &View,
    caller: &Identity,
    analysis: &Analysis,
    meant: &Meant,
) -> Vec<(Arc<str>, f64, Option<f32>)> {
    let (index, query, weight) = meant;
    let meaning = Meaning {
        index,
        query,
        weight: *weight,
        fusion: routing_fusion(&view.router),
    };
    let admit = |e: &Embedded| named(gw, view, caller, e).is_some();
    servers(&view.router, analysis, Some(&meaning), &admit)
}

/// Longest `/route` waits for a server it just started to have its tools embedded.
const VECTORS_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// With meaning, server `i` (its position in the configuration), which `/route` just started,
/// has its tools embedded in the background: wait for them (polling, at most
/// [`VECTORS_WAIT`]) so that its nearest tool can be picked. No wait without
/// `[router.semantic]` or when the server lists no tools.
pub(super) async fn vectors_ready(gw: &Gateway, view: &View, i: usize) {
    let Some(semantic) = gw.semantic.as_ref() else {
        return;
    };
    if !view.catalog.tools.items().iter().any(|t| t.server == i) {
        return;
    }
    let until = tokio::time::Instant::now() + VECTORS_WAIT;
    while !semantic.index().tools.iter().any(|t| t.server == i) {
        if tokio::time::Instant::now() >= until {
            let server = view.router.engine().servers().get(i).cloned();
            let server = server.as_deref().unwrap_or("?");
            tracing::warn!(
                server,
                "its tools are not embedded yet; /route picks by words"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Put `analysis`' ranking in the fused order: a server with words keeps its points and
/// matches; one only meaning found joins with no points; a server no tool of which the words
/// matched gets its nearest tool the caller may see, the one `/route` then calls.
pub(super) fn reorder(
    gw: &Gateway,
    view: &View,
    caller: &Arc<Identity>,
    meant: &Meant,
    analysis: &mut Analysis,
) {
    let (index, query, _) = meant;
    let names = view.router.engine().servers();
    let nearest = |server: usize| -> Option<Arc<str>> {
        let mine = index.tools.iter().filter(|e| e.server == server);
        let seen =
            mine.filter_map(|e| Some((cosine(&e.vector, query), named(gw, view, caller, e)?)));
        let best = seen.max_by(|a, b| a.0.total_cmp(&b.0))?;
        Some(best.1.exposed.clone())
    };
    let mut ranking = Vec::with_capacity(analysis.ranking.len());
    for (name, _, _) in fused(gw, view, caller, analysis, meant) {
        let Some(i) = names.iter().position(|n| *n == name) else {
            continue;
        };
        let mut s = match analysis.ranking.iter().position(|s| s.index == i) {
            Some(at) => analysis.ranking.remove(at),
            None => Scored::unmatched(name, i),
        };
        if s.tools.is_empty() {
            s.tools.extend(nearest(i));
        }
        ranking.push(s);
    }
    ranking.append(&mut analysis.ranking);
    analysis.ranking = ranking;
}

/// The semantic evidence of the analysed prompt with `[router.semantic]`: the nearest tools the
/// caller may see, the nearest example prompts of the rules and servers' names (`kind:
/// semantic`, the similarity, the text it matched; an example's says `example: true`, a name's
/// `name: true`), and the servers in the fused order (the router's score and each server's
/// similarity: its nearest tool, example or name, blended with its examples' together, shown
/// as `examples`), `top` of each; only of the servers the view includes.
pub(super) fn evidence(
    gw: &Gateway,
    view: &View,
    caller: &Arc<Identity>,
    analysis: &Analysis,
    meant: &Meant,
    top: usize,
) -> Value {
    let (index, query, weight) = meant;
    let tools = index.tools.iter().filter_map(|e| {
        let t = named(gw, view, caller, e)?;
        let similarity = cosine(&e.vector, query);
        let at = json!({ "server": &*t.server_name, "tool": &*t.exposed });
        Some((similarity, at, e.text.as_str()))
    });
    let names = view.router.engine().servers();
    let sentences = index.examples.iter().map(|e| (e, "example"));
    let sentences = sentences.chain(index.names.iter().map(|e| (e, "name")));
    // An endpoint's caller hears nothing of the servers it leaves out.
    let sentences = sentences.filter(|(e, _)| view.router.includes(e.server));
    let examples = sentences.filter_map(|(e, what)| {
        let similarity = cosine(&e.vector, query);
        let at = json!({ "server": &**names.get(e.server)?, what: true });
        Some((similarity, at, e.text.as_str()))
    });
    let mut nearest: Vec<(f32, Value, &str)> = tools.chain(examples).collect();
    nearest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let evidence: Vec<Value> = nearest
        .into_iter()
        .take(top.max(1))
        .map(|(similarity, mut at, text)| {
            at["kind"] = json!("semantic");
            at["similarity"] = json!(rounded(similarity));
            at["matched"] = json!(text);
            at
        })
        .collect();
    let fused: Vec<Value> = fused(gw, view, caller, analysis, meant)
        .into_iter()
        .take(top.max(1))
        .map(|(server, score, similarity)| {
            let mut entry =
                json!({ "server": &*server, "score": score, "similarity": similarity.map(rounded) });
            // What the server's examples say together, which half its similarity is.
            let i = names.iter().position(|n| *n == server);
            let together = i.and_then(|i| index.examples_similarity(i, query));
            if let (Some(together), Some(_)) = (together, similarity) {
                entry["examples"] = json!(rounded(together));
            }
            entry
        })
        .collect();
    json!({ "weight": weight, "evidence": evidence, "fused": fused })
}

/// A similarity as `/analyze` shows it: to thousandths.
fn rounded(similarity: f32) -> f64 {
    (similarity as f64 * 1000.0).round() / 1000.0
}
