//! A labelled number input bound to text (so half-typed values stay as typed).

use leptos::prelude::*;

#[component]
pub fn NumberField(label: &'static str, value: RwSignal<String>, min: &'static str, step: &'static str) -> impl IntoView {
    view! {
        <label>{label}
            <input type="number" min=min step=step prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}
