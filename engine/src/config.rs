//! Reading diffusers' `config.json` files: typed fields, diffusers' defaults where it has them,
//! informational fields (`_class_name`, `_diffusers_version`, ...) ignored, and a clear error for
//! anything present that asks for a feature this engine does not implement.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::EngineError;

/// Parses `text` (the content of `file`) into `T`.
pub fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<(T, Map<String, Value>), EngineError> {
    let raw: Value = serde_json::from_str(text).map_err(|e| EngineError::BadFile { file: file.into(), problem: format!("not valid JSON: {e}") })?;
    let Value::Object(object) = raw else {
        return Err(EngineError::BadFile { file: file.into(), problem: "expected a JSON object".into() });
    };
    let typed = serde_json::from_value(Value::Object(object.clone())).map_err(|e| EngineError::BadFile { file: file.into(), problem: e.to_string() })?;
    Ok((typed, object))
}

/// Fails when `field` is present with a value other than the allowed ones (absent or null is
/// fine: diffusers' default then applies, which is the supported behaviour).
pub fn require_one_of(raw: &Map<String, Value>, file: &str, field: &str, allowed: &[Value]) -> Result<(), EngineError> {
    match raw.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(value) if allowed.contains(value) => Ok(()),
        Some(value) => {
            Err(EngineError::Config { file: file.into(), field: field.into(), problem: format!("{value} is not supported (supported: {})", list(allowed)) })
        }
    }
}

fn list(values: &[Value]) -> String {
    if values.is_empty() {
        "only null".into()
    } else {
        values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// An int that diffusers also accepts as a per-block list.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum PerBlock {
    One(usize),
    Each(Vec<usize>),
}

impl PerBlock {
    /// One value per block; a list must have exactly `blocks` entries.
    pub fn expand(&self, blocks: usize, file: &str, field: &str) -> Result<Vec<usize>, EngineError> {
        match self {
            PerBlock::One(v) => Ok(vec![*v; blocks]),
            PerBlock::Each(values) if values.len() == blocks => Ok(values.clone()),
            PerBlock::Each(values) => Err(EngineError::Config {
                file: file.into(),
                field: field.into(),
                problem: format!("has {} entries but the model has {blocks} blocks", values.len()),
            }),
        }
    }
}
