use burn::module::Param;
use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::weights::{Builder, Init};

/// `nn.Conv2d` with square kernels: weight `[out, in, k, k]`, bias `[out]`.
#[derive(Module, Debug)]
pub struct Conv2d {
    pub weight: Param<Tensor<4>>,
    pub bias: Option<Param<Tensor<1>>>,
    pub stride: usize,
    pub padding: usize,
}

impl Conv2d {
    pub fn new(b: &Builder, input: usize, output: usize, kernel: usize, stride: usize, padding: usize) -> Self {
        let fan_in = input * kernel * kernel;
        Self {
            weight: b.param("weight", [output, input, kernel, kernel], Init::FanIn(fan_in)),
            bias: Some(b.param("bias", [output], Init::FanIn(fan_in))),
            stride,
            padding,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        conv2d(x, self.weight.val(), self.bias.as_ref().map(|b| b.val()), ConvOptions::new([self.stride; 2], [self.padding; 2], [1, 1], 1))
    }
}
