//! Prompt suggestions: the words the demo model is trained on, as one-click examples.

use engine::dataset::vocab::{BACKGROUNDS, COLOURS, MOTIONS, SHAPES};
use leptos::prelude::*;

#[component]
pub fn Suggestions(prompt: RwSignal<String>) -> impl IntoView {
    let examples = [
        "a red circle moving left on a black background",
        "a yellow star spinning on a gray background",
        "a blue square moving up and right on a white background",
        "a green triangle bouncing on a gradient background",
    ];
    let words = |items: Vec<String>| items.join(", ");
    let vocabulary = format!(
        "The demo model is trained on colours ({}), shapes ({}), motions ({}) and backgrounds ({}).",
        words(COLOURS.iter().map(|c| c.name.to_string()).collect()),
        words(SHAPES.iter().map(|s| s.name().to_string()).collect()),
        words(MOTIONS.iter().map(|m| m.words()).collect()),
        words(BACKGROUNDS.iter().map(|b| b.name().to_string()).collect()),
    );
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
