//! A generation job and a memory estimate: the page's request in the engine's terms, run on
//! the worker's device with progress, previews and cancellation.

use std::cell::Cell;
use std::rc::Rc;

use engine::pipeline::{Flow, FreeNoiseSettings, Progress, Request, StepFuture};
use engine::EngineError;
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;

use super::compute::{compute_device, ComputeDevice};
use super::models::{load, shape_of};
use super::{cancelled, now_ms, post, status, yield_now};
use crate::protocol::{FromWorker, GenerateRequest, JobId, MemoryEstimate};

pub async fn generate(job: JobId, request: GenerateRequest) -> Result<(), String> {
    let compute = compute_device().await;
    let pipeline = load(job, &request.model, &compute.device).await?;
    status(job, format!("Generating on {}…", backend_label(&compute)));
    let engine_request = engine_request(request);
    if let Some(limit) = compute.max_buffer {
        pipeline.shape().check_buffer_limit(&engine_request, limit).map_err(|e| e.to_string())?;
    }
    let started = now_ms();
    let last_step = Rc::new(Cell::new(0));
    let mut observer = {
        let last_step = last_step.clone();
        move |p: Progress| -> StepFuture {
            last_step.set(p.step);
            post(&FromWorker::Progress { job, step: p.step, steps: p.steps }, None);
            if let Some(preview) = p.preview {
                let rgba: Vec<u8> = preview.rgb.chunks_exact(3).flat_map(|c| [c[0], c[1], c[2], 255]).collect();
                let message = FromWorker::Preview { job, frames: preview.frames, width: preview.width, height: preview.height };
                post(&message, Some(Uint8Array::from(&rgba[..])));
            }
            // Yield to the event loop so a Cancel message can land before the next step.
            Box::pin(async move {
                yield_now().await;
                if cancelled(job) {
                    Flow::Cancel
                } else {
                    Flow::Continue
                }
            })
        }
    };
    let output = match pipeline.generate_with(&engine_request, &mut observer).await {
        Ok(output) => output,
        Err(EngineError::Cancelled) => {
            post(&FromWorker::Cancelled { job, step: last_step.get() }, None);
            return Ok(());
        }
        // The device is gone (lost, or out of memory): this worker's GPU state is dead, so the
        // page gets a crash and starts a fresh worker, with a fresh device, for the next clip.
        Err(EngineError::Readback { tensor, reason }) => {
            web_sys::console::error_1(&format!("reading `{tensor}` back failed: {reason}").into());
            let message = format!("the GPU stopped answering while reading `{tensor}` back: it was lost or ran out of memory");
            post(&FromWorker::Crashed { job: Some(job), message }, None);
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    let seconds = (now_ms() - started) / 1000.0;
    let mut rgba = Vec::with_capacity(output.frames * output.width * output.height * 4);
    for frame in 0..output.frames {
        rgba.extend(output.frame_rgb8(frame).chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]));
    }
    let done = FromWorker::Done {
        job,
        frames: output.frames,
        width: output.width,
        height: output.height,
        backend: backend_label(&compute),
        fallback: compute.fallback_reason.clone(),
        seconds,
        warnings: output.warnings,
        heap_bytes: wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length()
            as f64,
    };
    post(&done, Some(Uint8Array::from(&rgba[..])));
    Ok(())
}

/// "WebGPU (f16)" on GPUs with `shader-f16`, "WebGPU (f32)" elsewhere.
fn backend_label(compute: &ComputeDevice) -> String {
    format!("{} ({})", compute.backend.label(), if compute.f16 { "f16" } else { "f32" })
}

/// The page's request in the engine's terms (its options already typed by the protocol).
fn engine_request(request: GenerateRequest) -> Request {
    let mut r = Request::new(request.prompt.clone());
    r.negative = Some(request.negative);
    r.frames = request.frames;
    r.height = request.size;
    r.width = request.size;
    r.steps = request.steps;
    r.guidance = request.guidance;
    r.seed = request.seed;
    r.sampler = request.sampler;
    let options = &request.free_noise;
    r.free_noise = options.enabled.then(|| FreeNoiseSettings {
        window: options.window,
        stride: options.stride,
        weighting: options.weighting,
        noise: options.noise,
        ..FreeNoiseSettings::default()
    });
    if !request.keyframes.is_empty() {
        r.keyframes = std::iter::once((0, request.prompt)).chain(request.keyframes).collect();
    }
    r.interpolation = request.interpolation;
    r.motion_injection = request.motion_injection;
    r.preview_every = request.preview_every;
    r
}

/// What `request` would take on the device this worker will use, and whether it fits.
pub async fn estimate(request: GenerateRequest) -> Result<MemoryEstimate, String> {
    let (limit, f16) = super::compute::limits().await;
    let mut shape = shape_of(&request.model).await?.as_ref().clone();
    if f16 {
        shape = shape.in_f16();
    }
    let engine_request = engine_request(request);
    let estimate = shape.estimate(&engine_request);
    Ok(MemoryEstimate {
        weight_bytes: estimate.weight_bytes.map(|b| b as f64),
        working_bytes: estimate.working_bytes as f64,
        largest_bytes: estimate.largest.bytes as f64,
        largest_what: estimate.largest.what.to_string(),
        limit: limit.map(|l| l as f64),
        refusal: limit.and_then(|l| shape.check_buffer_limit(&engine_request, l).err()).map(|e| e.to_string()),
    })
}
