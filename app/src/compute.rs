//! Picks the compute device once per worker: WebGPU when the browser offers it, else the CPU.

use std::cell::RefCell;

use engine::burn::prelude::Device;
use engine::Backend;

/// The device, which backend it is, and (when WebGPU was missing) why, in plain words.
#[derive(Clone)]
pub struct ComputeDevice {
    pub device: Device,
    pub backend: Backend,
    pub fallback_reason: Option<String>,
}

thread_local! {
    // The wgpu runtime initialises once per worker; later calls reuse the device.
    static DEVICE: RefCell<Option<ComputeDevice>> = const { RefCell::new(None) };
}

pub async fn compute_device() -> ComputeDevice {
    if let Some(found) = DEVICE.with(|d| d.borrow().clone()) {
        return found;
    }
    let chosen = match webgpu_device().await {
        Ok(device) => ComputeDevice { device, backend: Backend::WebGpu, fallback_reason: None },
        Err(reason) => ComputeDevice { device: Backend::cpu_device(), backend: Backend::Cpu, fallback_reason: Some(reason) },
    };
    DEVICE.with(|d| *d.borrow_mut() = Some(chosen.clone()));
    chosen
}

async fn webgpu_device() -> Result<Device, String> {
    // `navigator.gpu` of the page or the worker, whichever global this is.
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).unwrap_or_default();
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not offer WebGPU".into());
    }
    Device::wgpu_options().init_async().await.map_err(|e| format!("WebGPU could not start ({e})"))
}
