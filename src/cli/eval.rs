//! `switchboard eval`: the router measured on labelled prompts, by words, and with `--model` by
//! meaning and both fused; over the offline fleet, or a configuration's started gateway.

use super::commands::{emit, fleet, load};
use crate::gateway::Gateway;
use crate::router::{eval as evaluation, Router};
use std::path::Path;
use std::sync::Arc;

/// `eval`: precision@1 and recall@3 over labelled prompts, by words (and with `--model`,
/// by meaning and both fused).
pub async fn run(args: &super::EvalArgs) -> Result<(), String> {
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let tool_set = text.lines().next().is_some_and(|l| l.contains("\"tools\""));
    if tool_set {
        let Some(model) = &args.model else {
            return Err("eval: a tool-selection set is scored with --model".into());
        };
        if args.config.is_some() || args.fallback.is_some() {
            return Err(
                "eval: a tool-selection set carries its own tools; drop --config and --fallback"
                    .into(),
            );
        }
        return eval_tools(&text, model, args.weight, args.json);
    }
    let cases = evaluation::load(&args.file)?;
    let (mut config, offline) = match &args.config {
        Some(p) => (load(Some(p), &args.rules)?, None),
        None => fleet(&args.rules).map(|(config, catalog)| (config, Some(catalog)))?,
    };
    if let Some(f) = &args.fallback {
        let server = config.servers.iter().find(|s| *s.name == **f);
        let Some(server) = server else {
            return Err(format!("eval --fallback: {f:?} is not a configured server"));
        };
        config.router.fallback = Some(server.name.clone());
    }
    let (router, catalog, gw) = match offline {
        Some(catalog) => {
            let router = Arc::new(Router::build(&config, Some(&catalog)));
            (router, Arc::new(catalog), None)
        }
        None => {
            let gw = Gateway::start(config).await.map_err(|e| e.to_string())?;
            (gw.router(), gw.catalog(), Some(gw))
        }
    };
    let scored = match &args.model {
        None => {
            let report = evaluation::run(&router, &cases);
            emit(args.json, &report, report.table());
            Ok(())
        }
        Some(model) => eval_meaning(&router, &catalog, &cases, model, args.weight, args.json),
    };
    if let Some(gw) = gw {
        gw.shutdown().await;
    }
    scored
}

/// The sentence-embedding model at `model`, as `[router.semantic]` with `weight` loads it.
fn semantic(model: &Path, weight: f64) -> Result<Arc<crate::router::semantic::Semantic>, String> {
    let settings = crate::config::SemanticSettings {
        model: model.to_path_buf(),
        weight,
        threads: 1,
        max_cached: crate::config::DEFAULT_MAX_CACHED,
    };
    let state = evaluation::offline_fleet().0.state_dir();
    crate::router::semantic::Semantic::load(&settings, &state)
}

/// `eval --model` on labelled prompts: routing by words, by meaning, and both fused.
fn eval_meaning(
    router: &Router,
    catalog: &crate::catalog::Catalog,
    cases: &[evaluation::Case],
    model: &Path,
    weight: f64,
    json: bool,
) -> Result<(), String> {
    use crate::router::tool_eval;
    let semantic = semantic(model, weight)?;
    let index = tool_eval::index_of(&semantic, catalog, router)?;
    let rows = tool_eval::servers(router, Some((&semantic, &index)), cases)?;
    emit(json, &rows, tool_eval::table("routing", &rows));
    Ok(())
}

/// `eval --model` on a tool-selection set: tool search by words, by meaning, and both fused.
fn eval_tools(text: &str, model: &Path, weight: f64, json: bool) -> Result<(), String> {
    use crate::router::tool_eval;
    let semantic = semantic(model, weight)?;
    let (config, catalog, cases) = tool_eval::load_tools(text)?;
    let router = Router::build(&config, Some(&catalog));
    let index = tool_eval::index_of(&semantic, &catalog, &router)?;
    let rows = tool_eval::tools(&router, &catalog, Some((&semantic, &index)), &cases)?;
    emit(json, &rows, tool_eval::table("tool search", &rows));
    Ok(())
}
