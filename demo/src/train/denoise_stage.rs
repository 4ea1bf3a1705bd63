//! Stage 2: text encoder and UNet together, epsilon or v prediction on clips encoded by the
//! frozen stage-1 encoder (once, into the [`super::latent_pool`]). The forward process is
//! computed on the host, so every backend sees the same numbers for the same seed.

use burn::prelude::*;

use super::batch;
use super::parts::Denoiser;
use crate::dataset::{FRAMES, SIZE};
use engine::clip::ClipTokenizer;
use engine::rng::SplitMix64;
use engine::schedulers::Prediction;
use engine::vae::VaeEncoder;
use engine::EngineError;

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
    /// Share of clips drawn at [`HIGH_NOISE_FROM`] and up (the recipe's, once in effect).
    pub high_noise_share: f64,
}

/// The high-noise draws' lowest timestep: the page's 12 DDIM steps (trailing spacing) start at
/// 999, 908 and 817, where ᾱ ≤ 0.01 and the noisy clip shows next to nothing, so a caption alone
/// must fix where the object goes.
pub const HIGH_NOISE_FROM: usize = 800;

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

    /// Uniform over the schedule, or (a `high_noise_share` of draws) over its top. With no
    /// high-noise share the random stream is the one uniform draws always used.
    fn timestep(&self, rng: &mut SplitMix64) -> usize {
        let count = self.alphas_cumprod.len();
        if self.high_noise_share > 0.0 && rng.next_f64() < self.high_noise_share {
            HIGH_NOISE_FROM + (rng.next_u64() % (count - HIGH_NOISE_FROM) as u64) as usize
        } else {
            (rng.next_u64() % count as u64) as usize
        }
    }

    /// A batch of pool clips (latents `[C, FRAMES, h, w]` each, with captions) at random
    /// timesteps with fresh noise; `latent` is `[C, FRAMES, h, w]`.
    pub fn inputs(&self, rng: &mut SplitMix64, picks: &[(&[f32], &str)], latent: [usize; 4]) -> Result<Inputs, EngineError> {
        let clips = picks.len();
        let per_clip: usize = latent.iter().product();
        let mut ids = Vec::with_capacity(clips * self.tokenizer.max_tokens());
        let mut timesteps = Vec::with_capacity(clips);
        let mut seeds = Vec::with_capacity(clips);
        for (_, caption) in picks {
            let prompt = if rng.next_f64() < self.uncond_share { "" } else { caption };
            ids.extend(self.tokenizer.encode(prompt)?.ids.iter().map(|&id| id as i64));
            timesteps.push(self.timestep(rng));
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
    let [clips, _, frames, ..] = inputs.latent_shape;
    let ids = Tensor::<2, Int>::from_data(TensorData::new(inputs.ids.clone(), [clips, inputs.ids.len() / clips]), device);
    let text = model.text_encoder.forward(ids);
    let [_, tokens, dim] = text.dims();
    let per_frame = text.unsqueeze_dim::<4>(1).expand([clips, frames, tokens, dim]).reshape([clips * frames, tokens, dim]);
    let noisy = Tensor::<5>::from_data(TensorData::new(inputs.noisy.clone(), inputs.latent_shape), device);
    let target = Tensor::<5>::from_data(TensorData::new(inputs.target.clone(), inputs.latent_shape), device);
    let prediction = model.unet.forward_at(noisy, &inputs.timesteps, per_frame.clone(), per_frame, None, None)?;
    Ok((prediction - target).powi_scalar(2).mean())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use burn::module::{ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use serde_json::Value;

    use super::*;
    use crate::train::model_dir::ModelDir;
    use crate::train::parts::{self, Keys};
    use crate::train::recipe::{alphas_cumprod, Recipe};
    use engine::npy::read_npy;
    use engine::store::DirStore;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
    }

    /// Each parameter's gradient as `make_fixtures.py`'s `gradient_probes` reduces it: L2 norm
    /// and dot products with sin(0.7·i + 1.3·k + 0.1), k = 1, 2 (f64 sums).
    struct Probes<'a> {
        prefix: &'static str,
        keys: &'a Keys,
        grads: &'a GradientsParams,
        out: BTreeMap<String, [f64; 3]>,
    }

    impl ModuleVisitor for Probes<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let Some(grad) = self.grads.get::<D>(param.id) else { return };
            let values = grad.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 gradients");
            let mut probe = [0f64; 3];
            for (i, &g) in values.iter().enumerate() {
                let (g, i) = (g as f64, i as f64);
                probe[0] += g * g;
                probe[1] += g * (0.7 * i + 1.3 + 0.1).sin();
                probe[2] += g * (0.7 * i + 2.6 + 0.1).sin();
            }
            probe[0] = probe[0].sqrt();
            self.out.insert(format!("{}/{}", self.prefix, self.keys[&param.id]), probe);
        }
    }

    /// One training step of the stored tiny-mid text encoder and UNet, against PyTorch's
    /// (`tests/reference/make_fixtures.py`): the loss, and every parameter's gradient (norm and
    /// two projections) within 1e-4 of its norm. Two clips at their own timesteps, one with the
    /// empty prompt, so per-clip timesteps and per-frame text states are both exercised.
    #[test]
    fn gradients_match_pytorch() {
        let root = fixtures().join("tiny-mid");
        let golden = root.join("golden/training");
        let device = engine::Backend::cpu_device().autodiff();
        let (model, text_keys, unet_keys) = parts::denoiser(Some(&ModelDir::new(&root)), 0, &device).unwrap();
        let npy = |name: &str| read_npy(&std::fs::read(golden.join(format!("{name}.npy"))).unwrap(), name).unwrap();
        let (noisy, target) = (npy("noisy"), npy("target"));
        let latent_shape: [usize; 5] = noisy.shape.clone().try_into().unwrap();
        let inputs = Inputs {
            ids: npy("token_ids").data.iter().map(|&id| id as i64).collect(),
            noisy: noisy.data,
            target: target.data,
            timesteps: npy("timesteps").data,
            latent_shape,
        };
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(golden.join("gradients.json")).unwrap()).unwrap();

        let loss = loss(&model, &inputs, &device).unwrap();
        let value = loss.clone().into_data().convert::<f32>().try_into_vec::<f32>().unwrap()[0] as f64;
        let torch_loss = expected["loss"].as_f64().unwrap();
        assert!((value - torch_loss).abs() <= 1e-5 * torch_loss, "loss {value} vs PyTorch {torch_loss}");

        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let mut text = Probes { prefix: "text_encoder", keys: &text_keys, grads: &grads, out: BTreeMap::new() };
        model.text_encoder.visit(&mut text);
        let mut unet = Probes { prefix: "unet", keys: &unet_keys, grads: &grads, out: BTreeMap::new() };
        model.unet.visit(&mut unet);
        let mut ours = text.out;
        ours.extend(unet.out);

        let theirs = expected["probes"].as_object().unwrap();
        let mut mismatches = Vec::new();
        for (key, probes) in theirs {
            let Some(mine) = ours.remove(key) else {
                mismatches.push(format!("{key}: no gradient"));
                continue;
            };
            let probes: Vec<f64> = probes.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            // Relative to the gradient's norm, with a floor for the few that are zero up to
            // rounding (the key biases: softmax ignores a constant shift of the scores).
            let tolerance = 1e-4 * probes[0] + 1e-7;
            if mine.iter().zip(&probes).any(|(a, b)| (a - b).abs() > tolerance) {
                mismatches.push(format!("{key}: {mine:?} vs {probes:?}"));
            }
        }
        // Gradients PyTorch has no parameter for: the motion modules' position tables are
        // buffers there, and frozen here.
        assert!(ours.is_empty(), "gradients PyTorch does not have: {:?}", ours.keys().collect::<Vec<_>>());
        assert!(mismatches.is_empty(), "{} of {} gradients differ: {mismatches:#?}", mismatches.len(), theirs.len());
    }

    /// The v target is the one the samplers invert: x0 = √ᾱ·x_t − √(1−ᾱ)·v, and epsilon is
    /// the drawn noise itself, for the same batch.
    #[test]
    fn targets_match_the_samplers_conventions() {
        let tokenizer = ClipTokenizer::load(&DirStore::new(fixtures().join("tiny-mid")).unwrap(), "tokenizer").unwrap();
        let device = engine::Backend::cpu_device();
        let (autoencoder, _) = parts::autoencoder(None, 1, 1.0, &device).unwrap();
        let alphas = alphas_cumprod(&Recipe { zero_terminal_snr: false, ..Recipe::default() });
        let latent = [2, 3, 2, 2];
        let x0: Vec<Vec<f32>> = (0..2).map(|c| (0..24).map(|i| (i as f32 * 0.37 + c as f32).sin()).collect()).collect();
        let picks: Vec<(&[f32], &str)> = x0.iter().map(|v| (v.as_slice(), "a red circle moving left")).collect();
        let batch = |prediction| {
            let b = Batcher {
                tokenizer: &tokenizer,
                encoder: &autoencoder.encoder,
                scaling_factor: 1.0,
                alphas_cumprod: &alphas,
                uncond_share: 0.0,
                prediction,
                high_noise_share: 0.0,
            };
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

    /// A high-noise share moves that share of draws (and only it) to the top of the schedule;
    /// without one, the draws are the uniform ones runs recorded before the share existed made.
    #[test]
    fn high_noise_share_draws_the_top_of_the_schedule() {
        let tokenizer = ClipTokenizer::load(&DirStore::new(fixtures().join("tiny-mid")).unwrap(), "tokenizer").unwrap();
        let (autoencoder, _) = parts::autoencoder(None, 1, 1.0, &engine::Backend::cpu_device()).unwrap();
        let alphas = alphas_cumprod(&Recipe::default());
        let draws = |share: f64| {
            let b = Batcher {
                tokenizer: &tokenizer,
                encoder: &autoencoder.encoder,
                scaling_factor: 1.0,
                alphas_cumprod: &alphas,
                uncond_share: 0.0,
                prediction: Prediction::VPrediction,
                high_noise_share: share,
            };
            let mut rng = SplitMix64::new(9);
            (0..2000).map(|_| b.timestep(&mut rng)).collect::<Vec<_>>()
        };
        let high = |t: &[usize]| t.iter().filter(|&&t| t >= HIGH_NOISE_FROM).count() as f64 / t.len() as f64;
        let uniform = draws(0.0);
        let mut rng = SplitMix64::new(9);
        assert!(uniform.iter().all(|&t| t == (rng.next_u64() % alphas.len() as u64) as usize), "the uniform stream is unchanged");
        assert!((high(&uniform) - 0.2).abs() < 0.03, "uniform: {}", high(&uniform));
        assert!(draws(1.0).iter().all(|&t| (HIGH_NOISE_FROM..alphas.len()).contains(&t)));
        // 0.4 of the draws, plus the uniform rest's own 20%: 0.52.
        assert!((high(&draws(0.4)) - 0.52).abs() < 0.03, "share 0.4: {}", high(&draws(0.4)));
    }
}
