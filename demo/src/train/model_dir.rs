//! The trained model as a diffusers pipeline folder: config files, the CLIP BPE tokenizer and
//! one safetensors file per part. Written atomically (temporary file, then rename), so a run
//! stopped mid-save leaves the previous checkpoint intact.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::recipe::{self, Recipe};
use engine::weights::{header_len, parse_header, safetensors_bytes, to_f32, Dtype, NamedTensor};
use engine::EngineError;

pub const VAE_WEIGHTS: &str = "vae/diffusion_pytorch_model.safetensors";
pub const UNET_WEIGHTS: &str = "unet/diffusion_pytorch_model.safetensors";
pub const TEXT_WEIGHTS: &str = "text_encoder/model.safetensors";

/// The tokenizer files copied from the source folder (vocab + merges: the real CLIP BPE).
const TOKENIZER_FILES: [&str; 3] = ["vocab.json", "merges.txt", "tokenizer_config.json"];

pub struct ModelDir {
    pub root: PathBuf,
}

impl ModelDir {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf() }
    }

    pub fn has(&self, file: &str) -> bool {
        self.root.join(file).exists()
    }

    /// Writes every config file and the tokenizer (with the recipe's `model_max_length`).
    pub fn write_configs(&self, scaling_factor: f32, recipe: &Recipe, tokenizer: &Path) -> Result<(), EngineError> {
        let files: [(&str, Value); 5] = [
            ("model_index.json", recipe::model_index()),
            ("scheduler/scheduler_config.json", recipe::scheduler_config(recipe)),
            ("vae/config.json", recipe::vae_config(scaling_factor)),
            ("unet/config.json", recipe::unet_config()),
            ("text_encoder/config.json", recipe::text_config()),
        ];
        for (path, value) in files {
            let text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
            self.write(path, text.as_bytes())?;
        }
        for name in TOKENIZER_FILES {
            let source = tokenizer.join(name);
            let mut bytes = fs::read(&source).map_err(|e| io(&source, e))?;
            if name == "tokenizer_config.json" {
                let mut config: Value =
                    serde_json::from_slice(&bytes).map_err(|e| EngineError::BadFile { file: source.display().to_string(), problem: e.to_string() })?;
                config["model_max_length"] = recipe.text_tokens.into();
                bytes = serde_json::to_vec_pretty(&config).expect("JSON values serialise");
            }
            self.write(&format!("tokenizer/{name}"), &bytes)?;
        }
        Ok(())
    }

    pub fn write_weights(&self, path: &str, tensors: &[NamedTensor], dtype: Dtype) -> Result<(), EngineError> {
        self.write(path, &safetensors_bytes(tensors, dtype)?)
    }

    pub fn write(&self, path: &str, bytes: &[u8]) -> Result<(), EngineError> {
        let target = self.root.join(path);
        let parent = target.parent().expect("paths name a file in a folder");
        fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        let temporary = target.with_extension("partial");
        fs::write(&temporary, bytes).map_err(|e| io(&temporary, e))?;
        fs::rename(&temporary, &target).map_err(|e| io(&target, e))
    }

    pub fn read_text(&self, path: &str) -> Result<String, EngineError> {
        let file = self.root.join(path);
        fs::read_to_string(&file).map_err(|e| io(&file, e))
    }
}

/// Every tensor of a safetensors file, as f32, in the file's order.
pub fn read_weights(path: &Path) -> Result<Vec<NamedTensor>, EngineError> {
    let bytes = fs::read(path).map_err(|e| io(path, e))?;
    let name = path.display().to_string();
    let header = parse_header(&bytes[..header_len(&bytes, &name)? as usize], bytes.len() as u64, &name)?;
    Ok(header
        .tensors
        .into_iter()
        .map(|(key, info)| NamedTensor { key, shape: info.shape, values: to_f32(&bytes[info.start as usize..info.end as usize], info.dtype) })
        .collect())
}

/// Copies the folder `from` with everything in it to `to`.
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), EngineError> {
    fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target).map_err(|e| io(&target, e))?;
        }
    }
    Ok(())
}

pub fn io(path: &Path, error: std::io::Error) -> EngineError {
    EngineError::Io { path: path.display().to_string(), reason: error.to_string() }
}
