//! Where a model's files come from: a diffusers folder on disk natively, browser storage in the
//! page's worker. Paths are relative to the model root (`unet/config.json`).

use std::path::{Path, PathBuf};

use crate::weights::{ByteSource, FileSource};
use crate::EngineError;

pub trait ModelStore {
    /// A name for messages (folder path or repo id).
    fn name(&self) -> String;
    fn exists(&self, path: &str) -> bool;
    fn read_text(&self, path: &str) -> Result<String, EngineError>;
    fn open(&self, path: &str) -> Result<Box<dyn ByteSource>, EngineError>;
}

/// A diffusers folder on disk.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl AsRef<Path>) -> Result<Self, EngineError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(EngineError::Io { path: root.display().to_string(), reason: "no such folder".into() });
        }
        Ok(Self { root })
    }
}

impl ModelStore for DirStore {
    fn name(&self) -> String {
        self.root.display().to_string()
    }
    fn exists(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }
    fn read_text(&self, path: &str) -> Result<String, EngineError> {
        let full = self.root.join(path);
        std::fs::read_to_string(&full).map_err(|e| EngineError::Io { path: full.display().to_string(), reason: e.to_string() })
    }
    fn open(&self, path: &str) -> Result<Box<dyn ByteSource>, EngineError> {
        Ok(Box::new(FileSource::open(&self.root.join(path))?))
    }
}

/// The weights file of a diffusers component folder: the full-precision name first, then the
/// fp16 variant that many Hub repos ship.
pub fn weights_file(store: &dyn ModelStore, folder: &str, stem: &str) -> Result<String, EngineError> {
    // "." is the store's root (an adapter folder keeps its weights there).
    let prefix = if folder == "." { String::new() } else { format!("{folder}/") };
    let candidates = [format!("{prefix}{stem}.safetensors"), format!("{prefix}{stem}.fp16.safetensors")];
    candidates
        .iter()
        .find(|p| store.exists(p))
        .cloned()
        .ok_or_else(|| EngineError::Io { path: format!("{}/{}", store.name(), candidates[0]), reason: format!("missing (nor is there {})", candidates[1]) })
}

/// A model whose files are already in memory (fetched by the page's worker, or built in tests).
pub struct MemoryStore {
    name: String,
    files: std::collections::HashMap<String, std::sync::Arc<Vec<u8>>>,
}

impl MemoryStore {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), files: Default::default() }
    }

    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), std::sync::Arc::new(bytes));
    }
}

impl ModelStore for MemoryStore {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
    fn read_text(&self, path: &str) -> Result<String, EngineError> {
        let bytes = self.files.get(path).ok_or_else(|| EngineError::Io { path: format!("{}/{path}", self.name), reason: "missing".into() })?;
        String::from_utf8(bytes.to_vec()).map_err(|_| EngineError::BadFile { file: format!("{}/{path}", self.name), problem: "not UTF-8 text".into() })
    }
    fn open(&self, path: &str) -> Result<Box<dyn ByteSource>, EngineError> {
        let bytes = self.files.get(path).ok_or_else(|| EngineError::Io { path: format!("{}/{path}", self.name), reason: "missing".into() })?;
        Ok(Box::new(crate::weights::MemorySource { name: format!("{}/{path}", self.name), bytes: bytes.to_vec() }))
    }
}

/// A motion adapter shipped as one safetensors file with no config (AnimateDiff-Lightning),
/// seen as an adapter folder holding only `diffusion_pytorch_model.safetensors`; the UNet
/// loader then reads its config from its tensors.
pub struct AdapterFile {
    inner: Box<dyn ModelStore>,
    path: String,
}

/// The name an adapter folder's weights go by.
const ADAPTER_WEIGHTS: &str = "diffusion_pytorch_model.safetensors";

impl AdapterFile {
    /// `path`: the file, inside `inner`.
    pub fn new(inner: Box<dyn ModelStore>, path: impl Into<String>) -> Self {
        Self { inner, path: path.into() }
    }

    fn missing(&self, path: &str) -> EngineError {
        EngineError::Io { path: format!("{}/{path}", self.name()), reason: "missing (the adapter is the single file named)".into() }
    }
}

impl ModelStore for AdapterFile {
    fn name(&self) -> String {
        format!("{}/{}", self.inner.name(), self.path)
    }
    fn exists(&self, path: &str) -> bool {
        path == ADAPTER_WEIGHTS && self.inner.exists(&self.path)
    }
    fn read_text(&self, path: &str) -> Result<String, EngineError> {
        Err(self.missing(path))
    }
    fn open(&self, path: &str) -> Result<Box<dyn ByteSource>, EngineError> {
        if path == ADAPTER_WEIGHTS {
            self.inner.open(&self.path)
        } else {
            Err(self.missing(path))
        }
    }
}

/// The files of a diffusers AnimateDiff pipeline folder the engine reads (some are optional:
/// a tokenizer has `tokenizer.json` or `vocab.json` + `merges.txt`).
pub const PIPELINE_FILES: [&str; 12] = [
    "scheduler/scheduler_config.json",
    "tokenizer/tokenizer.json",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "tokenizer/special_tokens_map.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
];
