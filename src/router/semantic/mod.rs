//! Meaning beside the words (`[router.semantic]`): an optional sentence-embedding model
//! ([`model`]) turns each catalog tool's name and description, and each query, into a unit
//! vector; a tool's similarity to a query is their cosine. The catalog is embedded when it is
//! built, off the request path, on a small pool of blocking threads (`threads`), each text
//! looked up first in the on-disk [`cache`]; a query is embedded on the same pool, cut at
//! [`MAX_TOKENS`] tokens. Until a catalog's vectors are ready, search is lexical only.

pub mod cache;
pub mod model;

pub use model::{cosine, Model, MAX_TOKENS};

use crate::config::SemanticSettings;
use arc_swap::ArcSwap;
use cache::Cache;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Texts embedded in one batch.
const BATCH: usize = 32;

/// One tool as the semantic scorer knows it.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Position of its server in the configuration.
    pub server: usize,
    /// The upstream's name for it.
    pub original: Arc<str>,
    /// The text that was embedded (what a similarity matched).
    pub text: String,
    /// Its unit vector.
    pub vector: Vec<f32>,
}

/// The vectors of one catalog's tools.
#[derive(Debug, Default)]
pub struct ToolIndex {
    /// Every tool embedded, in catalog order.
    pub tools: Vec<Embedded>,
    /// By (server, the upstream's name).
    by_tool: std::collections::HashMap<(usize, Arc<str>), usize>,
}

impl ToolIndex {
    /// The index of `tools`.
    pub fn new(tools: Vec<Embedded>) -> ToolIndex {
        let by_tool = tools
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.server, t.original.clone()), i))
            .collect();
        ToolIndex { tools, by_tool }
    }

    /// Upstream `server`'s tool `original`, if embedded.
    pub fn get(&self, server: usize, original: &Arc<str>) -> Option<&Embedded> {
        self.by_tool
            .get(&(server, original.clone()))
            .map(|&i| &self.tools[i])
    }

    /// The similarity of each tool to `query` (a unit vector), in catalog order.
    pub fn similarities(&self, query: &[f32]) -> Vec<f32> {
        self.tools
            .iter()
            .map(|t| cosine(&t.vector, query))
            .collect()
    }
}

/// What of `catalog` is embedded: each tool's (server, the upstream's name, text).
pub fn catalog_texts(catalog: &crate::catalog::Catalog) -> Vec<(usize, Arc<str>, String)> {
    catalog
        .tools
        .items()
        .iter()
        .map(|t| {
            let text = tool_text(&t.original, t.description.as_deref());
            (t.server, t.original.clone(), text)
        })
        .collect()
}

/// The text of a tool that is embedded: the words of its name, then its description.
pub fn tool_text(name: &str, description: Option<&str>) -> String {
    let words = name.replace(['_', '-', '.'], " ");
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("{words}: {d}"),
        None => words,
    }
}

/// The loaded model, its cache, and the vectors of the current catalog.
pub struct Semantic {
    model: Arc<Model>,
    cache: Arc<Cache>,
    /// Its share in a fused score.
    pub weight: f64,
    gate: Arc<Semaphore>,
    index: ArcSwap<ToolIndex>,
    /// Bumped by each refresh; an older one that finishes late is dropped.
    generation: AtomicU64,
}

impl Semantic {
    /// Load the model `settings` name; its cache lives under `state_dir`.
    pub fn load(settings: &SemanticSettings, state_dir: &Path) -> Result<Arc<Semantic>, String> {
        let model = Model::load(&settings.model)?;
        let cache = Cache::new(state_dir, &model.digest, model.dims);
        Ok(Arc::new(Semantic {
            model: Arc::new(model),
            cache: Arc::new(cache),
            weight: settings.weight,
            gate: Arc::new(Semaphore::new(settings.threads)),
            index: ArcSwap::from_pointee(ToolIndex::default()),
            generation: AtomicU64::new(0),
        }))
    }

    /// The vectors of the current catalog (empty until the first is ready).
    pub fn index(&self) -> Arc<ToolIndex> {
        self.index.load_full()
    }

    /// The unit vector of a query, computed on the blocking pool.
    pub async fn embed_query(&self, text: &str) -> Result<Vec<f32>, String> {
        let _permit = self.gate.acquire().await.map_err(|e| e.to_string())?;
        let (model, text) = (self.model.clone(), text.to_string());
        let mut v = tokio::task::spawn_blocking(move || model.embed(&[&text]))
            .await
            .map_err(|e| format!("embedding: {e}"))??;
        v.pop().ok_or_else(|| "embedding: no vector".to_string())
    }

    /// Embed `tools` (server, the upstream's name, text) and make them the current index, in
    /// the background: kept vectors are read from the cache, the rest computed and kept.
    pub fn refresh(self: &Arc<Self>, tools: Vec<(usize, Arc<str>, String)>) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let me = self.clone();
        tokio::spawn(async move {
            let Ok(_permit) = me.gate.clone().acquire_owned().await else {
                return;
            };
            let (model, cache) = (me.model.clone(), me.cache.clone());
            let started = tokio::time::Instant::now();
            let built =
                tokio::task::spawn_blocking(move || build_index(&model, &cache, tools)).await;
            match built {
                Ok(Ok(index)) if me.generation.load(Ordering::Relaxed) == generation => {
                    tracing::info!(
                        tools = index.tools.len(),
                        took_ms = started.elapsed().as_millis() as u64,
                        "catalog embedded for semantic search"
                    );
                    me.index.store(Arc::new(index));
                }
                Ok(Ok(_)) => {} // a newer catalog is on its way
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot embed the catalog; search stays lexical")
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot embed the catalog; search stays lexical")
                }
            }
        });
    }

    /// Embed `texts` now, on this thread, through the cache (evaluation, benchmarks).
    pub fn embed_now(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        embed_cached(&self.model, &self.cache, texts)
    }

    /// The index of `tools` (server, the upstream's name, text), built now on this thread.
    pub fn index_now(&self, tools: Vec<(usize, Arc<str>, String)>) -> Result<ToolIndex, String> {
        build_index(&self.model, &self.cache, tools)
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }
}

/// The index of `tools` (server, the upstream's name, text), through the cache.
fn build_index(
    model: &Model,
    cache: &Cache,
    tools: Vec<(usize, Arc<str>, String)>,
) -> Result<ToolIndex, String> {
    let texts: Vec<&str> = tools.iter().map(|(_, _, t)| t.as_str()).collect();
    let vectors = embed_cached(model, cache, &texts)?;
    let embedded = tools
        .into_iter()
        .zip(vectors)
        .map(|((server, original, text), vector)| Embedded {
            server,
            original,
            text,
            vector,
        })
        .collect();
    Ok(ToolIndex::new(embedded))
}

/// The vector of each text: from the cache, or computed (in batches) and kept.
fn embed_cached(model: &Model, cache: &Cache, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
    let mut out: Vec<Option<Vec<f32>>> = texts.iter().map(|t| cache.get(t)).collect();
    let mut missing: Vec<usize> = (0..texts.len()).filter(|&i| out[i].is_none()).collect();
    missing.sort_by_key(|&i| texts[i].len()); // batches of like lengths pad little
    for chunk in missing.chunks(BATCH) {
        let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
        for (&i, v) in chunk.iter().zip(model.embed(&batch)?) {
            cache.put(texts[i], &v);
            out[i] = Some(v);
        }
    }
    Ok(out
        .into_iter()
        .map(|v| v.expect("every text embedded"))
        .collect())
}
