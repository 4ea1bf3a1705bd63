//! The layers diffusers builds its models from, with PyTorch weight layouts and key names, so a
//! struct reads like the checkpoint's key list.

mod conv;
mod embedding;
mod linear;
mod norm;

pub use conv::Conv2d;
pub use embedding::Embedding;
pub use linear::Linear;
pub use norm::{GroupNorm, LayerNorm};
