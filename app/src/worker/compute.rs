//! Picks the compute device once per worker: WebGPU when the browser offers it, else the CPU.

use std::cell::RefCell;

use engine::backend::compute_in_f16;
use engine::burn::prelude::Device;
use engine::Backend;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The device, which backend it is, and (when WebGPU was missing) why, in plain words.
#[derive(Clone)]
pub struct ComputeDevice {
    pub device: Device,
    pub backend: Backend,
    pub fallback_reason: Option<String>,
    /// The most bytes one buffer may hold on this GPU (`None` on the CPU: no such cap).
    pub max_buffer: Option<u64>,
    /// Whether the engine computes in f16 here (the adapter offers `shader-f16` and the device
    /// took f16 as its float type); f32 otherwise.
    pub f16: bool,
}

thread_local! {
    // The wgpu runtime initialises once per worker; later calls reuse the device.
    static DEVICE: RefCell<Option<ComputeDevice>> = const { RefCell::new(None) };
    // The adapter's cap and f16 support, asked once: by the first memory estimate (before any
    // device exists) or by the device's start.
    static ADAPTER: RefCell<Option<(Option<u64>, bool)>> = const { RefCell::new(None) };
}

/// The per-buffer cap the next generation will run under and whether it will compute in f16:
/// the device's once it exists, else the adapter's (asking an adapter is cheap; starting a
/// device is not, and may never be needed).
pub async fn limits() -> (Option<u64>, bool) {
    match DEVICE.with(|d| d.borrow().as_ref().map(|c| (c.max_buffer, c.f16))) {
        Some(found) => found,
        None => adapter_limits().await,
    }
}

pub async fn compute_device() -> ComputeDevice {
    if let Some(found) = DEVICE.with(|d| d.borrow().clone()) {
        return found;
    }
    let chosen = match webgpu_device().await {
        Ok(mut device) => {
            let (max_buffer, shader_f16) = adapter_limits().await;
            // f16 halves memory and bandwidth where the GPU has it; a device that refuses it
            // (its settings already fixed, or the dtype unsupported) stays on f32.
            let f16 = shader_f16 && compute_in_f16(&mut device).map_err(|e| web_sys::console::warn_1(&format!("staying on f32: {e}").into())).is_ok();
            ComputeDevice { device, backend: Backend::WebGpu, fallback_reason: None, max_buffer, f16 }
        }
        Err(reason) => ComputeDevice { device: Backend::cpu_device(), backend: Backend::Cpu, fallback_reason: Some(reason), max_buffer: None, f16: false },
    };
    DEVICE.with(|d| *d.borrow_mut() = Some(chosen.clone()));
    chosen
}

/// `navigator.gpu` of the page or the worker, whichever global this is.
fn gpu() -> JsValue {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    Reflect::get(&navigator, &"gpu".into()).unwrap_or_default()
}

/// The adapter's per-buffer cap (the smaller of `maxBufferSize` and
/// `maxStorageBufferBindingSize`: the engine binds every tensor as storage) and whether it has
/// `shader-f16`, asked once per worker. The wgpu backend asks for the adapter's own limits, so
/// these are the device's. No WebGPU: no cap, no f16.
async fn adapter_limits() -> (Option<u64>, bool) {
    if let Some(found) = ADAPTER.with(|a| *a.borrow()) {
        return found;
    }
    let gpu = gpu();
    let found = if gpu.is_undefined() || gpu.is_null() { (None, false) } else { ask_adapter().await };
    ADAPTER.with(|a| *a.borrow_mut() = Some(found));
    found
}

async fn ask_adapter() -> (Option<u64>, bool) {
    let gpu = gpu();
    let Ok(request) = Reflect::get(&gpu, &"requestAdapter".into()).and_then(|f| f.unchecked_into::<js_sys::Function>().call0(&gpu)) else {
        return (None, false);
    };
    let Ok(adapter) = JsFuture::from(js_sys::Promise::from(request)).await else { return (None, false) };
    let limits = Reflect::get(&adapter, &"limits".into()).unwrap_or_default();
    let limit = |name: &str| Reflect::get(&limits, &name.into()).ok().and_then(|v| v.as_f64());
    let max_buffer = match (limit("maxBufferSize"), limit("maxStorageBufferBindingSize")) {
        (Some(a), Some(b)) => Some(a.min(b) as u64),
        (a, b) => a.or(b).map(|v| v as u64),
    };
    let features = Reflect::get(&adapter, &"features".into()).unwrap_or_default();
    let has = Reflect::get(&features, &"has".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let shader_f16 = has.and_then(|f| f.call1(&features, &"shader-f16".into()).ok()).and_then(|v| v.as_bool()).unwrap_or(false);
    (max_buffer, shader_f16)
}

async fn webgpu_device() -> Result<Device, String> {
    let gpu = gpu();
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not offer WebGPU".into());
    }
    Device::wgpu_options().init_async().await.map_err(|e| format!("WebGPU could not start ({e})"))
}
