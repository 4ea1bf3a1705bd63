//! `AutoencoderKL`'s decoder (inference never encodes).

mod config;
mod decoder;

pub use config::VaeConfig;
pub use decoder::{load_vae_decoder, VaeDecoder};
