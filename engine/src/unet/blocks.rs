//! The UNet's down, mid and up blocks, AnimateDiff flavour: every resnet (and its spatial
//! transformer, in cross-attention blocks) is followed by a motion module.

use burn::prelude::*;

use super::config::{BlockPlan, UNetConfig};
use super::motion::{Fusion, MotionModule};
use super::resnet::ResnetBlock2D;
use super::sampling::{Downsample2D, Upsample2D};
use super::transformer_2d::Transformer2D;
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
            downsamplers: plan
                .resample
                .then(|| Downsample2D::new(&b.push("downsamplers").push(0), plan.output, cfg.downsample_padding))
                .into_iter()
                .collect(),
        }
    }

    /// Returns the output and the skip connections it leaves for the up blocks.
    pub fn forward(&self, mut x: Tensor<4>, ctx: &BlockContext) -> (Tensor<4>, Vec<Tensor<4>>) {
        let mut skips = Vec::new();
        for (i, resnet) in self.resnets.iter().enumerate() {
            x = resnet.forward(x, Some(ctx.temb.clone()));
            if let Some(attention) = self.attentions.get(i) {
                x = attention.forward(x, ctx.text_down.clone());
            }
            x = self.motion_modules[i].forward(x, ctx.frames, ctx.fusion.as_ref());
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
        let mut x = self.resnets[0].forward(x, Some(ctx.temb.clone()));
        for (i, attention) in self.attentions.iter().enumerate() {
            x = attention.forward(x, ctx.text_down.clone());
            if let Some(motion) = self.motion_modules.get(i) {
                x = motion.forward(x, ctx.frames, ctx.fusion.as_ref());
            }
            x = self.resnets[i + 1].forward(x, Some(ctx.temb.clone()));
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
            x = resnet.forward(Tensor::cat(vec![x, skip], 1), Some(ctx.temb.clone()));
            if let Some(attention) = self.attentions.get(i) {
                x = attention.forward(x, ctx.text.clone());
            }
            x = self.motion_modules[i].forward(x, ctx.frames, ctx.fusion.as_ref());
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
