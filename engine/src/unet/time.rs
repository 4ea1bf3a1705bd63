//! Timestep embedding: diffusers' `Timesteps` sinusoids (computed on the host, in f32 as torch
//! does) and `TimestepEmbedding` (linear → SiLU → linear).

use burn::prelude::*;
use burn::tensor::activation::silu;

use crate::nn::Linear;
use crate::weights::Builder;

/// `get_timestep_embedding(t, dim, flip_sin_to_cos, downscale_freq_shift)` for one timestep.
pub fn timestep_sinusoids(timestep: f32, dim: usize, flip_sin_to_cos: bool, freq_shift: f32) -> Vec<f32> {
    let half = dim / 2;
    let frequencies = (0..half).map(|i| (-(10000f32.ln()) * i as f32 / (half as f32 - freq_shift)).exp());
    let angles: Vec<f32> = frequencies.map(|f| timestep * f).collect();
    let sin = angles.iter().map(|a| a.sin());
    let cos = angles.iter().map(|a| a.cos());
    let mut out: Vec<f32> = if flip_sin_to_cos { cos.chain(sin).collect() } else { sin.chain(cos).collect() };
    out.resize(dim, 0.0); // odd widths are zero-padded, as in diffusers
    out
}

#[derive(Module, Debug)]
pub struct TimestepEmbedding {
    pub linear_1: Linear,
    pub linear_2: Linear,
}

impl TimestepEmbedding {
    pub fn new(b: &Builder, input: usize, output: usize) -> Self {
        Self { linear_1: Linear::new(&b.push("linear_1"), input, output, true), linear_2: Linear::new(&b.push("linear_2"), output, output, true) }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear_2.forward(silu(self.linear_1.forward(x)))
    }
}
