//! `AutoencoderKL`: the decoder (inference) and the encoder (training the demo model only).

mod config;
mod decoder;
mod encoder;
mod mid_block;

pub use config::VaeConfig;
pub use decoder::{load_vae_decoder, VaeDecoder};
pub use encoder::{Posterior, VaeEncoder};
