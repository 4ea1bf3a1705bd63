//! The engine's one error type: every message names the tensor, field, file or limit at fault.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    /// Reading a tensor back from the device failed (device lost, out of memory, ...).
    #[error("could not read tensor `{tensor}` back from the device: {reason}")]
    Readback { tensor: &'static str, reason: String },
    /// A tensor had a shape or dtype the engine did not expect.
    #[error("tensor `{tensor}`: {problem}")]
    BadTensor { tensor: &'static str, problem: String },
}
