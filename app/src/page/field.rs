//! Labelled inputs: a number bound to text (so half-typed values stay as typed), and drop-downs
//! over the engine's options, built from each option's own list (`Choice::ALL`, shown by
//! `label`, valued by `name`), so a value added in the engine appears here by itself.

use engine::Choice;
use leptos::prelude::*;

#[component]
pub fn NumberField(label: &'static str, value: RwSignal<String>, min: &'static str, step: &'static str) -> impl IntoView {
    view! {
        <label>{label}
            <input type="number" min=min step=step prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// The `(value, label)` entries of an option's drop-down, in the option's own order.
pub fn entries<T: Choice>() -> Vec<(&'static str, &'static str)> {
    T::ALL.iter().map(|c| (c.name(), c.label())).collect()
}

/// A drop-down over every value of option `T`.
#[component]
pub fn ChoiceField<T: Choice + Send + Sync>(label: &'static str, value: RwSignal<T>) -> impl IntoView {
    let pick = move |name: String| {
        if let Some(choice) = T::from_name(&name) {
            value.set(choice);
        }
    };
    menu(label, entries::<T>(), Signal::derive(move || value.get().name()), pick)
}

/// The option's value that `unset` (the first entry) leaves to the model.
const UNSET: &str = "model";

/// A drop-down whose first entry, `unset_label`, leaves option `T` to the model (`None`).
#[component]
pub fn ModelOrChoiceField<T: Choice + Send + Sync>(label: &'static str, value: RwSignal<Option<T>>, unset_label: &'static str) -> impl IntoView {
    let all = std::iter::once((UNSET, unset_label)).chain(entries::<T>()).collect();
    menu(label, all, Signal::derive(move || value.get().map_or(UNSET, T::name)), move |name| value.set(T::from_name(&name)))
}

fn menu(label: &'static str, entries: Vec<(&'static str, &'static str)>, current: Signal<&'static str>, pick: impl Fn(String) + 'static) -> impl IntoView {
    view! {
        <label>{label}
            <select prop:value=current on:change=move |ev| pick(event_target_value(&ev))>
                {entries.into_iter().map(|(choice, text)| view! { <option value=choice>{text}</option> }).collect_view()}
            </select>
        </label>
    }
}
