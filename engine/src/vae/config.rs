use serde::Deserialize;
use serde_json::json;

use crate::config::{parse, require_one_of};
use crate::EngineError;

#[derive(Clone, Debug, Deserialize)]
pub struct VaeConfig {
    #[serde(default = "rgb")]
    pub in_channels: usize,
    pub out_channels: usize,
    pub latent_channels: usize,
    pub block_out_channels: Vec<usize>,
    pub layers_per_block: usize,
    pub norm_num_groups: usize,
    #[serde(default = "default_scaling")]
    pub scaling_factor: f32,
    #[serde(default)]
    pub shift_factor: Option<f32>,
    #[serde(default = "yes")]
    pub use_post_quant_conv: bool,
    #[serde(default = "yes")]
    pub mid_block_add_attention: bool,
    pub up_block_types: Vec<String>,
    /// Read only by the encoder (training); inference accepts whatever the checkpoint says.
    #[serde(default)]
    pub down_block_types: Vec<String>,
    #[serde(default = "yes")]
    pub use_quant_conv: bool,
}

fn rgb() -> usize {
    3
}

fn default_scaling() -> f32 {
    0.18215
}
fn yes() -> bool {
    true
}

impl VaeConfig {
    pub fn from_json(text: &str, file: &str) -> Result<Self, EngineError> {
        let (config, raw): (Self, _) = parse(text, file)?;
        require_one_of(&raw, file, "act_fn", &[json!("silu")])?;
        require_one_of(&raw, file, "latents_mean", &[])?;
        require_one_of(&raw, file, "latents_std", &[])?;
        if let Some(bad) = config.up_block_types.iter().find(|t| *t != "UpDecoderBlock2D") {
            return Err(EngineError::Config {
                file: file.into(),
                field: "up_block_types".into(),
                problem: format!("block type {bad:?} is not supported (only \"UpDecoderBlock2D\")"),
            });
        }
        if config.up_block_types.len() != config.block_out_channels.len() || config.block_out_channels.is_empty() {
            return Err(EngineError::Config {
                file: file.into(),
                field: "up_block_types".into(),
                problem: "must have one entry per block_out_channels entry".into(),
            });
        }
        Ok(config)
    }

    /// Pixels per latent along each side.
    pub fn scale_factor(&self) -> usize {
        1 << (self.block_out_channels.len() - 1)
    }
}
