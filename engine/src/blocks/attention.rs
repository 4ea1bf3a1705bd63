//! diffusers' `Attention` (multi-head scaled dot-product) with its key names:
//! `to_q`, `to_k`, `to_v`, `to_out.0`.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::nn::Linear;
use crate::weights::Builder;

#[derive(Module, Debug)]
pub struct Attention {
    pub to_q: Linear,
    pub to_k: Linear,
    pub to_v: Linear,
    /// `to_out.0` (index 1 is a dropout in diffusers).
    pub to_out: Vec<Linear>,
    pub heads: usize,
}

impl Attention {
    /// `context_dim` is the key/value input width (the query width for self-attention).
    pub fn new(b: &Builder, query_dim: usize, context_dim: usize, heads: usize, head_dim: usize, qkv_bias: bool) -> Self {
        let inner = heads * head_dim;
        Self {
            to_q: Linear::new(&b.push("to_q"), query_dim, inner, qkv_bias),
            to_k: Linear::new(&b.push("to_k"), context_dim, inner, qkv_bias),
            to_v: Linear::new(&b.push("to_v"), context_dim, inner, qkv_bias),
            to_out: vec![Linear::new(&b.push("to_out").push(0), inner, query_dim, true)],
            heads,
        }
    }

    /// `x`: `[batch, tokens, query_dim]`; `context`: `[batch, context_tokens, context_dim]`, or
    /// `None` for self-attention.
    pub fn forward(&self, x: Tensor<3>, context: Option<Tensor<3>>) -> Tensor<3> {
        let context = context.unwrap_or_else(|| x.clone());
        let query = self.to_q.forward(x);
        let key = self.to_k.forward(context.clone());
        let value = self.to_v.forward(context);
        self.to_out[0].forward(multi_head_attention(query, key, value, self.heads, None))
    }
}

/// Scaled dot-product attention over `heads` heads of projected `[batch, tokens, inner]` inputs;
/// `mask` (added to the scores) is broadcast over batch and heads.
pub fn multi_head_attention(query: Tensor<3>, key: Tensor<3>, value: Tensor<3>, heads: usize, mask: Option<Tensor<4>>) -> Tensor<3> {
    let split = |x: Tensor<3>| {
        let [batch, tokens, inner] = x.dims();
        x.reshape([batch, tokens, heads, inner / heads]).swap_dims(1, 2)
    };
    let (query, key, value) = (split(query), split(key), split(value));
    let head_dim = query.dims()[3];
    let mut scores = query.matmul(key.swap_dims(2, 3)).mul_scalar((head_dim as f64).powf(-0.5));
    if let Some(mask) = mask {
        scores = scores + mask;
    }
    let mixed = softmax(scores, 3).matmul(value);
    let [batch, heads, tokens, dim] = mixed.dims();
    mixed.swap_dims(1, 2).reshape([batch, tokens, heads * dim])
}
