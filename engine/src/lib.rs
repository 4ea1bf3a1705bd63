//! The FreeNoise engine: model code, schedulers and the FreeNoise method on Burn.
//!
//! Backend-generic through Burn's runtime `Device`: the pure-Rust `flex` CPU backend in native
//! tests and as the browser fallback, wgpu (WebGPU) in the page. Knows nothing of the browser.

pub use burn;

pub mod backend;
pub mod blocks;
pub mod clip;
pub mod config;
pub mod error;
pub mod freenoise;
#[cfg(not(target_arch = "wasm32"))]
pub mod host_alloc;
pub mod image;
pub mod memory;
pub mod nn;
pub mod npy;
pub mod options;
pub mod pipeline;
pub mod preview;
pub mod rng;
pub mod schedulers;
pub mod store;
pub mod unet;
pub mod vae;
pub mod weights;

pub use backend::Backend;
pub use error::EngineError;
pub use options::Choice;
