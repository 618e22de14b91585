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
    /// Blocking threads embedding may use at once (queries and catalogs together).
    pub threads: usize,
}

/// `[router.semantic]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticSpec {
    model: String,
    weight: Option<f64>,
    threads: Option<usize>,
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
        let threads = self.threads.unwrap_or(1);
        if threads == 0 {
            return Err(ConfigError::invalid(
                file,
                "router.semantic.threads",
                "must be at least 1",
            ));
        }
        Ok(SemanticSettings {
            model,
            weight,
            threads,
        })
    }
}
