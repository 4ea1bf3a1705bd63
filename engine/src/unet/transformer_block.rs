//! diffusers' `BasicTransformerBlock` (layer-norm variant): self-attention, a second attention
//! (cross-attention on text, or a second self-attention in motion modules), GEGLU feed-forward.
//! Motion modules add a sinusoidal position table after `norm1` and `norm2`.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::gelu;

use crate::blocks::Attention;
use crate::nn::{LayerNorm, Linear};
use crate::weights::Builder;

/// Feed-forward `ff.net.0.proj` (GEGLU) → `ff.net.2`.
#[derive(Module, Debug)]
pub struct FeedForward {
    pub net_0_proj: Linear,
    pub net_2: Linear,
}

impl FeedForward {
    pub fn new(b: &Builder, dim: usize) -> Self {
        let inner = dim * 4;
        Self {
            net_0_proj: Linear::new(&b.push("net").push(0).push("proj"), dim, inner * 2, true),
            net_2: Linear::new(&b.push("net").push(2), inner, dim, true),
        }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let projected = self.net_0_proj.forward(x);
        let inner = projected.dims()[2] / 2;
        let [hidden, gate] = projected.split(inner, 2).try_into().expect("two halves");
        self.net_2.forward(hidden * gelu(gate))
    }
}

/// `pos_embed.pe`: `[1, max_len, dim]` sinusoids, stored in checkpoints as a buffer.
#[derive(Module, Debug)]
pub struct SinusoidalPositions {
    pub pe: Param<Tensor<3>>,
}

impl SinusoidalPositions {
    pub fn new(b: &Builder, dim: usize, max_len: usize) -> Self {
        // Checkpoints store the table; a fresh model computes it as diffusers does.
        Self { pe: b.buffer("pe", [1, max_len, dim], |device| Self::table(dim, max_len, device)) }
    }

    /// The table diffusers' `SinusoidalPositionalEmbedding` registers.
    pub fn table(dim: usize, max_len: usize, device: &Device) -> Tensor<3> {
        Tensor::from_data(TensorData::new(Self::values(dim, max_len), [1, max_len, dim]), device)
    }

    /// [`Self::table`]'s values, `[max_len, dim]` row-major. Row `p` depends only on `p` and
    /// `dim`, so a longer table starts with the shorter one.
    pub fn values(dim: usize, max_len: usize) -> Vec<f32> {
        let mut values = vec![0f32; max_len * dim];
        for pos in 0..max_len {
            for i in (0..dim).step_by(2) {
                let div = (-(10000f32.ln()) * i as f32 / dim as f32).exp();
                let angle = pos as f32 * div;
                values[pos * dim + i] = angle.sin();
                if i + 1 < dim {
                    values[pos * dim + i + 1] = angle.cos();
                }
            }
        }
        values
    }

    pub fn max_len(&self) -> usize {
        self.pe.dims()[1]
    }

    /// Adds positions 0..len to `[batch, len, dim]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [_, len, dim] = x.dims();
        x + self.pe.val().slice([0..1, 0..len, 0..dim])
    }
}

#[derive(Module, Debug)]
pub struct BasicTransformerBlock {
    pub norm1: LayerNorm,
    pub attn1: Attention,
    pub norm2: LayerNorm,
    pub attn2: Attention,
    pub norm3: LayerNorm,
    pub ff: FeedForward,
    pub pos_embed: Option<SinusoidalPositions>,
}

/// What the second attention attends to.
#[derive(Clone, Copy, Debug)]
pub enum SecondAttention {
    /// Cross-attention on text embeddings of this width.
    Cross(usize),
    /// A second self-attention (motion modules' `double_self_attention`).
    SelfAttention,
}

impl BasicTransformerBlock {
    pub fn new(b: &Builder, dim: usize, heads: usize, second: SecondAttention, positions: Option<usize>) -> Self {
        let head_dim = dim / heads;
        let context_dim = match second {
            SecondAttention::Cross(width) => width,
            SecondAttention::SelfAttention => dim,
        };
        Self {
            norm1: LayerNorm::new(&b.push("norm1"), dim, 1e-5),
            attn1: Attention::new(&b.push("attn1"), dim, dim, heads, head_dim, false),
            norm2: LayerNorm::new(&b.push("norm2"), dim, 1e-5),
            attn2: Attention::new(&b.push("attn2"), dim, context_dim, heads, head_dim, false),
            norm3: LayerNorm::new(&b.push("norm3"), dim, 1e-5),
            ff: FeedForward::new(&b.push("ff"), dim),
            pos_embed: positions.map(|len| SinusoidalPositions::new(&b.push("pos_embed"), dim, len)),
        }
    }

    /// The two attentions with their residuals (the part FreeNoise runs per window).
    pub fn attentions(&self, x: Tensor<3>, context: Option<Tensor<3>>) -> Tensor<3> {
        self.second_attention(self.first_attention(x), context)
    }

    pub fn first_attention(&self, x: Tensor<3>) -> Tensor<3> {
        let normed = self.with_positions(self.norm1.forward(x.clone()));
        x + self.attn1.forward(normed, None)
    }

    pub fn second_attention(&self, x: Tensor<3>, context: Option<Tensor<3>>) -> Tensor<3> {
        let normed = self.with_positions(self.norm2.forward(x.clone()));
        x + self.attn2.forward(normed, context)
    }

    pub fn feed_forward(&self, x: Tensor<3>) -> Tensor<3> {
        x.clone() + self.ff.forward(self.norm3.forward(x))
    }

    pub fn forward(&self, x: Tensor<3>, context: Option<Tensor<3>>) -> Tensor<3> {
        self.feed_forward(self.attentions(x, context))
    }

    fn with_positions(&self, x: Tensor<3>) -> Tensor<3> {
        match &self.pos_embed {
            Some(positions) => positions.forward(x),
            None => x,
        }
    }
}
