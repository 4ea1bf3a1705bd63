//! The worker side: fetch the model once, run the engine, report progress and the clip.

use std::cell::RefCell;
use std::rc::Rc;

use engine::pipeline::{Pipeline, Request};
use engine::store::{MemoryStore, PIPELINE_FILES};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

use crate::compute::compute_device;
use crate::protocol::{decode, encode, FromWorker, GenerateRequest, ToWorker};

thread_local! {
    // The loaded model and the URL it came from: a second clip skips the download and load.
    static LOADED: RefCell<Option<(String, Rc<Pipeline>)>> = const { RefCell::new(None) };
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
                Ok(ToWorker::Generate(request)) => generate(request).await,
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
    let mut engine_request = Request::new(request.prompt);
    engine_request.negative = Some(request.negative);
    engine_request.frames = request.frames;
    engine_request.height = request.size;
    engine_request.width = request.size;
    engine_request.steps = request.steps;
    engine_request.guidance = request.guidance;
    engine_request.seed = request.seed;
    let started = now_ms();
    let output = pipeline
        .generate(&engine_request, &mut |p| post(&FromWorker::Progress { step: p.step, steps: p.steps }, None))
        .await
        .map_err(|e| e.to_string())?;
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
