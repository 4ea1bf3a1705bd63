//! The demo model's sampling settings (`public/models/demo`): the ones its semantic checks are
//! measured with ([`crate::semantics`]), and so the page's defaults for it. One place for both,
//! so the page never opens on settings that the card's figures were not measured at.

/// DDIM steps.
pub const STEPS: usize = 12;
/// Guidance 3, not AnimateDiff's 7.5 or our earlier 5: on the 56 held-out prompts the step-2200
/// model draws the asked colour in 51 at guidance 3 and 4 and in 49 at 5 (direction 56 at all
/// three); at 5 the stronger push turns reds on white orange and purples blue
/// (`train/README.md`, stop 22).
pub const GUIDANCE: f32 = 3.0;
/// Pixels per side: the data set's frame size.
pub const SIZE: usize = crate::dataset::SIZE;
/// Frames: the motion module's training length (longer clips go through FreeNoise).
pub const FRAMES: usize = crate::dataset::FRAMES;
