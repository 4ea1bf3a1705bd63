//! Stage 2: text encoder and UNet together, epsilon prediction on clips encoded by the frozen
//! stage-1 encoder (once, into the [`super::latent_pool`]). The forward process is computed on the host, so every backend sees the same
//! numbers for the same seed.

use burn::prelude::*;

use super::batch;
use super::parts::Denoiser;
use crate::clip::ClipTokenizer;
use crate::dataset::{FRAMES, SIZE};
use crate::rng::SplitMix64;
use crate::vae::VaeEncoder;
use crate::EngineError;

/// One batch, ready for the device.
pub struct Inputs {
    /// `[clips, 77]` token ids (empty prompt for the unconditional share).
    pub ids: Vec<i64>,
    /// `[clips, C, FRAMES, h, w]`.
    pub noisy: Vec<f32>,
    pub noise: Vec<f32>,
    pub timesteps: Vec<f32>,
    pub latent_shape: [usize; 5],
}

pub struct Batcher<'a> {
    pub tokenizer: &'a ClipTokenizer,
    /// Frozen, on the plain (non-autodiff) device.
    pub encoder: &'a VaeEncoder,
    pub scaling_factor: f32,
    pub alphas_cumprod: &'a [f64],
    pub uncond_share: f64,
}

impl Batcher<'_> {
    /// Pixels `[clips·FRAMES, 3, SIZE, SIZE]` in [-1, 1] → scaled latents `[clips, C, FRAMES, h, w]`.
    pub fn encode(&self, pixels: Vec<f32>, clips: usize) -> Result<Vec<f32>, EngineError> {
        let device = self.encoder.encoder.conv_in.weight.val().device();
        let images = Tensor::<4>::from_data(TensorData::new(pixels, [clips * FRAMES, 3, SIZE, SIZE]), &device);
        // The posterior mean: deterministic latents (the VAE's variance is tiny anyway).
        let mean = self.encoder.encode(images).mean.mul_scalar(self.scaling_factor);
        let [_, channels, h, w] = mean.dims();
        mean.reshape([clips, FRAMES, channels, h, w])
            .permute([0, 2, 1, 3, 4])
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| EngineError::Readback { tensor: "training latents", reason: format!("{e:?}") })
    }

    /// A batch of pool clips (latents `[C, FRAMES, h, w]` each, with captions) at random
    /// timesteps with fresh noise; `latent` is `[C, FRAMES, h, w]`.
    pub fn inputs(&self, rng: &mut SplitMix64, picks: &[(&[f32], &str)], latent: [usize; 4]) -> Result<Inputs, EngineError> {
        let clips = picks.len();
        let per_clip: usize = latent.iter().product();
        let mut ids = Vec::with_capacity(clips * 77);
        let mut timesteps = Vec::with_capacity(clips);
        let mut seeds = Vec::with_capacity(clips);
        for (_, caption) in picks {
            let prompt = if rng.next_f64() < self.uncond_share { "" } else { caption };
            ids.extend(self.tokenizer.encode(prompt)?.ids.iter().map(|&id| id as i64));
            timesteps.push((rng.next_u64() % self.alphas_cumprod.len() as u64) as usize);
            seeds.push(rng.next_u64());
        }
        // Per-clip noise from per-clip seeds, drawn on all cores.
        let noise: Vec<f32> = batch::parallel(&seeds, |seed| SplitMix64::new(seed).normals(per_clip)).concat();
        let noisy: Vec<f32> = picks
            .iter()
            .flat_map(|(x0, _)| x0.iter())
            .zip(&noise)
            .enumerate()
            .map(|(i, (&x0, &e))| {
                let t = timesteps[i / per_clip];
                self.alphas_cumprod[t].sqrt() as f32 * x0 + (1.0 - self.alphas_cumprod[t]).sqrt() as f32 * e
            })
            .collect();
        let timesteps: Vec<f32> = timesteps.into_iter().map(|t| t as f32).collect();
        let [channels, frames, h, w] = latent;
        Ok(Inputs { ids, noisy, noise, timesteps, latent_shape: [clips, channels, frames, h, w] })
    }
}

/// Mean squared error of the predicted noise.
pub fn loss(model: &Denoiser, inputs: &Inputs, device: &Device) -> Result<Tensor<1>, EngineError> {
    let [clips, ..] = inputs.latent_shape;
    let ids = Tensor::<2, Int>::from_data(TensorData::new(inputs.ids.clone(), [clips, inputs.ids.len() / clips]), device);
    let text = model.text_encoder.forward(ids);
    let [_, tokens, dim] = text.dims();
    let per_frame = text.unsqueeze_dim::<4>(1).expand([clips, FRAMES, tokens, dim]).reshape([clips * FRAMES, tokens, dim]);
    let noisy = Tensor::<5>::from_data(TensorData::new(inputs.noisy.clone(), inputs.latent_shape), device);
    let noise = Tensor::<5>::from_data(TensorData::new(inputs.noise.clone(), inputs.latent_shape), device);
    let prediction = model.unet.forward_at(noisy, &inputs.timesteps, per_frame.clone(), per_frame, None, None)?;
    Ok((prediction - noise).powi_scalar(2).mean())
}
