//! Euler (no churn), as diffusers' `EulerDiscreteScheduler` with its default settings.

use burn::prelude::*;

use super::config::linspace;
use super::{Prediction, SchedulerConfig, Spacing};

pub struct Euler {
    /// Fractional for `linspace` spacing.
    pub timesteps: Vec<f64>,
    /// One per timestep, then a final 0.
    sigmas: Vec<f64>,
    spacing: Spacing,
    prediction: Prediction,
}

impl Euler {
    pub fn new(config: &SchedulerConfig, steps: usize, spacing: Spacing) -> Self {
        let mut alphas_cumprod = config.alphas_cumprod();
        if config.rescale_betas_zero_snr {
            // As diffusers: close to 0 without being 0, so the first sigma is finite.
            *alphas_cumprod.last_mut().expect("timesteps") = 2f64.powi(-24);
        }
        let table: Vec<f64> = alphas_cumprod.iter().map(|a| ((1.0 - a) / a).sqrt()).collect();
        let n = config.num_train_timesteps;
        let timesteps: Vec<f64> = match spacing {
            Spacing::Linspace => (0..steps).rev().map(|i| linspace(0.0, (n - 1) as f64, steps, i)).collect(),
            _ => config.integer_timesteps(steps, spacing).into_iter().map(|t| t as f64).collect(),
        };
        let mut sigmas: Vec<f64> = timesteps.iter().map(|&t| interpolate(&table, t)).collect();
        sigmas.push(0.0);
        Self { timesteps, sigmas, spacing, prediction: config.prediction_type }
    }

    pub fn init_noise_sigma(&self) -> f64 {
        let max = self.sigmas.iter().cloned().fold(0.0, f64::max);
        match self.spacing {
            Spacing::Linspace | Spacing::Trailing => max,
            Spacing::Leading => (max * max + 1.0).sqrt(),
        }
    }

    pub fn scale_model_input<const D: usize>(&self, sample: Tensor<D>, index: usize) -> Tensor<D> {
        let sigma = self.sigmas[index];
        sample.div_scalar((sigma * sigma + 1.0).sqrt())
    }

    pub fn step<const D: usize>(&self, model_output: Tensor<D>, index: usize, sample: Tensor<D>) -> Tensor<D> {
        let (sigma, next) = (self.sigmas[index], self.sigmas[index + 1]);
        let x0 = match self.prediction {
            Prediction::Epsilon => sample.clone() - model_output.mul_scalar(sigma),
            Prediction::VPrediction => {
                let s2 = sigma * sigma + 1.0;
                model_output.mul_scalar(-sigma / s2.sqrt()) + sample.clone().div_scalar(s2)
            }
        };
        let derivative = (sample.clone() - x0).div_scalar(sigma);
        sample + derivative.mul_scalar(next - sigma)
    }
}

/// numpy's `interp(t, arange(len), table)`.
fn interpolate(table: &[f64], t: f64) -> f64 {
    let t = t.clamp(0.0, (table.len() - 1) as f64);
    let low = t.floor() as usize;
    let high = (low + 1).min(table.len() - 1);
    table[low] + (table[high] - table[low]) * (t - low as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zero terminal SNR as diffusers runs it (`make_fixtures.py`): the last ᾱ becomes 2⁻²⁴, so
    /// the first of 12 trailing sigmas is 4096 rather than infinite.
    #[test]
    fn zero_terminal_snr_sigmas_match_diffusers() {
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/zero_snr_schedule.json")).unwrap()).unwrap();
        let theirs: Vec<f64> = golden["euler_sigmas_12_trailing"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let config = SchedulerConfig::from_json(
            r#"{"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "linear", "prediction_type": "v_prediction", "rescale_betas_zero_snr": true}"#,
            "scheduler_config.json",
        )
        .unwrap();
        let euler = Euler::new(&config, 12, Spacing::Trailing);
        assert_eq!(euler.sigmas.len(), theirs.len());
        for (i, (a, b)) in euler.sigmas.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * b.max(1e-3), "sigma {i}: {a} vs diffusers {b}");
        }
        assert!((euler.init_noise_sigma() - 4096.0).abs() < 1e-3, "{}", euler.init_noise_sigma());
    }
}
