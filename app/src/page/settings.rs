//! The generation settings as the page edits them (text, so half-typed values can be shown and
//! explained), and their validation into a request.

use engine::freenoise::prompts::{Interpolation, Keyframes};
use engine::freenoise::windows::validate_window;
use engine::freenoise::{NoiseType, Weighting};
use engine::pipeline::FreeNoiseSettings;
use engine::schedulers::Sampler;
use leptos::prelude::*;

use crate::protocol::{FreeNoiseOptions, GenerateRequest, ModelSource};

/// One extra keyframe row of the multi-prompt editor.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyframeRow {
    pub id: usize,
    pub frame: RwSignal<String>,
    pub prompt: RwSignal<String>,
}

/// Every field, as reactive text.
#[derive(Clone, Copy)]
pub struct Settings {
    pub prompt: RwSignal<String>,
    pub negative: RwSignal<String>,
    pub frames: RwSignal<String>,
    pub steps: RwSignal<String>,
    pub guidance: RwSignal<String>,
    /// -1 draws a fresh random seed per clip.
    pub seed: RwSignal<String>,
    pub fps: RwSignal<String>,
    pub size: RwSignal<String>,
    /// `None`: the model's own scheduler config decides.
    pub sampler: RwSignal<Option<Sampler>>,
    pub free_noise: RwSignal<bool>,
    pub window: RwSignal<String>,
    pub stride: RwSignal<String>,
    pub weighting: RwSignal<Weighting>,
    pub noise: RwSignal<NoiseType>,
    pub keyframes: RwSignal<Vec<KeyframeRow>>,
    pub interpolation: RwSignal<Interpolation>,
    pub motion_injection: RwSignal<bool>,
}

/// Per-model defaults (the bundled demo model: its evaluation settings, see `app.rs`).
pub struct Defaults {
    pub frames: usize,
    pub steps: usize,
    pub guidance: f32,
    pub size: usize,
    pub fps: usize,
    pub weighting: Weighting,
}

/// Longest clip the page asks for: beyond this the per-frame work outgrows any browser tab.
pub const MAX_FRAMES: usize = 256;

impl Settings {
    pub fn new(d: &Defaults) -> Self {
        let text = |v: String| RwSignal::new(v);
        // The engine's FreeNoise defaults (the paper's window and stride), but the model's weighting.
        let free_noise = FreeNoiseSettings::default();
        Self {
            prompt: text(String::new()),
            negative: text(String::new()),
            frames: text(d.frames.to_string()),
            steps: text(d.steps.to_string()),
            guidance: text(d.guidance.to_string()),
            seed: text("-1".into()),
            fps: text(d.fps.to_string()),
            size: text(d.size.to_string()),
            sampler: RwSignal::new(None),
            free_noise: RwSignal::new(true),
            window: text(free_noise.window.to_string()),
            stride: text(free_noise.stride.to_string()),
            weighting: RwSignal::new(d.weighting),
            noise: RwSignal::new(free_noise.noise),
            keyframes: RwSignal::new(Vec::new()),
            // The editor says "Description from this frame": each one holds until the next.
            interpolation: RwSignal::new(Interpolation::Hold),
            motion_injection: RwSignal::new(true),
        }
    }

    /// The request these settings make, or every problem with them (for the page to list).
    /// `random_seed` is used when the seed field says -1.
    pub fn request(&self, model: ModelSource, random_seed: u64) -> Result<GenerateRequest, Vec<String>> {
        let mut problems = Vec::new();
        let mut number = |name: &str, text: &str, low: f64, high: f64| -> f64 {
            match text.trim().parse::<f64>() {
                Ok(v) if v >= low && v <= high => v,
                Ok(v) => {
                    problems.push(format!("{name} must be between {low} and {high} (it is {v})"));
                    low
                }
                Err(_) => {
                    problems.push(format!("{name} must be a number"));
                    low
                }
            }
        };
        let frames = number("Frames", &self.frames.get(), 1.0, MAX_FRAMES as f64) as usize;
        let steps = number("Steps", &self.steps.get(), 1.0, 200.0) as usize;
        let guidance = number("Guidance", &self.guidance.get(), 0.0, 30.0) as f32;
        let seed = number("Seed", &self.seed.get(), -1.0, u32::MAX as f64) as i64;
        number("FPS", &self.fps.get(), 1.0, 60.0);
        let size = number("Size", &self.size.get(), 8.0, 1024.0) as usize;
        let window = number("Window", &self.window.get(), 1.0, 64.0) as usize;
        let stride = number("Stride", &self.stride.get(), 1.0, 64.0) as usize;
        let rows: Vec<(usize, String)> = self
            .keyframes
            .get()
            .iter()
            .map(|row| (number("Keyframe frame", &row.frame.get(), 1.0, (frames.max(2) - 1) as f64) as usize, row.prompt.get()))
            .collect();
        let prompt = self.prompt.get();
        if prompt.trim().is_empty() {
            problems.push("Enter a prompt to generate.".into());
        }
        let free_noise = self.free_noise.get();
        if free_noise {
            if let Err(e) = validate_window(window, stride) {
                problems.push(e.to_string());
            }
        }
        if !rows.is_empty() {
            let keys: Vec<(usize, String)> = std::iter::once((0, prompt.clone())).chain(rows.clone()).collect();
            if let Err(e) = Keyframes::new(keys, frames) {
                problems.push(e.to_string());
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(problems);
        }
        Ok(GenerateRequest {
            model,
            prompt,
            negative: self.negative.get(),
            frames,
            size,
            steps,
            guidance,
            seed: if seed < 0 { random_seed } else { seed as u64 },
            sampler: self.sampler.get(),
            free_noise: FreeNoiseOptions { enabled: free_noise, window, stride, weighting: self.weighting.get(), noise: self.noise.get() },
            keyframes: rows,
            interpolation: self.interpolation.get(),
            motion_injection: self.motion_injection.get(),
            preview_every: (steps / 5).max(1),
        })
    }
}
