//! The text side: CLIP's BPE tokenizer and `CLIPTextModel`.

mod config;
mod text_model;
pub mod tokenizer;

pub use config::ClipTextConfig;
pub use text_model::{load_text_encoder, ClipTextModel};
pub use tokenizer::{ClipTokenizer, CLIP_TOKENS};
