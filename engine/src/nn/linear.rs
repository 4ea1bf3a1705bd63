use burn::module::Param;
use burn::prelude::*;

use crate::weights::{Builder, Init};

/// `nn.Linear`: weight `[out, in]` (PyTorch layout), optional bias `[out]`.
#[derive(Module, Debug)]
pub struct Linear {
    pub weight: Param<Tensor<2>>,
    pub bias: Option<Param<Tensor<1>>>,
}

impl Linear {
    pub fn new(b: &Builder, input: usize, output: usize, bias: bool) -> Self {
        Self { weight: b.param("weight", [output, input], Init::FanIn(input)), bias: bias.then(|| b.param("bias", [output], Init::FanIn(input))) }
    }

    /// Applies to the last dimension of any-rank input.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let dims = x.dims();
        let input = dims[D - 1];
        let rows = x.shape().num_elements() / input;
        let y = x.reshape([rows, input]).matmul(self.weight.val().transpose());
        let y = match &self.bias {
            Some(bias) => y + bias.val().unsqueeze::<2>(),
            None => y,
        };
        let mut out = dims;
        out[D - 1] = y.dims()[1];
        y.reshape(out)
    }
}
