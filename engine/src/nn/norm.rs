use burn::module::Param;
use burn::prelude::*;

use crate::weights::{Builder, Init};

/// `nn.GroupNorm` with affine weights, over `[N, C, ...]` given as 4-D (fold extra dims into
/// the last ones: the statistics only depend on which elements share a group).
#[derive(Module, Debug)]
pub struct GroupNorm {
    pub weight: Param<Tensor<1>>,
    pub bias: Param<Tensor<1>>,
    pub groups: usize,
    pub eps: f32,
}

impl GroupNorm {
    pub fn new(b: &Builder, groups: usize, channels: usize, eps: f32) -> Self {
        Self { weight: b.param("weight", [channels], Init::Ones), bias: b.param("bias", [channels], Init::Zeros), groups, eps }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let grouped = x.reshape([n, self.groups, (c / self.groups) * h * w]);
        let (var, mean) = grouped.clone().var_mean_bias(2);
        let normed = ((grouped - mean) / (var + self.eps).sqrt()).reshape([n, c, h, w]);
        normed * self.weight.val().reshape([1, c, 1, 1]) + self.bias.val().reshape([1, c, 1, 1])
    }
}

/// `nn.LayerNorm` over the last dimension.
#[derive(Module, Debug)]
pub struct LayerNorm {
    pub weight: Param<Tensor<1>>,
    pub bias: Param<Tensor<1>>,
    pub eps: f32,
}

impl LayerNorm {
    pub fn new(b: &Builder, dim: usize, eps: f32) -> Self {
        Self { weight: b.param("weight", [dim], Init::Ones), bias: b.param("bias", [dim], Init::Zeros), eps }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let (var, mean) = x.clone().var_mean_bias(2);
        let normed = (x - mean) / (var + self.eps).sqrt();
        normed * self.weight.val().unsqueeze::<3>() + self.bias.val().unsqueeze::<3>()
    }
}
