//! Saving: a module's parameters under their diffusers keys, written as a safetensors file that
//! diffusers and our own loader both read.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use half::f16;
use serde_json::{json, Map, Value};

use super::Dtype;
use crate::EngineError;

/// One tensor to write: key, shape and f32 values.
pub struct NamedTensor {
    pub key: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every float parameter of `module`, named by `keys` (from [`super::Builder::keys`]).
/// A parameter without a key is a bug in the model's constructor, reported by id.
pub fn named_tensors<M: Module>(module: &M, keys: &BTreeMap<ParamId, String>) -> Result<Vec<NamedTensor>, EngineError> {
    struct Collect<'a> {
        keys: &'a BTreeMap<ParamId, String>,
        out: Vec<NamedTensor>,
        unnamed: Vec<String>,
    }
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let Some(key) = self.keys.get(&param.id) else {
                self.unnamed.push(param.id.to_string());
                return;
            };
            let value = param.val();
            let shape = value.dims().to_vec();
            let values = value.into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
            self.out.push(NamedTensor { key: key.clone(), shape, values });
        }
    }
    let mut collect = Collect { keys, out: Vec::new(), unnamed: Vec::new() };
    module.visit(&mut collect);
    if !collect.unnamed.is_empty() {
        return Err(EngineError::Request(format!("parameters with no diffusers key: {}", collect.unnamed.join(", "))));
    }
    collect.out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(collect.out)
}

/// The bytes of a safetensors file holding `tensors` as `dtype` (F32 or F16).
pub fn safetensors_bytes(tensors: &[NamedTensor], dtype: Dtype) -> Result<Vec<u8>, EngineError> {
    let name = match dtype {
        Dtype::F32 => "F32",
        Dtype::F16 => "F16",
        other => return Err(EngineError::Request(format!("cannot write {other:?} tensors (F32 or F16 only)"))),
    };
    let mut header = Map::new();
    header.insert("__metadata__".into(), json!({ "format": "pt" }));
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + t.values.len() * dtype.size();
        header.insert(t.key.clone(), json!({ "dtype": name, "shape": t.shape, "data_offsets": [offset, end] }));
        offset = end;
    }
    let mut text = Value::Object(header).to_string();
    // Data starts 8-aligned, as the reference writer keeps it.
    while !(text.len() + 8).is_multiple_of(8) {
        text.push(' ');
    }
    let mut bytes = Vec::with_capacity(8 + text.len() + offset);
    bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
    for t in tensors {
        for &v in &t.values {
            match dtype {
                Dtype::F16 => bytes.extend_from_slice(&f16::from_f32(v).to_le_bytes()),
                _ => bytes.extend_from_slice(&v.to_le_bytes()),
            }
        }
    }
    Ok(bytes)
}
