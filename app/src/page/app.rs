//! The page: prompt and settings, Generate / Cancel, progress with a live preview, and the
//! clip player. All engine work happens in the worker (see `client`).

use demo::settings as demo;
use leptos::html::Canvas;
use leptos::prelude::*;

use super::advanced::Advanced;
use super::client::Client;
use super::download_progress::Download;
use super::field::NumberField;
use super::memory::{Memory, MemoryLine};
use super::model_picker::{LightningHint, ModelChoice, ModelPicker, StorageInfo};
use super::panic_hook::STATUS_ID;
use super::player::{Frames, Player};
use super::progress::{ProgressBar, Run};
use super::settings::{Defaults, Settings};
use super::suggestions::Suggestions;
use crate::protocol::{DownloadProgress, FromWorker, JobId, ModelSource, ToWorker};

/// The bundled model, served with the page: our demo model (`public/models/demo`, the `demo`
/// crate's; its card there says how far it follows prompts). Its defaults are the settings it
/// was evaluated with (`demo::settings`): its training length and size, its steps, guidance and
/// FreeNoise window weights.
const MODEL_PATH: &str = "models/demo/";
const MODEL_LABEL: &str = "Demo model: shapes in motion (bundled, works offline)";
const DEFAULTS: Defaults =
    Defaults { frames: demo::FRAMES, steps: demo::STEPS, guidance: demo::GUIDANCE, size: demo::SIZE, fps: 8, weighting: demo::WEIGHTING };

#[component]
pub fn App() -> impl IntoView {
    let settings = Settings::new(&DEFAULTS);
    let choice = ModelChoice::from_query();
    let download = RwSignal::new(None::<DownloadProgress>);
    let storage = RwSignal::new(None::<StorageInfo>);
    let status = RwSignal::new("Type a prompt, then press Generate.".to_string());
    let error = RwSignal::new(false);
    let run = RwSignal::new(None::<Run>);
    let busy = Signal::derive(move || run.with(Option::is_some));
    let clip_canvas = NodeRef::<Canvas>::new();
    let preview_canvas = NodeRef::<Canvas>::new();
    let (clip_player, preview_player) = (Player::default(), Player::default());
    let memory = Memory::new();
    // Bumped when a model finishes loading or storage changes: the estimate is asked again
    // (a Hub model's figures exist only once it is stored).
    let stored_changed = RwSignal::new(0u32);

    let finish = move |text: String, failed: bool| {
        status.set(text);
        error.set(failed);
        run.set(None);
    };
    // The client has already ended the crashed worker; the next Generate starts a fresh one.
    let crashed = move |message: String| {
        let lost = message.to_lowercase().contains("lost");
        let what = if lost { "The GPU device was lost" } else { "The generator crashed" };
        finish(format!("{what} ({message}). Press Generate to try again: it starts a fresh generator."), true);
    };
    // Whether a reply is about the generation in flight (replies of an ended run are stale).
    let current = move |job: JobId| run.with_untracked(|r| r.as_ref().is_some_and(|r| r.job == job));
    let handler = {
        let (clip_player, preview_player) = (clip_player.clone(), preview_player.clone());
        move |message: Result<FromWorker, String>, bytes: Option<Vec<u8>>| match message {
            Ok(FromWorker::Ready) => {}
            Ok(FromWorker::Status { text, .. }) => status.set(text),
            Ok(FromWorker::Progress { job, step, steps }) if current(job) => run.update(|r| {
                if let Some(r) = r {
                    r.advance(step, steps, now_ms());
                }
            }),
            Ok(FromWorker::Preview { job, frames, width, height }) if current(job) => {
                if let (Some(canvas), Some(rgba)) = (preview_canvas.get_untracked(), bytes) {
                    preview_player.play(&canvas, Frames { count: frames, width, height, rgba }, fps(&settings));
                }
            }
            Ok(FromWorker::Done { job, frames, width, height, backend, fallback, seconds, warnings, heap_bytes }) if current(job) => {
                preview_player.stop();
                if let (Some(canvas), Some(rgba)) = (clip_canvas.get_untracked(), bytes) {
                    // For benchmarks (docs/benchmarks.md): the worker's peak wasm heap.
                    let _ = canvas.set_attribute("data-worker-heap-bytes", &heap_bytes.to_string());
                    clip_player.play(&canvas, Frames { count: frames, width, height, rgba }, fps(&settings));
                }
                let mut text = match fallback {
                    None => format!("Done in {seconds:.1} s on {backend}: {frames} frames."),
                    Some(reason) => format!("Done in {seconds:.1} s on the CPU: {reason}, so the slower CPU path ran."),
                };
                for warning in warnings {
                    text.push_str(&format!(" Note: {warning}."));
                }
                finish(text, false);
                stored_changed.update(|n| *n += 1);
            }
            Ok(FromWorker::Download { progress, .. }) => download.set(Some(progress)),
            Ok(FromWorker::Storage { used, quota, model_bytes, .. }) => {
                storage.set(Some(StorageInfo { used, quota, model_bytes }));
                stored_changed.update(|n| *n += 1);
            }
            Ok(FromWorker::Estimate { job, result }) => memory.answer(job, result),
            Ok(FromWorker::Cancelled { job, step }) if current(job) => {
                preview_player.stop();
                finish(format!("Cancelled after step {step}."), false);
            }
            // The worker is gone, whatever it was doing: a run in flight ends with it.
            Ok(FromWorker::Crashed { message, .. }) => {
                preview_player.stop();
                crashed(message);
            }
            // Only the generation's own failure ends the run; a failed storage request leaves it going.
            Ok(FromWorker::Failed { job: Some(job), message }) if current(job) => finish(format!("Generation failed: {message}"), true),
            Ok(FromWorker::Failed { message, .. }) => {
                status.set(message);
                error.set(true);
            }
            // Replies about a run that already ended (say, a step that finished as Cancel landed).
            Ok(FromWorker::Progress { .. } | FromWorker::Preview { .. } | FromWorker::Done { .. } | FromWorker::Cancelled { .. }) => {}
            Err(message) => finish(format!("Generation failed: {message}. Press Generate to try again."), true),
        }
    };
    let client = Client::new(std::rc::Rc::new(handler));
    // The request as it stands (seed -1 read as 0: the seed changes no figure), or its problems.
    let draft = Memo::new(move |_| {
        let mut problems = choice.hub().err().unwrap_or_default();
        match settings.request(choice.source(&model_url()).unwrap_or(ModelSource::Bundled { url: String::new() }), 0) {
            Ok(request) if problems.is_empty() => Ok(request),
            Ok(_) => Err(problems),
            Err(more) => {
                problems.extend(more);
                Err(problems)
            }
        }
    });
    let problems = Memo::new(move |_| match draft.get() {
        Ok(request) => memory.refusal(&request).into_iter().collect(),
        Err(problems) => problems,
    });
    Effect::new({
        let client = client.clone();
        move |_| {
            stored_changed.track();
            if let Ok(request) = draft.get() {
                memory.ask(&client, request);
            }
        }
    });
    // Whenever a (valid) Hub model is chosen, show what it and the site hold in storage.
    Effect::new({
        let client = client.clone();
        move |_| {
            if let Ok(Some(model)) = choice.hub() {
                let _ = client.send(&ToWorker::Storage { job: client.next_job(), model: Some(model) });
            }
        }
    });
    let delete = {
        let client = client.clone();
        UnsyncCallback::new(move |()| {
            if let Ok(Some(model)) = choice.hub() {
                status.set(format!("Deleting {} from browser storage…", model.repo));
                error.set(false);
                download.set(None);
                let _ = client.send(&ToWorker::Delete { job: client.next_job(), model });
            }
        })
    };

    let generate = {
        let client = client.clone();
        move || {
            if busy.get_untracked() {
                return;
            }
            let Ok(model) = choice.source(&model_url()) else { return };
            let Ok(request) = settings.request(model, random_seed()) else { return };
            download.set(None);
            let steps = request.steps;
            status.set(format!("Starting the generator (seed {})…", request.seed));
            error.set(false);
            let job = client.next_job();
            match client.send(&ToWorker::Generate { job, request }) {
                Ok(()) => run.set(Some(Run::new(job, steps, now_ms()))),
                Err(e) => finish(format!("Could not start the generator: {e}"), true),
            }
        }
    };
    let cancel = {
        let client = client.clone();
        move |_| {
            let Some(job) = run.with_untracked(|r| r.as_ref().map(|r| r.job)) else { return };
            status.set("Cancelling after the current step…".into());
            if let Err(e) = client.send(&ToWorker::Cancel { job }) {
                client.restart();
                finish(format!("Stopped the generator ({e})."), false);
            }
        }
    };

    view! {
        <main class="page">
            <header>
                <h1>"FreeNoise"</h1>
                <p class="tagline">"Long video clips from a prompt, made on your own GPU in the browser."</p>
            </header>
            <form class="prompt-form" on:submit=move |ev| { ev.prevent_default(); generate(); }>
                <ModelPicker choice=choice bundled_label=MODEL_LABEL storage=storage busy=busy on_delete=delete />
                <LightningHint choice=choice settings=settings />
                <label for="prompt">"Prompt"</label>
                <textarea id="prompt" rows="3" placeholder="a red circle moving left on a black background"
                    prop:value=settings.prompt on:input=move |ev| settings.prompt.set(event_target_value(&ev))></textarea>
                <Suggestions prompt=settings.prompt />
                // Not "Negative prompt": the main box must be the only one whose name contains "Prompt".
                <label for="negative">"Negative (what to avoid)"</label>
                <textarea id="negative" rows="1" placeholder="what the clip should not show"
                    prop:value=settings.negative on:input=move |ev| settings.negative.set(event_target_value(&ev))></textarea>
                <div class="settings">
                    <NumberField label="Frames" value=settings.frames min="1" step="1" />
                    <NumberField label="Steps" value=settings.steps min="1" step="1" />
                    <NumberField label="Guidance" value=settings.guidance min="0" step="0.5" />
                    <div class="seed">
                        <NumberField label="Seed" value=settings.seed min="-1" step="1" />
                        <button type="button" class="icon" aria-label="Random seed" title="Random seed (-1 draws a new one per clip)"
                            on:click=move |_| settings.seed.set(random_seed().to_string())>"Random"</button>
                    </div>
                    <NumberField label="FPS" value=settings.fps min="1" step="1" />
                    <NumberField label="Size" value=settings.size min="8" step="8" />
                </div>
                <Advanced settings=settings />
                <MemoryLine memory=memory />
                <ul class="problems" aria-live="polite">
                    {move || problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
                <div class="actions">
                    <button type="submit" disabled=move || !problems.with(Vec::is_empty) || busy.get()>"Generate"</button>
                    <button type="button" class="secondary" hidden=move || !busy.get() on:click=cancel>"Cancel"</button>
                </div>
            </form>
            <Download progress=download />
            <ProgressBar run=run />
            <p id=STATUS_ID class="status" role="status" aria-live="polite" data-state=move || if error.get() { "error" } else { "" }>{status}</p>
            <div class="screens">
                <canvas node_ref=preview_canvas class="clip preview" role="img" aria-label="Preview" hidden=move || !busy.get() width="16" height="16"></canvas>
                <canvas node_ref=clip_canvas class="clip" role="img" aria-label="Generated clip" width="64" height="64"></canvas>
            </div>
        </main>
    }
}

fn fps(settings: &Settings) -> f64 {
    settings.fps.get_untracked().trim().parse().unwrap_or(8.0)
}

/// The bundled model's URL, relative to the page.
fn model_url() -> String {
    let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let base = href.split(['?', '#']).next().unwrap_or_default();
    format!("{}{MODEL_PATH}", &base[..base.rfind('/').map_or(0, |i| i + 1)])
}

fn random_seed() -> u64 {
    (js_sys::Math::random() * u32::MAX as f64) as u64
}

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}
