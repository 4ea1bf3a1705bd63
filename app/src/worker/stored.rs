//! A Hub repo kept in browser storage: one OPFS folder per (hub, repo, revision) holding the
//! files and a manifest with each verified file's size and sha256. The manifest is the commit
//! record: a file counts as stored only once the manifest lists it, and it is listed only after
//! its bytes were checked, so an interrupted download never leaves a file that looks complete.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use engine::store::ModelStore;
use engine::weights::ByteSource;
use engine::EngineError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::opfs::{self, Dir, File};

const MANIFEST: &str = "manifest.json";
/// Bytes read at a time when checking a stored file.
const CHUNK: usize = 8 << 20;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Entry {
    pub size: u64,
    pub sha256: String,
}

/// What a repo's folder records: the files chosen for it (once probed) and those stored.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    plan: Option<Vec<String>>,
    files: BTreeMap<String, Entry>,
}

/// One repo's folder and what it holds.
pub struct RepoFolder {
    pub label: String,
    dir: Dir,
    manifest: Manifest,
}

/// The OPFS path of a repo's folder. Hub repo names cannot contain "--", so replacing '/' by
/// "--" keeps names distinct; the hub's host keeps a test server's files apart from the real Hub's.
pub fn folder_path(base_url: &str, repo: &str, revision: &str) -> Vec<String> {
    let host: String = base_url.split("://").last().unwrap_or(base_url).chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    vec!["hub".into(), host, repo.replace('/', "--"), revision.replace('/', "--")]
}

/// The flat file name a repo path is stored under (OPFS names cannot hold '/').
fn file_name(path: &str) -> String {
    path.replace('/', "--")
}

impl RepoFolder {
    /// The folder, read with its manifest (created when `create`); `None` when nothing is stored.
    /// An unreadable manifest counts as empty: its files are fetched again.
    pub async fn open(path: &[String], label: String, create: bool) -> Result<Option<Self>, String> {
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        let Some(dir) = opfs::folder(&names, create).await? else { return Ok(None) };
        let manifest = match File::open(&dir, MANIFEST, false).await? {
            Some(file) => {
                let mut bytes = vec![0; file.size()? as usize];
                file.read_exact(0, &mut bytes)?;
                serde_json::from_slice(&bytes).unwrap_or_default()
            }
            None => Manifest::default(),
        };
        Ok(Some(Self { label, dir, manifest }))
    }

    /// The files chosen for this repo, once its server was asked which it has.
    pub fn plan(&self) -> Option<&[String]> {
        self.manifest.plan.as_deref()
    }

    pub async fn set_plan(&mut self, plan: Vec<String>) -> Result<(), String> {
        self.manifest.plan = Some(plan);
        self.save().await
    }

    /// Planned files not (or no longer) stored.
    pub fn missing(&self) -> Vec<String> {
        self.plan().unwrap_or_default().iter().filter(|p| !self.manifest.files.contains_key(*p)).cloned().collect()
    }

    pub fn stored_bytes(&self) -> u64 {
        self.manifest.files.values().map(|e| e.size).sum()
    }

    /// Opens `path` for writing, emptied: the manifest forgets it until `commit`.
    pub async fn create(&mut self, path: &str) -> Result<File, String> {
        if self.manifest.files.remove(path).is_some() {
            self.save().await?;
        }
        let file = File::open(&self.dir, &file_name(path), true).await?.expect("created");
        file.truncate(0).map_err(|e| opfs::describe(&e))?;
        Ok(file)
    }

    /// Removes a file that will not be completed (its space is freed; the manifest never listed it).
    pub async fn discard(&self, path: &str) -> Result<(), String> {
        opfs::remove(&self.dir, &file_name(path)).await
    }

    /// Records a fully written and verified file.
    pub async fn commit(&mut self, path: &str, entry: Entry) -> Result<(), String> {
        self.manifest.files.insert(path.to_string(), entry);
        self.save().await
    }

    async fn save(&self) -> Result<(), String> {
        let bytes = serde_json::to_vec_pretty(&self.manifest).expect("manifest serialises");
        let file = File::open(&self.dir, MANIFEST, true).await?.expect("created");
        let failed = |e: wasm_bindgen::JsValue| format!("could not save {}'s manifest: {}", self.label, opfs::describe(&e));
        file.truncate(0).map_err(failed)?;
        match file.write(0, &bytes) {
            Ok(()) => file.flush().map_err(failed),
            Err(opfs::WriteError::Full) => Err(opfs::full().await),
            Err(opfs::WriteError::Other(e)) => Err(format!("could not save {}'s manifest: {e}", self.label)),
        }
    }

    /// Re-reads every stored file and drops from the manifest each one whose size or sha256
    /// changed since it was stored; returns their paths (the caller fetches them again).
    pub async fn check(&mut self, mut progress: impl FnMut(u64, u64)) -> Result<Vec<String>, String> {
        let total = self.stored_bytes();
        let mut done = 0;
        let mut damaged = Vec::new();
        for (path, entry) in &self.manifest.files {
            let intact = match File::open(&self.dir, &file_name(path), false).await? {
                Some(file) if file.size()? == entry.size => sha256_of(&file, entry.size, |n| progress(done + n, total))? == entry.sha256,
                _ => false,
            };
            done += entry.size;
            if !intact {
                damaged.push(path.clone());
            }
        }
        for path in &damaged {
            self.manifest.files.remove(path);
        }
        if !damaged.is_empty() {
            self.save().await?;
        }
        Ok(damaged)
    }

    /// A store that reads the listed files range by range, straight from storage.
    pub async fn store(&self) -> Result<StoredModel, String> {
        let mut files = HashMap::new();
        for path in self.manifest.files.keys() {
            let file = File::open(&self.dir, &file_name(path), false).await?.ok_or_else(|| format!("{}: {path} vanished from browser storage", self.label))?;
            files.insert(path.clone(), Rc::new(file));
        }
        Ok(StoredModel { label: self.label.clone(), files })
    }
}

/// Removes a repo's folder and everything in it.
pub async fn delete(path: &[String]) -> Result<(), String> {
    let (name, parents) = path.split_last().expect("a folder path");
    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
    match opfs::folder(&parents, false).await? {
        Some(parent) => opfs::remove(&parent, name).await,
        None => Ok(()),
    }
}

fn sha256_of(file: &File, size: u64, mut progress: impl FnMut(u64)) -> Result<String, String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; CHUNK];
    let mut at = 0;
    while at < size {
        let n = CHUNK.min((size - at) as usize);
        file.read_exact(at, &mut buffer[..n])?;
        hasher.update(&buffer[..n]);
        at += n as u64;
        progress(at);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A repo's stored files as the engine reads them: each tensor's bytes come from storage when
/// it is loaded, so the wasm heap never holds a whole weights file.
pub struct StoredModel {
    label: String,
    files: HashMap<String, Rc<File>>,
}

impl StoredModel {
    fn file(&self, path: &str) -> Result<&Rc<File>, EngineError> {
        self.files
            .get(path.trim_start_matches("./"))
            .ok_or_else(|| EngineError::Io { path: format!("{}/{path}", self.label), reason: "not in browser storage".into() })
    }
}

impl ModelStore for StoredModel {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path.trim_start_matches("./"))
    }
    fn read_text(&self, path: &str) -> Result<String, EngineError> {
        let bytes = StoredSource { name: format!("{}/{path}", self.label), file: self.file(path)?.clone() }.read_all()?;
        String::from_utf8(bytes).map_err(|_| EngineError::BadFile { file: format!("{}/{path}", self.label), problem: "not UTF-8 text".into() })
    }
    fn open(&self, path: &str) -> Result<Box<dyn ByteSource>, EngineError> {
        Ok(Box::new(StoredSource { name: format!("{}/{path}", self.label), file: self.file(path)?.clone() }))
    }
}

struct StoredSource {
    name: String,
    file: Rc<File>,
}

impl StoredSource {
    fn read_all(&mut self) -> Result<Vec<u8>, EngineError> {
        let size = self.size();
        self.read_range(0, size)
    }
}

impl ByteSource for StoredSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.file.size().unwrap_or(0)
    }
    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, EngineError> {
        let mut bytes = vec![0; (end - start) as usize];
        self.file.read_exact(start, &mut bytes).map_err(|reason| EngineError::Io { path: self.name.clone(), reason })?;
        Ok(bytes)
    }
}
