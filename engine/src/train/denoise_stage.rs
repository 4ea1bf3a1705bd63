//! Stage 2: text encoder and UNet together, epsilon or v prediction on clips encoded by the
//! frozen stage-1 encoder (once, into the [`super::latent_pool`]). The forward process is
//! computed on the host, so every backend sees the same numbers for the same seed.

use burn::prelude::*;

use super::batch;
use super::parts::Denoiser;
use crate::clip::ClipTokenizer;
use crate::dataset::{FRAMES, SIZE};
use crate::rng::SplitMix64;
use crate::schedulers::Prediction;
use crate::vae::VaeEncoder;
use crate::EngineError;

/// One batch, ready for the device.
pub struct Inputs {
    /// `[clips, 77]` token ids (empty prompt for the unconditional share).
    pub ids: Vec<i64>,
    /// `[clips, C, FRAMES, h, w]`.
    pub noisy: Vec<f32>,
    /// What the UNet should output: the noise, or v = √ᾱ·noise − √(1−ᾱ)·x0.
    pub target: Vec<f32>,
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
    pub prediction: Prediction,
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
        let (mut noisy, mut target) = (Vec::with_capacity(noise.len()), Vec::with_capacity(noise.len()));
        for (i, (&x0, &e)) in picks.iter().flat_map(|(x0, _)| x0.iter()).zip(&noise).enumerate() {
            let t = timesteps[i / per_clip];
            let (signal, sigma) = (self.alphas_cumprod[t].sqrt() as f32, (1.0 - self.alphas_cumprod[t]).sqrt() as f32);
            noisy.push(signal * x0 + sigma * e);
            target.push(match self.prediction {
                Prediction::VPrediction => signal * e - sigma * x0,
                Prediction::Epsilon => e,
            });
        }
        let timesteps: Vec<f32> = timesteps.into_iter().map(|t| t as f32).collect();
        let [channels, frames, h, w] = latent;
        Ok(Inputs { ids, noisy, target, timesteps, latent_shape: [clips, channels, frames, h, w] })
    }
}

/// Mean squared error of the prediction (noise or v).
pub fn loss(model: &Denoiser, inputs: &Inputs, device: &Device) -> Result<Tensor<1>, EngineError> {
    let [clips, ..] = inputs.latent_shape;
    let ids = Tensor::<2, Int>::from_data(TensorData::new(inputs.ids.clone(), [clips, inputs.ids.len() / clips]), device);
    let text = model.text_encoder.forward(ids);
    let [_, tokens, dim] = text.dims();
    let per_frame = text.unsqueeze_dim::<4>(1).expand([clips, FRAMES, tokens, dim]).reshape([clips * FRAMES, tokens, dim]);
    let noisy = Tensor::<5>::from_data(TensorData::new(inputs.noisy.clone(), inputs.latent_shape), device);
    let target = Tensor::<5>::from_data(TensorData::new(inputs.target.clone(), inputs.latent_shape), device);
    let prediction = model.unet.forward_at(noisy, &inputs.timesteps, per_frame.clone(), per_frame, None, None)?;
    Ok((prediction - target).powi_scalar(2).mean())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DirStore;
    use crate::train::parts;
    use crate::train::recipe::alphas_cumprod;

    /// The v target is the one the samplers invert: x0 = √ᾱ·x_t − √(1−ᾱ)·v, and epsilon is
    /// the drawn noise itself, for the same batch.
    #[test]
    fn targets_match_the_samplers_conventions() {
        let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny-mid");
        let tokenizer = ClipTokenizer::load(&DirStore::new(&fixtures).unwrap(), "tokenizer").unwrap();
        let device = crate::Backend::cpu_device();
        let (autoencoder, _) = parts::autoencoder(None, 1, 1.0, &device).unwrap();
        let alphas = alphas_cumprod();
        let latent = [2, 3, 2, 2];
        let x0: Vec<Vec<f32>> = (0..2).map(|c| (0..24).map(|i| (i as f32 * 0.37 + c as f32).sin()).collect()).collect();
        let picks: Vec<(&[f32], &str)> = x0.iter().map(|v| (v.as_slice(), "a red circle moving left")).collect();
        let batch = |prediction| {
            let b = Batcher { tokenizer: &tokenizer, encoder: &autoencoder.encoder, scaling_factor: 1.0, alphas_cumprod: &alphas, uncond_share: 0.0, prediction };
            b.inputs(&mut SplitMix64::new(5), &picks, latent).unwrap()
        };
        let (eps, v) = (batch(Prediction::Epsilon), batch(Prediction::VPrediction));
        assert_eq!(eps.noisy, v.noisy, "same draws either way");
        for (i, &x_t) in v.noisy.iter().enumerate() {
            let a = alphas[v.timesteps[i / 24] as usize];
            let (clip, at) = (i / 24, i % 24);
            let from_v = a.sqrt() as f32 * x_t - (1.0 - a).sqrt() as f32 * v.target[i];
            assert!((from_v - x0[clip][at]).abs() < 1e-5, "x0 from v at {i}: {from_v} vs {}", x0[clip][at]);
            let from_eps = (x_t - (1.0 - a).sqrt() as f32 * eps.target[i]) / a.sqrt() as f32;
            assert!((from_eps - x0[clip][at]).abs() < 1e-3, "x0 from epsilon at {i}: {from_eps} vs {}", x0[clip][at]);
        }
    }
}
