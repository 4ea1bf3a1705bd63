use burn::module::Param;
use burn::prelude::*;

use crate::weights::{Builder, Init};

/// `nn.Embedding`: weight `[count, dim]`.
#[derive(Module, Debug)]
pub struct Embedding {
    pub weight: Param<Tensor<2>>,
}

impl Embedding {
    pub fn new(b: &Builder, count: usize, dim: usize) -> Self {
        Self { weight: b.param("weight", [count, dim], Init::Normal(0.02)) }
    }

    /// `[batch, len]` ids → `[batch, len, dim]`.
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, len] = ids.dims();
        let dim = self.weight.dims()[1];
        self.weight.val().select(0, ids.reshape([batch * len])).reshape([batch, len, dim])
    }
}
