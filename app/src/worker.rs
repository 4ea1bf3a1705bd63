//! The worker side: fetch the model once, run the engine, report progress and the clip.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use engine::freenoise::{NoiseType, Weighting};
use engine::pipeline::{FreeNoiseSettings, Flow, Pipeline, Progress, Request, StepFuture};
use engine::EngineError;
use engine::store::{MemoryStore, PIPELINE_FILES};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

use crate::compute::compute_device;
use crate::protocol::{decode, encode, FreeNoiseOptions, FromWorker, GenerateRequest, ToWorker};

thread_local! {
    // The loaded model and the URL it came from: a second clip skips the download and load.
    static LOADED: RefCell<Option<(String, Rc<Pipeline>)>> = const { RefCell::new(None) };
    // Set by a Cancel message; read after each denoising step.
    static CANCEL: Cell<bool> = const { Cell::new(false) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Installs the message handler.
pub fn start() {
    console_error_panic_hook::set_once();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        spawn_local(async move {
            let outcome = match decode::<ToWorker>(&text) {
                Ok(ToWorker::Generate(request)) => {
                    CANCEL.with(|c| c.set(false));
                    generate(request).await
                }
                Ok(ToWorker::Cancel) => {
                    CANCEL.with(|c| c.set(true));
                    Ok(())
                }
                Err(e) => Err(e),
            };
            if let Err(message) = outcome {
                post(&FromWorker::Failed { message }, None);
            }
        });
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready, None);
}

fn post(message: &FromWorker, pixels: Option<Uint8Array>) {
    let envelope = Object::new();
    let _ = Reflect::set(&envelope, &"json".into(), &encode(message).into());
    let transfer = Array::new();
    if let Some(bytes) = pixels {
        transfer.push(&bytes.buffer());
        let _ = Reflect::set(&envelope, &"pixels".into(), &bytes);
    }
    let _ = scope().post_message_with_transfer(&envelope, &transfer);
}

async fn generate(request: GenerateRequest) -> Result<(), String> {
    let compute = compute_device().await;
    let pipeline = load(&request.model_url, &compute.device).await?;
    post(&FromWorker::Status { text: format!("Generating on {}…", compute.backend.label()) }, None);
    let engine_request = engine_request(request)?;
    let started = now_ms();
    let last_step = Rc::new(Cell::new(0));
    let mut observer = {
        let last_step = last_step.clone();
        move |p: Progress| -> StepFuture {
            last_step.set(p.step);
            post(&FromWorker::Progress { step: p.step, steps: p.steps }, None);
            if let Some(preview) = p.preview {
                let rgba: Vec<u8> = preview.rgb.chunks_exact(3).flat_map(|c| [c[0], c[1], c[2], 255]).collect();
                let message = FromWorker::Preview { frames: preview.frames, width: preview.width, height: preview.height };
                post(&message, Some(Uint8Array::from(&rgba[..])));
            }
            // Yield to the event loop so a Cancel message can land before the next step.
            Box::pin(async {
                yield_now().await;
                if CANCEL.with(|c| c.get()) { Flow::Cancel } else { Flow::Continue }
            })
        }
    };
    let output = match pipeline.generate_with(&engine_request, &mut observer).await {
        Ok(output) => output,
        Err(EngineError::Cancelled) => {
            post(&FromWorker::Cancelled { step: last_step.get() }, None);
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
        frames: output.frames,
        width: output.width,
        height: output.height,
        backend: compute.backend.label().into(),
        fallback: compute.fallback_reason.clone(),
        seconds,
        warnings: output.warnings,
    };
    post(&done, Some(Uint8Array::from(&rgba[..])));
    Ok(())
}

/// The page's request in the engine's terms.
fn engine_request(request: GenerateRequest) -> Result<Request, String> {
    let mut r = Request::new(request.prompt.clone());
    r.negative = Some(request.negative);
    r.frames = request.frames;
    r.height = request.size;
    r.width = request.size;
    r.steps = request.steps;
    r.guidance = request.guidance;
    r.seed = request.seed;
    r.free_noise = free_noise(&request.free_noise)?;
    if !request.keyframes.is_empty() {
        r.keyframes = std::iter::once((0, request.prompt)).chain(request.keyframes).collect();
    }
    r.motion_injection = request.motion_injection;
    r.preview_every = request.preview_every;
    Ok(r)
}

fn free_noise(options: &FreeNoiseOptions) -> Result<Option<FreeNoiseSettings>, String> {
    if !options.enabled {
        return Ok(None);
    }
    let weighting = match options.weighting.as_str() {
        "pyramid" => Weighting::Pyramid,
        "flat" => Weighting::Flat,
        "sawtooth" => Weighting::DelayedReverseSawtooth,
        other => return Err(format!("unknown FreeNoise weighting {other:?}")),
    };
    let noise = match options.noise.as_str() {
        "shuffle" => NoiseType::Shuffle,
        "repeat" => NoiseType::Repeat,
        "random" => NoiseType::Random,
        other => return Err(format!("unknown FreeNoise noise type {other:?}")),
    };
    Ok(Some(FreeNoiseSettings { window: options.window, stride: options.stride, weighting, noise, ..FreeNoiseSettings::default() }))
}

/// Resolves on the next macrotask (`setTimeout(0)`), after queued messages are handled.
async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

async fn load(model_url: &str, device: &engine::burn::prelude::Device) -> Result<Rc<Pipeline>, String> {
    if let Some(pipeline) = LOADED.with(|l| l.borrow().as_ref().filter(|(url, _)| url == model_url).map(|(_, p)| p.clone())) {
        return Ok(pipeline);
    }
    let mut store = MemoryStore::new(model_url);
    for (index, path) in PIPELINE_FILES.iter().enumerate() {
        post(&FromWorker::Status { text: format!("Fetching the model ({}/{}): {path}", index + 1, PIPELINE_FILES.len()) }, None);
        if let Some(bytes) = fetch(&format!("{}/{path}", model_url.trim_end_matches('/'))).await? {
            store.insert(*path, bytes);
        }
    }
    post(&FromWorker::Status { text: "Loading the model…".into() }, None);
    let pipeline = Rc::new(Pipeline::load(&store, None, device).map_err(|e| e.to_string())?);
    LOADED.with(|l| *l.borrow_mut() = Some((model_url.to_string(), pipeline.clone())));
    Ok(pipeline)
}

/// The body of `url`, or `None` on 404 (optional files).
async fn fetch(url: &str) -> Result<Option<Vec<u8>>, String> {
    let response: Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| format!("could not fetch {url}: {e:?}"))?
        .unchecked_into();
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("could not fetch {url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?)
        .await
        .map_err(|e| format!("could not read {url}: {e:?}"))?;
    Ok(Some(Uint8Array::new(&buffer).to_vec()))
}

fn now_ms() -> f64 {
    Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| Reflect::get(&p, &"now".into()).ok().map(|f| (p, f)))
        .and_then(|(p, f)| f.dyn_into::<js_sys::Function>().ok().and_then(|f| f.call0(&p).ok()))
        .and_then(|v| v.as_f64())
        .unwrap_or_default()
}
