//! Models in the worker: the loaded pipeline (kept for the next clip), the bundled model's
//! files from the page's server, Hub models in browser storage (fetched, reported, deleted),
//! and each model's shape for memory estimates.

use std::cell::RefCell;
use std::rc::Rc;

use engine::memory::ModelShape;
use engine::pipeline::Pipeline;
use engine::store::{MemoryStore, PIPELINE_FILES};
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use super::download::{self, Reporter};
use super::storage_lock::StorageLock;
use super::stored::{self, RepoFolder};
use super::{now_ms, post, scope, status};
use crate::protocol::{DownloadProgress, FromWorker, HubModel, JobId, ModelSource};

thread_local! {
    // The loaded model and where it came from: a second clip skips the download and load.
    static LOADED: RefCell<Option<(ModelSource, Rc<Pipeline>)>> = const { RefCell::new(None) };
    // Each model's shape for memory estimates, read once (configs and weight headers).
    static SHAPES: RefCell<Vec<(ModelSource, Rc<ModelShape>)>> = const { RefCell::new(Vec::new()) };
}

/// The pipeline for `source` on `device`: the loaded one, or fetched (and for a Hub model,
/// downloaded into storage first) and loaded, reporting each phase as job `job`.
pub async fn load(job: JobId, source: &ModelSource, device: &engine::burn::prelude::Device) -> Result<Rc<Pipeline>, String> {
    if let Some(pipeline) = LOADED.with(|l| l.borrow().as_ref().filter(|(loaded, _)| loaded == source).map(|(_, p)| p.clone())) {
        return Ok(pipeline);
    }
    // Free the previous model's GPU memory before loading another.
    LOADED.with(|l| l.borrow_mut().take());
    let pipeline = match source {
        ModelSource::Bundled { url } => {
            let store = fetch_bundled(url, Some(job)).await?;
            status(job, "Loading the model…");
            Pipeline::load(&store, None, device)
        }
        ModelSource::Hub(model) => {
            let _lock = StorageLock::acquire().await;
            let stores = download::ensure(model, &JobReporter(job)).await?;
            report_storage(job, Some(model)).await?;
            status(job, format!("Loading {} from browser storage…", model.repo));
            let (pipeline, adapter) = download::as_stores(model, stores);
            Pipeline::load(pipeline.as_ref(), adapter.as_deref(), device)
        }
    };
    let pipeline = Rc::new(pipeline.map_err(|e| e.to_string())?);
    LOADED.with(|l| *l.borrow_mut() = Some((source.clone(), pipeline.clone())));
    Ok(pipeline)
}

/// The bundled model's files; with a job, each one is said on the status line.
async fn fetch_bundled(model_url: &str, job: Option<JobId>) -> Result<MemoryStore, String> {
    let mut store = MemoryStore::new(model_url);
    for (index, path) in PIPELINE_FILES.iter().enumerate() {
        if let Some(job) = job {
            status(job, format!("Fetching the model ({}/{}): {path}", index + 1, PIPELINE_FILES.len()));
        }
        if let Some(bytes) = fetch(&format!("{}/{path}", model_url.trim_end_matches('/'))).await? {
            store.insert(*path, bytes);
        }
    }
    Ok(store)
}

/// A download's reports, as replies to the job that asked for the model.
struct JobReporter(JobId);

impl Reporter for JobReporter {
    fn status(&self, text: String) {
        status(self.0, text);
    }
    fn progress(&self, progress: DownloadProgress) {
        post(&FromWorker::Download { job: self.0, progress }, None);
    }
    fn now_ms(&self) -> f64 {
        now_ms()
    }
}

/// Tells the page how much the origin stores, and how much of it is `model`'s.
pub async fn report_storage(job: JobId, model: Option<&HubModel>) -> Result<(), String> {
    let (used, quota) = super::opfs::estimate().await?;
    let mut model_bytes = None;
    if let Some(model) = model {
        let mut total = 0;
        for (repo, _) in download::repos(model) {
            if let Some(folder) = RepoFolder::open(&download::repo_path(model, &repo), repo.clone(), false).await? {
                total += folder.stored_bytes();
            }
        }
        model_bytes = Some(total as f64);
    }
    post(&FromWorker::Storage { job, used, quota, model_bytes }, None);
    Ok(())
}

/// The model's shape: from the loaded pipeline, the bundled files, or a Hub model's files in
/// storage. A Hub model not stored yet has none: estimating must not reach the network (typing
/// a repo id sends nothing anywhere; the Hub is asked only when Generate is pressed).
pub async fn shape_of(source: &ModelSource) -> Result<Rc<ModelShape>, String> {
    if let Some(shape) = SHAPES.with(|s| s.borrow().iter().find(|(k, _)| k == source).map(|(_, v)| v.clone())) {
        return Ok(shape);
    }
    let loaded = || LOADED.with(|l| l.borrow().as_ref().filter(|(k, _)| k == source).map(|(_, p)| p.shape()));
    let shape = match (loaded(), source) {
        (Some(shape), _) => shape,
        (None, ModelSource::Bundled { url }) => ModelShape::read(&fetch_bundled(url, None).await?, None).map_err(|e| e.to_string())?,
        (None, ModelSource::Hub(model)) => {
            let _lock = StorageLock::acquire().await;
            // A Generate may have downloaded and loaded this model while this waited for the
            // lock: take the loaded shape then, rather than open every stored file again in the
            // middle of that generation (open files cannot be replaced or removed meanwhile).
            match loaded() {
                Some(shape) => shape,
                None => {
                    let Some(stores) = download::stored(model).await? else {
                        return Err("known once the model is downloaded (Generate fetches it)".into());
                    };
                    let (pipeline, adapter) = download::as_stores(model, stores);
                    ModelShape::read(pipeline.as_ref(), adapter.as_deref()).map_err(|e| e.to_string())?
                }
            }
        }
    };
    let shape = Rc::new(shape);
    SHAPES.with(|s| s.borrow_mut().push((source.clone(), shape.clone())));
    Ok(shape)
}

/// Removes the model's repos from storage (a model in use is unloaded first).
pub async fn delete(job: JobId, model: &HubModel) -> Result<(), String> {
    SHAPES.with(|s| s.borrow_mut().retain(|(k, _)| !matches!(k, ModelSource::Hub(m) if m == model)));
    LOADED.with(|l| {
        let mut loaded = l.borrow_mut();
        if matches!(loaded.as_ref(), Some((ModelSource::Hub(m), _)) if m == model) {
            *loaded = None;
        }
    });
    for (repo, _) in download::repos(model) {
        stored::delete(&download::repo_path(model, &repo)).await?;
    }
    status(job, format!("Deleted {} from browser storage.", model.repo));
    report_storage(job, Some(model)).await
}

/// The body of `url`, or `None` on 404 (optional files).
async fn fetch(url: &str) -> Result<Option<Vec<u8>>, String> {
    let response: Response = JsFuture::from(scope().fetch_with_str(url)).await.map_err(|e| format!("could not fetch {url}: {e:?}"))?.unchecked_into();
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("could not fetch {url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?).await.map_err(|e| format!("could not read {url}: {e:?}"))?;
    Ok(Some(Uint8Array::new(&buffer).to_vec()))
}
