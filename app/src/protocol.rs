//! Messages between the page and its worker, serialised as JSON (pixels travel beside the JSON
//! as a transferable byte array). Version 5.
//!
//! Every request carries a [`JobId`], and every reply about a request echoes it, so the page
//! never guesses which request a reply (a failure above all) belongs to. Options travel typed
//! (the engine's option enums, by name): a bad value fails when the message is decoded.

use engine::freenoise::prompts::Interpolation;
use engine::freenoise::{NoiseType, Weighting};
use engine::schedulers::Sampler;
use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 5;

/// The page's number for one request (counting from 1); replies about it carry it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    Generate {
        job: JobId,
        request: GenerateRequest,
    },
    /// Stop generation `job` after the current denoising step.
    Cancel {
        job: JobId,
    },
    /// Report browser storage (and how much of it `model` holds, when given).
    Storage {
        job: JobId,
        model: Option<HubModel>,
    },
    /// Remove a Hub model (and its motion adapter) from browser storage.
    Delete {
        job: JobId,
        model: HubModel,
    },
    /// What `request` would take in GPU memory, answered with `FromWorker::Estimate` of the
    /// same job (the page sends one per settings change and keeps only the latest answer).
    Estimate {
        job: JobId,
        request: GenerateRequest,
    },
}

impl ToWorker {
    /// The job this request is (for Cancel: the generation to stop).
    pub fn job(&self) -> JobId {
        match self {
            ToWorker::Generate { job, .. }
            | ToWorker::Cancel { job }
            | ToWorker::Storage { job, .. }
            | ToWorker::Delete { job, .. }
            | ToWorker::Estimate { job, .. } => *job,
        }
    }
}

/// Where the pipeline's files come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ModelSource {
    /// A diffusers folder served with the page (`…/models/demo/`), cached by the browser's HTTP cache.
    Bundled { url: String },
    /// Repos on the Hugging Face Hub (or any server with its `/{repo}/resolve/{revision}/{path}`
    /// layout), downloaded once into browser storage.
    Hub(HubModel),
}

/// A diffusers pipeline repo on a Hub, and the motion adapter repo when its `unet/` is a plain
/// SD1.5 UNet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HubModel {
    /// `https://huggingface.co`, or a local server in tests.
    pub base_url: String,
    pub repo: String,
    pub revision: String,
    pub adapter: Option<String>,
    /// One `.safetensors` file in the adapter repo to use alone, its config read from its
    /// tensors (AnimateDiff-Lightning ships `animatediff_lightning_4step_diffusers.safetensors`
    /// and no config); `None`: the repo is a diffusers MotionAdapter folder.
    pub adapter_file: Option<String>,
}

/// FreeNoise's settings as the page's Advanced section edits them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FreeNoiseOptions {
    pub enabled: bool,
    pub window: usize,
    pub stride: usize,
    pub weighting: Weighting,
    pub noise: NoiseType,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub model: ModelSource,
    pub prompt: String,
    pub negative: String,
    pub frames: usize,
    pub size: usize,
    pub steps: usize,
    pub guidance: f32,
    /// Already resolved (the page turns "random" into a number it can show).
    pub seed: u64,
    /// `None`: the model's scheduler config decides.
    pub sampler: Option<Sampler>,
    pub free_noise: FreeNoiseOptions,
    /// Extra keyframe prompts `(frame, prompt)`; the main prompt is the keyframe at frame 0.
    pub keyframes: Vec<(usize, String)>,
    /// How the prompt goes from one keyframe to the next.
    pub interpolation: Interpolation,
    pub motion_injection: bool,
    /// A preview every this many steps (0: none).
    pub preview_every: usize,
}

/// What the worker reports; `job` is the request the report is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's handler is installed: messages sent before this would be lost.
    Ready,
    /// Loading or a phase change, in words for the status line.
    Status { job: JobId, text: String },
    /// After each denoising step (the step is finished on the device).
    Progress { job: JobId, step: usize, steps: usize },
    /// A rough look at the clip so far: RGB frames of `width`×`height` follow as bytes.
    Preview { job: JobId, frames: usize, width: usize, height: usize },
    /// The clip: `frames` RGBA frames of `width`×`height` follow as bytes.
    /// `heap_bytes`: the worker's wasm memory, which never shrinks, so this is its peak so far.
    Done {
        job: JobId,
        frames: usize,
        width: usize,
        height: usize,
        backend: String,
        fallback: Option<String>,
        seconds: f64,
        warnings: Vec<String>,
        heap_bytes: f64,
    },
    /// Stopped by a Cancel; the worker holds no tensors of that run any more.
    Cancelled { job: JobId, step: usize },
    /// Download progress over every file the model still needed.
    Download { job: JobId, progress: DownloadProgress },
    /// Browser storage: bytes the origin uses, its quota, and the asked-for model's share.
    Storage { job: JobId, used: f64, quota: f64, model_bytes: Option<f64> },
    /// The request failed. `job` is `None` only for a message the worker could not read.
    Failed { job: Option<JobId>, message: String },
    /// The answer to `ToWorker::Estimate`: the figures, or a sentence saying why there are none.
    Estimate { job: JobId, result: Result<MemoryEstimate, String> },
    /// The worker's wasm panicked (a lost GPU device ends this way too) and can do no more work:
    /// the page ends it and starts a fresh one for the next request. `job`: the generation it
    /// was running, if any.
    Crashed { job: Option<JobId>, message: String },
}

/// A request's GPU memory, as `engine::memory` estimates it, and the device's per-buffer cap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryEstimate {
    /// `None` until the weights are at hand (a Hub model before its download).
    pub weight_bytes: Option<f64>,
    pub working_bytes: f64,
    pub largest_bytes: f64,
    /// What the largest buffer holds, in words.
    pub largest_what: String,
    /// The device's per-buffer cap (`None` on the CPU).
    pub limit: Option<f64>,
    /// Why the device cannot run the request, when it cannot.
    pub refusal: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    version: u32,
    message: T,
}

pub fn encode<T: Serialize>(message: &T) -> String {
    serde_json::to_string(&Envelope { version: PROTOCOL_VERSION, message }).expect("messages serialise")
}

/// A message that could not be decoded: why, and its job id when that much could be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Undecodable {
    pub job: Option<JobId>,
    pub message: String,
}

pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, Undecodable> {
    let envelope: Envelope<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| Undecodable { job: None, message: format!("malformed message: {e}") })?;
    let job = envelope.message.get("job").and_then(serde_json::Value::as_u64).map(JobId);
    if envelope.version != PROTOCOL_VERSION {
        return Err(Undecodable { job, message: format!("protocol version {} (expected {PROTOCOL_VERSION}): reload the page", envelope.version) });
    }
    T::deserialize(envelope.message).map_err(|e| Undecodable { job, message: format!("malformed message: {e}") })
}

/// One file being downloaded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileProgress {
    /// `repo/path`, as the page lists it.
    pub name: String,
    pub received: f64,
    /// 0 when the server did not say.
    pub total: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadProgress {
    pub files: Vec<FileProgress>,
    /// Seconds since this download began (the page derives speed and time left).
    pub seconds: f64,
}
