//! Meaning beside the words (`[router.semantic]`): an optional sentence-embedding model
//! ([`model`]) turns each catalog tool's name and description, and each query, into a unit
//! vector; a tool's similarity to a query is their cosine. The catalog is embedded when it is
//! built, off the request path, on a small pool of blocking threads (`threads`), each text
//! looked up first in the on-disk [`cache`]; a query is embedded on the same pool, cut at
//! [`MAX_TOKENS`] tokens. Until a catalog's vectors are ready, search is lexical only.

mod bert;
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

/// One example prompt of a server's rules, or a server's name, embedded.
#[derive(Debug, Clone)]
pub struct Example {
    /// Position of its server in the configuration.
    pub server: usize,
    /// The example, as written.
    pub text: String,
    /// Its unit vector.
    pub vector: Vec<f32>,
}

/// The vectors of one catalog's tools and of the rules' example prompts.
#[derive(Debug, Default)]
pub struct ToolIndex {
    /// Every tool embedded, in catalog order.
    pub tools: Vec<Embedded>,
    /// Every example embedded, in configuration order.
    pub examples: Vec<Example>,
    /// Every server's name words, embedded (a server's name says what it is for: `memory`).
    pub names: Vec<Example>,
    /// By (server, the upstream's name).
    by_tool: std::collections::HashMap<(usize, Arc<str>), usize>,
    /// Per server with examples, the unit vector of their mean: what its examples say together.
    centroids: std::collections::HashMap<usize, Vec<f32>>,
}

impl ToolIndex {
    /// The index of `tools` and `examples`.
    pub fn new(tools: Vec<Embedded>, examples: Vec<Example>, names: Vec<Example>) -> ToolIndex {
        let by_tool = tools
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.server, t.original.clone()), i))
            .collect();
        let mut sums: std::collections::HashMap<usize, Vec<f32>> = Default::default();
        for e in &examples {
            let sum = sums
                .entry(e.server)
                .or_insert_with(|| vec![0.0; e.vector.len()]);
            sum.iter_mut().zip(&e.vector).for_each(|(a, b)| *a += b);
        }
        let centroids = sums
            .into_iter()
            .filter_map(|(server, sum)| Some((server, unit(sum)?)))
            .collect();
        ToolIndex {
            tools,
            examples,
            names,
            by_tool,
            centroids,
        }
    }

    /// Whether nothing is embedded (yet).
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty() && self.examples.is_empty()
    }

    /// Upstream `server`'s tool `original`, if embedded.
    pub fn get(&self, server: usize, original: &Arc<str>) -> Option<&Embedded> {
        self.by_tool
            .get(&(server, original.clone()))
            .map(|&i| &self.tools[i])
    }

    /// The similarity of `query` to the mean of `server`'s examples (none without examples).
    pub fn examples_similarity(&self, server: usize, query: &[f32]) -> Option<f32> {
        Some(cosine(self.centroids.get(&server)?, query))
    }

    /// The similarity of `server`'s nearest sentence (an example, or its name) to `query`.
    pub fn nearest_sentence(&self, server: usize, query: &[f32]) -> Option<f32> {
        self.examples
            .iter()
            .chain(&self.names)
            .filter(|e| e.server == server)
            .map(|e| cosine(&e.vector, query))
            .reduce(f32::max)
    }
}

/// `v` scaled to length 1 (none for a zero vector: examples that cancel out say nothing).
pub fn unit(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm <= f32::EPSILON || !norm.is_finite() {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(v)
}

/// What is embedded: the catalog's tools (server, the upstream's name, text), the rules'
/// example prompts and the servers' name words (server, text).
#[derive(Debug, Default, Clone)]
pub struct Texts {
    /// Each tool's.
    pub tools: Vec<(usize, Arc<str>, String)>,
    /// Each example's.
    pub examples: Vec<(usize, String)>,
    /// Each server's name words, for the servers whose name words count
    /// ([`super::Router::name_words`]).
    pub names: Vec<(usize, String)>,
}

impl Texts {
    /// The texts of `catalog`'s tools, of `router`'s examples and of its servers' names.
    pub fn of(catalog: &crate::catalog::Catalog, router: &super::Router) -> Texts {
        let examples = router
            .examples
            .iter()
            .enumerate()
            .flat_map(|(i, all)| all.iter().map(move |e| (i, e.clone())))
            .collect();
        let names = (0..router.engine().servers().len())
            .map(|i| (i, router.name_words(i).join(" ")))
            .filter(|(_, words)| !words.is_empty())
            .collect();
        Texts {
            tools: catalog_texts(catalog),
            examples,
            names,
        }
    }

    /// Every text: tools, examples, names.
    fn all(&self) -> Vec<String> {
        let tools = self.tools.iter().map(|t| t.2.clone());
        let sentences = self.examples.iter().chain(&self.names);
        tools.chain(sentences.map(|e| e.1.clone())).collect()
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
        let cache = Cache::new(state_dir, &model.digest, model.dims, settings.max_cached);
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
    /// the background: kept vectors are read from the cache, the rest computed and kept. The
    /// work takes the pool one batch at a time, so a query waits at most one batch behind it.
    pub fn refresh(self: &Arc<Self>, texts: Texts) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let me = self.clone();
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            match me.build(texts, generation).await {
                Ok(Some(index)) => {
                    tracing::info!(
                        tools = index.tools.len(),
                        took_ms = started.elapsed().as_millis() as u64,
                        "catalog embedded for semantic search"
                    );
                    me.index.store(Arc::new(index));
                }
                Ok(None) => {} // a newer catalog is on its way
                Err(e) => {
                    tracing::error!(error = %e, "cannot embed the catalog; search stays lexical")
                }
            }
        });
    }

    /// The index of `tools`, batch by batch on the pool; `None` once a newer refresh began.
    async fn build(&self, source: Texts, generation: u64) -> Result<Option<ToolIndex>, String> {
        let texts = Arc::new(source.all());
        let (cache, all) = (self.cache.clone(), texts.clone());
        let mut vectors = blocking(move || Ok(lookup(&cache, &all))).await?;
        for chunk in missing(&texts, &vectors).chunks(BATCH) {
            if self.generation.load(Ordering::Relaxed) != generation {
                return Ok(None);
            }
            let _permit = self.gate.acquire().await.map_err(|e| e.to_string())?;
            let (model, cache, all) = (self.model.clone(), self.cache.clone(), texts.clone());
            let batch = chunk.to_vec();
            let computed = blocking(move || compute(&model, &cache, &all, &batch)).await?;
            for (&i, v) in chunk.iter().zip(computed) {
                vectors[i] = Some(v);
            }
        }
        let current = self.generation.load(Ordering::Relaxed) == generation;
        if current {
            let (cache, all) = (self.cache.clone(), texts.clone());
            let gone = blocking(move || Ok(cache.sweep(&all))).await?;
            if gone > 0 {
                tracing::info!(
                    removed = gone,
                    "embeddings cache over router.semantic.max_cached"
                );
            }
        }
        Ok(current.then(|| assemble(source, vectors)))
    }

    /// Embed `texts` now, on this thread, through the cache (evaluation, benchmarks).
    pub fn embed_now(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        embed_cached(&self.model, &self.cache, &texts)
    }

    /// The index of `texts`, built now on this thread.
    pub fn index_now(&self, texts: Texts) -> Result<ToolIndex, String> {
        let vectors = embed_cached(&self.model, &self.cache, &texts.all())?;
        Ok(assemble(texts, vectors.into_iter().map(Some).collect()))
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }
}

/// Run `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("embedding: {e}"))?
}

/// The index of `texts` with their `vectors` (all present, tools first).
fn assemble(texts: Texts, vectors: Vec<Option<Vec<f32>>>) -> ToolIndex {
    let mut vectors = vectors.into_iter().map(|v| v.expect("every text embedded"));
    let tools = texts
        .tools
        .into_iter()
        .zip(vectors.by_ref())
        .map(|((server, original, text), vector)| Embedded {
            server,
            original,
            text,
            vector,
        })
        .collect();
    let mut sentences = |texts: Vec<(usize, String)>| -> Vec<Example> {
        let with = texts.into_iter().zip(vectors.by_ref());
        let each = with.map(|((server, text), vector)| Example {
            server,
            text,
            vector,
        });
        each.collect()
    };
    let examples = sentences(texts.examples);
    let names = sentences(texts.names);
    ToolIndex::new(tools, examples, names)
}

/// The kept vector of each text, if any.
fn lookup(cache: &Cache, texts: &[String]) -> Vec<Option<Vec<f32>>> {
    texts.iter().map(|t| cache.get(t)).collect()
}

/// The texts without a vector, shortest first (batches of like lengths pad little).
fn missing(texts: &[String], vectors: &[Option<Vec<f32>>]) -> Vec<usize> {
    let mut missing: Vec<usize> = (0..texts.len()).filter(|&i| vectors[i].is_none()).collect();
    missing.sort_by_key(|&i| texts[i].len());
    missing
}

/// The vectors of `texts[batch]`, computed in one batch and kept.
fn compute(
    model: &Model,
    cache: &Cache,
    texts: &[String],
    batch: &[usize],
) -> Result<Vec<Vec<f32>>, String> {
    let some: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
    let vectors = model.embed(&some)?;
    for (text, v) in some.iter().zip(&vectors) {
        cache.put(text, v);
    }
    Ok(vectors)
}

/// The vector of each text: from the cache, or computed (in batches) and kept.
fn embed_cached(model: &Model, cache: &Cache, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
    let mut out = lookup(cache, texts);
    for chunk in missing(texts, &out).chunks(BATCH) {
        for (&i, v) in chunk.iter().zip(compute(model, cache, texts, chunk)?) {
            out[i] = Some(v);
        }
    }
    Ok(out
        .into_iter()
        .map(|v| v.expect("every text embedded"))
        .collect())
}
