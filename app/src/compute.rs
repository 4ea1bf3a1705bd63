//! Picks the compute device once per page: WebGPU when the browser has it, else the CPU.

use std::cell::RefCell;

use engine::burn::prelude::Device;
use engine::Backend;

/// The device the page computes on, why it is that one, and what to tell the user.
#[derive(Clone)]
pub struct ComputeDevice {
    pub device: Device,
    pub backend: Backend,
    /// Set when WebGPU was wanted but not available: the plain-words reason.
    pub fallback_reason: Option<String>,
}

thread_local! {
    // The wgpu runtime initialises once per page; later calls reuse the device.
    static DEVICE: RefCell<Option<ComputeDevice>> = const { RefCell::new(None) };
}

pub async fn compute_device() -> ComputeDevice {
    if let Some(found) = DEVICE.with(|d| d.borrow().clone()) {
        return found;
    }
    let chosen = match webgpu_device().await {
        Ok(device) => ComputeDevice { device, backend: Backend::WebGpu, fallback_reason: None },
        Err(reason) => ComputeDevice {
            device: Backend::cpu_device(),
            backend: Backend::Cpu,
            fallback_reason: Some(reason),
        },
    };
    DEVICE.with(|d| *d.borrow_mut() = Some(chosen.clone()));
    chosen
}

async fn webgpu_device() -> Result<Device, String> {
    let navigator = web_sys::window().ok_or("no window")?.navigator();
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).unwrap_or_default();
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not offer WebGPU".into());
    }
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| format!("WebGPU could not start ({e})"))
}
