//! Blocks several models share, in diffusers' layout: the UNet, the VAE and the text encoder
//! build from these rather than from one another's folders.

pub mod attention;
pub mod resnet;
pub mod sampling;

pub use attention::{multi_head_attention, Attention};
pub use resnet::ResnetBlock2D;
pub use sampling::{Downsample2D, Upsample2D};
