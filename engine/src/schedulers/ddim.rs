//! DDIM with eta = 0 (deterministic), as diffusers' `DDIMScheduler.step`.

use burn::prelude::*;

use super::{Prediction, SchedulerConfig};

pub struct Ddim {
    pub timesteps: Vec<i64>,
    alphas_cumprod: Vec<f64>,
    final_alpha_cumprod: f64,
    step_ratio: i64,
    prediction: Prediction,
    clip: Option<f64>,
}

impl Ddim {
    pub fn new(config: &SchedulerConfig, steps: usize) -> Self {
        let alphas_cumprod = config.alphas_cumprod();
        Self {
            timesteps: config.integer_timesteps(steps, config.timestep_spacing),
            final_alpha_cumprod: if config.set_alpha_to_one { 1.0 } else { alphas_cumprod[0] },
            alphas_cumprod,
            step_ratio: (config.num_train_timesteps / steps) as i64,
            prediction: config.prediction_type,
            clip: config.clip_sample.then_some(config.clip_sample_range),
        }
    }

    pub fn step<const D: usize>(&self, model_output: Tensor<D>, index: usize, sample: Tensor<D>) -> Tensor<D> {
        let t = self.timesteps[index];
        let prev = t - self.step_ratio;
        let alpha = self.alphas_cumprod[t as usize];
        let alpha_prev = if prev >= 0 { self.alphas_cumprod[prev as usize] } else { self.final_alpha_cumprod };
        let beta = 1.0 - alpha;
        let (mut x0, eps) = match self.prediction {
            Prediction::Epsilon => {
                let x0 = (sample - model_output.clone().mul_scalar(beta.sqrt())).div_scalar(alpha.sqrt());
                (x0, model_output)
            }
            Prediction::VPrediction => {
                let x0 = sample.clone().mul_scalar(alpha.sqrt()) - model_output.clone().mul_scalar(beta.sqrt());
                let eps = model_output.mul_scalar(alpha.sqrt()) + sample.mul_scalar(beta.sqrt());
                (x0, eps)
            }
        };
        if let Some(range) = self.clip {
            x0 = x0.clamp(-range, range);
        }
        x0.mul_scalar(alpha_prev.sqrt()) + eps.mul_scalar((1.0 - alpha_prev).sqrt())
    }
}
