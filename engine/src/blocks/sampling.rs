//! `Downsample2D` (stride-2 conv) and `Upsample2D` (nearest ×2 then conv).

use burn::prelude::*;

use crate::nn::Conv2d;
use crate::weights::Builder;

#[derive(Module, Debug)]
pub struct Downsample2D {
    pub conv: Conv2d,
}

impl Downsample2D {
    pub fn new(b: &Builder, channels: usize, padding: usize) -> Self {
        Self { conv: Conv2d::new(&b.push("conv"), channels, channels, 3, 2, padding) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(x)
    }
}

#[derive(Module, Debug)]
pub struct Upsample2D {
    pub conv: Conv2d,
}

impl Upsample2D {
    pub fn new(b: &Builder, channels: usize) -> Self {
        Self { conv: Conv2d::new(&b.push("conv"), channels, channels, 3, 1, 1) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(nearest_2x(x))
    }
}

/// Nearest-neighbour ×2 upsampling by broadcasting: exact, and the same on every backend.
pub fn nearest_2x(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1]).expand([n, c, h, 2, w, 2]).reshape([n, c, h * 2, w * 2])
}
