//! The load-or-init parameter builder (see the module docs).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::rc::Rc;

use burn::module::{Param, ParamId};
use burn::prelude::*;

use super::safetensors::{read_header, to_f32, TensorInfo};
use super::source::ByteSource;
use crate::rng::SplitMix64;
use crate::EngineError;

/// How a parameter starts when there is no file to load it from.
#[derive(Clone, Copy, Debug)]
pub enum Init {
    Zeros,
    Ones,
    /// Uniform in ±1/sqrt(fan_in), PyTorch's default for linear and conv layers.
    FanIn(usize),
    Normal(f32),
}

/// One or more safetensors files seen as one key space (an SD1.5 UNet plus a motion adapter).
pub struct WeightFiles {
    sources: Vec<Box<dyn ByteSource>>,
    entries: BTreeMap<String, (usize, TensorInfo)>,
}

impl WeightFiles {
    pub fn new() -> Self {
        Self { sources: Vec::new(), entries: BTreeMap::new() }
    }

    /// Adds a file: reads and validates its header now; tensors are read when asked for.
    pub fn add(&mut self, mut source: Box<dyn ByteSource>) -> Result<(), EngineError> {
        let name = source.name().to_string();
        let header = read_header(source.as_mut())?;
        let index = self.sources.len();
        for (key, info) in header.tensors {
            if self.entries.contains_key(&key) {
                return Err(EngineError::BadFile { file: name, problem: format!("tensor `{key}` is also in an earlier file") });
            }
            self.entries.insert(key, (index, info));
        }
        self.sources.push(source);
        Ok(())
    }
}

impl Default for WeightFiles {
    fn default() -> Self {
        Self::new()
    }
}

enum Store {
    Load { files: WeightFiles, used: BTreeSet<String>, problems: Vec<String> },
    Init { rng: SplitMix64 },
}

/// Hands out parameters by diffusers key; cheap to clone, shares one store.
///
/// Each parameter's id is a hash of its key, so a model rebuilt from a checkpoint has the same
/// ids as the one that was saved; optimizer state (keyed by id) then resumes with it.
#[derive(Clone)]
pub struct Builder {
    store: Rc<RefCell<Store>>,
    keys: Rc<RefCell<BTreeMap<ParamId, String>>>,
    prefix: String,
    device: Device,
}

impl Builder {
    pub fn load(files: WeightFiles, device: &Device) -> Self {
        let store = Store::Load { files, used: BTreeSet::new(), problems: Vec::new() };
        Self::with_store(store, device)
    }

    pub fn init(seed: u64, device: &Device) -> Self {
        Self::with_store(Store::Init { rng: SplitMix64::new(seed) }, device)
    }

    fn with_store(store: Store, device: &Device) -> Self {
        Self { store: Rc::new(RefCell::new(store)), keys: Rc::default(), prefix: String::new(), device: device.clone() }
    }

    /// The diffusers key of every parameter handed out so far, by parameter id (for saving).
    pub fn keys(&self) -> BTreeMap<ParamId, String> {
        self.keys.borrow().clone()
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// True when reading a checkpoint, false when drawing fresh parameters.
    pub fn is_loading(&self) -> bool {
        matches!(&*self.store.borrow(), Store::Load { .. })
    }

    /// A builder for the sub-module `name` (`down_blocks` → `down_blocks.0` → ...).
    pub fn push(&self, name: impl Display) -> Self {
        let prefix = if self.prefix.is_empty() { name.to_string() } else { format!("{}.{name}", self.prefix) };
        Self { store: self.store.clone(), keys: self.keys.clone(), prefix, device: self.device.clone() }
    }

    /// Whether the files hold any tensor under this builder's prefix (optional sub-modules such
    /// as a mid-block motion module). Always false when initialising.
    pub fn exists(&self) -> bool {
        match &*self.store.borrow() {
            Store::Load { files, .. } => {
                let prefix = format!("{}.", self.prefix);
                files.entries.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix))
            }
            Store::Init { .. } => false,
        }
    }

    /// The parameter `name` under this prefix with exactly `shape`.
    pub fn param<const D: usize>(&self, name: &str, shape: [usize; D], init: Init) -> Param<Tensor<D>> {
        let key = self.push(name).prefix;
        let id = key_id(&key);
        let values = match &mut *self.store.borrow_mut() {
            Store::Init { rng } => init_values(rng, shape.iter().product(), init),
            Store::Load { files, used, problems } => match read(files, &key, &shape) {
                Ok(values) => {
                    used.insert(key.clone());
                    values
                }
                Err(problem) => {
                    used.insert(key.clone());
                    problems.push(problem);
                    vec![0.0; shape.iter().product()]
                }
            },
        };
        self.keys.borrow_mut().insert(id, key);
        let tensor = Tensor::from_data(TensorData::new(values, shape), &self.device);
        Param::initialized(id, tensor).set_require_grad(true)
    }

    /// A buffer (saved with the model, never trained) such as a position table: read from the
    /// file when loading, computed by `fresh` when initialising.
    pub fn buffer<const D: usize>(&self, name: &str, shape: [usize; D], fresh: impl FnOnce(&Device) -> Tensor<D>) -> Param<Tensor<D>> {
        let param = if self.is_loading() {
            self.param(name, shape, Init::Zeros)
        } else {
            let key = self.push(name).prefix;
            let id = key_id(&key);
            self.keys.borrow_mut().insert(id, key);
            Param::initialized(id, fresh(&self.device))
        };
        param.set_require_grad(false)
    }

    /// Ends loading: an error naming every missing, mis-shaped and unused tensor, if any.
    /// Keys under `ignored` prefixes (parts of a checkpoint this engine does not run, such as a
    /// VAE's encoder) are accepted unread.
    pub fn finish(self, what: &str, ignored: &[&str]) -> Result<(), EngineError> {
        let store = self.store.borrow();
        let Store::Load { files, used, problems } = &*store else { return Ok(()) };
        let mut all = problems.clone();
        for key in files.entries.keys() {
            if !used.contains(key) && !ignored.iter().any(|p| key.starts_with(p)) {
                all.push(format!("unexpected tensor `{key}` (no parameter of the model uses it)"));
            }
        }
        if all.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Weights { model: what.to_string(), problems: all })
        }
    }
}

/// FNV-1a of the key: stable across runs and builds.
fn key_id(key: &str) -> ParamId {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    ParamId::from(hash)
}

fn read(files: &mut WeightFiles, key: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
    let Some((index, info)) = files.entries.get(key).cloned() else {
        return Err(format!("missing tensor `{key}` (shape {shape:?})"));
    };
    if info.shape != shape {
        return Err(format!("tensor `{key}` has shape {:?}, the model needs {shape:?}", info.shape));
    }
    let bytes = files.sources[index].read_range(info.start, info.end).map_err(|e| e.to_string())?;
    Ok(to_f32(&bytes, info.dtype))
}

fn init_values(rng: &mut SplitMix64, count: usize, init: Init) -> Vec<f32> {
    match init {
        Init::Zeros => vec![0.0; count],
        Init::Ones => vec![1.0; count],
        Init::FanIn(fan_in) => {
            let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
            rng.uniforms(count, -bound, bound)
        }
        Init::Normal(std) => rng.normals(count).into_iter().map(|v| v * std).collect(),
    }
}
