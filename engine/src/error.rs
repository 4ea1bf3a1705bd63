//! The engine's one error type: every message names the tensor, field, file or limit at fault.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    /// The caller asked to stop (the page's Cancel button).
    #[error("generation cancelled")]
    Cancelled,
    /// Reading a tensor back from the device failed (device lost, out of memory, ...).
    #[error("could not read tensor `{tensor}` back from the device: {reason}")]
    Readback { tensor: &'static str, reason: String },
    /// A tensor had a dtype the engine did not expect.
    #[error("tensor `{tensor}`: {problem}")]
    BadTensor { tensor: &'static str, problem: String },
    /// A file exists but its content is wrong (truncated, lying header, bad JSON, ...).
    #[error("{file}: {problem}")]
    BadFile { file: String, problem: String },
    /// A file could not be read at all.
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    /// A config asks for something missing or unsupported.
    #[error("{file}: field `{field}`: {problem}")]
    Config { file: String, field: String, problem: String },
    /// Loading weights found problems; all of them are listed.
    #[error("weights of the {model} do not fit it:\n  {}", problems.join("\n  "))]
    Weights { model: String, problems: Vec<String> },
    /// A request the engine cannot run (frames, size, steps ...), with the limit.
    #[error("{0}")]
    Request(String),
}
