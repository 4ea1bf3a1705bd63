//! Samplers: DDIM (eta = 0) and Euler, configured from diffusers' `scheduler_config.json`.
//! Both are small scalar recipes over whole-tensor ops, computed in f64 on the host.

mod config;
mod ddim;
mod euler;

pub use config::{BetaSchedule, Prediction, SchedulerConfig, Spacing};
pub use ddim::Ddim;
pub use euler::Euler;

use burn::prelude::*;

use crate::options::choice;

choice! {
    /// Which sampler to run.
    pub enum Sampler {
        /// DDIM with eta 0, on the model's timestep spacing.
        Ddim = ("ddim", "DDIM"),
        /// Euler with trailing spacing.
        Euler = ("euler", "Euler, trailing"),
        /// Euler with trailing spacing on linear betas: AnimateDiff-Lightning's setting, as its
        /// model card gives it (its few-step adapters are distilled on that schedule).
        Lightning = ("lightning", "AnimateDiff-Lightning (Euler, trailing, linear betas)"),
    }
}

impl Sampler {
    /// The noise schedule this sampler requires, when it requires one (else the model's).
    pub fn beta_schedule(self) -> Option<BetaSchedule> {
        match self {
            Sampler::Lightning => Some(BetaSchedule::Linear),
            Sampler::Ddim | Sampler::Euler => None,
        }
    }
}

/// A configured sampler for a fixed number of steps.
pub enum Scheduler {
    Ddim(Ddim),
    Euler(Euler),
}

impl Scheduler {
    /// `config`'s betas are used as given: a sampler's own schedule
    /// ([`Sampler::beta_schedule`]) is applied to the config by the caller.
    pub fn new(sampler: Sampler, config: &SchedulerConfig, steps: usize) -> Result<Self, crate::EngineError> {
        if steps == 0 {
            return Err(crate::EngineError::Request("steps must be at least 1".into()));
        }
        Ok(match sampler {
            Sampler::Ddim => Scheduler::Ddim(Ddim::new(config, steps)),
            Sampler::Euler | Sampler::Lightning => Scheduler::Euler(Euler::new(config, steps, Spacing::Trailing)),
        })
    }

    /// The timesteps to feed the UNet, noisiest first.
    pub fn timesteps(&self) -> Vec<f64> {
        match self {
            Scheduler::Ddim(s) => s.timesteps.iter().map(|&t| t as f64).collect(),
            Scheduler::Euler(s) => s.timesteps.clone(),
        }
    }

    /// How much to scale unit-variance noise to start from (diffusers' `init_noise_sigma`).
    pub fn init_noise_sigma(&self) -> f64 {
        match self {
            Scheduler::Ddim(_) => 1.0,
            Scheduler::Euler(s) => s.init_noise_sigma(),
        }
    }

    /// diffusers' `scale_model_input` for step `index`.
    pub fn scale_model_input<const D: usize>(&self, sample: Tensor<D>, index: usize) -> Tensor<D> {
        match self {
            Scheduler::Ddim(_) => sample,
            Scheduler::Euler(s) => s.scale_model_input(sample, index),
        }
    }

    /// One denoising step: model output at step `index` → the next (less noisy) sample.
    pub fn step<const D: usize>(&self, model_output: Tensor<D>, index: usize, sample: Tensor<D>) -> Tensor<D> {
        match self {
            Scheduler::Ddim(s) => s.step(model_output, index, sample),
            Scheduler::Euler(s) => s.step(model_output, index, sample),
        }
    }
}
