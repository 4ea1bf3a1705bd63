//! The training run: stage 1 (VAE), measuring the latent scale, stage 2 (text encoder + UNet),
//! with checkpoints every few hundred steps, a loss log, and resumption from the last
//! checkpoint. Each step's data comes from an RNG seeded by (recipe seed, stage, step), so a
//! resumed run draws exactly the batches an uninterrupted one would.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::batch;
use super::decoder_stage;
use super::denoise_stage::{self, Batcher};
use super::fork::Parent;
use super::latent_pool::{self, LatentPool};
use super::model_dir::{io, ModelDir, TEXT_WEIGHTS, UNET_WEIGHTS, VAE_WEIGHTS};
use super::parts::{self, Keys};
use super::recipe::{alphas_cumprod, Recipe};
use super::vae_stage;
use crate::dataset::{FRAMES, SIZE};
use engine::clip::ClipTokenizer;
use engine::rng::SplitMix64;
use engine::store::DirStore;
use engine::weights::{named_tensors, Dtype};
use engine::EngineError;

/// Where a run stands; `state.json` in the run folder.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub vae_step: usize,
    /// Measured after stage 1: 1 / std of the encoder's latent means.
    pub scaling_factor: Option<f32>,
    /// Stage 1b's steps (runs before it lack the field).
    #[serde(default)]
    pub decoder_step: usize,
    pub denoise_step: usize,
    /// Wall-clock seconds spent training, over all sessions (a forked run's include its parent's).
    pub seconds: f64,
    /// The run whose weights stage 2 started from, if it did not start from scratch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// The denoiser steps of the checkpoints whose text encoder and UNet weights this model's
    /// are the mean of ([`super::average`]); empty for a model trained as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub averaged: Vec<usize>,
}

impl State {
    /// A run folder's `state.json`; a fresh state when there is none.
    pub fn read(folder: &Path) -> Result<Self, EngineError> {
        let dir = ModelDir::new(folder);
        if dir.has("state.json") {
            json(&dir.read_text("state.json")?, &folder.join("state.json").display().to_string())
        } else {
            Ok(Self::default())
        }
    }

    /// Writes `folder/state.json` (atomically, as checkpoints do).
    pub fn write(&self, folder: &Path) -> Result<(), EngineError> {
        ModelDir::new(folder).write("state.json", serde_json::to_string_pretty(self).expect("serialises").as_bytes())
    }
}

pub struct Run {
    pub folder: PathBuf,
    pub recipe: Recipe,
    pub state: State,
    pub tokenizer_source: PathBuf,
    /// Autodiff device to train on; its plain twin encodes in stage 2.
    pub device: Device,
    /// Stop (after checkpointing) once this moment passes, even mid-stage: lets a run fit a
    /// fixed slot of machine time and be resumed later.
    pub deadline: Option<Instant>,
}

impl Run {
    /// Opens `folder`, resuming if it holds a run (then its saved recipe wins over `recipe`;
    /// the caller may change the result and [`Self::save_recipe`]).
    pub fn open(folder: &Path, recipe: Recipe, tokenizer: &Path, device: Device) -> Result<Self, EngineError> {
        std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
        let dir = ModelDir::new(folder);
        let recipe = Recipe::recorded(&dir)?.unwrap_or(recipe);
        recipe.check_focus()?;
        // Read even without a recipe: a folder seeded with another run's finished stage 1
        // (its VAE and state) goes straight to stage 2.
        let state = State::read(folder)?;
        dir.write("recipe.json", serde_json::to_string_pretty(&recipe).expect("serialises").as_bytes())?;
        Ok(Self { folder: folder.to_path_buf(), recipe, state, tokenizer_source: tokenizer.to_path_buf(), device: device.autodiff(), deadline: None })
    }

    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// After a stage's `step` of `steps`: whether the run is out of time (save, then stop), and
    /// whether to save (then, every `checkpoint_every` steps, and at the stage's last step).
    fn checkpoint_due(&self, step: usize, steps: usize) -> (bool, bool) {
        let stop = self.out_of_time();
        (stop, stop || step.is_multiple_of(self.recipe.checkpoint_every) || step == steps)
    }

    fn model_dir(&self) -> ModelDir {
        ModelDir::new(&self.folder.join("model"))
    }

    fn log(&self, stage: &str, step: usize, loss: f64, extra: f64) -> Result<(), EngineError> {
        let path = self.folder.join("losses.csv");
        let new = !path.exists();
        let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io(&path, e))?;
        if new {
            writeln!(file, "stage,step,loss,detail,seconds").map_err(|e| io(&path, e))?;
        }
        writeln!(file, "{stage},{step},{loss:.6},{extra:.6},{:.1}", self.state.seconds).map_err(|e| io(&path, e))?;
        println!("{stage} step {step}: loss {loss:.5} ({extra:.5}) after {:.0} s", self.state.seconds);
        Ok(())
    }

    /// Writes the recipe (after a caller changed batch size or logging of a resumed run).
    pub fn save_recipe(&self) -> Result<(), EngineError> {
        ModelDir::new(&self.folder).write("recipe.json", serde_json::to_string_pretty(&self.recipe).expect("serialises").as_bytes())
    }

    fn save_state(&self) -> Result<(), EngineError> {
        self.state.write(&self.folder)
    }

    fn rng(&self, stage: u64, step: usize) -> SplitMix64 {
        stage_rng(self.recipe.seed, stage, step)
    }

    /// Stage 1, then the latent scale, then stage 2; returns when both reach their step counts.
    pub fn train(&mut self) -> Result<(), EngineError> {
        self.train_vae()?;
        if self.state.vae_step < self.recipe.vae_steps {
            return Ok(()); // out of time
        }
        match self.state.scaling_factor {
            None => self.measure_scale()?,
            // Configs and tokenizer again: a checkpoint brought from another machine may have
            // only its weights.
            Some(scaling) => self.model_dir().write_configs(scaling, &self.recipe, &self.tokenizer_source)?,
        }
        self.tune_decoder()?;
        if self.state.decoder_step < self.recipe.decoder_steps {
            return Ok(()); // out of time
        }
        self.train_denoiser()
    }

    fn train_vae(&mut self) -> Result<(), EngineError> {
        if self.state.vae_step >= self.recipe.vae_steps {
            return Ok(());
        }
        let dir = self.model_dir();
        let resume = self.state.vae_step > 0;
        let (mut model, keys) = parts::autoencoder(resume.then_some(&dir), self.recipe.seed, 1.0, &self.device)?;
        let optimizer_file = self.folder.join("vae_optimizer.bpk");
        let mut optimizer = optimizer(resume.then_some(&optimizer_file))?;
        let (mut total, mut recon, mut count) = (0.0, 0.0, 0);
        while self.state.vae_step < self.recipe.vae_steps {
            let start = Instant::now();
            let step = self.state.vae_step;
            let (pixels, noise) = vae_stage::inputs(&mut self.rng(1, step), self.recipe.vae_batch_frames, self.recipe.clip_style(), &self.device);
            let (loss, mse) = vae_stage::loss(&model, pixels, noise, self.recipe.kl_weight);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(self.recipe.vae_lr, model, grads);
            total += scalar(loss)?;
            recon += scalar(mse)?;
            count += 1;
            self.state.vae_step += 1;
            self.state.seconds += start.elapsed().as_secs_f64();
            if self.state.vae_step.is_multiple_of(self.recipe.log_every) {
                self.log("vae", self.state.vae_step, total / count as f64, recon / count as f64)?;
                (total, recon, count) = (0.0, 0.0, 0);
            }
            let (stop, save) = self.checkpoint_due(self.state.vae_step, self.recipe.vae_steps);
            if save {
                self.save_vae(&model, &keys, 1.0)?;
                optimizer.save(&optimizer_file).map_err(|e| optimizer_error(&optimizer_file, e))?;
                self.save_state()?;
            }
            if stop {
                break;
            }
        }
        Ok(())
    }

    /// Stage 1b (`decoder_stage`): the decoder on the frozen encoder's latent means. It only
    /// changes decoder weights, so it may also run on a run whose stage 2 has begun.
    fn tune_decoder(&mut self) -> Result<(), EngineError> {
        if self.state.decoder_step >= self.recipe.decoder_steps {
            return Ok(());
        }
        let scaling = self.state.scaling_factor.expect("measured before stage 1b");
        let dir = self.model_dir();
        let plain = self.device.clone().without_autodiff();
        let (frozen, _) = parts::autoencoder(Some(&dir), self.recipe.seed, 1.0, &plain)?;
        let (mut model, keys) = parts::autoencoder(Some(&dir), self.recipe.seed, 1.0, &self.device)?;
        let optimizer_file = self.folder.join("decoder_optimizer.bpk");
        let mut optimizer = optimizer((self.state.decoder_step > 0).then_some(&optimizer_file))?;
        let (mut total, mut count) = (0.0, 0);
        while self.state.decoder_step < self.recipe.decoder_steps {
            let start = Instant::now();
            let step = self.state.decoder_step;
            let frames = self.recipe.vae_batch_frames;
            let pixels = batch::frames(&mut self.rng(5, step), frames, self.recipe.clip_style());
            let weights = decoder_stage::object_weights(&pixels, frames, SIZE, self.recipe.decoder_object_weight);
            let images = Tensor::<4>::from_data(TensorData::new(pixels, [frames, 3, SIZE, SIZE]), &plain);
            let latents = Tensor::<4>::from_data(frozen.encoder.encode(images.clone()).mean.into_data(), &self.device);
            let images = Tensor::<4>::from_data(images.into_data(), &self.device);
            let weights = Tensor::<4>::from_data(TensorData::new(weights, [frames, 1, SIZE, SIZE]), &self.device);
            let loss = decoder_stage::loss(&model.decoder, latents, images, weights);
            let grads = GradientsParams::from_grads(loss.backward(), &model.decoder);
            model.decoder = optimizer.step(self.recipe.decoder_lr, model.decoder, grads);
            total += scalar(loss)?;
            count += 1;
            self.state.decoder_step += 1;
            self.state.seconds += start.elapsed().as_secs_f64();
            if self.state.decoder_step.is_multiple_of(self.recipe.log_every) {
                self.log("decoder", self.state.decoder_step, total / count as f64, 0.0)?;
                (total, count) = (0.0, 0);
            }
            let (stop, save) = self.checkpoint_due(self.state.decoder_step, self.recipe.decoder_steps);
            if save {
                self.save_vae(&model, &keys, scaling)?;
                optimizer.save(&optimizer_file).map_err(|e| optimizer_error(&optimizer_file, e))?;
                self.save_state()?;
            }
            if stop {
                break;
            }
        }
        Ok(())
    }

    fn save_vae(&self, model: &parts::Autoencoder, keys: &Keys, scaling: f32) -> Result<(), EngineError> {
        let dir = self.model_dir();
        dir.write_configs(scaling, &self.recipe, &self.tokenizer_source)?;
        let mut tensors = named_tensors(&model.encoder, keys)?;
        tensors.extend(named_tensors(&model.decoder, keys)?);
        tensors.sort_by(|a, b| a.key.cmp(&b.key));
        dir.write_weights(VAE_WEIGHTS, &tensors, Dtype::F32)
    }

    /// 1 / std of the latent means over 64 training frames, as Stable Diffusion's 0.18215 was found.
    fn measure_scale(&mut self) -> Result<(), EngineError> {
        let plain = self.device.clone().without_autodiff();
        let (model, _) = parts::autoencoder(Some(&self.model_dir()), self.recipe.seed, 1.0, &plain)?;
        let (pixels, _) = vae_stage::inputs(&mut self.rng(3, 0), 64, self.recipe.clip_style(), &plain);
        let mean = model.encoder.encode(pixels).mean;
        let std = scalar(mean.clone().sub(mean.mean().unsqueeze()).powi_scalar(2).mean())?.sqrt();
        let scaling = (1.0 / std.max(1e-6)) as f32;
        println!("latent std {std:.4}: scaling_factor {scaling:.5}");
        self.model_dir().write_configs(scaling, &self.recipe, &self.tokenizer_source)?;
        self.state.scaling_factor = Some(scaling);
        self.save_state()
    }

    fn train_denoiser(&mut self) -> Result<(), EngineError> {
        let scaling = self.state.scaling_factor.expect("measured before stage 2");
        let dir = self.model_dir();
        let plain = self.device.clone().without_autodiff();
        let (autoencoder, _) = parts::autoencoder(Some(&dir), self.recipe.seed, scaling, &plain)?;
        let tokenizer = ClipTokenizer::load(&DirStore::new(&dir.root)?, "tokenizer")?;
        let alphas = alphas_cumprod(&self.recipe);
        let mut batcher = Batcher {
            tokenizer: &tokenizer,
            encoder: &autoencoder.encoder,
            scaling_factor: scaling,
            alphas_cumprod: &alphas,
            uncond_share: self.recipe.uncond_share,
            prediction: self.recipe.prediction,
            high_noise_share: 0.0,
        };
        let resume = self.state.denoise_step > 0;
        // A forked run starts from its parent's weights (copied into model/) with fresh moments.
        let trained = resume || self.state.parent.is_some();
        let (mut model, text_keys, unet_keys) = parts::denoiser(trained.then_some(&dir), self.recipe.seed, &self.device)?;
        let optimizer_file = self.folder.join("denoiser_optimizer.bpk");
        let mut optimizer = optimizer(resume.then_some(&optimizer_file))?;
        let vae = parts::vae_config(scaling);
        let latent_size = SIZE / vae.scale_factor();
        let latent = [vae.latent_channels, FRAMES, latent_size, latent_size];
        let mut pool = LatentPool::open(
            &self.folder.join("latent_pool.f32"),
            self.recipe.seed,
            self.recipe.clip_style(),
            self.recipe.focus_motions.clone(),
            latent_pool::per_clip(latent[0], latent_size),
        )?;
        let (mut total, mut count) = (0.0, 0);
        while self.state.denoise_step < self.recipe.denoise_steps {
            let start = Instant::now();
            let step = self.state.denoise_step;
            let mut rng = self.rng(2, step);
            // This step's new clips join the pool (after the recipe's starting fill, until it is
            // full); the rest of the batch is drawn from everything encoded so far.
            let fresh = self.recipe.fresh_clips_per_step.clamp(1, self.recipe.clips_per_batch.max(1));
            let first = self.recipe.pool_start;
            let available = (first + (step + 1) * fresh).min(self.recipe.pool_clips).max(1);
            pool.fill_to(available, |pixels, clips| batcher.encode(pixels, clips))?;
            let newest = (first + step * fresh).min(available)..available;
            let mut picked: Vec<usize> = newest.collect();
            while picked.len() < self.recipe.clips_per_batch {
                picked.push((rng.next_u64() % available as u64) as usize);
            }
            let picks: Vec<(&[f32], &str)> = picked.iter().map(|&i| pool.clip(i)).collect();
            let since = step >= self.recipe.high_noise_since;
            batcher.high_noise_share = if since { self.recipe.high_noise_share } else { 0.0 };
            let inputs = batcher.inputs(&mut rng, &picks, latent)?;
            let loss = denoise_stage::loss(&model, &inputs, &self.device)?;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let warm = ((step + 1) as f64 / self.recipe.warmup_steps.max(1) as f64).min(1.0);
            model = optimizer.step(self.recipe.denoise_lr * warm, model, grads);
            total += scalar(loss)?;
            count += 1;
            self.state.denoise_step += 1;
            self.state.seconds += start.elapsed().as_secs_f64();
            if self.state.denoise_step.is_multiple_of(self.recipe.log_every) {
                self.log("denoise", self.state.denoise_step, total / count as f64, 0.0)?;
                (total, count) = (0.0, 0);
            }
            let (stop, save) = self.checkpoint_due(self.state.denoise_step, self.recipe.denoise_steps);
            if save {
                dir.write_weights(TEXT_WEIGHTS, &named_tensors(&model.text_encoder, &text_keys)?, Dtype::F32)?;
                dir.write_weights(UNET_WEIGHTS, &named_tensors(&model.unet, &unet_keys)?, Dtype::F32)?;
                optimizer.save(&optimizer_file).map_err(|e| optimizer_error(&optimizer_file, e))?;
                self.save_state()?;
            }
            if stop {
                break;
            }
        }
        Ok(())
    }
}

/// The random stream of one step (or pool clip) of one stage of a run with this seed.
pub(super) fn stage_rng(seed: u64, stage: u64, step: usize) -> SplitMix64 {
    SplitMix64::new(seed ^ (stage << 60) ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// AdamW with gradient-norm clipping, resuming from `saved` when given. A checkpoint that has
/// only weights (a model trained elsewhere whose moments did not travel) starts fresh moments,
/// with a notice.
fn optimizer(saved: Option<&PathBuf>) -> Result<ModuleOptimizer, EngineError> {
    let fresh = AdamWConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0))).init();
    match saved {
        Some(file) if file.exists() => fresh.load(file).map_err(|e| optimizer_error(file, e)),
        Some(file) => {
            println!("no optimizer state at {}: continuing with fresh AdamW moments", file.display());
            Ok(fresh)
        }
        None => Ok(fresh),
    }
}

fn optimizer_error(file: &Path, error: impl std::fmt::Display) -> EngineError {
    EngineError::Io { path: file.display().to_string(), reason: error.to_string() }
}

fn scalar(t: Tensor<1>) -> Result<f64, EngineError> {
    let data = t.into_data().convert::<f32>();
    let values = data.try_into_vec::<f32>().map_err(|e| EngineError::Readback { tensor: "loss", reason: format!("{e:?}") })?;
    Ok(values[0] as f64)
}

/// A run folder's JSON file (`file` names it in errors).
pub(super) fn json<T: for<'a> Deserialize<'a>>(text: &str, file: &str) -> Result<T, EngineError> {
    serde_json::from_str(text).map_err(|e| EngineError::BadFile { file: file.into(), problem: e.to_string() })
}
