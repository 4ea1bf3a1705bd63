//! The demo model's settings (`public/models/demo`): the size and length it is trained at, and
//! the sampling settings its semantic checks are measured with ([`crate::semantics`]), which
//! are therefore the page's defaults for it. One place for all of them, so the page never opens
//! on settings that the card's figures were not measured at.

use engine::freenoise::Weighting;

/// Frames per clip: the motion module's training length (longer clips go through FreeNoise).
pub const FRAMES: usize = 16;
/// Pixels per side: the data set renders its clips at this size.
pub const SIZE: usize = 64;
/// DDIM steps.
pub const STEPS: usize = 12;
/// Guidance 3, below AnimateDiff's usual 7.5: a stronger push drifts this small model's
/// colours (reds on white turn orange, purples blue); the card gives the measured figures.
pub const GUIDANCE: f32 = 3.0;
/// FreeNoise's window weights: flat, not the paper's pyramid (which stays the engine's general
/// default, as in the official code and diffusers). This model's misses at 64 frames are phase
/// clashes between windows: its movers start at one of two phases half a lap apart, and where
/// neighbouring windows settle on different ones the fused clip stalls and jumps back. Flat
/// weights give every overlapping window an equal vote; chosen because they measured better on
/// the held-out clips (`docs/demo-model-history.md`, stops 35–36), not derived.
pub const WEIGHTING: Weighting = Weighting::Flat;
