//! The text-to-video loop, as diffusers' `AnimateDiffPipeline.__call__`: encode the prompts,
//! start from (given or seeded) noise, denoise with classifier-free guidance, decode.

use burn::prelude::*;

use crate::clip::{load_text_encoder, ClipTextModel, ClipTokenizer};
use crate::freenoise::injection::injects;
use crate::freenoise::noise::clip_noise;
use crate::freenoise::prompts::{blend, Interpolation, Keyframes};
use crate::freenoise::windows::{validate_window, WindowPlan};
use crate::freenoise::{FusionPlacement, NoiseType, Weighting};
use crate::rng::SplitMix64;
use crate::schedulers::{BetaSchedule, Sampler, Scheduler, SchedulerConfig};
use crate::store::ModelStore;
use crate::unet::motion::Fusion;
use crate::unet::{load_unet, UNetMotionModel};
use crate::vae::{load_vae_decoder, VaeDecoder};
use crate::EngineError;

/// Everything a generation needs, loaded once.
pub struct Pipeline {
    pub tokenizer: ClipTokenizer,
    pub text_encoder: ClipTextModel,
    pub unet: UNetMotionModel,
    pub vae: VaeDecoder,
    pub scheduler_config: SchedulerConfig,
    /// The sampler the model's scheduler config names (DDIM for one the engine does not run).
    pub default_sampler: Sampler,
    /// Why `default_sampler` is not the config's own class, when it is not.
    pub scheduler_note: Option<String>,
    pub device: Device,
}

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
}

/// Reported after every denoising step, once the step's work is done on the device.
#[derive(Clone, Debug)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    /// A cheap look at the clip so far, on the steps [`Request::preview_every`] asks for.
    pub preview: Option<Preview>,
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

pub use crate::preview::Preview;

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

impl Pipeline {
    /// Loads a diffusers AnimateDiff pipeline; `adapter` when `unet/` is a plain SD1.5 UNet.
    pub fn load(store: &dyn ModelStore, adapter: Option<&dyn ModelStore>, device: &Device) -> Result<Self, EngineError> {
        let scheduler_path = "scheduler/scheduler_config.json";
        let scheduler_file = format!("{}/{scheduler_path}", store.name());
        let scheduler_config = SchedulerConfig::from_json(&store.read_text(scheduler_path)?, &scheduler_file)?;
        let (default_sampler, scheduler_note) = scheduler_config.default_sampler();
        let tokenizer = ClipTokenizer::load(store, "tokenizer")?;
        let text_encoder = load_text_encoder(store, device)?;
        let positions = text_encoder.max_positions();
        if tokenizer.max_tokens() > positions {
            return Err(EngineError::BadFile {
                file: format!("{}/tokenizer/tokenizer_config.json", store.name()),
                problem: format!(
                    "model_max_length {} is longer than the text encoder's {positions} positions (max_position_embeddings)",
                    tokenizer.max_tokens()
                ),
            });
        }
        Ok(Self {
            tokenizer,
            text_encoder,
            unet: load_unet(store, adapter, device)?,
            vae: load_vae_decoder(store, device)?,
            default_sampler,
            scheduler_note,
            scheduler_config,
            device: device.clone(),
        })
    }

    /// Pixels per latent side.
    pub fn vae_scale(&self) -> usize {
        self.vae.config.scale_factor()
    }

    /// Checks a request against the model's limits before any work; returns the FreeNoise
    /// fusion to apply, if the request needs one.
    pub fn validate(&self, request: &Request) -> Result<Option<Fusion>, EngineError> {
        let multiple = (self.vae_scale() * self.unet.size_multiple()).max(8);
        for (name, value) in [("height", request.height), ("width", request.width)] {
            if value == 0 || value % multiple != 0 {
                return Err(EngineError::Request(format!("{name} {value} must be a positive multiple of {multiple} for this model")));
            }
        }
        if request.steps == 0 {
            return Err(EngineError::Request("steps must be at least 1".into()));
        }
        if request.frames == 0 {
            return Err(EngineError::Request("frames must be at least 1".into()));
        }
        let fusion = self.fusion(request)?;
        match &fusion {
            Some(f) if f.window() > self.unet.max_frames() => {
                return Err(EngineError::Request(format!(
                    "the FreeNoise window of {} frames is longer than the motion module's position table ({} frames)",
                    f.window(),
                    self.unet.max_frames()
                )))
            }
            None if request.frames > self.unet.max_frames() => {
                return Err(EngineError::Request(format!(
                    "{} frames is more than the motion module's position table ({} frames); longer clips need FreeNoise",
                    request.frames,
                    self.unet.max_frames()
                )))
            }
            _ => {}
        }
        if request.chunk == Some(0) {
            return Err(EngineError::Request("the inference chunk must be at least 1 frame".into()));
        }
        if request.decode_chunk == 0 {
            return Err(EngineError::Request("decode chunk must be at least 1 frame".into()));
        }
        if let Some(latents) = &request.init_latents {
            let want = self.latent_shape(request);
            if latents.shape != want {
                return Err(EngineError::Request(format!(
                    "initial latents have shape {:?}, this request needs {want:?} (1, channels, frames, height/{s}, width/{s})",
                    latents.shape,
                    s = self.vae_scale()
                )));
            }
        }
        Ok(fusion)
    }

    /// The fusion when FreeNoise applies: enabled and the clip longer than one window
    /// (shorter clips fall back to plain sampling, with a warning from `generate`).
    fn fusion(&self, request: &Request) -> Result<Option<Fusion>, EngineError> {
        match &request.free_noise {
            Some(s) if request.frames > s.window => {
                let plan = WindowPlan::new(request.frames, s.window, s.stride, s.weighting)?;
                Ok(Some(Fusion::new(plan, s.placement)))
            }
            Some(s) => validate_window(s.window, s.stride).map(|()| None),
            None => Ok(None),
        }
    }

    pub fn latent_shape(&self, request: &Request) -> [usize; 5] {
        let s = self.vae_scale();
        [1, self.unet.config.in_channels, request.frames, request.height / s, request.width / s]
    }

    /// `[1, tokens, dim]` text embedding of a prompt, with a warning if it was truncated.
    pub fn encode_prompt(&self, text: &str, warnings: &mut Vec<String>) -> Result<Tensor<3>, EngineError> {
        let tokens = self.tokenizer.encode(text)?;
        if tokens.dropped > 0 {
            warnings.push(format!(
                "the prompt is longer than the tokenizer's {} tokens: the last {} tokens were dropped",
                self.tokenizer.max_tokens(),
                tokens.dropped
            ));
        }
        let ids: Vec<i64> = tokens.ids.iter().map(|&id| id as i64).collect();
        let len = ids.len();
        Ok(self.text_encoder.forward(Tensor::from_data(TensorData::new(ids, [1, len]), &self.device)))
    }

    pub async fn generate(&self, request: &Request, progress: &mut dyn FnMut(Progress)) -> Result<Output, EngineError> {
        let mut observer = |p: Progress| -> StepFuture {
            progress(p);
            Box::pin(std::future::ready(Flow::Continue))
        };
        self.generate_with(request, &mut observer).await
    }

    /// [`Self::generate`] with an observer that may cancel. Each step is waited for on the
    /// device before the observer hears of it, so progress is real time, not queue time.
    pub async fn generate_with(&self, request: &Request, on_step: &mut dyn FnMut(Progress) -> StepFuture) -> Result<Output, EngineError> {
        let fusion = self.validate(request)?;
        let mut warnings = Vec::new();
        let guided = request.guidance > 1.0;
        let frames = request.frames;

        let keyframes = if request.keyframes.is_empty() { Keyframes::single(&request.prompt) } else { Keyframes::new(request.keyframes.clone(), frames)? };
        if let (Some(settings), None) = (&request.free_noise, &fusion) {
            if frames < settings.window {
                warnings.push(format!("{frames} frames is fewer than the FreeNoise window of {}: plain sampling was used", settings.window));
            }
        }
        let keys = self.encode_keyframes(&keyframes, &mut warnings)?;
        let travel = self.travel(&keys, &keyframes, frames, request.interpolation).await?;
        let targets = select_frames(Tensor::cat(keys, 0), &keyframes.targets(frames));
        let negative_keyframes = if request.negative_keyframes.is_empty() {
            Keyframes::single(request.negative.as_deref().unwrap_or(""))
        } else {
            Keyframes::checked(request.negative_keyframes.clone(), frames, true)?
        };
        let negative_keys = self.encode_keyframes(&negative_keyframes, &mut warnings)?;
        let negative = self.travel(&negative_keys, &negative_keyframes, frames, request.interpolation).await?;
        // The UNet takes one text embedding per frame, batch-major: [uncond frames, cond frames].
        let with_uncond = |cond: Tensor<3>| if guided { Tensor::cat(vec![negative.clone(), cond], 0) } else { cond };
        let text = with_uncond(travel);
        let text_target = with_uncond(targets);

        let sampler = request.sampler.unwrap_or(self.default_sampler);
        if let (None, Some(note)) = (request.sampler, &self.scheduler_note) {
            warnings.push(note.clone());
        }
        let beta_schedule = request.beta_schedule.or(sampler.beta_schedule()).unwrap_or(self.scheduler_config.beta_schedule);
        let config = SchedulerConfig { beta_schedule, ..self.scheduler_config.clone() };
        let scheduler = Scheduler::new(sampler, &config, request.steps)?;
        let shape = self.latent_shape(request);
        let noise = match (&request.init_latents, &request.free_noise) {
            (Some(latents), _) => latents.data.clone(),
            (None, Some(s)) => clip_noise(shape[1], frames, shape[3] * shape[4], s.window, s.stride, s.noise, request.seed),
            (None, None) => SplitMix64::new(request.seed).normals(shape.iter().product()),
        };
        let mut latents = Tensor::<5>::from_data(TensorData::new(noise, shape), &self.device).mul_scalar(scheduler.init_noise_sigma());

        let timesteps = scheduler.timesteps();
        for (index, &t) in timesteps.iter().enumerate() {
            let input = if guided { Tensor::cat(vec![latents.clone(), latents.clone()], 0) } else { latents.clone() };
            let input = scheduler.scale_model_input(input, index);
            let (up, down) = step_conditioning(index, timesteps.len(), request.motion_injection, &text, &text_target);
            let prediction = self.unet.forward_with(input, t as f32, up, down, fusion.clone(), request.chunk)?;
            let prediction = if guided {
                let [uncond, cond]: [Tensor<5>; 2] = prediction.chunk(2, 0).try_into().expect("two halves");
                uncond.clone() + (cond - uncond).mul_scalar(request.guidance)
            } else {
                prediction
            };
            latents = scheduler.step(prediction, index, latents);
            let step = index + 1;
            let preview = if request.preview_every > 0 && step % request.preview_every == 0 && step < timesteps.len() {
                Some(Preview::from_latents(&read(latents.clone(), "preview latents").await?, shape))
            } else {
                // A one-value readback: waits for this step on the device (and yields there).
                read(latents.clone().slice([0..1, 0..1, 0..1, 0..1, 0..1]), "step marker").await?;
                None
            };
            if on_step(Progress { step, steps: timesteps.len(), preview: preview.flatten() }).await == Flow::Cancel {
                return Err(EngineError::Cancelled);
            }
        }

        let video = self.decode(latents.clone(), request.decode_chunk);
        let latents_data = read(latents, "final latents").await?;
        let video_data = read(video, "decoded video").await?;
        let [_, _, _, h, w] = shape;
        Ok(Output {
            latents: Latents { shape, data: latents_data },
            video: video_data,
            frames,
            height: h * self.vae_scale(),
            width: w * self.vae_scale(),
            warnings,
        })
    }

    /// One `[1, tokens, dim]` embedding per keyframe prompt.
    fn encode_keyframes(&self, keyframes: &Keyframes, warnings: &mut Vec<String>) -> Result<Vec<Tensor<3>>, EngineError> {
        keyframes.prompts().iter().map(|p| self.encode_prompt(p, warnings)).collect()
    }

    /// Per-frame embeddings `[frames, tokens, dim]` travelling between keyframe embeddings.
    async fn travel(&self, keys: &[Tensor<3>], keyframes: &Keyframes, frames: usize, how: Interpolation) -> Result<Tensor<3>, EngineError> {
        let plan = keyframes.blend_plan(frames, how);
        let all = Tensor::cat(keys.to_vec(), 0);
        let [_, tokens, dim] = all.dims();
        match how {
            Interpolation::Linear | Interpolation::Hold => {
                let from = select_frames(all.clone(), &plan.iter().map(|p| p.0).collect::<Vec<_>>());
                let to = select_frames(all, &plan.iter().map(|p| p.1).collect::<Vec<_>>());
                let t: Vec<f32> = plan.iter().map(|p| p.2).collect();
                let t = Tensor::<1>::from_data(TensorData::new(t, [frames]), &self.device).reshape([frames, 1, 1]);
                Ok(from * (t.clone().neg() + 1.0) + to * t)
            }
            Interpolation::Spherical => {
                let values = read(all, "keyframe embeddings").await?;
                let size = tokens * dim;
                let key = |i: usize| &values[i * size..(i + 1) * size];
                let blended: Vec<f32> = plan.iter().flat_map(|&(a, b, t)| blend(key(a), key(b), t, how)).collect();
                Ok(Tensor::from_data(TensorData::new(blended, [frames, tokens, dim]), &self.device))
            }
        }
    }

    /// `[1, C, F, h, w]` latents → `[F, H, W, 3]` in [0, 1], `chunk` frames per VAE call.
    pub fn decode(&self, latents: Tensor<5>, chunk: usize) -> Tensor<4> {
        let [_, c, f, h, w] = latents.dims();
        let per_frame = latents.permute([0, 2, 1, 3, 4]).reshape([f, c, h, w]);
        let images: Vec<Tensor<4>> = (0..f).step_by(chunk).map(|start| self.vae.decode(per_frame.clone().slice([start..(start + chunk).min(f)]))).collect();
        Tensor::cat(images, 0).div_scalar(2.0).add_scalar(0.5).clamp(0.0, 1.0).permute([0, 2, 3, 1])
    }
}

async fn read<const D: usize>(tensor: Tensor<D>, name: &'static str) -> Result<Vec<f32>, EngineError> {
    let data = tensor.into_data_async().await.map_err(|e| EngineError::Readback { tensor: name, reason: format!("{e:?}") })?;
    // f16 devices hand back f16 data; the host side is f32 throughout.
    data.convert::<f32>().try_to_vec::<f32>().map_err(|e| EngineError::BadTensor { tensor: name, problem: format!("{e:?}") })
}

/// Rows of `embeddings` `[keys, tokens, dim]` picked per frame.
fn select_frames(embeddings: Tensor<3>, rows: &[usize]) -> Tensor<3> {
    let device = embeddings.device();
    let ids: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    embeddings.select(0, Tensor::<1, Int>::from_data(TensorData::new(ids, [rows.len()]), &device))
}

/// The text the up blocks and the down/mid blocks read at step `index`: with motion injection,
/// the down/mid blocks read the target prompt in the early and late steps; otherwise every
/// block reads the travelling prompt.
pub fn step_conditioning(index: usize, steps: usize, injection: bool, travel: &Tensor<3>, target: &Tensor<3>) -> (Tensor<3>, Tensor<3>) {
    let down = if injection && injects(index, steps) { target.clone() } else { travel.clone() };
    (travel.clone(), down)
}
