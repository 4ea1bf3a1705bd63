//! The Advanced section: the sampler, FreeNoise's window, stride, weighting and noise, and the
//! multi-prompt editor (keyframe rows) with motion injection.

use leptos::prelude::*;

use engine::freenoise::prompts::Interpolation;
use engine::freenoise::{NoiseType, Weighting};
use engine::schedulers::Sampler;

use super::field::{ChoiceField, ModelOrChoiceField, NumberField};
use super::settings::{KeyframeRow, Settings};

#[component]
pub fn Advanced(settings: Settings) -> impl IntoView {
    let next_id = StoredValue::new(0usize);
    let add_row = move |_| {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        let frames: usize = settings.frames.get_untracked().trim().parse().unwrap_or(16);
        let row = KeyframeRow { id, frame: RwSignal::new((frames / 2).to_string()), prompt: RwSignal::new(String::new()) };
        settings.keyframes.update(|rows| rows.push(row));
    };
    view! {
        <details class="advanced">
            <summary>"Advanced"</summary>
            // The model's own scheduler config decides by default (DDIM for classes the engine
            // does not run, such as SD1.5's PNDM); AnimateDiff-Lightning's few-step adapters need
            // Euler with trailing spacing on linear betas, as its model card sets them.
            <ModelOrChoiceField<Sampler> label="Sampler" value=settings.sampler unset_label="The model's own" />
            <fieldset>
                <legend>"FreeNoise (clips longer than the window)"</legend>
                <label class="check">
                    <input type="checkbox" prop:checked=settings.free_noise on:change=move |ev| settings.free_noise.set(event_target_checked(&ev)) />
                    "Use FreeNoise"
                </label>
                <div class="settings">
                    <NumberField label="Window" value=settings.window min="1" step="1" />
                    <NumberField label="Stride" value=settings.stride min="1" step="1" />
                    <ChoiceField<Weighting> label="Weighting" value=settings.weighting />
                    <ChoiceField<NoiseType> label="Noise" value=settings.noise />
                </div>
            </fieldset>
            <fieldset>
                <legend>"Multi-prompt: more descriptions (the main one starts at frame 0)"</legend>
                <For each=move || settings.keyframes.get() key=|row| row.id let:row>
                    <div class="keyframe">
                        <NumberField label="At frame" value=row.frame min="1" step="1" />
                        <label class="grow">"Description from this frame"
                            <input type="text" prop:value=row.prompt on:input=move |ev| row.prompt.set(event_target_value(&ev)) />
                        </label>
                        <button type="button" class="secondary" aria-label=format!("Remove keyframe {}", row.id + 1)
                            on:click=move |_| settings.keyframes.update(|rows| rows.retain(|r| r.id != row.id))>"Remove"</button>
                    </div>
                </For>
                <button type="button" class="secondary" on:click=add_row>"Add keyframe"</button>
                <ChoiceField<Interpolation> label="Between descriptions" value=settings.interpolation />
                <label class="check">
                    <input type="checkbox" prop:checked=settings.motion_injection on:change=move |ev| settings.motion_injection.set(event_target_checked(&ev)) />
                    "Motion injection"
                </label>
            </fieldset>
        </details>
    }
}
