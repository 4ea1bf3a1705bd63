//! The origin-private file system (OPFS) as the worker uses it: folders, files read and written
//! through synchronous access handles (worker-only, and the way to read a tensor's bytes at an
//! offset without holding the file in the wasm heap), removal, and the storage estimate.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions, FileSystemGetFileOptions, FileSystemReadWriteOptions,
    FileSystemRemoveOptions, FileSystemSyncAccessHandle, StorageEstimate, StorageManager, WorkerGlobalScope,
};

pub type Dir = FileSystemDirectoryHandle;

/// A JS error in words: a DOMException's name and message, else its string form.
pub fn describe(error: &JsValue) -> String {
    match error.dyn_ref::<DomException>() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => error.as_string().unwrap_or_else(|| format!("{error:?}")),
    }
}

/// Whether `error` is the browser saying the origin's storage quota is used up.
pub fn is_quota_error(error: &JsValue) -> bool {
    error.dyn_ref::<DomException>().is_some_and(|e| e.name() == "QuotaExceededError")
}

async fn resolve<T: JsCast>(promise: Promise) -> Result<T, JsValue> {
    JsFuture::from(promise).await.map(JsCast::unchecked_into)
}

fn storage() -> StorageManager {
    js_sys::global().unchecked_into::<WorkerGlobalScope>().navigator().storage()
}

/// The folder at `path` under the OPFS root, created when `create`; `None` when absent.
pub async fn folder(path: &[&str], create: bool) -> Result<Option<Dir>, String> {
    let mut dir: Dir = resolve(storage().get_directory()).await.map_err(|e| format!("browser storage is unavailable ({})", describe(&e)))?;
    for name in path {
        let options = FileSystemGetDirectoryOptions::new();
        options.set_create(create);
        match resolve(dir.get_directory_handle_with_options(name, &options)).await {
            Ok(child) => dir = child,
            Err(e) if !create && is_not_found(&e) => return Ok(None),
            Err(e) if is_quota_error(&e) => return Err(full().await),
            Err(e) => return Err(format!("browser storage folder {name}: {}", describe(&e))),
        }
    }
    Ok(Some(dir))
}

fn is_not_found(error: &JsValue) -> bool {
    error.dyn_ref::<DomException>().is_some_and(|e| e.name() == "NotFoundError")
}

pub enum WriteError {
    /// The origin's storage quota (or the disk) is full.
    Full,
    Other(String),
}

/// An open file; the handle is closed when this is dropped, so other opens (and removal) work.
pub struct File {
    handle: FileSystemSyncAccessHandle,
    name: String,
}

impl File {
    /// Opens `name` in `dir` for reading and writing (created empty when `create`); `None` when absent.
    pub async fn open(dir: &Dir, name: &str, create: bool) -> Result<Option<File>, String> {
        let options = FileSystemGetFileOptions::new();
        options.set_create(create);
        let file: FileSystemFileHandle = match resolve(dir.get_file_handle_with_options(name, &options)).await {
            Ok(file) => file,
            Err(e) if !create && is_not_found(&e) => return Ok(None),
            Err(e) if is_quota_error(&e) => return Err(full().await),
            Err(e) => return Err(format!("stored file {name}: {}", describe(&e))),
        };
        let handle = resolve(file.create_sync_access_handle()).await.map_err(|e| format!("stored file {name}: {}", describe(&e)))?;
        Ok(Some(File { handle, name: name.to_string() }))
    }

    pub fn size(&self) -> Result<u64, String> {
        self.handle.get_size().map(|s| s as u64).map_err(|e| format!("stored file {}: {}", self.name, describe(&e)))
    }

    /// Fills `buffer` from byte `at`; fails when the file is shorter.
    pub fn read_exact(&self, at: u64, buffer: &mut [u8]) -> Result<(), String> {
        let options = FileSystemReadWriteOptions::new();
        options.set_at(at as f64);
        let read = self.handle.read_with_u8_array_and_options(buffer, &options).map_err(|e| describe(&e))? as usize;
        if read != buffer.len() {
            return Err(format!("stored file {} ends at byte {}", self.name, at as usize + read));
        }
        Ok(())
    }

    /// Writes all of `bytes` at byte `at`. Chromium refuses a write over the quota either with a
    /// QuotaExceededError or by reporting a short (even negative) write; both are `Full`.
    pub fn write(&self, at: u64, bytes: &[u8]) -> Result<(), WriteError> {
        let options = FileSystemReadWriteOptions::new();
        options.set_at(at as f64);
        match self.handle.write_with_u8_array_and_options(bytes, &options) {
            Ok(written) if written == bytes.len() as f64 => Ok(()),
            Ok(_) => Err(WriteError::Full),
            Err(e) if is_quota_error(&e) => Err(WriteError::Full),
            Err(e) => Err(WriteError::Other(format!("stored file {}: {}", self.name, describe(&e)))),
        }
    }

    pub fn truncate(&self, size: u64) -> Result<(), JsValue> {
        self.handle.truncate_with_f64(size as f64)
    }

    pub fn flush(&self) -> Result<(), JsValue> {
        self.handle.flush()
    }
}

impl Drop for File {
    fn drop(&mut self) {
        self.handle.close();
    }
}

/// Removes `name` (a file, or a folder with everything in it) from `dir`; absent is fine.
pub async fn remove(dir: &Dir, name: &str) -> Result<(), String> {
    let options = FileSystemRemoveOptions::new();
    options.set_recursive(true);
    match resolve::<JsValue>(dir.remove_entry_with_options(name, &options)).await {
        Err(e) if !is_not_found(&e) => Err(format!("could not remove {name} from browser storage: {}", describe(&e))),
        _ => Ok(()),
    }
}

/// What a user whose browser storage ran out can do about it.
pub const FREE_SPACE: &str = "Delete stored models (Delete model) or free disk space, then try again.";

/// What to tell a user whose browser storage for this site is full.
pub async fn full() -> String {
    match estimate().await {
        Ok((used, quota)) => {
            format!("Browser storage for this site is full ({} used of {}). {FREE_SPACE}", crate::units::bytes(used), crate::units::bytes(quota))
        }
        Err(e) => format!("Browser storage for this site is full ({e}). {FREE_SPACE}"),
    }
}

/// Bytes the origin stores and the most it may, as the browser estimates them.
pub async fn estimate() -> Result<(f64, f64), String> {
    let promise = storage().estimate().map_err(|e| describe(&e))?;
    let estimate: StorageEstimate = resolve(promise).await.map_err(|e| format!("storage estimate: {}", describe(&e)))?;
    Ok((estimate.get_usage().unwrap_or(0.0), estimate.get_quota().unwrap_or(f64::INFINITY)))
}
