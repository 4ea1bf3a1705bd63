//! Shipping a trained model: the run's f32 checkpoint rewritten with f16 weights (half the
//! bytes; the engine upcasts on load), next to the same config and tokenizer files.

use std::path::Path;

use super::model_dir::{io, ModelDir, TEXT_WEIGHTS, UNET_WEIGHTS, VAE_WEIGHTS};
use crate::weights::{header_len, parse_header, to_f32, Dtype, NamedTensor};
use crate::EngineError;

const COPIED: [&str; 9] = [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "unet/config.json",
    "vae/config.json",
    "recipe.json",
];

/// Copies `source` (a run's `model/` folder) to `target` with f16 weights.
pub fn export_f16(source: &Path, target: &Path) -> Result<(), EngineError> {
    let (from, to) = (ModelDir::new(source), ModelDir::new(target));
    for file in COPIED {
        let path = source.join(file);
        if path.exists() {
            to.write(file, &std::fs::read(&path).map_err(|e| io(&path, e))?)?;
        }
    }
    for file in [VAE_WEIGHTS, UNET_WEIGHTS, TEXT_WEIGHTS] {
        let path = from.root.join(file);
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let name = path.display().to_string();
        let header = parse_header(&bytes[..header_len(&bytes, &name)? as usize], bytes.len() as u64, &name)?;
        let tensors: Vec<NamedTensor> = header
            .tensors
            .into_iter()
            .map(|(key, info)| NamedTensor { key, shape: info.shape, values: to_f32(&bytes[info.start as usize..info.end as usize], info.dtype) })
            .collect();
        to.write_weights(file, &tensors, Dtype::F16)?;
    }
    Ok(())
}
