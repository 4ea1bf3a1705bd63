//! The text-to-video pipeline, as diffusers' `AnimateDiffPipeline`: the models loaded once
//! ([`Pipeline::load`]), a request checked against them ([`Pipeline::validate`]), then
//! generation in diffusers' phases ([`Pipeline::generate`], in `generate.rs`): encode the
//! prompts (`prompts.rs`), prepare the timesteps and the latents, denoise with classifier-free
//! guidance, decode.

use burn::prelude::*;

use crate::clip::{load_text_encoder, ClipTextModel, ClipTokenizer};
use crate::freenoise::windows::{validate_window, WindowPlan};
use crate::schedulers::{Sampler, SchedulerConfig};
use crate::store::ModelStore;
use crate::unet::motion::Fusion;
use crate::unet::{load_unet, UNetMotionModel};
use crate::vae::{load_vae_decoder, VaeDecoder};
use crate::EngineError;

mod generate;
mod prompts;
mod request;

pub use crate::preview::Preview;
pub use generate::step_conditioning;
pub use request::{Flow, FreeNoiseSettings, Latents, Output, Progress, Request, StepFuture, DEFAULT_CHUNK};

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
}
