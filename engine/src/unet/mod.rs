//! `UNetMotionModel`: the SD1.5 UNet with AnimateDiff motion modules, in diffusers' layout.

pub mod adapter_file;
pub mod attention;
pub mod blocks;
pub mod config;
mod load;
pub mod motion;
pub mod resnet;
pub mod sampling;
pub mod time;
pub mod transformer_2d;
pub mod transformer_block;
mod unet;

pub use config::UNetConfig;
pub use load::{load_unet, unet_config, unet_weight_files};
pub use unet::UNetMotionModel;
