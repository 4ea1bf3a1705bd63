//! Shipping a trained model: the run's f32 checkpoint rewritten with f16 weights (half the
//! bytes; the engine upcasts on load), next to the same config and tokenizer files, with the
//! motion modules' position tables lengthened to [`SHIPPED_POSITIONS`].

use std::path::Path;

use serde_json::Value;

use super::model_dir::{io, read_weights, ModelDir, TEXT_WEIGHTS, UNET_WEIGHTS, VAE_WEIGHTS};
use engine::unet::transformer_block::SinusoidalPositions;
use engine::weights::{Dtype, NamedTensor};
use engine::EngineError;

/// Frames the shipped position tables cover: the page's longest clip. Training uses 16 and the
/// run's table has 32 rows; FreeNoise never needs more than its window, but plain sampling (the
/// comparison the page offers with FreeNoise off) reads one row per frame. The rows are the fixed
/// sinusoids diffusers computes for `motion_max_seq_length`, and the first 32 are the trained
/// model's own, so nothing the model learnt changes.
pub const SHIPPED_POSITIONS: usize = 256;

const UNET_CONFIG: &str = "unet/config.json";

const COPIED: [&str; 8] = [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "vae/config.json",
    "recipe.json",
];

/// Copies `source` (a run's `model/` folder) to `target` with f16 weights, lengthening the
/// position tables for the page.
pub fn export_f16(source: &Path, target: &Path) -> Result<(), EngineError> {
    write_f16(source, target, true)
}

/// The same copy with the run's own position tables, which its trainer can load again
/// (`snapshot`).
pub(super) fn copy_f16(source: &Path, target: &Path) -> Result<(), EngineError> {
    write_f16(source, target, false)
}

fn write_f16(source: &Path, target: &Path, lengthen: bool) -> Result<(), EngineError> {
    let (from, to) = (ModelDir::new(source), ModelDir::new(target));
    for file in COPIED {
        let path = source.join(file);
        if path.exists() {
            to.write(file, &std::fs::read(&path).map_err(|e| io(&path, e))?)?;
        }
    }
    let mut config: Value =
        serde_json::from_str(&from.read_text(UNET_CONFIG)?).map_err(|e| EngineError::Request(format!("{}: {e}", source.join(UNET_CONFIG).display())))?;
    if lengthen {
        config["motion_max_seq_length"] = SHIPPED_POSITIONS.into();
    }
    to.write(UNET_CONFIG, serde_json::to_string_pretty(&config).expect("JSON values serialise").as_bytes())?;
    for file in [VAE_WEIGHTS, UNET_WEIGHTS, TEXT_WEIGHTS] {
        let tensors: Vec<NamedTensor> =
            read_weights(&from.root.join(file))?.into_iter().map(|tensor| if lengthen { lengthen_positions(tensor) } else { tensor }).collect();
        to.write_weights(file, &tensors, Dtype::F16)?;
    }
    Ok(())
}

/// A motion module's `pos_embed.pe` (`[1, frames, dim]`) with [`SHIPPED_POSITIONS`] rows;
/// every other tensor as it is.
fn lengthen_positions(tensor: NamedTensor) -> NamedTensor {
    match tensor.shape.as_slice() {
        &[1, _, dim] if tensor.key.ends_with("pos_embed.pe") => {
            NamedTensor { values: SinusoidalPositions::values(dim, SHIPPED_POSITIONS), shape: vec![1, SHIPPED_POSITIONS, dim], key: tensor.key }
        }
        _ => tensor,
    }
}
