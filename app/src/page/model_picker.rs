//! The model picker: the bundled demo model, or a diffusers repo on the Hugging Face Hub (repo
//! id, revision, motion adapter repo, Hub URL), with the storage it takes and a Delete button.
//! `?hub=URL` sets the Hub URL (tests point it at a local server); `?repo=`, `?revision=`,
//! `?adapter=` and `?adapter_file=` preselect a Hub model, so a link can name one.

use engine::schedulers::Sampler;
use leptos::prelude::*;

use super::settings::Settings;
use crate::protocol::{HubModel, ModelSource};
use crate::units::bytes;

pub const DEFAULT_HUB: &str = "https://huggingface.co";

#[derive(Clone, Copy)]
pub struct ModelChoice {
    pub from_hub: RwSignal<bool>,
    pub repo: RwSignal<String>,
    pub revision: RwSignal<String>,
    pub adapter: RwSignal<String>,
    /// One file of the adapter repo to use alone (empty: the repo is a MotionAdapter folder).
    pub adapter_file: RwSignal<String>,
    pub hub_url: RwSignal<String>,
}

/// AnimateDiff-Lightning's repo holds no MotionAdapter folder, only files per step count: with no
/// file named, the 4-step diffusers one is used.
pub const LIGHTNING_REPO: &str = "ByteDance/AnimateDiff-Lightning";
pub const LIGHTNING_FILE: &str = "animatediff_lightning_4step_diffusers.safetensors";

/// Browser storage as the worker last reported it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StorageInfo {
    pub used: f64,
    pub quota: f64,
    pub model_bytes: Option<f64>,
}

impl ModelChoice {
    pub fn from_query() -> Self {
        let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let param = |name: &str| web_sys::UrlSearchParams::new_with_str(&query).ok().and_then(|p| p.get(name)).filter(|v| !v.is_empty());
        Self {
            from_hub: RwSignal::new(param("repo").is_some()),
            repo: RwSignal::new(param("repo").unwrap_or_default()),
            revision: RwSignal::new(param("revision").unwrap_or_else(|| "main".into())),
            adapter: RwSignal::new(param("adapter").unwrap_or_default()),
            adapter_file: RwSignal::new(param("adapter_file").unwrap_or_default()),
            hub_url: RwSignal::new(param("hub").unwrap_or_else(|| DEFAULT_HUB.into())),
        }
    }

    /// The Hub model chosen, `Ok(None)` for the bundled one, or what is wrong with the fields.
    pub fn hub(&self) -> Result<Option<HubModel>, Vec<String>> {
        if !self.from_hub.get() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let repo = self.repo.get().trim().to_string();
        let adapter = self.adapter.get().trim().to_string();
        let revision = self.revision.get().trim().to_string();
        let base_url = self.hub_url.get().trim().trim_end_matches('/').to_string();
        if let Err(p) = check_repo_id("Hub repository", &repo) {
            problems.push(p);
        }
        if !adapter.is_empty() {
            if let Err(p) = check_repo_id("Motion adapter repository", &adapter) {
                problems.push(p);
            }
        }
        if revision.is_empty() || revision.contains(char::is_whitespace) {
            problems.push("Revision must be a branch, tag or commit (e.g. main)".into());
        }
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            problems.push("Hub URL must start with https:// or http://".into());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let adapter_file = match self.adapter_file.get().trim() {
            "" if adapter == LIGHTNING_REPO => Some(LIGHTNING_FILE.to_string()),
            "" => None,
            file => Some(file.to_string()),
        };
        if let Some(file) = &adapter_file {
            if adapter.is_empty() {
                return Err(vec!["Motion adapter file: name the Motion adapter repository it is in".into()]);
            }
            if !file.ends_with(".safetensors") || file.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
                return Err(vec![format!("Motion adapter file: {file:?} must be a .safetensors path inside the adapter repository")]);
            }
        }
        Ok(Some(HubModel { base_url, repo, revision, adapter: (!adapter.is_empty()).then_some(adapter), adapter_file }))
    }

    pub fn source(&self, bundled_url: &str) -> Result<ModelSource, Vec<String>> {
        Ok(match self.hub()? {
            Some(model) => ModelSource::Hub(model),
            None => ModelSource::Bundled { url: bundled_url.to_string() },
        })
    }
}

/// For an AnimateDiff-Lightning adapter file: its settings (steps from the file's name, no
/// guidance, its sampler) a click away, since the model's defaults would spoil it.
#[component]
pub fn LightningHint(choice: ModelChoice, settings: Settings) -> impl IntoView {
    let file = move || choice.hub().ok().flatten().and_then(|m| m.adapter_file).filter(|f| f.to_lowercase().contains("lightning"));
    let apply = move |_| {
        let Some(file) = file() else { return };
        // "animatediff_lightning_4step_diffusers.safetensors" → 4.
        let steps = file.split('_').find_map(|part| part.strip_suffix("step")?.parse::<usize>().ok()).unwrap_or(4);
        settings.steps.set(steps.to_string());
        settings.guidance.set("1".into());
        settings.sampler.set(Some(Sampler::Lightning));
    };
    view! {
        <p class="hint" hidden=move || file().is_none()>
            "AnimateDiff-Lightning samples in a few steps with no guidance. "
            <button type="button" class="secondary" on:click=apply>"Use AnimateDiff-Lightning settings"</button>
        </p>
    }
}

/// Hub repo ids: `name` or `owner/name`, letters, digits, '-', '_' and '.', no "--" or "..".
fn check_repo_id(field: &str, id: &str) -> Result<(), String> {
    let part_ok = |p: &str| !p.is_empty() && p.len() <= 96 && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) && !p.starts_with(['-', '.']);
    let parts: Vec<&str> = id.split('/').collect();
    if id.is_empty() {
        return Err(format!("{field}: enter a repo id such as stable-diffusion-v1-5/stable-diffusion-v1-5"));
    }
    if parts.len() > 2 || !parts.iter().all(|p| part_ok(p)) || id.contains("--") || id.contains("..") {
        return Err(format!("{field}: {id:?} is not a Hub repo id (owner/name)"));
    }
    Ok(())
}

#[component]
pub fn ModelPicker(
    choice: ModelChoice,
    bundled_label: &'static str,
    storage: RwSignal<Option<StorageInfo>>,
    busy: Signal<bool>,
    on_delete: UnsyncCallback<()>,
) -> impl IntoView {
    let text_field = |id: &'static str, label: &'static str, value: RwSignal<String>, placeholder: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="text" spellcheck="false" autocomplete="off" placeholder=placeholder
                prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        }
    };
    let storage_text = move || {
        storage.get().map(|s| {
            let model = s.model_bytes.map(|b| format!("This model: {} stored. ", bytes(b))).unwrap_or_default();
            format!("{model}This site uses {} of {} of browser storage.", bytes(s.used), bytes(s.quota))
        })
    };
    let nothing_stored = move || storage.get().and_then(|s| s.model_bytes).unwrap_or(0.0) == 0.0;
    view! {
        <label for="model">"Model"</label>
        <select id="model" on:change=move |ev| choice.from_hub.set(event_target_value(&ev) == "hub")>
            <option value="bundled" selected=move || !choice.from_hub.get()>{bundled_label}</option>
            <option value="hub" selected=move || choice.from_hub.get()>"A model from the Hugging Face Hub…"</option>
        </select>
        <fieldset class="hub" hidden=move || !choice.from_hub.get()>
            <legend>"Hub model (diffusers layout; downloaded once, then kept in this browser)"</legend>
            <div class="hub-fields">
                <div class="field">{text_field("hub-repo", "Hub repository", choice.repo, "stable-diffusion-v1-5/stable-diffusion-v1-5")}</div>
                <div class="field">{text_field("hub-revision", "Revision", choice.revision, "main")}</div>
                <div class="field">{text_field("hub-adapter", "Motion adapter repository", choice.adapter, "guoyww/animatediff-motion-adapter-v1-5-3")}</div>
                <div class="field">{text_field("hub-adapter-file", "Motion adapter file", choice.adapter_file, "optional: one .safetensors file, e.g. AnimateDiff-Lightning's")}</div>
                <div class="field">{text_field("hub-url", "Hub URL", choice.hub_url, DEFAULT_HUB)}</div>
            </div>
            <p class="storage" aria-live="polite">{storage_text}</p>
            <button type="button" class="secondary" disabled=move || busy.get() || nothing_stored()
                on:click=move |_| on_delete.run(())>"Delete model"</button>
        </fieldset>
    }
}
