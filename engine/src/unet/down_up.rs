//! The UNet's down, mid and up blocks, AnimateDiff flavour: every resnet (and its spatial
//! transformer, in cross-attention blocks) is followed by a motion module.

use burn::prelude::*;

use super::config::{BlockPlan, UNetConfig};
use super::motion::{Fusion, MotionModule};
use super::transformer_2d::Transformer2D;
use crate::blocks::ResnetBlock2D;
use crate::blocks::{Downsample2D, Upsample2D};
use crate::weights::Builder;

/// What every block's forward needs besides its input.
#[derive(Clone)]
pub struct BlockContext {
    /// `[batch·frames, temb]`.
    pub temb: Tensor<2>,
    /// `[batch·frames, tokens, dim]`: text per frame, read by the up blocks.
    pub text: Tensor<3>,
    /// Text read by the down and mid blocks: the same as `text` except during motion injection,
    /// when it is the target prompt.
    pub text_down: Tensor<3>,
    pub frames: usize,
    /// FreeNoise window fusion for the motion modules.
    pub fusion: Option<Fusion>,
    /// Split inference: at most this many frames at a time through the spatial layers, and as
    /// many pixel sequences at a time through the motion modules as that makes chunks.
    pub chunk: Option<usize>,
}

impl BlockContext {
    /// Runs a per-frame layer over `x` `[batch·frames, …]` in chunks of frames (all at once
    /// without chunking); `layer` gets the rows and their range, to pick matching conditioning.
    pub fn per_frames(&self, x: Tensor<4>, layer: impl Fn(Tensor<4>, std::ops::Range<usize>) -> Tensor<4>) -> Tensor<4> {
        let rows = x.dims()[0];
        match self.chunk {
            Some(size) if size < rows => {
                let parts = (0..rows).step_by(size).map(|start| {
                    let range = start..(start + size).min(rows);
                    layer(x.clone().slice([range.clone()]), range)
                });
                Tensor::cat(parts.collect(), 0)
            }
            _ => layer(x, 0..rows),
        }
    }

    fn resnet(&self, resnet: &ResnetBlock2D, x: Tensor<4>) -> Tensor<4> {
        self.per_frames(x, |part, rows| resnet.forward(part, Some(self.temb.clone().slice([rows]))))
    }

    fn attention(&self, attention: &Transformer2D, x: Tensor<4>, text: &Tensor<3>) -> Tensor<4> {
        self.per_frames(x, |part, rows| attention.forward(part, text.clone().slice([rows])))
    }

    fn motion(&self, motion: &MotionModule, x: Tensor<4>) -> Tensor<4> {
        let chunks = self.chunk.map(|size| x.dims()[0].div_ceil(size));
        motion.forward(x, self.frames, self.fusion.as_ref(), chunks)
    }
}

/// A down block: `CrossAttnDownBlockMotion` when it has attentions, else `DownBlockMotion`.
#[derive(Module, Debug)]
pub struct DownBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<Transformer2D>,
    pub motion_modules: Vec<MotionModule>,
    pub downsamplers: Vec<Downsample2D>,
}

impl DownBlock {
    pub fn new(b: &Builder, cfg: &UNetConfig, plan: &BlockPlan, temb: usize) -> Self {
        let layers = plan.layers;
        Self {
            resnets: (0..layers)
                .map(|i| {
                    let input = if i == 0 { plan.input } else { plan.output };
                    ResnetBlock2D::new(&b.push("resnets").push(i), input, plan.output, Some(temb), cfg.norm_num_groups, cfg.norm_eps)
                })
                .collect(),
            attentions: attentions(b, cfg, plan),
            motion_modules: motion_modules(b, cfg, plan),
            downsamplers: plan.resample.then(|| Downsample2D::new(&b.push("downsamplers").push(0), plan.output, cfg.downsample_padding)).into_iter().collect(),
        }
    }

    /// Returns the output and the skip connections it leaves for the up blocks.
    pub fn forward(&self, mut x: Tensor<4>, ctx: &BlockContext) -> (Tensor<4>, Vec<Tensor<4>>) {
        let mut skips = Vec::new();
        for (i, resnet) in self.resnets.iter().enumerate() {
            x = ctx.resnet(resnet, x);
            if let Some(attention) = self.attentions.get(i) {
                x = ctx.attention(attention, x, &ctx.text_down);
            }
            x = ctx.motion(&self.motion_modules[i], x);
            skips.push(x.clone());
        }
        for downsampler in &self.downsamplers {
            x = downsampler.forward(x);
            skips.push(x.clone());
        }
        (x, skips)
    }
}

/// The mid block: resnet, then (attention, motion module if any, resnet) per layer.
#[derive(Module, Debug)]
pub struct MidBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<Transformer2D>,
    pub motion_modules: Vec<MotionModule>,
}

impl MidBlock {
    pub fn new(b: &Builder, cfg: &UNetConfig, temb: usize) -> Self {
        let channels = *cfg.block_out_channels.last().expect("at least one block");
        let plan = BlockPlan::mid(cfg);
        Self {
            resnets: (0..=cfg.mid_block_layers)
                .map(|i| ResnetBlock2D::new(&b.push("resnets").push(i), channels, channels, Some(temb), cfg.norm_num_groups, cfg.norm_eps))
                .collect(),
            attentions: attentions(b, cfg, &plan),
            motion_modules: if cfg.motion.use_mid_block { motion_modules(b, cfg, &plan) } else { Vec::new() },
        }
    }

    pub fn forward(&self, x: Tensor<4>, ctx: &BlockContext) -> Tensor<4> {
        let mut x = ctx.resnet(&self.resnets[0], x);
        for (i, attention) in self.attentions.iter().enumerate() {
            x = ctx.attention(attention, x, &ctx.text_down);
            if let Some(motion) = self.motion_modules.get(i) {
                x = ctx.motion(motion, x);
            }
            x = ctx.resnet(&self.resnets[i + 1], x);
        }
        x
    }
}

/// An up block: `CrossAttnUpBlockMotion` when it has attentions, else `UpBlockMotion`.
#[derive(Module, Debug)]
pub struct UpBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<Transformer2D>,
    pub motion_modules: Vec<MotionModule>,
    pub upsamplers: Vec<Upsample2D>,
}

impl UpBlock {
    /// `skip_widths`: channel counts of the skip connections this block consumes, in use order.
    pub fn new(b: &Builder, cfg: &UNetConfig, plan: &BlockPlan, skip_widths: &[usize], temb: usize) -> Self {
        Self {
            resnets: skip_widths
                .iter()
                .enumerate()
                .map(|(i, skip)| {
                    let input = if i == 0 { plan.input } else { plan.output };
                    ResnetBlock2D::new(&b.push("resnets").push(i), input + skip, plan.output, Some(temb), cfg.norm_num_groups, cfg.norm_eps)
                })
                .collect(),
            attentions: attentions(b, cfg, plan),
            motion_modules: motion_modules(b, cfg, plan),
            upsamplers: plan.resample.then(|| Upsample2D::new(&b.push("upsamplers").push(0), plan.output)).into_iter().collect(),
        }
    }

    /// `skips`: the remaining skip connections; this block pops what it needs from the end.
    pub fn forward(&self, mut x: Tensor<4>, skips: &mut Vec<Tensor<4>>, ctx: &BlockContext) -> Tensor<4> {
        for (i, resnet) in self.resnets.iter().enumerate() {
            let skip = skips.pop().expect("as many skips as resnets");
            x = ctx.resnet(resnet, Tensor::cat(vec![x, skip], 1));
            if let Some(attention) = self.attentions.get(i) {
                x = ctx.attention(attention, x, &ctx.text);
            }
            x = ctx.motion(&self.motion_modules[i], x);
        }
        for upsampler in &self.upsamplers {
            x = upsampler.forward(x);
        }
        x
    }
}

fn attentions(b: &Builder, cfg: &UNetConfig, plan: &BlockPlan) -> Vec<Transformer2D> {
    if !plan.cross_attention {
        return Vec::new();
    }
    (0..plan.layers)
        .map(|i| {
            Transformer2D::new(
                &b.push("attentions").push(i),
                plan.output,
                plan.heads,
                cfg.norm_num_groups,
                cfg.cross_attention_dim,
                plan.transformer_layers,
                cfg.use_linear_projection,
            )
        })
        .collect()
}

fn motion_modules(b: &Builder, cfg: &UNetConfig, plan: &BlockPlan) -> Vec<MotionModule> {
    (0..plan.layers)
        .map(|i| {
            MotionModule::new(
                &b.push("motion_modules").push(i),
                plan.output,
                plan.motion_heads,
                cfg.norm_num_groups,
                plan.motion_layers,
                cfg.motion.max_seq_length,
            )
        })
        .collect()
}
