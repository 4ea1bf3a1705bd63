use serde::Deserialize;
use serde_json::json;

use crate::config::{parse, require_one_of};
use crate::EngineError;

/// transformers' `CLIPTextConfig` fields the model needs.
#[derive(Clone, Debug, Deserialize)]
pub struct ClipTextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
}

fn default_act() -> String {
    "quick_gelu".into()
}
fn default_eps() -> f32 {
    1e-5
}

impl ClipTextConfig {
    pub fn from_json(text: &str, file: &str) -> Result<Self, EngineError> {
        let (config, raw): (Self, _) = parse(text, file)?;
        require_one_of(&raw, file, "hidden_act", &[json!("quick_gelu"), json!("gelu")])?;
        if config.hidden_size % config.num_attention_heads != 0 {
            return Err(EngineError::Config {
                file: file.into(),
                field: "num_attention_heads".into(),
                problem: format!("{} heads do not divide hidden_size {}", config.num_attention_heads, config.hidden_size),
            });
        }
        Ok(config)
    }
}
