//! The walking skeleton's computation: one small, real block (3×3 conv → GroupNorm → SiLU →
//! single-head self-attention with residual → 1×1 conv → sigmoid) with fixed seeded weights,
//! turning a prompt-seeded latent into an RGB image. It exercises the ops the real UNet needs
//! (conv2d, reductions, matmul, softmax) on every backend; the model blocks replace it later.

use burn::prelude::*;
use burn::tensor::activation::{sigmoid, silu, softmax};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::rng::{fnv1a64, SplitMix64};
use crate::{EngineError, RgbImage};

/// Height and width of the latent and of the image.
pub const SIZE: usize = 32;
pub const IN_CHANNELS: usize = 4;
pub const HIDDEN: usize = 8;
pub const GROUPS: usize = 2;
pub const NORM_EPS: f32 = 1e-5;
/// Seed of the block's fixed weights.
pub const WEIGHT_SEED: u64 = 2024;

/// The block's parameters as plain arrays, PyTorch layouts: conv `[out, in, kh, kw]`,
/// linear `[out, in]`. Plain so that an independent loop implementation can use them too.
#[derive(Clone, Debug)]
pub struct SkeletonWeights {
    pub conv_in_weight: Vec<f32>,
    pub conv_in_bias: Vec<f32>,
    pub norm_weight: Vec<f32>,
    pub norm_bias: Vec<f32>,
    pub to_q: Vec<f32>,
    pub to_k: Vec<f32>,
    pub to_v: Vec<f32>,
    pub to_out_weight: Vec<f32>,
    pub to_out_bias: Vec<f32>,
    pub conv_out_weight: Vec<f32>,
    pub conv_out_bias: Vec<f32>,
}

impl SkeletonWeights {
    pub fn seeded(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut normal = |count: usize, scale: f32| -> Vec<f32> {
            rng.normals(count).into_iter().map(|v| v * scale).collect()
        };
        Self {
            conv_in_weight: normal(HIDDEN * IN_CHANNELS * 9, 0.3),
            conv_in_bias: normal(HIDDEN, 0.1),
            norm_weight: normal(HIDDEN, 0.1).into_iter().map(|v| 1.0 + v).collect(),
            norm_bias: normal(HIDDEN, 0.1),
            to_q: normal(HIDDEN * HIDDEN, 0.5),
            to_k: normal(HIDDEN * HIDDEN, 0.5),
            to_v: normal(HIDDEN * HIDDEN, 0.5),
            to_out_weight: normal(HIDDEN * HIDDEN, 0.3),
            to_out_bias: normal(HIDDEN, 0.1),
            conv_out_weight: normal(3 * HIDDEN, 0.7),
            conv_out_bias: normal(3, 0.1),
        }
    }
}

/// The latent `[1, IN_CHANNELS, SIZE, SIZE]` a prompt maps to: standard normal noise seeded by
/// the prompt's text, so equal prompts give equal images on every backend.
pub fn prompt_latent(prompt: &str) -> Vec<f32> {
    SplitMix64::new(fnv1a64(prompt)).normals(IN_CHANNELS * SIZE * SIZE)
}

/// The block with its weights on a device.
pub struct SkeletonBlock {
    conv_in_weight: Tensor<4>,
    conv_in_bias: Tensor<1>,
    norm_weight: Tensor<1>,
    norm_bias: Tensor<1>,
    to_q: Tensor<2>,
    to_k: Tensor<2>,
    to_v: Tensor<2>,
    to_out_weight: Tensor<2>,
    to_out_bias: Tensor<1>,
    conv_out_weight: Tensor<4>,
    conv_out_bias: Tensor<1>,
}

impl SkeletonBlock {
    pub fn new(weights: &SkeletonWeights, device: &Device) -> Self {
        let t1 = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device);
        let t2 = |v: &[f32]| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [HIDDEN, HIDDEN]), device)
        };
        let t4 = |v: &[f32], shape: [usize; 4]| {
            Tensor::<4>::from_data(TensorData::new(v.to_vec(), shape), device)
        };
        Self {
            conv_in_weight: t4(&weights.conv_in_weight, [HIDDEN, IN_CHANNELS, 3, 3]),
            conv_in_bias: t1(&weights.conv_in_bias),
            norm_weight: t1(&weights.norm_weight),
            norm_bias: t1(&weights.norm_bias),
            to_q: t2(&weights.to_q),
            to_k: t2(&weights.to_k),
            to_v: t2(&weights.to_v),
            to_out_weight: t2(&weights.to_out_weight),
            to_out_bias: t1(&weights.to_out_bias),
            conv_out_weight: t4(&weights.conv_out_weight, [3, HIDDEN, 1, 1]),
            conv_out_bias: t1(&weights.conv_out_bias),
        }
    }

    /// `[1, IN_CHANNELS, H, W]` latent → `[3, H, W]` image in (0, 1).
    pub fn forward(&self, latent: Tensor<4>) -> Tensor<3> {
        let [batch, _, height, width] = latent.dims();
        let hidden = conv2d(
            latent,
            self.conv_in_weight.clone(),
            Some(self.conv_in_bias.clone()),
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        );
        let hidden = silu(self.group_norm(hidden));

        // Attention over the H·W positions, channels as features.
        let tokens = hidden.reshape([batch, HIDDEN, height * width]).swap_dims(1, 2);
        let project = |w: &Tensor<2>| tokens.clone().matmul(w.clone().transpose().unsqueeze());
        let (query, key, value) = (project(&self.to_q), project(&self.to_k), project(&self.to_v));
        let scale = (HIDDEN as f32).powf(-0.5);
        let scores = query.matmul(key.swap_dims(1, 2)).mul_scalar(scale);
        let attended = softmax(scores, 2).matmul(value);
        let attended = attended.matmul(self.to_out_weight.clone().transpose().unsqueeze())
            + self.to_out_bias.clone().unsqueeze();
        let tokens = tokens + attended;
        let hidden = tokens.swap_dims(1, 2).reshape([batch, HIDDEN, height, width]);

        let rgb = conv2d(
            hidden,
            self.conv_out_weight.clone(),
            Some(self.conv_out_bias.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        sigmoid(rgb).reshape([3, height, width])
    }

    fn group_norm(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, channels, height, width] = x.dims();
        let grouped = x.reshape([batch, GROUPS, (channels / GROUPS) * height * width]);
        let (variance, mean) = grouped.clone().var_mean_bias(2);
        let normed = (grouped - mean) / (variance + NORM_EPS).sqrt();
        let normed = normed.reshape([batch, channels, height, width]);
        normed * self.norm_weight.clone().reshape([1, channels, 1, 1])
            + self.norm_bias.clone().reshape([1, channels, 1, 1])
    }
}

/// Runs the block for a prompt on `device` and reads the image back (asynchronously).
pub async fn render(prompt: &str, device: &Device) -> Result<RgbImage, EngineError> {
    let block = SkeletonBlock::new(&SkeletonWeights::seeded(WEIGHT_SEED), device);
    let latent = Tensor::<4>::from_data(
        TensorData::new(prompt_latent(prompt), [1, IN_CHANNELS, SIZE, SIZE]),
        device,
    );
    RgbImage::from_chw(block.forward(latent), "skeleton output").await
}
