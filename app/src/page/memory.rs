//! The memory estimate under the settings, kept current as the user types: the worker answers
//! each (debounced) request with the figures from `engine::memory`, and a request the GPU's
//! per-buffer cap cannot hold is listed among the problems, so Generate is refused before any
//! work rather than failing after a download.

use engine::memory::binary_size;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::client::Client;
use crate::protocol::{GenerateRequest, JobId, MemoryEstimate, ToWorker};

/// Settings changes within this long are answered once.
const DEBOUNCE_MS: i32 = 250;

/// The latest estimate, and the request it answers (as its JSON, to compare).
#[derive(Clone, Copy)]
pub struct Memory {
    latest: RwSignal<Option<(String, Result<MemoryEstimate, String>)>>,
    /// The job and request of the last question sent; older answers are dropped.
    asked: StoredValue<Option<(JobId, String)>>,
}

impl Memory {
    pub fn new() -> Self {
        Self { latest: RwSignal::new(None), asked: StoredValue::new(None) }
    }

    /// Asks the worker about `request` once the settings have rested for `DEBOUNCE_MS`.
    pub fn ask(&self, client: &Client, request: GenerateRequest) {
        let job = client.next_job();
        self.asked.set_value(Some((job, key(&request))));
        let (asked, client) = (self.asked, client.clone());
        let send = Closure::once_into_js(move || {
            if asked.with_value(|a| a.as_ref().map(|(j, _)| *j)) == Some(job) {
                let _ = client.send(&ToWorker::Estimate { job, request });
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(send.unchecked_ref(), DEBOUNCE_MS);
        }
    }

    /// Takes the worker's answer, unless a newer question is out.
    pub fn answer(&self, job: JobId, result: Result<MemoryEstimate, String>) {
        if let Some((asked, key)) = self.asked.get_value() {
            if job == asked {
                self.latest.set(Some((key, result)));
            }
        }
    }

    /// Why the device cannot run `request`, once the worker has said so for exactly it.
    pub fn refusal(&self, request: &GenerateRequest) -> Option<String> {
        let key = key(request);
        self.latest.with(|l| l.as_ref().filter(|(k, _)| *k == key).and_then(|(_, r)| r.as_ref().ok()?.refusal.clone()))
    }

    fn text(&self) -> String {
        self.latest.with(|l| match l {
            None => String::new(),
            Some((_, Err(why))) => format!("Memory estimate: {why}."),
            Some((_, Ok(e))) => describe(e),
        })
    }
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

fn key(request: &GenerateRequest) -> String {
    serde_json::to_string(request).unwrap_or_default()
}

/// "Memory estimate: about 1.2 GiB of GPU memory (900.0 MiB weights + 300.0 MiB working).
/// Largest buffer: 64.0 MiB for temporal attention scores; this GPU allows 2.0 GiB per buffer."
/// Binary units, as the engine's refusals and GPU specifications count memory.
pub fn describe(e: &MemoryEstimate) -> String {
    let bytes = |n: f64| binary_size(n as u64);
    let total = match e.weight_bytes {
        Some(w) => format!("about {} of GPU memory ({} weights + {} working)", bytes(w + e.working_bytes), bytes(w), bytes(e.working_bytes)),
        None => format!("about {} of working GPU memory, plus the weights", bytes(e.working_bytes)),
    };
    let cap = e.limit.map_or(String::new(), |l| format!("; this GPU allows {} per buffer", bytes(l)));
    format!("Memory estimate: {total}. Largest buffer: {} for {}{cap}.", bytes(e.largest_bytes), e.largest_what)
}

#[component]
pub fn MemoryLine(memory: Memory) -> impl IntoView {
    view! { <p class="estimate" aria-live="polite">{move || memory.text()}</p> }
}
