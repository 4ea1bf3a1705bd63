//! FreeNoise (Qiu et al., ICLR 2024): long clips from a model trained on short ones.
//! The index logic lives here as small pure functions: noise rescheduling, the window list and
//! per-position weights of temporal attention fusion, prompt travel, and the motion-injection
//! schedule. The tensor side is in `unet::motion` and `pipeline`.

pub mod injection;
pub mod noise;
pub mod prompts;
pub mod windows;

pub use noise::NoiseType;
pub use windows::{FusionPlacement, Weighting, WindowPlan};
