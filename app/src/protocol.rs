//! Messages between the page and its worker, serialised as JSON (pixels travel beside the JSON
//! as a transferable byte array). Version 1.

use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 1;

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    Generate(GenerateRequest),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// Base URL of a diffusers pipeline folder (`…/models/tiny/`).
    pub model_url: String,
    pub prompt: String,
    pub negative: String,
    pub frames: usize,
    pub size: usize,
    pub steps: usize,
    pub guidance: f32,
    pub seed: u64,
}

/// What the worker reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's handler is installed: messages sent before this would be lost.
    Ready,
    /// Loading or a phase change, in words for the status line.
    Status { text: String },
    /// After each denoising step.
    Progress { step: usize, steps: usize },
    /// The clip: `frames` RGBA frames of `width`×`height` follow as bytes.
    Done { frames: usize, width: usize, height: usize, backend: String, fallback: Option<String>, seconds: f64, warnings: Vec<String> },
    Failed { message: String },
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    version: u32,
    message: T,
}

pub fn encode<T: Serialize>(message: &T) -> String {
    serde_json::to_string(&Envelope { version: PROTOCOL_VERSION, message }).expect("messages serialise")
}

pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    let envelope: Envelope<T> = serde_json::from_str(text).map_err(|e| format!("malformed message: {e}"))?;
    if envelope.version != PROTOCOL_VERSION {
        return Err(format!("protocol version {} (expected {PROTOCOL_VERSION}): reload the page", envelope.version));
    }
    Ok(envelope.message)
}
