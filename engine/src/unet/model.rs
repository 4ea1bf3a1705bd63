//! The whole UNet: time embedding, conv_in, down blocks, mid block, up blocks, output head.

use burn::prelude::*;
use burn::tensor::activation::silu;

use super::config::UNetConfig;
use super::down_up::{BlockContext, DownBlock, MidBlock, UpBlock};
use super::motion::Fusion;
use super::time::{timestep_sinusoids, TimestepEmbedding};
use crate::nn::{Conv2d, GroupNorm};
use crate::weights::Builder;
use crate::EngineError;

#[derive(Module, Debug)]
pub struct UNetMotionModel {
    pub conv_in: Conv2d,
    pub time_embedding: TimestepEmbedding,
    pub down_blocks: Vec<DownBlock>,
    pub mid_block: MidBlock,
    pub up_blocks: Vec<UpBlock>,
    pub conv_norm_out: GroupNorm,
    pub conv_out: Conv2d,
    #[module(skip)]
    pub config: UNetConfig,
}

impl UNetMotionModel {
    pub fn new(b: &Builder, cfg: &UNetConfig) -> Self {
        let base = cfg.block_out_channels[0];
        let temb = base * 4;
        let down_plans = cfg.down_plans();
        // Skip connections the down path leaves, by width, in push order.
        let mut skips = vec![base];
        for plan in &down_plans {
            skips.extend(std::iter::repeat_n(plan.output, plan.layers));
            if plan.resample {
                skips.push(plan.output);
            }
        }
        let up_blocks = cfg
            .up_plans()
            .iter()
            .enumerate()
            .map(|(i, plan)| {
                let taken: Vec<usize> = (0..plan.layers).map(|_| skips.pop().expect("skip widths")).collect();
                UpBlock::new(&b.push("up_blocks").push(i), cfg, plan, &taken, temb)
            })
            .collect();
        Self {
            conv_in: Conv2d::new(&b.push("conv_in"), cfg.in_channels, base, 3, 1, 1),
            time_embedding: TimestepEmbedding::new(&b.push("time_embedding"), base, temb),
            down_blocks: down_plans.iter().enumerate().map(|(i, plan)| DownBlock::new(&b.push("down_blocks").push(i), cfg, plan, temb)).collect(),
            mid_block: MidBlock::new(&b.push("mid_block"), cfg, temb),
            up_blocks,
            conv_norm_out: GroupNorm::new(&b.push("conv_norm_out"), cfg.norm_num_groups, base, cfg.norm_eps),
            conv_out: Conv2d::new(&b.push("conv_out"), base, cfg.out_channels, 3, 1, 1),
            config: cfg.clone(),
        }
    }

    /// The most frames one temporal attention can see (the motion position table).
    pub fn max_frames(&self) -> usize {
        self.down_blocks.iter().flat_map(|b| &b.motion_modules).map(|m| m.max_frames()).min().unwrap_or(usize::MAX)
    }

    /// Spatial size the latents must be a multiple of (one halving per downsampler).
    pub fn size_multiple(&self) -> usize {
        1 << (self.config.block_out_channels.len() - 1)
    }

    /// `sample`: `[batch, C, frames, h, w]`; `text`: `[batch·frames, tokens, dim]` (one text
    /// embedding per frame, as diffusers' pipeline passes them) → noise prediction, same shape
    /// as `sample`.
    pub fn forward(&self, sample: Tensor<5>, timestep: f32, text: Tensor<3>) -> Result<Tensor<5>, EngineError> {
        self.forward_with(sample, timestep, text.clone(), text, None, None)
    }

    /// [`Self::forward`] with FreeNoise: `text_down` for the down and mid blocks (motion
    /// injection), window fusion in the motion modules, and split inference (`chunk` frames at
    /// a time through the spatial layers).
    pub fn forward_with(
        &self,
        sample: Tensor<5>,
        timestep: f32,
        text: Tensor<3>,
        text_down: Tensor<3>,
        fusion: Option<Fusion>,
        chunk: Option<usize>,
    ) -> Result<Tensor<5>, EngineError> {
        self.forward_at(sample, &[timestep], text, text_down, fusion, chunk)
    }

    /// [`Self::forward_with`] with one timestep per batch item (training draws a timestep per
    /// clip); `timesteps` has one entry (shared) or `batch` entries.
    pub fn forward_at(
        &self,
        sample: Tensor<5>,
        timesteps: &[f32],
        text: Tensor<3>,
        text_down: Tensor<3>,
        fusion: Option<Fusion>,
        chunk: Option<usize>,
    ) -> Result<Tensor<5>, EngineError> {
        let [batch, channels, frames, h, w] = sample.dims();
        let longest = fusion.as_ref().map_or(frames, Fusion::window);
        if longest > self.max_frames() {
            return Err(EngineError::Request(format!(
                "{longest} frames in one temporal attention, but the motion module's position table has {} \
                 (use FreeNoise windows of at most that length)",
                self.max_frames()
            )));
        }
        if h % self.size_multiple() != 0 || w % self.size_multiple() != 0 {
            return Err(EngineError::Request(format!("latent size {h}×{w} must be a multiple of {} for this UNet", self.size_multiple())));
        }
        let device = sample.device();
        let cfg = &self.config;
        let base = cfg.block_out_channels[0];
        if timesteps.len() != 1 && timesteps.len() != batch {
            return Err(EngineError::Request(format!("{} timesteps for a batch of {batch}", timesteps.len())));
        }
        let sinusoids: Vec<f32> = timesteps.iter().flat_map(|&t| timestep_sinusoids(t, base, cfg.flip_sin_to_cos, cfg.freq_shift)).collect();
        let t = Tensor::<2>::from_data(TensorData::new(sinusoids, [timesteps.len(), base]), &device);
        let temb = self.time_embedding.forward(t);
        let temb_dim = temb.dims()[1];
        let temb = temb.unsqueeze_dim::<3>(1).expand([batch, frames, temb_dim]).reshape([batch * frames, temb_dim]);
        let ctx = BlockContext { temb, text, text_down, frames, fusion, chunk: chunk.filter(|&c| c > 0) };

        let x = sample.permute([0, 2, 1, 3, 4]).reshape([batch * frames, channels, h, w]);
        let mut x = self.conv_in.forward(x);
        let mut skips = vec![x.clone()];
        for block in &self.down_blocks {
            let (out, block_skips) = block.forward(x, &ctx);
            x = out;
            skips.extend(block_skips);
        }
        x = self.mid_block.forward(x, &ctx);
        for block in &self.up_blocks {
            x = block.forward(x, &mut skips, &ctx);
        }
        let x = self.conv_out.forward(silu(self.conv_norm_out.forward(x)));
        let out_channels = x.dims()[1];
        Ok(x.reshape([batch, frames, out_channels, h, w]).permute([0, 2, 1, 3, 4]))
    }
}
