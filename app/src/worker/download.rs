//! Brings a Hub model into browser storage: checks what is stored, asks the Hub for the rest,
//! refuses up front when the quota cannot hold it, streams each file into storage while hashing
//! it, verifies size and sha256, and retries a file whose connection broke (from its start).

use js_sys::{Reflect, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::ReadableStreamDefaultReader;

use engine::store::{AdapterFile, ModelStore};

use super::hub::{self, Remote, RepoKind};
use super::opfs::{self, describe, WriteError};
use super::stored::{folder_path, hex, Entry, RepoFolder, StoredModel};
use crate::protocol::{DownloadProgress, FileProgress, HubModel};
use crate::units::bytes;

/// Tries per file before the download gives up (what was stored stays stored).
const ATTEMPTS: usize = 3;
/// Least time between two progress reports.
const REPORT_MS: f64 = 100.0;

/// What the worker tells the page while this runs.
pub trait Reporter {
    fn status(&self, text: String);
    fn progress(&self, progress: DownloadProgress);
    fn now_ms(&self) -> f64;
}

/// The pipeline's store and the adapter's as the engine reads them: an adapter given as one file
/// is seen as an adapter folder holding just that file.
pub fn as_stores(model: &HubModel, stores: Vec<StoredModel>) -> (Box<dyn ModelStore>, Option<Box<dyn ModelStore>>) {
    let mut stores = stores.into_iter().map(|s| Box::new(s) as Box<dyn ModelStore>);
    let pipeline = stores.next().expect("the pipeline's store");
    let adapter = stores.next().map(|a| match &model.adapter_file {
        Some(file) => Box::new(AdapterFile::new(a, file.clone())) as Box<dyn ModelStore>,
        None => a,
    });
    (pipeline, adapter)
}

/// The repos of a Hub model: the pipeline, then its motion adapter.
pub fn repos(model: &HubModel) -> Vec<(String, RepoKind)> {
    std::iter::once((model.repo.clone(), RepoKind::Pipeline)).chain(model.adapter.clone().map(|a| (a, RepoKind::Adapter))).collect()
}

pub fn repo_path(model: &HubModel, repo: &str) -> Vec<String> {
    folder_path(&model.base_url, repo, &model.revision_of(repo))
}

impl HubModel {
    /// The adapter always comes from its repo's main branch: the revision names the pipeline's.
    pub fn revision_of(&self, repo: &str) -> String {
        if repo == self.repo {
            self.revision.clone()
        } else {
            "main".into()
        }
    }
}

/// The single adapter file the model names, for its adapter repo.
fn adapter_file(model: &HubModel, kind: RepoKind) -> Option<&str> {
    model.adapter_file.as_deref().filter(|_| kind == RepoKind::Adapter)
}

/// Whether a repo folder's plan holds what this use of the repo needs: the named file, or for
/// an adapter folder its config (a plan made for one file lacks it).
fn plan_covers(plan: &[String], kind: RepoKind, file: Option<&str>) -> bool {
    match (kind, file) {
        (RepoKind::Adapter, Some(file)) => plan.iter().any(|p| p == file),
        (RepoKind::Adapter, None) => plan.iter().any(|p| p == "config.json"),
        (RepoKind::Pipeline, _) => true,
    }
}

/// The model's repos in storage, complete and intact: fetched or repaired as needed. With
/// everything stored and intact this makes no network request at all.
pub async fn ensure(model: &HubModel, reporter: &dyn Reporter) -> Result<Vec<StoredModel>, String> {
    let mut folders = Vec::new();
    let mut wanted: Vec<(usize, Remote)> = Vec::new();
    for (repo, kind) in repos(model) {
        let revision = model.revision_of(&repo);
        let label = format!("{repo}@{revision}");
        let mut folder = RepoFolder::open(&repo_path(model, &repo), label.clone(), true).await?.expect("created");
        if folder.stored_bytes() > 0 {
            let total_mb = folder.stored_bytes() as f64 / 1e6;
            let damaged =
                folder.check(|done, _| reporter.status(format!("Checking {label} in browser storage ({:.0} of {total_mb:.0} MB)…", done as f64 / 1e6))).await?;
            if !damaged.is_empty() {
                reporter.status(format!("{label}: {} changed in browser storage since it was saved; fetching again.", damaged.join(", ")));
            }
        }
        let file = adapter_file(model, kind);
        let remotes = match folder.plan() {
            Some(plan) if plan_covers(plan, kind, file) => {
                let mut remotes = Vec::new();
                for path in folder.missing() {
                    let url = hub::file_url(&model.base_url, &repo, &revision, &path);
                    remotes.push(hub::head(&url, &path).await?.map_err(|miss| format!("{label}: {path} is gone from the Hub ({miss})"))?);
                }
                remotes
            }
            _ => {
                reporter.status(format!("Asking {} which files {label} has…", model.base_url));
                let remotes = hub::probe(&model.base_url, &repo, &revision, kind, file).await?;
                // Files stored for another use of this repo (the adapter as a folder, or
                // another of its files) stay planned: they are kept, not fetched again.
                let mut plan: Vec<String> = folder.plan().unwrap_or_default().to_vec();
                for remote in &remotes {
                    if !plan.contains(&remote.path) {
                        plan.push(remote.path.clone());
                    }
                }
                folder.set_plan(plan).await?;
                let missing = folder.missing();
                remotes.into_iter().filter(|r| missing.contains(&r.path)).collect()
            }
        };
        wanted.extend(remotes.into_iter().map(|r| (folders.len(), r)));
        folders.push(folder);
    }
    if !wanted.is_empty() {
        check_quota(wanted.iter().map(|(_, r)| r.size.unwrap_or(0)).sum()).await?;
        let mut tracker = Tracker::new(&folders, &wanted, reporter);
        for (index, (folder, remote)) in wanted.iter().enumerate() {
            fetch_file(&mut folders[*folder], remote, index, &mut tracker).await?;
        }
    }
    let mut stores = Vec::new();
    for folder in &folders {
        stores.push(folder.store().await?);
    }
    Ok(stores)
}

/// The model's repos as stored, when every planned file is there; `None` otherwise. Unchecked
/// (no re-hash) and with no network: for reading configs and headers, not for running.
pub async fn stored(model: &HubModel) -> Result<Option<Vec<StoredModel>>, String> {
    let mut stores = Vec::new();
    for (repo, kind) in repos(model) {
        let label = format!("{repo}@{}", model.revision_of(&repo));
        let Some(folder) = RepoFolder::open(&repo_path(model, &repo), label, false).await? else { return Ok(None) };
        if !folder.plan().is_some_and(|plan| plan_covers(plan, kind, adapter_file(model, kind))) || !folder.missing().is_empty() {
            return Ok(None);
        }
        stores.push(folder.store().await?);
    }
    Ok(Some(stores))
}

async fn check_quota(needed: u64) -> Result<(), String> {
    let (used, quota) = opfs::estimate().await?;
    if needed as f64 > quota - used {
        return Err(quota_message(needed as f64, used, quota));
    }
    Ok(())
}

pub fn quota_message(needed: f64, used: f64, quota: f64) -> String {
    format!(
        "Not enough browser storage: this model needs {} more, but only {} of the {} this site may use is free. {}",
        bytes(needed),
        bytes((quota - used).max(0.0)),
        bytes(quota),
        opfs::FREE_SPACE
    )
}

/// When the browser refuses a write although the estimate said there was room (its estimate is
/// not always the quota it enforces).
async fn refused_message(left: f64) -> String {
    let site = match opfs::estimate().await {
        Ok((used, _)) => format!(" (this site already stores {})", bytes(used)),
        Err(_) => String::new(),
    };
    format!("Not enough browser storage: this model needs {} more, but the browser refused to store more{site}. {}", bytes(left), opfs::FREE_SPACE)
}

/// Progress over every file of this download, reported at most every `REPORT_MS`.
struct Tracker<'a> {
    files: Vec<FileProgress>,
    started_ms: f64,
    reported_ms: f64,
    reporter: &'a dyn Reporter,
}

impl<'a> Tracker<'a> {
    fn new(folders: &[RepoFolder], wanted: &[(usize, Remote)], reporter: &'a dyn Reporter) -> Self {
        let files = wanted
            .iter()
            .map(|(folder, r)| FileProgress { name: format!("{}/{}", folders[*folder].label, r.path), received: 0.0, total: r.size.unwrap_or(0) as f64 })
            .collect();
        let now = reporter.now_ms();
        Self { files, started_ms: now, reported_ms: f64::NEG_INFINITY, reporter }
    }

    /// Bytes still to come over every file (as far as the sizes are known).
    fn remaining(&self) -> f64 {
        self.files.iter().map(|f| (f.total - f.received).max(0.0)).sum()
    }

    fn set(&mut self, index: usize, received: u64, force: bool) {
        self.files[index].received = received as f64;
        let now = self.reporter.now_ms();
        if force || now - self.reported_ms >= REPORT_MS {
            self.reported_ms = now;
            self.reporter.progress(DownloadProgress { files: self.files.clone(), seconds: (now - self.started_ms) / 1000.0 });
        }
    }
}

/// Why one try at a file failed: worth another try, or not.
enum Failure {
    Retry(String),
    Fatal(String),
}

async fn fetch_file(folder: &mut RepoFolder, remote: &Remote, index: usize, tracker: &mut Tracker<'_>) -> Result<(), String> {
    let name = format!("{}/{}", folder.label, remote.path);
    for attempt in 1..=ATTEMPTS {
        match try_fetch(folder, remote, index, tracker).await {
            Ok(entry) => {
                tracker.set(index, entry.size, true);
                return folder.commit(&remote.path, entry).await;
            }
            Err(Failure::Retry(why)) if attempt < ATTEMPTS => {
                tracker.set(index, 0, true);
                tracker.reporter.status(format!("{name}: {why}; trying again ({}/{ATTEMPTS})…", attempt + 1));
            }
            Err(Failure::Retry(why)) => {
                return Err(format!("Downloading {name} failed {ATTEMPTS} times ({why}). Files already downloaded are kept: press Generate to continue."))
            }
            Err(Failure::Fatal(why)) => {
                // Best effort: free the partial file's space (the manifest never listed it).
                let _ = folder.discard(&remote.path).await;
                return Err(why);
            }
        }
    }
    unreachable!("the last attempt returns")
}

async fn try_fetch(folder: &mut RepoFolder, remote: &Remote, index: usize, tracker: &mut Tracker<'_>) -> Result<Entry, Failure> {
    let name = format!("{}/{}", folder.label, remote.path);
    let response = hub::request(&remote.url, "GET").await.map_err(Failure::Retry)?;
    if !response.ok() {
        return Err(Failure::Fatal(format!("{name}: HTTP {} at {}", response.status(), remote.url)));
    }
    let body = response.body().ok_or_else(|| Failure::Fatal(format!("{name}: the response has no body")))?;
    let reader: ReadableStreamDefaultReader = ReadableStreamDefaultReader::new(&body).map_err(|e| Failure::Fatal(describe(&e)))?;
    let file = folder.create(&remote.path).await.map_err(Failure::Fatal)?;
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| Failure::Retry(format!("the connection broke after {} ({})", bytes(received as f64), describe(&e))))?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let bytes_now = Reflect::get(&chunk, &"value".into()).map_err(|e| Failure::Fatal(describe(&e)))?.unchecked_into::<Uint8Array>().to_vec();
        hasher.update(&bytes_now);
        match file.write(received, &bytes_now) {
            Ok(()) => {}
            Err(WriteError::Other(e)) => return Err(Failure::Fatal(format!("{name}: could not write to browser storage ({e})"))),
            Err(WriteError::Full) => {
                return Err(Failure::Fatal(refused_message(tracker.remaining()).await));
            }
        }
        received += bytes_now.len() as u64;
        tracker.set(index, received, false);
    }
    file.flush().map_err(|e| Failure::Fatal(format!("{name}: {}", describe(&e))))?;
    let sha256 = hex(&hasher.finalize());
    if let Some(size) = remote.size.filter(|&s| s != received) {
        return Err(Failure::Retry(format!("{} arrived of {}", bytes(received as f64), bytes(size as f64))));
    }
    if let Some(expected) = remote.sha256.as_ref().filter(|&e| *e != sha256) {
        return Err(Failure::Retry(format!("its sha256 is {sha256}, the Hub says {expected}")));
    }
    Ok(Entry { size: received, sha256 })
}
