//! Which compute backend a `Device` runs on, in words a user understands.

use burn::prelude::Device;

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
