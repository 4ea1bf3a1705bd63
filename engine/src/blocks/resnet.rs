//! diffusers' `ResnetBlock2D` (default time-embedding norm): GroupNorm → SiLU → conv, plus the
//! projected time embedding, GroupNorm → SiLU → conv, and a 1×1 shortcut when widths differ.

use burn::prelude::*;
use burn::tensor::activation::silu;

use crate::nn::{Conv2d, GroupNorm, Linear};
use crate::weights::Builder;

#[derive(Module, Debug)]
pub struct ResnetBlock2D {
    pub norm1: GroupNorm,
    pub conv1: Conv2d,
    pub time_emb_proj: Option<Linear>,
    pub norm2: GroupNorm,
    pub conv2: Conv2d,
    pub conv_shortcut: Option<Conv2d>,
}

impl ResnetBlock2D {
    /// `temb_channels`: `None` for the VAE, which has no time embedding.
    pub fn new(b: &Builder, input: usize, output: usize, temb_channels: Option<usize>, groups: usize, eps: f32) -> Self {
        Self {
            norm1: GroupNorm::new(&b.push("norm1"), groups, input, eps),
            conv1: Conv2d::new(&b.push("conv1"), input, output, 3, 1, 1),
            time_emb_proj: temb_channels.map(|t| Linear::new(&b.push("time_emb_proj"), t, output, true)),
            norm2: GroupNorm::new(&b.push("norm2"), groups, output, eps),
            conv2: Conv2d::new(&b.push("conv2"), output, output, 3, 1, 1),
            conv_shortcut: (input != output).then(|| Conv2d::new(&b.push("conv_shortcut"), input, output, 1, 1, 0)),
        }
    }

    /// `x`: `[N, C, H, W]`; `temb`: `[N, T]` (already per frame).
    pub fn forward(&self, x: Tensor<4>, temb: Option<Tensor<2>>) -> Tensor<4> {
        let mut h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        if let (Some(proj), Some(temb)) = (&self.time_emb_proj, temb) {
            h = h + proj.forward(silu(temb)).unsqueeze_dims(&[2, 3]);
        }
        let h = self.conv2.forward(silu(self.norm2.forward(h)));
        let shortcut = match &self.conv_shortcut {
            Some(conv) => conv.forward(x),
            None => x,
        };
        shortcut + h
    }
}
