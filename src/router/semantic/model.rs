//! One sentence-embedding model, a sentence-transformers directory (`config.json`,
//! `tokenizer.json`, `model.safetensors`), run on the CPU by candle ([`super::bert`]): WordPiece ids (the
//! `tokenizers` crate, truncated at [`MAX_TOKENS`]), the encoder, mean pooling over the real
//! tokens, L2 normalization, which is what all-MiniLM-L6-v2's own configuration asks for. No
//! network, no Python.

use super::bert::Encoder;
use candle_core::{DType, Device, Tensor};
use sha2::{Digest, Sha256};
use std::path::Path;
use tokenizers::{Tokenizer, TruncationParams};

/// Tokens of one text the model reads at most (sentence-transformers' `max_seq_length` for
/// all-MiniLM-L6-v2); the rest is cut.
pub const MAX_TOKENS: usize = 256;

/// A loaded model.
pub struct Model {
    bert: Encoder,
    tokenizer: Tokenizer,
    device: Device,
    /// Length of its vectors.
    pub dims: usize,
    /// What identifies it (a digest of its files), for the embeddings cache.
    pub digest: String,
}

impl Model {
    /// Load the model in `dir`; an error names the file and the problem.
    pub fn load(dir: &Path) -> Result<Model, String> {
        let file = |name: &str| dir.join(name);
        let read = |name: &str| {
            std::fs::read(file(name))
                .map_err(|e| format!("cannot read {}: {e}", file(name).display()))
        };
        let config_text = read("config.json")?;
        let mut tokenizer = Tokenizer::from_file(file("tokenizer.json"))
            .map_err(|e| format!("{}: {e}", file("tokenizer.json").display()))?;
        // The file pads every text to 128 tokens and truncates there; batches are padded here
        // (with a mask), and texts are read up to the model's own limit.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| format!("tokenizer: {e}"))?;
        let weights = read("model.safetensors")?;
        let mut hash = Sha256::new();
        hash.update(&config_text);
        hash.update(read("tokenizer.json")?);
        hash.update(&weights);
        let digest: String = hash.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let device = Device::Cpu;
        // Read, not mapped: mapping needs `unsafe` (the file could change under the process),
        // and the gateway holds no unsafe code; the price is the file's size in memory.
        let named = file("model.safetensors");
        let tensors = candle_core::safetensors::load_buffer(&weights, &device)
            .and_then(|all| {
                all.into_iter()
                    .map(|(name, t)| Ok((name, t.to_dtype(DType::F32)?)))
                    .collect()
            })
            .map_err(|e| format!("{}: {e}", named.display()))?;
        let bert =
            Encoder::load(&config_text, tensors).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dims = bert.dims;
        Ok(Model {
            bert,
            tokenizer,
            device,
            dims,
            digest,
        })
    }

    /// The unit vector of each text, in order (one batch: pad to the longest, mask the rest).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| format!("tokenizer: {e}"))?;
        let longest = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(1);
        let n = encodings.len();
        let (mut ids, mut mask) = (vec![0u32; n * longest], vec![0u32; n * longest]);
        for (i, e) in encodings.iter().enumerate() {
            for (j, &id) in e.get_ids().iter().enumerate() {
                ids[i * longest + j] = id;
                mask[i * longest + j] = 1;
            }
        }
        self.forward(ids, mask, n, longest)
            .map_err(|e| format!("embedding: {e}"))
    }

    fn forward(
        &self,
        ids: Vec<u32>,
        mask: Vec<u32>,
        n: usize,
        longest: usize,
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let ids = Tensor::from_vec(ids, (n, longest), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, longest), &self.device)?;
        let mask = mask.to_dtype(DType::F32)?;
        let hidden = self.bert.forward(&ids, &mask)?; // (n, tokens, dims)
        let weights = mask.unsqueeze(2)?; // (n, tokens, 1)
        let mean = hidden
            .broadcast_mul(&weights)?
            .sum(1)?
            .broadcast_div(&weights.sum(1)?)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        mean.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}

/// The cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
