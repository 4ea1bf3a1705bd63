//! The Advanced section: the sampler, FreeNoise's window, stride, weighting and noise, and the
//! multi-prompt editor (keyframe rows) with motion injection.

use leptos::prelude::*;

use super::field::{ChoiceField, NumberField};
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
            <ChoiceField label="Sampler" value=settings.sampler options=&[
                ("model", "The model's own"),
                ("ddim", "DDIM"),
                ("euler", "Euler, trailing"),
                ("lightning", "AnimateDiff-Lightning (Euler, trailing, linear betas)"),
            ] />
            <fieldset>
                <legend>"FreeNoise (clips longer than the window)"</legend>
                <label class="check">
                    <input type="checkbox" prop:checked=settings.free_noise on:change=move |ev| settings.free_noise.set(event_target_checked(&ev)) />
                    "Use FreeNoise"
                </label>
                <div class="settings">
                    <NumberField label="Window" value=settings.window min="1" step="1" />
                    <NumberField label="Stride" value=settings.stride min="1" step="1" />
                    <ChoiceField label="Weighting" value=settings.weighting
                        options=&[("pyramid", "Pyramid"), ("flat", "Flat"), ("sawtooth", "Delayed reverse sawtooth")] />
                    <ChoiceField label="Noise" value=settings.noise
                        options=&[("shuffle", "Shuffled windows"), ("repeat", "Repeated window"), ("random", "Independent")] />
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
                <ChoiceField label="Between descriptions" value=settings.interpolation options=&[
                    ("hold", "Change at each keyframe"),
                    ("linear", "Blend from keyframe to keyframe"),
                    ("spherical", "Blend along the sphere"),
                ] />
                <label class="check">
                    <input type="checkbox" prop:checked=settings.motion_injection on:change=move |ev| settings.motion_injection.set(event_target_checked(&ev)) />
                    "Motion injection"
                </label>
            </fieldset>
        </details>
    }
}
