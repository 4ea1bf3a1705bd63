//! The page: prompt, a few settings, Generate, a status line, and the clip player.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::canvas::paint_rgba;
use crate::panic_hook::STATUS_ID;
use crate::protocol::{decode, encode, FromWorker, GenerateRequest, ToWorker};

/// The bundled model (the tiny reference pipeline until the demo model exists) and its size.
const MODEL_PATH: &str = "models/tiny/";
const MODEL_SIZE: usize = 64;
const PLAYBACK_FPS: f64 = 8.0;
/// Defaults for the stand-in model: its random weights gain nothing from more steps, and a
/// software WebGPU adapter needs ~30 s for this much work.
const DEFAULT_FRAMES: usize = 8;
const DEFAULT_STEPS: usize = 2;

/// A finished clip: RGBA frames back to back.
struct Clip {
    frames: usize,
    width: usize,
    height: usize,
    rgba: Vec<u8>,
}

#[component]
pub fn App() -> impl IntoView {
    let (prompt, set_prompt) = signal(String::new());
    let (frames, set_frames) = signal(DEFAULT_FRAMES);
    let (steps, set_steps) = signal(DEFAULT_STEPS);
    let (seed, set_seed) = signal(0u64);
    let (status, set_status) = signal("Type a prompt, then press Generate.".to_string());
    let (busy, set_busy) = signal(false);
    let canvas = NodeRef::<Canvas>::new();
    let worker: Rc<RefCell<Option<Worker>>> = Rc::new(RefCell::new(None));
    // A request made before the worker said Ready waits here (its handler is not installed yet).
    let pending: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    let ready = Rc::new(std::cell::Cell::new(false));
    let player: Rc<RefCell<Option<i32>>> = Rc::new(RefCell::new(None));

    let empty = move || prompt.with(|p| p.trim().is_empty());
    let on_message = {
        let player = player.clone();
        let (worker, pending, ready) = (worker.clone(), pending.clone(), ready.clone());
        move |event: MessageEvent| {
            let data = event.data();
            let json = js_sys::Reflect::get(&data, &"json".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
            match decode::<FromWorker>(&json) {
                Ok(FromWorker::Ready) => {
                    ready.set(true);
                    if let (Some(w), Some(message)) = (worker.borrow().as_ref(), pending.borrow_mut().take()) {
                        let _ = w.post_message(&message.into());
                    }
                }
                Ok(FromWorker::Status { text }) => set_status.set(text),
                Ok(FromWorker::Progress { step, steps }) => set_status.set(format!("Denoising: step {step}/{steps}…")),
                Ok(FromWorker::Done { frames, width, height, backend, fallback, seconds, warnings }) => {
                    let pixels = js_sys::Reflect::get(&data, &"pixels".into()).ok();
                    let rgba = pixels.map(|p| js_sys::Uint8Array::new(&p).to_vec()).unwrap_or_default();
                    let mut message = match fallback {
                        None => format!("Done in {seconds:.2} s on {backend}: {frames} frames."),
                        Some(reason) => format!("Done in {seconds:.2} s on the CPU: {reason}, so the slower CPU path ran."),
                    };
                    for warning in warnings {
                        message.push_str(&format!(" Note: {warning}."));
                    }
                    if let Some(element) = canvas.get_untracked() {
                        play(&element, Clip { frames, width, height, rgba }, &player);
                    }
                    set_status.set(message);
                    set_busy.set(false);
                }
                Ok(FromWorker::Failed { message }) => {
                    set_status.set(format!("Generation failed: {message}"));
                    set_busy.set(false);
                }
                Err(error) => {
                    set_status.set(format!("Generation failed: {error}"));
                    set_busy.set(false);
                }
            }
        }
    };
    let on_message = Rc::new(on_message);

    let generate = move || {
        if empty() || busy.get_untracked() {
            return;
        }
        let mut slot = worker.borrow_mut();
        if slot.is_none() {
            let on_crash = move |message: String| {
                set_status.set(format!("Generation failed: the generator crashed ({message}). Reload the page to try again."));
                set_busy.set(false);
            };
            match start_worker(on_message.clone(), on_crash) {
                Ok(started) => *slot = Some(started),
                Err(error) => {
                    set_status.set(format!("Could not start the generator: {error}"));
                    return;
                }
            }
        }
        let request = GenerateRequest {
            model_url: model_url(),
            prompt: prompt.get_untracked(),
            negative: String::new(),
            frames: frames.get_untracked(),
            size: MODEL_SIZE,
            steps: steps.get_untracked(),
            guidance: 7.5,
            seed: seed.get_untracked(),
        };
        set_busy.set(true);
        set_status.set("Starting the generator…".into());
        let message = encode(&ToWorker::Generate(request));
        match slot.as_ref() {
            Some(w) if ready.get() => {
                let _ = w.post_message(&message.into());
            }
            _ => *pending.borrow_mut() = Some(message),
        }
    };

    view! {
        <main class="page">
            <header>
                <h1>"FreeNoise"</h1>
                <p class="tagline">"Long video clips from a prompt, made on your own GPU in the browser."</p>
            </header>
            <form class="prompt-form" on:submit=move |ev| { ev.prevent_default(); generate(); }>
                <label for="prompt">"Prompt"</label>
                <textarea
                    id="prompt"
                    rows="3"
                    placeholder="a red fox running through snow"
                    prop:value=prompt
                    on:input=move |ev| set_prompt.set(event_target_value(&ev))
                ></textarea>
                <div class="settings">
                    <label>"Frames"
                        <input type="number" min="1" max="64" prop:value=move || frames.get().to_string()
                            on:input=move |ev| if let Ok(v) = event_target_value(&ev).parse() { set_frames.set(v) } />
                    </label>
                    <label>"Steps"
                        <input type="number" min="1" max="50" prop:value=move || steps.get().to_string()
                            on:input=move |ev| if let Ok(v) = event_target_value(&ev).parse() { set_steps.set(v) } />
                    </label>
                    <label>"Seed"
                        <input type="number" min="0" prop:value=move || seed.get().to_string()
                            on:input=move |ev| if let Ok(v) = event_target_value(&ev).parse() { set_seed.set(v) } />
                    </label>
                </div>
                <div class="actions">
                    <button type="submit" disabled=move || empty() || busy.get()>"Generate"</button>
                    <span class="hint" hidden=move || !empty()>"Enter a prompt to generate."</span>
                </div>
            </form>
            <p id=STATUS_ID class="status" role="status" aria-live="polite">{status}</p>
            <canvas node_ref=canvas class="clip" role="img" aria-label="Generated clip" width="64" height="64"></canvas>
        </main>
    }
}

/// The bundled model's URL, relative to the page.
fn model_url() -> String {
    let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let base = href.split(['?', '#']).next().unwrap_or_default();
    format!("{}{MODEL_PATH}", &base[..base.rfind('/').map_or(0, |i| i + 1)])
}

fn start_worker(on_message: Rc<dyn Fn(MessageEvent)>, on_crash: impl Fn(String) + 'static) -> Result<Worker, String> {
    let worker = Worker::new("./worker_loader.js").map_err(|e| format!("{e:?}"))?;
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| on_message(event));
    worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget(); // lives as long as the worker, i.e. the page
    // A panic in the worker's wasm surfaces here: say so instead of waiting forever.
    let crashed = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| on_crash(event.message()));
    worker.set_onerror(Some(crashed.as_ref().unchecked_ref()));
    crashed.forget();
    Ok(worker)
}

/// Loops the clip in the canvas at the playback rate, replacing any clip already playing. The
/// canvas carries `data-frame` and `data-frame-count` so tests and assistive tools can follow.
fn play(canvas: &web_sys::HtmlCanvasElement, clip: Clip, player: &Rc<RefCell<Option<i32>>>) {
    let Some(window) = web_sys::window() else { return };
    if let Some(id) = player.borrow_mut().take() {
        window.clear_interval_with_handle(id);
    }
    let _ = canvas.set_attribute("data-frame-count", &clip.frames.to_string());
    let frame_bytes = clip.width * clip.height * 4;
    let canvas = canvas.clone();
    let mut index = 0usize;
    let mut show = move || {
        let start = index * frame_bytes;
        if let Some(frame) = clip.rgba.get(start..start + frame_bytes) {
            let _ = paint_rgba(&canvas, frame, clip.width, clip.height);
            let _ = canvas.set_attribute("data-frame", &index.to_string());
        }
        index = (index + 1) % clip.frames.max(1);
    };
    show();
    let tick = Closure::<dyn FnMut()>::new(show);
    if let Ok(id) = window.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), (1000.0 / PLAYBACK_FPS) as i32) {
        *player.borrow_mut() = Some(id);
    }
    tick.forget();
}
