//! The VAE's mid block (resnet, optional attention, resnet), shared by encoder and decoder. The
//! attention is diffusers' single-head `Attention` with a group norm and biased projections.

use burn::prelude::*;

use crate::blocks::multi_head_attention;
use crate::blocks::ResnetBlock2D;
use crate::nn::{GroupNorm, Linear};
use crate::weights::Builder;

/// diffusers' VAE norms all use this epsilon.
pub const EPS: f32 = 1e-6;

#[derive(Module, Debug)]
pub struct VaeAttention {
    pub group_norm: GroupNorm,
    pub to_q: Linear,
    pub to_k: Linear,
    pub to_v: Linear,
    pub to_out: Vec<Linear>,
}

impl VaeAttention {
    fn new(b: &Builder, channels: usize, groups: usize) -> Self {
        Self {
            group_norm: GroupNorm::new(&b.push("group_norm"), groups, channels, EPS),
            to_q: Linear::new(&b.push("to_q"), channels, channels, true),
            to_k: Linear::new(&b.push("to_k"), channels, channels, true),
            to_v: Linear::new(&b.push("to_v"), channels, channels, true),
            to_out: vec![Linear::new(&b.push("to_out").push(0), channels, channels, true)],
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let tokens = self.group_norm.forward(x.clone()).reshape([n, c, h * w]).swap_dims(1, 2);
        let (q, k, v) = (self.to_q.forward(tokens.clone()), self.to_k.forward(tokens.clone()), self.to_v.forward(tokens));
        let out = self.to_out[0].forward(multi_head_attention(q, k, v, 1, None));
        out.swap_dims(1, 2).reshape([n, c, h, w]) + x
    }
}

#[derive(Module, Debug)]
pub struct VaeMidBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<VaeAttention>,
}

impl VaeMidBlock {
    pub fn new(b: &Builder, channels: usize, groups: usize, attention: bool) -> Self {
        Self {
            resnets: (0..2).map(|i| ResnetBlock2D::new(&b.push("resnets").push(i), channels, channels, None, groups, EPS)).collect(),
            attentions: attention.then(|| VaeAttention::new(&b.push("attentions").push(0), channels, groups)).into_iter().collect(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.resnets[0].forward(x, None);
        if let Some(attention) = self.attentions.first() {
            x = attention.forward(x);
        }
        self.resnets[1].forward(x, None)
    }
}
