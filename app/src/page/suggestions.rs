//! Prompt suggestions: the words the demo model is trained on, as one-click examples.

use demo::vocab::vocabulary_sentence;
use leptos::prelude::*;

#[component]
pub fn Suggestions(prompt: RwSignal<String>) -> impl IntoView {
    let examples = [
        "a red circle moving left on a black background",
        "a yellow star spinning on a gray background",
        "a blue square moving up and right on a white background",
        "a green triangle bouncing on a gradient background",
    ];
    let vocabulary = format!("The demo model is trained on {}.", vocabulary_sentence());
    view! {
        <div class="suggestions">
            <span class="hint">"Try:"</span>
            {examples.into_iter().map(|text| view! {
                <button type="button" class="chip" on:click=move |_| prompt.set(text.to_string())>{text}</button>
            }).collect_view()}
            <p class="hint">{vocabulary}</p>
        </div>
    }
}
