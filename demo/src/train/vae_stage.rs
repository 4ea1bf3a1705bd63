//! Stage 1: the autoencoder on single frames — reconstruction (MSE) plus a small KL term.

use burn::prelude::*;

use super::batch;
use super::parts::Autoencoder;
use crate::dataset::{Style, SIZE};
use engine::rng::SplitMix64;

/// The loss of one batch of `[n, 3, SIZE, SIZE]` frames: (total, reconstruction).
pub fn loss(model: &Autoencoder, pixels: Tensor<4>, noise: Tensor<4>, kl_weight: f32) -> (Tensor<1>, Tensor<1>) {
    let posterior = model.encoder.encode(pixels.clone());
    let std = posterior.logvar.clone().mul_scalar(0.5).exp();
    let sample = posterior.mean.clone() + std * noise;
    let reconstruction = model.decoder.decode(sample);
    let mse = (reconstruction - pixels).powi_scalar(2).mean();
    let kl = (posterior.mean.powi_scalar(2) + posterior.logvar.clone().exp() - posterior.logvar).sub_scalar(1.0).mean().mul_scalar(0.5);
    (mse.clone() + kl.mul_scalar(kl_weight), mse)
}

/// A batch of `count` frames (drawn in `style`) and the posterior noise for it, on `device`.
pub fn inputs(rng: &mut SplitMix64, count: usize, style: Style, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let pixels = batch::frames(rng, count, style);
    let latent = SIZE / 4;
    let noise = rng.normals(count * 4 * latent * latent);
    (Tensor::from_data(TensorData::new(pixels, [count, 3, SIZE, SIZE]), device), Tensor::from_data(TensorData::new(noise, [count, 4, latent, latent]), device))
}
