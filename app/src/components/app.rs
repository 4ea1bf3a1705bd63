//! The page: prompt, Generate, a status line, and the canvas the result is painted into.

use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::canvas::paint;
use crate::compute::compute_device;
use crate::panic_hook::STATUS_ID;

#[component]
pub fn App() -> impl IntoView {
    let (prompt, set_prompt) = signal(String::new());
    let (status, set_status) = signal("Type a prompt, then press Generate.".to_string());
    let (busy, set_busy) = signal(false);
    let canvas = NodeRef::<Canvas>::new();

    let empty = move || prompt.with(|p| p.trim().is_empty());
    let generate = move || {
        if empty() || busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_status.set("Starting the compute device…".into());
        let text = prompt.get_untracked();
        spawn_local(async move {
            let compute = compute_device().await;
            set_status.set(format!("Generating on {}…", compute.backend.label()));
            let started = now_ms();
            let outcome = engine::skeleton::render(&text, &compute.device).await;
            let seconds = (now_ms() - started) / 1000.0;
            let message = match outcome.map_err(|e| e.to_string()).and_then(|image| {
                let element = canvas.get_untracked().ok_or("the canvas is not on the page")?;
                paint(&element, &image)
            }) {
                Ok(()) => match &compute.fallback_reason {
                    None => format!("Done in {seconds:.2} s on {}.", compute.backend.label()),
                    Some(reason) => format!(
                        "Done in {seconds:.2} s on the CPU: {reason}, so the slower CPU path ran."
                    ),
                },
                Err(error) => format!("Generation failed: {error}"),
            };
            set_status.set(message);
            set_busy.set(false);
        });
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
                <div class="actions">
                    <button type="submit" disabled=move || empty() || busy.get()>"Generate"</button>
                    <span class="hint" hidden=move || !empty()>"Enter a prompt to generate."</span>
                </div>
            </form>
            <p id=STATUS_ID class="status" role="status" aria-live="polite">{status}</p>
            <canvas node_ref=canvas class="clip" role="img" aria-label="Generated clip" width="32" height="32"></canvas>
        </main>
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_default()
}
