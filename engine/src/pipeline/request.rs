//! What a generation is asked for ([`Request`]), what it reports while it runs ([`Progress`],
//! answered with a [`Flow`]) and what it gives back ([`Output`]).

use crate::freenoise::prompts::Interpolation;
use crate::freenoise::{FusionPlacement, NoiseType, Weighting};
use crate::schedulers::{BetaSchedule, Sampler};

/// Unit-variance initial latents `[1, C, F, h, w]`, before `init_noise_sigma` scaling, exactly
/// diffusers' `latents=` argument.
#[derive(Clone, Debug)]
pub struct Latents {
    pub shape: [usize; 5],
    pub data: Vec<f32>,
}

/// Frames per split-inference chunk unless a request says otherwise.
pub const DEFAULT_CHUNK: usize = 8;

/// FreeNoise's settings (defaults: the paper's window 16, stride 4, pyramid, shuffled noise,
/// diffusers' per-block fusion).
#[derive(Clone, Debug)]
pub struct FreeNoiseSettings {
    pub window: usize,
    pub stride: usize,
    pub weighting: Weighting,
    pub noise: NoiseType,
    pub placement: FusionPlacement,
}

impl Default for FreeNoiseSettings {
    fn default() -> Self {
        Self { window: 16, stride: 4, weighting: Weighting::Pyramid, noise: NoiseType::Shuffle, placement: FusionPlacement::Block }
    }
}

#[derive(Clone, Debug)]
pub struct Request {
    pub prompt: String,
    /// `None`: the empty prompt, as diffusers does under guidance.
    pub negative: Option<String>,
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    pub steps: usize,
    /// Guidance is applied only above 1 (as in diffusers).
    pub guidance: f32,
    pub seed: u64,
    /// `None`: the model's scheduler config decides.
    pub sampler: Option<Sampler>,
    /// Overrides the betas of the config and of the sampler.
    pub beta_schedule: Option<BetaSchedule>,
    pub init_latents: Option<Latents>,
    /// Frames per VAE decode call (memory vs speed).
    pub decode_chunk: usize,
    /// FreeNoise for clips longer than its window; `None` runs plain sampling.
    pub free_noise: Option<FreeNoiseSettings>,
    /// Prompt travel: `(frame, prompt)` keyframes; empty means `prompt` for every frame.
    pub keyframes: Vec<(usize, String)>,
    /// Negative prompt travel, the same way; empty means `negative` for every frame.
    pub negative_keyframes: Vec<(usize, String)>,
    pub interpolation: Interpolation,
    /// FreeNoise's motion injection for multi-prompt clips.
    pub motion_injection: bool,
    /// Split inference: frames per chunk through the spatial layers (`None`: all at once).
    /// The default, 8, bounds temporaries for long clips and measured faster on the CPU
    /// backend (cache-sized work); results agree with unchunked runs within 1e-5.
    pub chunk: Option<usize>,
    /// A [`Preview`] every this many steps (0: none).
    pub preview_every: usize,
}

impl Request {
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            negative: None,
            frames: 16,
            height: 512,
            width: 512,
            steps: 25,
            guidance: 7.5,
            seed: 0,
            sampler: None,
            beta_schedule: None,
            init_latents: None,
            decode_chunk: 16,
            free_noise: Some(FreeNoiseSettings::default()),
            keyframes: Vec::new(),
            negative_keyframes: Vec::new(),
            interpolation: Interpolation::Linear,
            motion_injection: false,
            chunk: Some(DEFAULT_CHUNK),
            preview_every: 0,
        }
    }

    /// Whether classifier-free guidance applies: only above 1, as in diffusers.
    pub fn guided(&self) -> bool {
        self.guidance > 1.0
    }
}

/// Reported after every denoising step, once the step's work is done on the device.
#[derive(Clone, Debug)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    /// A cheap look at the clip so far, on the steps [`Request::preview_every`] asks for.
    pub preview: Option<super::Preview>,
}

/// What a step observer tells the engine to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop now: `generate_with` returns [`EngineError::Cancelled`] and drops every tensor.
    Cancel,
}

/// An observer's answer; it may wait (a browser worker yields to its event loop here, which
/// is what lets a Cancel message arrive mid-generation).
pub type StepFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Flow>>>;

/// A finished generation.
pub struct Output {
    /// Final denoised latents `[1, C, F, h, w]`.
    pub latents: Latents,
    /// Decoded video `[F, H, W, 3]` in [0, 1], row-major.
    pub video: Vec<f32>,
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    /// Warnings for the user (a truncated prompt, ...).
    pub warnings: Vec<String>,
}

impl Output {
    /// Frame `index` as 8-bit RGB.
    pub fn frame_rgb8(&self, index: usize) -> Vec<u8> {
        let size = self.height * self.width * 3;
        self.video[index * size..(index + 1) * size].iter().map(|&v| crate::image::unit_to_u8(v)).collect()
    }
}
