//! `UNetMotionModel`: the SD1.5 UNet with AnimateDiff motion modules, in diffusers' layout.

pub mod adapter_file;
pub mod config;
pub mod down_up;
mod load;
mod model;
pub mod motion;
pub mod time;
pub mod transformer_2d;
pub mod transformer_block;

pub use config::UNetConfig;
pub use load::{load_unet, unet_config, unet_weight_files};
pub use model::UNetMotionModel;
