//! Generation, phase by phase as diffusers' `AnimateDiffPipeline.__call__` runs it: check the
//! request, encode the prompts, prepare the timesteps, prepare the latents, denoise, decode.

use burn::prelude::*;

use super::prompts::PromptEmbeddings;
use super::{Flow, Latents, Output, Pipeline, Preview, Progress, Request, StepFuture};
use crate::freenoise::injection::injects;
use crate::freenoise::noise::clip_noise;
use crate::rng::SplitMix64;
use crate::schedulers::{Scheduler, SchedulerConfig};
use crate::unet::motion::Fusion;
use crate::EngineError;

impl Pipeline {
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
        let mut warnings = Vec::new();
        let fusion = self.check(request, &mut warnings)?;
        let text = self.encode_prompts(request, &mut warnings).await?;
        let scheduler = self.prepare_timesteps(request, &mut warnings)?;
        let latents = self.prepare_latents(request, &scheduler);
        let latents = self.denoise(request, &scheduler, latents, &text, fusion, on_step).await?;
        self.decode_clip(request, latents, warnings).await
    }

    /// Phase 0: the request against the model ([`Self::validate`]), and a warning when
    /// FreeNoise was asked for but the clip fits in one window (plain sampling runs).
    fn check(&self, request: &Request, warnings: &mut Vec<String>) -> Result<Option<Fusion>, EngineError> {
        let fusion = self.validate(request)?;
        if let (Some(settings), None) = (&request.free_noise, &fusion) {
            if request.frames < settings.window {
                warnings.push(format!("{} frames is fewer than the FreeNoise window of {}: plain sampling was used", request.frames, settings.window));
            }
        }
        Ok(fusion)
    }

    /// Phase 2: the sampler (the request's, else the model's) on its noise schedule.
    fn prepare_timesteps(&self, request: &Request, warnings: &mut Vec<String>) -> Result<Scheduler, EngineError> {
        let sampler = request.sampler.unwrap_or(self.default_sampler);
        if let (None, Some(note)) = (request.sampler, &self.scheduler_note) {
            warnings.push(note.clone());
        }
        let beta_schedule = request.beta_schedule.or(sampler.beta_schedule()).unwrap_or(self.scheduler_config.beta_schedule);
        let config = SchedulerConfig { beta_schedule, ..self.scheduler_config.clone() };
        Scheduler::new(sampler, &config, request.steps)
    }

    /// Phase 3: the initial latents: given, FreeNoise's rescheduled noise, or plain seeded
    /// noise, scaled by the sampler's initial sigma.
    fn prepare_latents(&self, request: &Request, scheduler: &Scheduler) -> Tensor<5> {
        let shape = self.latent_shape(request);
        let noise = match (&request.init_latents, &request.free_noise) {
            (Some(latents), _) => latents.data.clone(),
            (None, Some(s)) => clip_noise(shape[1], request.frames, shape[3] * shape[4], s.window, s.stride, s.noise, request.seed),
            (None, None) => SplitMix64::new(request.seed).normals(shape.iter().product()),
        };
        Tensor::<5>::from_data(TensorData::new(noise, shape), &self.device).mul_scalar(scheduler.init_noise_sigma())
    }

    /// Phase 4: the denoising loop, classifier-free guidance on the UNet's two halves, the
    /// observer told after each step (which it may cancel).
    async fn denoise(
        &self,
        request: &Request,
        scheduler: &Scheduler,
        mut latents: Tensor<5>,
        text: &PromptEmbeddings,
        fusion: Option<Fusion>,
        on_step: &mut dyn FnMut(Progress) -> StepFuture,
    ) -> Result<Tensor<5>, EngineError> {
        let shape = latents.dims();
        let timesteps = scheduler.timesteps();
        for (index, &t) in timesteps.iter().enumerate() {
            let input = if request.guided() { Tensor::cat(vec![latents.clone(), latents.clone()], 0) } else { latents.clone() };
            let input = scheduler.scale_model_input(input, index);
            let (up, down) = step_conditioning(index, timesteps.len(), request.motion_injection, &text.travel, &text.target);
            let prediction = self.unet.forward_with(input, t as f32, up, down, fusion.clone(), request.chunk)?;
            let prediction = if request.guided() {
                let [uncond, cond]: [Tensor<5>; 2] = prediction.chunk(2, 0).try_into().expect("two halves");
                uncond.clone() + (cond - uncond).mul_scalar(request.guidance)
            } else {
                prediction
            };
            latents = scheduler.step(prediction, index, latents);
            let step = index + 1;
            let preview = if request.preview_every > 0 && step.is_multiple_of(request.preview_every) && step < timesteps.len() {
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
        Ok(latents)
    }

    /// Phase 5: the VAE decode, and everything read back to the host.
    async fn decode_clip(&self, request: &Request, latents: Tensor<5>, warnings: Vec<String>) -> Result<Output, EngineError> {
        let shape = self.latent_shape(request);
        let video = self.decode(latents.clone(), request.decode_chunk);
        let latents = read(latents, "final latents").await?;
        let video = read(video, "decoded video").await?;
        let [_, _, frames, h, w] = shape;
        Ok(Output { latents: Latents { shape, data: latents }, video, frames, height: h * self.vae_scale(), width: w * self.vae_scale(), warnings })
    }

    /// `[1, C, F, h, w]` latents → `[F, H, W, 3]` in [0, 1], `chunk` frames per VAE call.
    pub fn decode(&self, latents: Tensor<5>, chunk: usize) -> Tensor<4> {
        let [_, c, f, h, w] = latents.dims();
        let per_frame = latents.permute([0, 2, 1, 3, 4]).reshape([f, c, h, w]);
        let images: Vec<Tensor<4>> = (0..f).step_by(chunk).map(|start| self.vae.decode(per_frame.clone().slice(start..(start + chunk).min(f)))).collect();
        Tensor::cat(images, 0).div_scalar(2.0).add_scalar(0.5).clamp(0.0, 1.0).permute([0, 2, 3, 1])
    }
}

pub(super) async fn read<const D: usize>(tensor: Tensor<D>, name: &'static str) -> Result<Vec<f32>, EngineError> {
    let data = tensor.into_data_async().await.map_err(|e| EngineError::Readback { tensor: name, reason: format!("{e:?}") })?;
    // f16 devices hand back f16 data; the host side is f32 throughout.
    data.convert::<f32>().try_to_vec::<f32>().map_err(|e| EngineError::BadTensor { tensor: name, problem: format!("{e:?}") })
}

/// The text the up blocks and the down/mid blocks read at step `index`: with motion injection,
/// the down/mid blocks read the target prompt in the early and late steps; otherwise every
/// block reads the travelling prompt.
pub fn step_conditioning(index: usize, steps: usize, injection: bool, travel: &Tensor<3>, target: &Tensor<3>) -> (Tensor<3>, Tensor<3>) {
    let down = if injection && injects(index, steps) { target.clone() } else { travel.clone() };
    (travel.clone(), down)
}
