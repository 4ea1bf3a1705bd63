//! The worker's side: it receives the page's requests, runs each as a job (fetch the model once,
//! from the page's server or from a Hub into browser storage; generate; estimate memory; report
//! and free storage) and posts replies that echo the job's id.

mod compute;
mod download;
mod generate;
mod hub;
mod models;
mod opfs;
mod storage_lock;
mod stored;

use std::cell::Cell;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{decode, encode, FromWorker, JobId, ToWorker};
use storage_lock::StorageLock;

thread_local! {
    // The generation a Cancel asked to stop; read after each denoising step.
    static CANCEL: Cell<Option<JobId>> = const { Cell::new(None) };
    // The generation running now, named in a crash report.
    static RUNNING: Cell<Option<JobId>> = const { Cell::new(None) };
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
        post(&FromWorker::Crashed { job: RUNNING.with(Cell::get), message: info.to_string() }, None);
    }));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        spawn_local(async move {
            match decode::<ToWorker>(&text) {
                Ok(request) => {
                    let job = request.job();
                    if let Err(message) = run(request).await {
                        post(&FromWorker::Failed { job: Some(job), message }, None);
                    }
                }
                Err(e) => post(&FromWorker::Failed { job: e.job, message: e.message }, None),
            }
        });
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready, None);
}

/// Carries out one request; an `Err` is posted as that job's failure.
async fn run(request: ToWorker) -> Result<(), String> {
    match request {
        ToWorker::Generate { job, request } => {
            RUNNING.with(|r| r.set(Some(job)));
            let outcome = generate::generate(job, request).await;
            RUNNING.with(|r| r.set(None));
            outcome
        }
        ToWorker::Cancel { job } => {
            CANCEL.with(|c| c.set(Some(job)));
            Ok(())
        }
        // Informational only: a failure (say, a manifest held open by a running download)
        // must not read as a failed request on the page, so it goes to the console.
        ToWorker::Storage { job, model } => {
            let _lock = StorageLock::acquire().await;
            if let Err(e) = models::report_storage(job, model.as_ref()).await {
                web_sys::console::warn_1(&format!("storage report: {e}").into());
            }
            Ok(())
        }
        ToWorker::Delete { job, model } => {
            let _lock = StorageLock::acquire().await;
            models::delete(job, &model).await
        }
        ToWorker::Estimate { job, request } => {
            post(&FromWorker::Estimate { job, result: generate::estimate(request).await }, None);
            Ok(())
        }
    }
}

/// Whether a Cancel asked to stop generation `job`.
fn cancelled(job: JobId) -> bool {
    CANCEL.with(Cell::get) == Some(job)
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

fn status(job: JobId, text: impl Into<String>) {
    post(&FromWorker::Status { job, text: text.into() }, None);
}

/// Resolves on the next macrotask (`setTimeout(0)`), after queued messages are handled.
async fn yield_now() {
    sleep_ms(0).await;
}

/// Resolves after `ms` milliseconds (`setTimeout`), letting other tasks run meanwhile.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

fn now_ms() -> f64 {
    Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| Reflect::get(&p, &"now".into()).ok().map(|f| (p, f)))
        .and_then(|(p, f)| f.dyn_into::<js_sys::Function>().ok().and_then(|f| f.call0(&p).ok()))
        .and_then(|v| v.as_f64())
        .unwrap_or_default()
}
