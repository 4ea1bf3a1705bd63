use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Sampler;
use crate::config::{parse, require_one_of};
use crate::options::choice;
use crate::EngineError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spacing {
    Linspace,
    Leading,
    Trailing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    Epsilon,
    VPrediction,
}

choice! {
    /// The noise schedule's betas, named as diffusers' `beta_schedule` names them.
    pub enum BetaSchedule {
        Linear = ("linear", "Linear"),
        /// Linear in √β (Stable Diffusion's).
        ScaledLinear = ("scaled_linear", "Scaled linear"),
    }
}

/// The fields of diffusers' DDIM/Euler configs we use.
#[derive(Clone, Debug, Deserialize)]
pub struct SchedulerConfig {
    #[serde(rename = "_class_name", default)]
    pub class_name: Option<String>,
    #[serde(default = "thousand")]
    pub num_train_timesteps: usize,
    #[serde(default = "default_start")]
    pub beta_start: f64,
    #[serde(default = "default_end")]
    pub beta_end: f64,
    #[serde(default = "linear")]
    pub beta_schedule: BetaSchedule,
    #[serde(default = "epsilon")]
    pub prediction_type: Prediction,
    #[serde(default = "leading")]
    pub timestep_spacing: Spacing,
    #[serde(default)]
    pub steps_offset: usize,
    #[serde(default = "yes")]
    pub set_alpha_to_one: bool,
    #[serde(default)]
    pub clip_sample: bool,
    #[serde(default = "one")]
    pub clip_sample_range: f64,
    /// Lin et al. 2023 ("Common diffusion noise schedules and sample steps are flawed"):
    /// betas rescaled so the last timestep is pure noise (ᾱ = 0). Without it the noisiest
    /// training input still shows the clip faintly, so a model learns to follow that leak
    /// instead of the prompt, and from true noise at sampling time follows nothing.
    #[serde(default)]
    pub rescale_betas_zero_snr: bool,
}

fn thousand() -> usize {
    1000
}
fn default_start() -> f64 {
    0.0001
}
fn default_end() -> f64 {
    0.02
}
fn linear() -> BetaSchedule {
    BetaSchedule::Linear
}
fn epsilon() -> Prediction {
    Prediction::Epsilon
}
fn leading() -> Spacing {
    Spacing::Leading
}
fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}

impl SchedulerConfig {
    pub fn from_json(text: &str, file: &str) -> Result<Self, EngineError> {
        let (config, raw): (Self, _) = parse(text, file)?;
        require_one_of(&raw, file, "trained_betas", &[])?;
        require_one_of(&raw, file, "thresholding", &[json!(false)])?;
        require_one_of(&raw, file, "use_karras_sigmas", &[json!(false)])?;
        require_one_of(&raw, file, "use_exponential_sigmas", &[json!(false)])?;
        require_one_of(&raw, file, "use_beta_sigmas", &[json!(false)])?;
        require_one_of(&raw, file, "interpolation_type", &[json!("linear")])?;
        require_one_of(&raw, file, "timestep_type", &[json!("discrete")])?;
        require_one_of(&raw, file, "final_sigmas_type", &[json!("zero")])?;
        if config.rescale_betas_zero_snr && config.prediction_type == Prediction::Epsilon {
            return Err(EngineError::Config {
                file: file.into(),
                field: "rescale_betas_zero_snr".into(),
                problem: "needs prediction_type v_prediction: at the last timestep ᾱ = 0, where a noise prediction says nothing \
                          about the clip"
                    .into(),
            });
        }
        Ok(config)
    }

    /// The sampler the config names, for when the user does not choose one. A class the engine
    /// does not run (SD1.5 repos ship `PNDMScheduler`) gets DDIM on the same betas, as
    /// `DDIMScheduler.from_config` would give in diffusers, with a note saying so: a plain SD1.5
    /// repo plus a motion adapter must work without the user knowing scheduler classes.
    pub fn default_sampler(&self) -> (Sampler, Option<String>) {
        match self.class_name.as_deref() {
            Some("DDIMScheduler") | None => (Sampler::Ddim, None),
            Some("EulerDiscreteScheduler") => (Sampler::Euler, None),
            Some(other) => {
                (Sampler::Ddim, Some(format!("the model names {other}, which the engine does not run, so it sampled with DDIM on the same noise schedule")))
            }
        }
    }

    /// `alphas_cumprod` for the training timesteps.
    pub fn alphas_cumprod(&self) -> Vec<f64> {
        let n = self.num_train_timesteps;
        let at = |i: usize, start: f64, end: f64| if n == 1 { start } else { start + (end - start) * i as f64 / (n - 1) as f64 };
        let mut product = 1.0;
        let alphas_cumprod: Vec<f64> = (0..n)
            .map(|i| {
                // diffusers builds betas in float32: round each one to f32 like it does.
                let beta = match self.beta_schedule {
                    BetaSchedule::Linear => at(i, self.beta_start, self.beta_end) as f32,
                    BetaSchedule::ScaledLinear => (at(i, self.beta_start.sqrt(), self.beta_end.sqrt()) as f32).powi(2),
                } as f64;
                product *= 1.0 - beta;
                product
            })
            .collect();
        if self.rescale_betas_zero_snr {
            zero_terminal_snr(&alphas_cumprod)
        } else {
            alphas_cumprod
        }
    }

    /// Integer timesteps for `steps` steps with `spacing`, noisiest first (DDIM's rules; Euler
    /// uses the same rules except for `linspace`, where it keeps fractional timesteps).
    pub fn integer_timesteps(&self, steps: usize, spacing: Spacing) -> Vec<i64> {
        let n = self.num_train_timesteps;
        let mut timesteps: Vec<i64> = match spacing {
            Spacing::Linspace => (0..steps).map(|i| linspace(0.0, (n - 1) as f64, steps, i).round_ties_even() as i64).collect(),
            Spacing::Leading => (0..steps).map(|i| (i * (n / steps)) as i64 + self.steps_offset as i64).collect(),
            Spacing::Trailing => {
                let ratio = n as f64 / steps as f64;
                let mut out: Vec<i64> = Vec::new();
                let mut t = n as f64;
                while t > 0.0 {
                    out.push(t.round_ties_even() as i64 - 1);
                    t -= ratio;
                }
                out.reverse();
                out
            }
        };
        timesteps.reverse();
        timesteps
    }
}

/// diffusers' `rescale_zero_terminal_snr` on the cumulative product: √ᾱ shifted so the last
/// is 0 and scaled so the first is unchanged (the betas it implies give back this product).
fn zero_terminal_snr(alphas_cumprod: &[f64]) -> Vec<f64> {
    let roots: Vec<f64> = alphas_cumprod.iter().map(|a| a.sqrt()).collect();
    let (first, last) = (roots[0], roots[roots.len() - 1]);
    roots.iter().map(|r| ((r - last) * first / (first - last)).powi(2)).collect()
}

/// numpy's `linspace(start, end, count)[i]`.
pub fn linspace(start: f64, end: f64, count: usize, i: usize) -> f64 {
    if count == 1 {
        start
    } else {
        start + (end - start) * i as f64 / (count - 1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn animatediff(extra: &str) -> String {
        format!(r#"{{"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "linear", "prediction_type": "v_prediction"{extra}}}"#)
    }

    /// Zero terminal SNR: the last ᾱ is 0, the first is unchanged, and the schedule still falls
    /// at every step; without the flag the schedule is the plain one.
    #[test]
    fn zero_terminal_snr_ends_in_pure_noise() {
        let plain = SchedulerConfig::from_json(&animatediff(""), "plain").unwrap().alphas_cumprod();
        let rescaled = SchedulerConfig::from_json(&animatediff(r#", "rescale_betas_zero_snr": true"#), "rescaled").unwrap().alphas_cumprod();
        assert!(plain[999] > 1e-3, "the plain schedule leaks: ᾱ = {}", plain[999]);
        assert_eq!(rescaled[999], 0.0);
        assert!((rescaled[0] - plain[0]).abs() < 1e-15);
        assert!(rescaled.windows(2).all(|w| w[1] < w[0]), "falls at every step");
        // √ᾱ is shifted and scaled linearly: midway values move by the same rule.
        let (first, last) = (plain[0].sqrt(), plain[999].sqrt());
        let expected = ((plain[500].sqrt() - last) * first / (first - last)).powi(2);
        assert!((rescaled[500] - expected).abs() < 1e-15);
    }

    /// diffusers' own rescaled schedule (`make_fixtures.py`, in float32 there).
    #[test]
    fn zero_terminal_snr_matches_diffusers() {
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/zero_snr_schedule.json")).unwrap()).unwrap();
        let theirs: Vec<f64> = golden["ddim_alphas_cumprod"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let ours = SchedulerConfig::from_json(&animatediff(r#", "rescale_betas_zero_snr": true"#), "rescaled").unwrap().alphas_cumprod();
        assert_eq!(ours.len(), theirs.len());
        for (t, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * b.max(1e-3), "ᾱ at {t}: {a} vs diffusers {b}");
        }
    }

    #[test]
    fn zero_terminal_snr_needs_v_prediction() {
        let text = animatediff(r#", "rescale_betas_zero_snr": true"#).replace("v_prediction", "epsilon");
        let err = SchedulerConfig::from_json(&text, "scheduler_config.json").unwrap_err().to_string();
        assert!(err.contains("rescale_betas_zero_snr") && err.contains("v_prediction"), "{err}");
    }
}
