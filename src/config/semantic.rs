//! `[router.semantic]`: the optional sentence-embedding model beside the lexical scorer. Absent,
//! routing and tool search are lexical only and no model is needed.

use super::expand::Context;
use super::ConfigError;
use serde::Deserialize;
use std::path::PathBuf;

/// `[router.semantic]` as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticSettings {
    /// The sentence-transformers directory (`config.json`, `tokenizer.json`, `model.safetensors`).
    pub model: PathBuf,
    /// Its share in a fused score (0: shown, but not counted).
    pub weight: f64,
    /// Embeddings computed at once (queries and catalog batches together), each on the
    /// blocking pool, its matrix products spread over candle's threads (one per core).
    pub threads: usize,
    /// Vectors kept on disk at most; beyond, the oldest not in the current catalog go.
    pub max_cached: usize,
}

/// Vectors kept on disk by default (about 1.5 KB each for a 384-wide model: 150 MB).
pub const DEFAULT_MAX_CACHED: usize = 100_000;

/// `[router.semantic]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticSpec {
    model: String,
    weight: Option<f64>,
    threads: Option<usize>,
    max_cached: Option<usize>,
}

impl SemanticSpec {
    /// Parse into runtime settings (`model` relative to the file; `${VAR}` expands).
    pub fn build(&self, file: &str, ctx: &Context) -> Result<SemanticSettings, ConfigError> {
        let model = ctx.relative(&super::tilde(&ctx.expand(
            &self.model,
            file,
            "router.semantic.model",
        )?));
        let weight = self.weight.unwrap_or(1.0);
        if !weight.is_finite() || weight < 0.0 {
            return Err(ConfigError::invalid(
                file,
                "router.semantic.weight",
                "must be a number >= 0",
            ));
        }
        let at_least_one = |v: Option<usize>, default: usize, name: &str| match v.unwrap_or(default)
        {
            0 => Err(ConfigError::invalid(file, name, "must be at least 1")),
            n => Ok(n),
        };
        Ok(SemanticSettings {
            model,
            weight,
            threads: at_least_one(self.threads, 1, "router.semantic.threads")?,
            max_cached: at_least_one(
                self.max_cached,
                DEFAULT_MAX_CACHED,
                "router.semantic.max_cached",
            )?,
        })
    }
}
