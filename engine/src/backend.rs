//! Which compute backend a `Device` runs on, in words a user understands.

use burn::prelude::Device;
use burn::tensor::{DeviceConfig, FloatDType};

use crate::EngineError;

/// The backend that ran a computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The GPU through WebGPU (in a browser) or wgpu (natively).
    WebGpu,
    /// The pure-Rust CPU backend.
    Cpu,
}

impl Backend {
    /// The CPU device; always available, on every target.
    pub fn cpu_device() -> Device {
        Device::flex()
    }

    /// A user-facing name for the status line.
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::Cpu => "CPU",
        }
    }
}

/// Makes f16 the float type of every tensor `device` creates: weights are converted as they
/// load, activations are computed in f16, results are read back as f32. For GPUs with
/// `shader-f16` (half the memory and bandwidth); it must run before the device makes any tensor.
pub fn compute_in_f16(device: &mut Device) -> Result<(), EngineError> {
    device
        .configure(DeviceConfig::default().float_dtype(FloatDType::F16))
        .map_err(|e| EngineError::Request(format!("this device cannot compute in f16: {e:?}")))
}

/// Whether `device` computes in f16.
pub fn computes_in_f16(device: &Device) -> bool {
    device.settings().float_dtype == FloatDType::F16
}
