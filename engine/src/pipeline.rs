//! The text-to-video loop, as diffusers' `AnimateDiffPipeline.__call__`: encode the prompts,
//! start from (given or seeded) noise, denoise with classifier-free guidance, decode.

use burn::prelude::*;

use crate::clip::{load_text_encoder, ClipTextModel, ClipTokenizer};
use crate::rng::SplitMix64;
use crate::schedulers::{Scheduler, SchedulerConfig, SchedulerKind};
use crate::store::ModelStore;
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
    /// The sampler the model's scheduler config names.
    pub default_scheduler: SchedulerKind,
    pub device: Device,
}

/// Unit-variance initial latents `[1, C, F, h, w]`, before `init_noise_sigma` scaling, exactly
/// diffusers' `latents=` argument.
#[derive(Clone, Debug)]
pub struct Latents {
    pub shape: [usize; 5],
    pub data: Vec<f32>,
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
    pub scheduler: Option<SchedulerKind>,
    pub init_latents: Option<Latents>,
    /// Frames per VAE decode call (memory vs speed).
    pub decode_chunk: usize,
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
            scheduler: None,
            init_latents: None,
            decode_chunk: 16,
        }
    }
}

/// Reported after every denoising step.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
}

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
        Ok(Self {
            tokenizer: ClipTokenizer::load(store, "tokenizer")?,
            text_encoder: load_text_encoder(store, device)?,
            unet: load_unet(store, adapter, device)?,
            vae: load_vae_decoder(store, device)?,
            default_scheduler: scheduler_config.default_kind(&scheduler_file)?,
            scheduler_config,
            device: device.clone(),
        })
    }

    /// Pixels per latent side.
    pub fn vae_scale(&self) -> usize {
        self.vae.config.scale_factor()
    }

    /// Checks a request against the model's limits before any work.
    pub fn validate(&self, request: &Request) -> Result<(), EngineError> {
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
        if request.frames > self.unet.max_frames() {
            return Err(EngineError::Request(format!(
                "{} frames is more than the motion module's position table ({} frames); longer clips need FreeNoise",
                request.frames,
                self.unet.max_frames()
            )));
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
        Ok(())
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
                "the prompt is longer than CLIP's 77 tokens: the last {} tokens were dropped",
                tokens.dropped
            ));
        }
        let ids: Vec<i64> = tokens.ids.iter().map(|&id| id as i64).collect();
        let len = ids.len();
        Ok(self.text_encoder.forward(Tensor::from_data(TensorData::new(ids, [1, len]), &self.device)))
    }

    pub async fn generate(&self, request: &Request, progress: &mut dyn FnMut(Progress)) -> Result<Output, EngineError> {
        self.validate(request)?;
        let mut warnings = Vec::new();
        let guided = request.guidance > 1.0;
        let frames = request.frames;

        let cond = self.encode_prompt(&request.prompt, &mut warnings)?;
        let text = if guided {
            let uncond = self.encode_prompt(request.negative.as_deref().unwrap_or(""), &mut warnings)?;
            Tensor::cat(vec![uncond, cond], 0)
        } else {
            cond
        };
        // One text embedding per frame, batch-major (diffusers' repeat_interleave).
        let [batch, tokens, dim] = text.dims();
        let text = text.unsqueeze_dim::<4>(1).expand([batch, frames, tokens, dim]).reshape([batch * frames, tokens, dim]);

        let kind = request.scheduler.unwrap_or(self.default_scheduler);
        let scheduler = Scheduler::new(kind, &self.scheduler_config, request.steps)?;
        let shape = self.latent_shape(request);
        let noise = match &request.init_latents {
            Some(latents) => latents.data.clone(),
            None => SplitMix64::new(request.seed).normals(shape.iter().product()),
        };
        let mut latents = Tensor::<5>::from_data(TensorData::new(noise, shape), &self.device)
            .mul_scalar(scheduler.init_noise_sigma());

        let timesteps = scheduler.timesteps();
        for (index, &t) in timesteps.iter().enumerate() {
            let input = if guided { Tensor::cat(vec![latents.clone(), latents.clone()], 0) } else { latents.clone() };
            let input = scheduler.scale_model_input(input, index);
            let prediction = self.unet.forward(input, t as f32, text.clone())?;
            let prediction = if guided {
                let [uncond, cond]: [Tensor<5>; 2] = prediction.chunk(2, 0).try_into().expect("two halves");
                uncond.clone() + (cond - uncond).mul_scalar(request.guidance)
            } else {
                prediction
            };
            latents = scheduler.step(prediction, index, latents);
            progress(Progress { step: index + 1, steps: timesteps.len() });
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

    /// `[1, C, F, h, w]` latents → `[F, H, W, 3]` in [0, 1], `chunk` frames per VAE call.
    pub fn decode(&self, latents: Tensor<5>, chunk: usize) -> Tensor<4> {
        let [_, c, f, h, w] = latents.dims();
        let per_frame = latents.permute([0, 2, 1, 3, 4]).reshape([f, c, h, w]);
        let images: Vec<Tensor<4>> = (0..f)
            .step_by(chunk)
            .map(|start| self.vae.decode(per_frame.clone().slice([start..(start + chunk).min(f)])))
            .collect();
        Tensor::cat(images, 0).div_scalar(2.0).add_scalar(0.5).clamp(0.0, 1.0).permute([0, 2, 3, 1])
    }
}

async fn read<const D: usize>(tensor: Tensor<D>, name: &'static str) -> Result<Vec<f32>, EngineError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| EngineError::Readback { tensor: name, reason: format!("{e:?}") })?;
    data.try_to_vec::<f32>().map_err(|e| EngineError::BadTensor { tensor: name, problem: format!("{e:?}") })
}
