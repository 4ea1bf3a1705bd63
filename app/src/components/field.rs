//! Labelled inputs bound to text: a number (so half-typed values stay as typed) and a choice.

use leptos::prelude::*;

#[component]
pub fn NumberField(label: &'static str, value: RwSignal<String>, min: &'static str, step: &'static str) -> impl IntoView {
    view! {
        <label>{label}
            <input type="number" min=min step=step prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// A labelled drop-down; `options` are `(value, what the user reads)`.
#[component]
pub fn ChoiceField(label: &'static str, value: RwSignal<String>, options: &'static [(&'static str, &'static str)]) -> impl IntoView {
    view! {
        <label>{label}
            <select prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
                {options.iter().map(|&(choice, text)| view! { <option value=choice>{text}</option> }).collect_view()}
            </select>
        </label>
    }
}
