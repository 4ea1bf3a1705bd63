//! Samplers: DDIM (eta = 0) and Euler, configured from diffusers' `scheduler_config.json`.
//! Both are small scalar recipes over whole-tensor ops, computed in f64 on the host.

mod config;
mod ddim;
mod euler;

pub use config::{BetaSchedule, Prediction, SchedulerConfig, Spacing};
pub use ddim::Ddim;
pub use euler::Euler;

use burn::prelude::*;

/// Which sampler to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedulerKind {
    Ddim,
    /// Euler with trailing spacing (AnimateDiff-Lightning's setting).
    Euler,
}

/// A configured sampler for a fixed number of steps.
pub enum Scheduler {
    Ddim(Ddim),
    Euler(Euler),
}

impl Scheduler {
    pub fn new(kind: SchedulerKind, config: &SchedulerConfig, steps: usize) -> Result<Self, crate::EngineError> {
        if steps == 0 {
            return Err(crate::EngineError::Request("steps must be at least 1".into()));
        }
        Ok(match kind {
            SchedulerKind::Ddim => Scheduler::Ddim(Ddim::new(config, steps)),
            SchedulerKind::Euler => Scheduler::Euler(Euler::new(config, steps, Spacing::Trailing)),
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
