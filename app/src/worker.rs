//! The worker side: fetch the model once (from the page's server, or from a Hub into browser
//! storage), run the engine, report progress and the clip; report and free storage on request.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use engine::freenoise::prompts::Interpolation;
use engine::freenoise::{NoiseType, Weighting};
use engine::memory::ModelShape;
use engine::pipeline::{FreeNoiseSettings, Flow, Pipeline, Progress, Request, StepFuture};
use engine::schedulers::{BetaSchedule, SchedulerKind};
use engine::EngineError;
use engine::store::{MemoryStore, PIPELINE_FILES};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

use crate::compute::compute_device;
use crate::download::{self, Reporter};
use crate::protocol::{decode, encode, DownloadProgress, FreeNoiseOptions, FromWorker, GenerateRequest, HubModel, MemoryEstimate, ModelSource, ToWorker};
use crate::storage_lock::StorageLock;
use crate::stored::{self, RepoFolder};

thread_local! {
    // The loaded model and where it came from: a second clip skips the download and load.
    static LOADED: RefCell<Option<(ModelSource, Rc<Pipeline>)>> = const { RefCell::new(None) };
    // Set by a Cancel message; read after each denoising step.
    static CANCEL: Cell<bool> = const { Cell::new(false) };
    // Each model's shape for memory estimates, read once (configs and weight headers).
    static SHAPES: RefCell<Vec<(ModelSource, Rc<ModelShape>)>> = const { RefCell::new(Vec::new()) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Installs the message handler.
pub fn start() {
    // A panic aborts this wasm instance: tell the page (before the abort) so it can start a new
    // worker instead of waiting for messages that will never come.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(&FromWorker::Crashed { message: info.to_string() }, None);
    }));
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
                // Informational only: a failure (say, a manifest held open by a running
                // download) must not read as a failed generation, so it goes to the console.
                Ok(ToWorker::Storage { model }) => {
                    let _lock = StorageLock::acquire().await;
                    if let Err(e) = report_storage(model.as_ref()).await {
                        web_sys::console::warn_1(&format!("storage report: {e}").into());
                    }
                    Ok(())
                }
                Ok(ToWorker::Delete { model }) => {
                    let _lock = StorageLock::acquire().await;
                    delete(&model).await
                }
                Ok(ToWorker::Estimate { id, request }) => {
                    post(&FromWorker::Estimate { id, result: estimate(request).await }, None);
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
    let pipeline = load(&request.model, &compute.device).await?;
    post(&FromWorker::Status { text: format!("Generating on {}…", backend_label(&compute)) }, None);
    let engine_request = engine_request(request)?;
    if let Some(limit) = compute.max_buffer {
        pipeline.shape().check_buffer_limit(&engine_request, limit).map_err(|e| e.to_string())?;
    }
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
        // The device is gone (lost, or out of memory): this worker's GPU state is dead, so the
        // page gets a crash and starts a fresh worker, with a fresh device, for the next clip.
        Err(EngineError::Readback { tensor, reason }) => {
            web_sys::console::error_1(&format!("reading `{tensor}` back failed: {reason}").into());
            let message = format!("the GPU stopped answering while reading `{tensor}` back: it was lost or ran out of memory");
            post(&FromWorker::Crashed { message }, None);
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
        backend: backend_label(&compute),
        fallback: compute.fallback_reason.clone(),
        seconds,
        warnings: output.warnings,
        heap_bytes: wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64,
    };
    post(&done, Some(Uint8Array::from(&rgba[..])));
    Ok(())
}

/// "WebGPU (f16)" on GPUs with `shader-f16`, "WebGPU (f32)" elsewhere.
fn backend_label(compute: &crate::compute::ComputeDevice) -> String {
    format!("{} ({})", compute.backend.label(), if compute.f16 { "f16" } else { "f32" })
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
    (r.scheduler, r.beta_schedule) = match request.sampler.as_deref() {
        None => (None, None),
        Some("ddim") => (Some(SchedulerKind::Ddim), None),
        Some("euler") => (Some(SchedulerKind::Euler), None),
        Some("lightning") => (Some(SchedulerKind::Euler), Some(BetaSchedule::Linear)),
        Some(other) => return Err(format!("unknown sampler {other:?}")),
    };
    r.free_noise = free_noise(&request.free_noise)?;
    if !request.keyframes.is_empty() {
        r.keyframes = std::iter::once((0, request.prompt)).chain(request.keyframes).collect();
    }
    r.interpolation = match request.interpolation.as_str() {
        "hold" => Interpolation::Hold,
        "linear" => Interpolation::Linear,
        "spherical" => Interpolation::Spherical,
        other => return Err(format!("unknown keyframe interpolation {other:?}")),
    };
    r.motion_injection = request.motion_injection;
    r.preview_every = request.preview_every;
    Ok(r)
}

fn free_noise(options: &FreeNoiseOptions) -> Result<Option<FreeNoiseSettings>, String> {
    if !options.enabled {
        return Ok(None);
    }
    let weighting = Weighting::from_name(&options.weighting)
        .ok_or_else(|| format!("unknown FreeNoise weighting {:?}", options.weighting))?;
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
    sleep_ms(0).await;
}

/// Resolves after `ms` milliseconds (`setTimeout`), letting other tasks run meanwhile.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

async fn load(source: &ModelSource, device: &engine::burn::prelude::Device) -> Result<Rc<Pipeline>, String> {
    if let Some(pipeline) = LOADED.with(|l| l.borrow().as_ref().filter(|(loaded, _)| loaded == source).map(|(_, p)| p.clone())) {
        return Ok(pipeline);
    }
    // Free the previous model's GPU memory before loading another.
    LOADED.with(|l| l.borrow_mut().take());
    let pipeline = match source {
        ModelSource::Bundled { url } => {
            let store = fetch_bundled(url, true).await?;
            post(&FromWorker::Status { text: "Loading the model…".into() }, None);
            Pipeline::load(&store, None, device)
        }
        ModelSource::Hub(model) => {
            let _lock = StorageLock::acquire().await;
            let stores = download::ensure(model, &WorkerReporter).await?;
            report_storage(Some(model)).await?;
            post(&FromWorker::Status { text: format!("Loading {} from browser storage…", model.repo) }, None);
            let (pipeline, adapter) = download::as_stores(model, stores);
            Pipeline::load(pipeline.as_ref(), adapter.as_deref(), device)
        }
    };
    let pipeline = Rc::new(pipeline.map_err(|e| e.to_string())?);
    LOADED.with(|l| *l.borrow_mut() = Some((source.clone(), pipeline.clone())));
    Ok(pipeline)
}

/// The bundled model's files; `report`: say each one on the status line.
async fn fetch_bundled(model_url: &str, report: bool) -> Result<MemoryStore, String> {
    let mut store = MemoryStore::new(model_url);
    for (index, path) in PIPELINE_FILES.iter().enumerate() {
        if report {
            post(&FromWorker::Status { text: format!("Fetching the model ({}/{}): {path}", index + 1, PIPELINE_FILES.len()) }, None);
        }
        if let Some(bytes) = fetch(&format!("{}/{path}", model_url.trim_end_matches('/'))).await? {
            store.insert(*path, bytes);
        }
    }
    Ok(store)
}

struct WorkerReporter;

impl Reporter for WorkerReporter {
    fn status(&self, text: String) {
        post(&FromWorker::Status { text }, None);
    }
    fn progress(&self, progress: DownloadProgress) {
        post(&FromWorker::Download(progress), None);
    }
    fn now_ms(&self) -> f64 {
        now_ms()
    }
}

/// Tells the page how much the origin stores, and how much of it is `model`'s.
async fn report_storage(model: Option<&HubModel>) -> Result<(), String> {
    let (used, quota) = crate::opfs::estimate().await?;
    let mut model_bytes = None;
    if let Some(model) = model {
        let mut total = 0;
        for (repo, _) in download::repos(model) {
            if let Some(folder) = RepoFolder::open(&download::repo_path(model, &repo), repo.clone(), false).await? {
                total += folder.stored_bytes();
            }
        }
        model_bytes = Some(total as f64);
    }
    post(&FromWorker::Storage { used, quota, model_bytes }, None);
    Ok(())
}

/// What `request` would take on the device this worker will use, and whether it fits.
async fn estimate(request: GenerateRequest) -> Result<MemoryEstimate, String> {
    let (limit, f16) = crate::compute::limits().await;
    let mut shape = shape_of(&request.model).await?.as_ref().clone();
    if f16 {
        shape = shape.in_f16();
    }
    let engine_request = engine_request(request)?;
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

/// The model's shape: from the loaded pipeline, the bundled files, or a Hub model's files in
/// storage. A Hub model not stored yet has none: estimating must not reach the network (typing
/// a repo id sends nothing anywhere; the Hub is asked only when Generate is pressed).
async fn shape_of(source: &ModelSource) -> Result<Rc<ModelShape>, String> {
    if let Some(shape) = SHAPES.with(|s| s.borrow().iter().find(|(k, _)| k == source).map(|(_, v)| v.clone())) {
        return Ok(shape);
    }
    let loaded = || LOADED.with(|l| l.borrow().as_ref().filter(|(k, _)| k == source).map(|(_, p)| p.shape()));
    let shape = match (loaded(), source) {
        (Some(shape), _) => shape,
        (None, ModelSource::Bundled { url }) => ModelShape::read(&fetch_bundled(url, false).await?, None).map_err(|e| e.to_string())?,
        (None, ModelSource::Hub(model)) => {
            let _lock = StorageLock::acquire().await;
            // A Generate may have downloaded and loaded this model while this waited for the
            // lock: take the loaded shape then, rather than open every stored file again in the
            // middle of that generation (open files cannot be replaced or removed meanwhile).
            match loaded() {
                Some(shape) => shape,
                None => {
                    let Some(stores) = download::stored(model).await? else {
                        return Err("known once the model is downloaded (Generate fetches it)".into());
                    };
                    let (pipeline, adapter) = download::as_stores(model, stores);
                    ModelShape::read(pipeline.as_ref(), adapter.as_deref()).map_err(|e| e.to_string())?
                }
            }
        }
    };
    let shape = Rc::new(shape);
    SHAPES.with(|s| s.borrow_mut().push((source.clone(), shape.clone())));
    Ok(shape)
}

/// Removes the model's repos from storage (a model in use is unloaded first).
async fn delete(model: &HubModel) -> Result<(), String> {
    SHAPES.with(|s| s.borrow_mut().retain(|(k, _)| !matches!(k, ModelSource::Hub(m) if m == model)));
    LOADED.with(|l| {
        let mut loaded = l.borrow_mut();
        if matches!(loaded.as_ref(), Some((ModelSource::Hub(m), _)) if m == model) {
            *loaded = None;
        }
    });
    for (repo, _) in download::repos(model) {
        stored::delete(&download::repo_path(model, &repo)).await?;
    }
    post(&FromWorker::Status { text: format!("Deleted {} from browser storage.", model.repo) }, None);
    report_storage(Some(model)).await
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
