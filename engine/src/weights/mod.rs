//! Weights: safetensors files in diffusers layout → Burn parameters, or fresh random ones.
//!
//! Model code asks a [`Builder`] for each parameter by its diffusers key and shape. When loading,
//! the builder reads the tensor (upcasting f16/bf16) and records what is missing, mis-shaped or
//! left unused; [`Builder::finish`] reports all of it by name at once. When initialising (for
//! training), the same calls draw seeded random values, so one code path builds both.

mod builder;
mod export;
mod safetensors;
mod source;

pub use builder::{Builder, Init, WeightFiles};
pub use export::{named_tensors, safetensors_bytes, NamedTensor};
pub use safetensors::{header_len, parse_header, read_header, to_f32, Dtype, Header, TensorInfo};
pub use source::{ByteSource, FileSource, MemorySource};
