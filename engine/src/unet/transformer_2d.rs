//! diffusers' `Transformer2DModel` (continuous input): spatial self- and cross-attention over
//! each frame's pixels, with a residual around the whole.

use burn::prelude::*;

use super::transformer_block::{BasicTransformerBlock, SecondAttention};
use crate::nn::{Conv2d, GroupNorm, Linear};
use crate::weights::Builder;

/// `proj_in`/`proj_out` are 1×1 convolutions in SD1.5 and linears with `use_linear_projection`.
#[derive(Module, Debug)]
pub enum Projection {
    Conv(Conv2d),
    Linear(Linear),
}

#[derive(Module, Debug)]
pub struct Transformer2D {
    pub norm: GroupNorm,
    pub proj_in: Projection,
    pub transformer_blocks: Vec<BasicTransformerBlock>,
    pub proj_out: Projection,
}

impl Transformer2D {
    pub fn new(b: &Builder, channels: usize, heads: usize, groups: usize, cross_dim: usize, layers: usize, linear: bool) -> Self {
        let projection = |name: &str| {
            if linear {
                Projection::Linear(Linear::new(&b.push(name), channels, channels, true))
            } else {
                Projection::Conv(Conv2d::new(&b.push(name), channels, channels, 1, 1, 0))
            }
        };
        Self {
            norm: GroupNorm::new(&b.push("norm"), groups, channels, 1e-6),
            proj_in: projection("proj_in"),
            transformer_blocks: (0..layers)
                .map(|i| BasicTransformerBlock::new(&b.push("transformer_blocks").push(i), channels, heads, SecondAttention::Cross(cross_dim), None))
                .collect(),
            proj_out: projection("proj_out"),
        }
    }

    /// `x`: `[frames, C, H, W]`; `context`: `[frames, tokens, cross_dim]` (one text per frame).
    pub fn forward(&self, x: Tensor<4>, context: Tensor<3>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let residual = x.clone();
        let normed = self.norm.forward(x);
        let to_tokens = |t: Tensor<4>| t.reshape([n, c, h * w]).swap_dims(1, 2);
        let mut tokens = match &self.proj_in {
            Projection::Conv(conv) => to_tokens(conv.forward(normed)),
            Projection::Linear(linear) => linear.forward(to_tokens(normed)),
        };
        for block in &self.transformer_blocks {
            tokens = block.forward(tokens, Some(context.clone()));
        }
        let to_image = |t: Tensor<3>| t.swap_dims(1, 2).reshape([n, c, h, w]);
        let out = match &self.proj_out {
            Projection::Conv(conv) => conv.forward(to_image(tokens)),
            Projection::Linear(linear) => to_image(linear.forward(tokens)),
        };
        out + residual
    }
}
