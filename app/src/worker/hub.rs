//! Which files a diffusers repo on a Hub offers (asked with HEAD requests at
//! `{base}/{repo}/resolve/{revision}/{path}`), with the sizes and sha256 sums the Hub reports.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCache, RequestInit, Response, WorkerGlobalScope};

use super::opfs::describe;

/// What a repo is to the pipeline: the pipeline itself, or a motion adapter for its UNet.
#[derive(Clone, Copy, PartialEq)]
pub enum RepoKind {
    Pipeline,
    Adapter,
}

/// One file of a repo the pipeline reads: the first of `choices` the repo has is used.
/// Weights list the fp16 variant first: half the download, and the engine reads either.
struct Slot {
    choices: &'static [&'static str],
    required: bool,
}

const PIPELINE: &[Slot] = &[
    Slot { choices: &["scheduler/scheduler_config.json"], required: true },
    Slot { choices: &["text_encoder/config.json"], required: true },
    Slot { choices: &["text_encoder/model.fp16.safetensors", "text_encoder/model.safetensors"], required: true },
    Slot { choices: &["unet/config.json"], required: true },
    Slot { choices: &["unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.safetensors"], required: true },
    Slot { choices: &["vae/config.json"], required: true },
    Slot { choices: &["vae/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.safetensors"], required: true },
    // A tokenizer is `tokenizer.json` or `vocab.json` + `merges.txt`: checked after probing.
    Slot { choices: &["tokenizer/tokenizer.json"], required: false },
    Slot { choices: &["tokenizer/vocab.json"], required: false },
    Slot { choices: &["tokenizer/merges.txt"], required: false },
    Slot { choices: &["tokenizer/tokenizer_config.json"], required: false },
    Slot { choices: &["tokenizer/special_tokens_map.json"], required: false },
];

const ADAPTER: &[Slot] = &[
    Slot { choices: &["config.json"], required: true },
    Slot { choices: &["diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.safetensors"], required: true },
];

/// A file on the Hub, as its HEAD response describes it.
#[derive(Clone, Debug)]
pub struct Remote {
    pub path: String,
    pub url: String,
    pub size: Option<u64>,
    /// Set for files the Hub stores in LFS (weights) when the response carries the Hub's
    /// `X-Linked-Etag`, which is the sha256 of the bytes.
    pub sha256: Option<String>,
}

pub fn file_url(base_url: &str, repo: &str, revision: &str, path: &str) -> String {
    format!("{}/{repo}/resolve/{revision}/{path}", base_url.trim_end_matches('/'))
}

/// The files of `repo` the pipeline needs, or which required one it lacks. `file`: an adapter
/// given as one file, used alone (AnimateDiff-Lightning's repo has no config.json).
pub async fn probe(base_url: &str, repo: &str, revision: &str, kind: RepoKind, file: Option<&str>) -> Result<Vec<Remote>, String> {
    if let Some(file) = file {
        return match head(&file_url(base_url, repo, revision, file), file).await? {
            Ok(remote) => Ok(vec![remote]),
            Err(miss) => Err(format!("{repo} (revision {revision}) has no {file}: {miss}")),
        };
    }
    let slots = if kind == RepoKind::Pipeline { PIPELINE } else { ADAPTER };
    let mut found = Vec::new();
    for slot in slots {
        let mut chosen = None;
        let mut last_miss = String::new();
        for path in slot.choices {
            match head(&file_url(base_url, repo, revision, path), path).await? {
                Ok(remote) => {
                    chosen = Some(remote);
                    break;
                }
                Err(miss) => last_miss = miss,
            }
        }
        match chosen {
            Some(remote) => found.push(remote),
            None if slot.required => return Err(format!("{repo} (revision {revision}) has no {}: {last_miss}", slot.choices.last().unwrap())),
            None => {}
        }
    }
    if kind == RepoKind::Pipeline {
        let has = |p: &str| found.iter().any(|r| r.path == p);
        let tokenizer = has("tokenizer/tokenizer.json") || (has("tokenizer/vocab.json") && has("tokenizer/merges.txt"));
        if !tokenizer {
            return Err(format!(
                "{repo} (revision {revision}) has no tokenizer: neither tokenizer/tokenizer.json nor tokenizer/vocab.json + tokenizer/merges.txt"
            ));
        }
    }
    Ok(found)
}

/// The file's description, `Ok(Err(why))` when the server says it is not there (404; the Hub
/// answers 401 for repos that do not exist or are private), `Err` when the server is unreachable.
pub async fn head(url: &str, path: &str) -> Result<Result<Remote, String>, String> {
    let response = request(url, "HEAD").await?;
    match response.status() {
        200..=299 => {}
        401 | 403 | 404 => return Ok(Err(format!("HTTP {} at {url} (check the repo id and revision; private repos are not supported)", response.status()))),
        status => return Err(format!("{url}: HTTP {status}")),
    }
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let size = header("x-linked-size").or_else(|| header("content-length")).and_then(|s| s.parse().ok());
    // Only the Hub's own `X-Linked-Etag` is trusted as a sha256: after a redirect the CDN's ETag
    // can be another 64-hex hash (Xet's), which would fail every good download.
    let sha256 = header("x-linked-etag")
        .map(|t| t.trim_start_matches("W/").trim_matches('"').to_ascii_lowercase())
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    Ok(Ok(Remote { path: path.to_string(), url: url.to_string(), size, sha256 }))
}

/// A request that bypasses the HTTP cache: the bytes go to browser storage, and a second copy
/// in the HTTP cache would only double the space a model takes.
pub async fn request(url: &str, method: &str) -> Result<Response, String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    let request = Request::new_with_str_and_init(url, &init).map_err(|e| format!("{url}: {}", describe(&e)))?;
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    JsFuture::from(scope.fetch_with_request(&request)).await.map(JsCast::unchecked_into).map_err(|e| format!("could not reach {url} ({})", describe(&e)))
}
