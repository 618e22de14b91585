//! The encoder of a BERT sentence-embedding model, written out over candle's tensors. Not
//! candle-transformers' `BertModel`: a query is one short text, and at that size its layers
//! (three projections where one will do, an exact GELU through a scalar `erf`) cost a fifth
//! more than these (measured with `cargo bench --bench semantic`): query, key and value are one
//! product, GELU's `erf` is a polynomial the compiler vectorizes ([`erf`]), the rest is
//! candle's fused kernels (layer norm, softmax). Same weights, same numbers to f32 rounding
//! (tests/semantic.rs checks them against an independent implementation).

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, Module};
use std::collections::HashMap;

/// What of `config.json` the encoder reads.
#[derive(Debug, serde::Deserialize)]
struct Config {
    hidden_size: usize,
    num_attention_heads: usize,
    num_hidden_layers: usize,
    layer_norm_eps: f64,
    #[serde(default = "gelu")]
    hidden_act: String,
    #[serde(default = "absolute")]
    position_embedding_type: String,
}

fn gelu() -> String {
    "gelu".into()
}

fn absolute() -> String {
    "absolute".into()
}

/// One encoder layer.
struct Layer {
    qkv: Linear,
    out: Linear,
    out_norm: LayerNorm,
    up: Linear,
    down: Linear,
    down_norm: LayerNorm,
}

/// A loaded encoder.
pub struct Encoder {
    words: Embedding,
    /// Position embeddings, then the embedding of token type 0 (every text is one segment).
    positions: Tensor,
    segment: Tensor,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    /// Width of its vectors.
    pub dims: usize,
}

/// The weights of a model, by name.
type Weights = HashMap<String, Tensor>;

fn take(w: &mut Weights, name: &str) -> Result<Tensor, String> {
    w.remove(name)
        .ok_or_else(|| format!("no tensor {name} (not a BERT model?)"))
}

fn linear(w: &mut Weights, at: &str) -> Result<Linear, String> {
    let weight = take(w, &format!("{at}.weight"))?;
    Ok(Linear::new(weight, Some(take(w, &format!("{at}.bias"))?)))
}

fn norm(w: &mut Weights, at: &str, eps: f64) -> Result<LayerNorm, String> {
    let weight = take(w, &format!("{at}.weight"))?;
    Ok(LayerNorm::new(weight, take(w, &format!("{at}.bias"))?, eps))
}

impl Encoder {
    /// The encoder `config` (the text of `config.json`) describes, over `weights`; an error
    /// names what is missing or not supported.
    pub fn load(config: &[u8], mut weights: Weights) -> Result<Encoder, String> {
        let c: Config =
            serde_json::from_slice(config).map_err(|e| format!("not a BERT configuration: {e}"))?;
        if c.hidden_act != "gelu" || c.position_embedding_type != "absolute" {
            return Err(format!(
                "hidden_act {:?} with position_embedding_type {:?}: only gelu with absolute \
                 positions is supported",
                c.hidden_act, c.position_embedding_type
            ));
        }
        if c.num_attention_heads == 0 || !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        let w = &mut weights;
        let e = "embeddings";
        let words = Embedding::new(
            take(w, &format!("{e}.word_embeddings.weight"))?,
            c.hidden_size,
        );
        let positions = take(w, &format!("{e}.position_embeddings.weight"))?;
        let segment = take(w, &format!("{e}.token_type_embeddings.weight"))?
            .get(0)
            .map_err(|e| e.to_string())?;
        let norm_ = norm(w, &format!("{e}.LayerNorm"), c.layer_norm_eps)?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| layer(w, &format!("encoder.layer.{i}"), c.layer_norm_eps))
            .collect::<Result<_, _>>()?;
        Ok(Encoder {
            words,
            positions,
            segment,
            norm: norm_,
            layers,
            heads: c.num_attention_heads,
            dims: c.hidden_size,
        })
    }

    /// The last hidden states `(n, tokens, dims)` of token `ids` `(n, tokens)`, where `mask`
    /// `(n, tokens)` is 1 on real tokens and 0 on padding.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (n, tokens) = ids.dims2()?;
        if tokens > self.positions.dim(0)? {
            candle_core::bail!("{tokens} tokens, more than the model's positions");
        }
        let x = self
            .words
            .forward(ids)?
            .broadcast_add(&self.positions.narrow(0, 0, tokens)?)?
            .broadcast_add(&self.segment)?;
        let mut x = self.norm.forward(&x)?;
        // Padding gets the lowest score before the softmax, as the reference does.
        let bias =
            ((mask.ones_like()? - mask)? * f64::from(f32::MIN))?.reshape((n, 1, 1, tokens))?;
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, &bias)?;
        }
        Ok(x)
    }

    fn layer_forward(&self, l: &Layer, x: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let (n, tokens, dims) = x.dims3()?;
        let head = dims / self.heads;
        let qkv = l
            .qkv
            .forward(x)?
            .reshape((n, tokens, 3, self.heads, head))?
            .permute((2, 0, 3, 1, 4))?; // (3, n, heads, tokens, head)
        let q = (qkv.get(0)? * (1.0 / (head as f64).sqrt()))?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(bias)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((n, tokens, dims))?;
        let a = l.out_norm.forward(&(l.out.forward(&context)? + x)?)?;
        let up = l.up.forward(&a)?.apply_op1_no_bwd(&Gelu)?;
        l.down_norm.forward(&(l.down.forward(&up)? + a)?)
    }
}

fn layer(w: &mut Weights, at: &str, eps: f64) -> Result<Layer, String> {
    let part = |w: &mut Weights, p: &str| {
        let weight = take(w, &format!("{at}.attention.self.{p}.weight"))?;
        let bias = take(w, &format!("{at}.attention.self.{p}.bias"))?;
        Ok::<_, String>((weight, bias))
    };
    let (q, k, v) = (part(w, "query")?, part(w, "key")?, part(w, "value")?);
    let cat = |a: &Tensor, b: &Tensor, c: &Tensor| Tensor::cat(&[a, b, c], 0);
    let qkv = Linear::new(
        cat(&q.0, &k.0, &v.0).map_err(|e| e.to_string())?,
        Some(cat(&q.1, &k.1, &v.1).map_err(|e| e.to_string())?),
    );
    Ok(Layer {
        qkv,
        out: linear(w, &format!("{at}.attention.output.dense"))?,
        out_norm: norm(w, &format!("{at}.attention.output.LayerNorm"), eps)?,
        up: linear(w, &format!("{at}.intermediate.dense"))?,
        down: linear(w, &format!("{at}.output.dense"))?,
        down_norm: norm(w, &format!("{at}.output.LayerNorm"), eps)?,
    })
}

/// GELU as BERT defines it, `x/2 * (1 + erf(x/sqrt 2))`, over a contiguous f32 tensor.
struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(all), Some((from, to))) = (s, l.contiguous_offsets()) else {
            candle_core::bail!("gelu: a contiguous f32 tensor is expected");
        };
        let out = all[from..to]
            .iter()
            .map(|&x| 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)))
            .collect();
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }
}

/// The error function in single precision, within 1e-6 of the exact one (a test checks),
/// branch-free and without fused multiply-adds (a call each where the
/// build does not assume the instruction) so the loop above is vectorized: the rational approximation XLA and Eigen use
/// for f32 (`x * P(x²) / Q(x²)` on [-4, 4], where erf is ±1 in f32 beyond). Written here
/// because the math crates' `erf` is the scalar, branching kind this replaces.
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = -2.726_142_3e-10_f32;
    let p = p * x2 + 2.770_681_4e-8;
    let p = p * x2 + -2.101_024e-6;
    let p = p * x2 + -5.692_506_4e-5;
    let p = p * x2 + -7.349_906_3e-4;
    let p = p * x2 + -2.954_600_1e-3;
    let p = p * x2 + -1.609_603_3e-2;
    let q = -1.456_607_2e-5_f32;
    let q = q * x2 + -2.133_740_6e-4;
    let q = q * x2 + -1.682_827e-3;
    let q = q * x2 + -7.373_329e-3;
    let q = q * x2 + -1.426_474e-2;
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::erf;

    #[test]
    fn erf_is_within_a_millionth_of_the_exact_one() {
        let mut worst = 0.0f64;
        for i in -6000..=6000 {
            let x = i as f64 / 1000.0;
            worst = worst.max((f64::from(erf(x as f32)) - libm::erf(x)).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
        assert_eq!(erf(0.0), 0.0);
        assert!(erf(-1.0) < 0.0);
    }
}
