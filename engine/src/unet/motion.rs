//! The motion module (diffusers' `AnimateDiffTransformer3D`): temporal attention along the frame
//! axis at every pixel, with sinusoidal frame positions, and a residual around the whole.
//! With FreeNoise the temporal attentions run per window and are fused (see [`fuse`]).

use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;

use super::transformer_block::{BasicTransformerBlock, SecondAttention};
use crate::freenoise::{FusionPlacement, WindowPlan};
use crate::nn::{GroupNorm, Linear};
use crate::weights::Builder;

/// FreeNoise's window-based temporal attention fusion, ready to apply: the plan plus the
/// per-slot frame indices and merge shares, computed once per generation rather than in every
/// motion-module call.
#[derive(Clone, Debug)]
pub struct Fusion {
    pub plan: WindowPlan,
    pub placement: FusionPlacement,
    /// For each slot (window w, position p, as w·W + p): the frame it reads and writes.
    frame_of_slot: Vec<i64>,
    /// For each slot: its share in its frame (see [`WindowPlan::slot_shares`]).
    shares: Vec<f32>,
}

impl Fusion {
    pub fn new(plan: WindowPlan, placement: FusionPlacement) -> Self {
        let frame_of_slot = plan.windows.iter().flat_map(|w| (w.start..w.end).map(|f| f as i64)).collect();
        let shares = plan.slot_shares();
        Self { plan, placement, frame_of_slot, shares }
    }

    /// Frames one temporal attention sees.
    pub fn window(&self) -> usize {
        self.plan.weights.len()
    }
}

#[derive(Module, Debug)]
pub struct MotionModule {
    pub norm: GroupNorm,
    pub proj_in: Linear,
    pub transformer_blocks: Vec<BasicTransformerBlock>,
    pub proj_out: Linear,
}

impl MotionModule {
    pub fn new(b: &Builder, channels: usize, heads: usize, groups: usize, layers: usize, max_frames: usize) -> Self {
        Self {
            norm: GroupNorm::new(&b.push("norm"), groups, channels, 1e-6),
            proj_in: Linear::new(&b.push("proj_in"), channels, channels, true),
            transformer_blocks: (0..layers)
                .map(|i| BasicTransformerBlock::new(&b.push("transformer_blocks").push(i), channels, heads, SecondAttention::SelfAttention, Some(max_frames)))
                .collect(),
            proj_out: Linear::new(&b.push("proj_out"), channels, channels, true),
        }
    }

    /// The most frames the position table covers.
    pub fn max_frames(&self) -> usize {
        self.transformer_blocks.first().and_then(|b| b.pos_embed.as_ref()).map_or(usize::MAX, |p| p.max_len())
    }

    /// `x`: `[batch·frames, C, H, W]` → same shape. With `fusion`, the temporal attentions run
    /// per window (positions restarting at 0 in each) and are merged with the plan's weights.
    /// With `chunks`, the pixel sequences go through in that many groups (after the group norm,
    /// which needs them all): the same result with smaller temporaries.
    pub fn forward(&self, x: Tensor<4>, frames: usize, fusion: Option<&Fusion>, chunks: Option<usize>) -> Tensor<4> {
        let residual = x.clone();
        let sequences = self.to_sequences(x, frames);
        let count = sequences.dims()[0];
        let tokens = match chunks {
            Some(n) if n > 1 => {
                let size = count.div_ceil(n);
                let parts = (0..count).step_by(size).map(|s| self.temporal(sequences.clone().slice(s..(s + size).min(count)), fusion));
                Tensor::cat(parts.collect(), 0)
            }
            _ => self.temporal(sequences, fusion),
        };
        Self::from_sequences(tokens, &residual, frames) + residual
    }

    /// proj_in → transformer blocks → proj_out on `[sequences, frames, C]`.
    fn temporal(&self, sequences: Tensor<3>, fusion: Option<&Fusion>) -> Tensor<3> {
        let mut tokens = self.proj_in.forward(sequences);
        for block in &self.transformer_blocks {
            tokens = match fusion {
                None => block.forward(tokens, None),
                Some(f) => match f.placement {
                    FusionPlacement::Block => block.feed_forward(fuse(f, tokens, |w| block.attentions(w, None))),
                    FusionPlacement::Attention => {
                        let tokens = fuse(f, tokens, |w| block.first_attention(w));
                        block.feed_forward(fuse(f, tokens, |w| block.second_attention(w, None)))
                    }
                },
            };
        }
        self.proj_out.forward(tokens)
    }

    /// GroupNorm over (C, F, H, W) per video, then `[batch·H·W, frames, C]` sequences.
    pub fn to_sequences(&self, x: Tensor<4>, frames: usize) -> Tensor<3> {
        let [bf, c, h, w] = x.dims();
        let batch = bf / frames;
        let videos = x.reshape([batch, frames, c, h * w]).swap_dims(1, 2); // [B, C, F, HW]
        let normed = self.norm.forward(videos); // groups over C; F·HW folded in
        normed.permute([0, 3, 2, 1]).reshape([batch * h * w, frames, c])
    }

    fn from_sequences(tokens: Tensor<3>, like: &Tensor<4>, frames: usize) -> Tensor<4> {
        let [bf, c, h, w] = like.dims();
        let batch = bf / frames;
        tokens.reshape([batch, h * w, frames, c]).permute([0, 2, 3, 1]).reshape([bf, c, h, w])
    }
}

/// Runs `layer` on every window of `[sequences, frames, C]` and merges the outputs per frame,
/// weighted by position in the window and divided by each frame's total weight. All windows go
/// through `layer` as one batch; the weighted outputs are scatter-added back onto their frames.
pub fn fuse(fusion: &Fusion, x: Tensor<3>, layer: impl Fn(Tensor<3>) -> Tensor<3>) -> Tensor<3> {
    let [sequences, frames, channels] = x.dims();
    let device = x.device();
    let (window, slots) = (fusion.window(), fusion.frame_of_slot.len());
    let slot_frames = Tensor::<1, Int>::from_data(TensorData::new(fusion.frame_of_slot.clone(), [slots]), &device);
    // [sequences, slots, C] → one batch of sequences·windows windows.
    let windows = x.select(1, slot_frames.clone()).reshape([sequences * (slots / window), window, channels]);
    let out = layer(windows).reshape([sequences, slots, channels]);
    let shares = Tensor::<1>::from_data(TensorData::new(fusion.shares.clone(), [slots]), &device);
    let weighted = out * shares.reshape([1, slots, 1]);
    Tensor::<3>::zeros([sequences, frames, channels], &device).select_assign(1, slot_frames, weighted, IndexingUpdateOp::Add)
}
