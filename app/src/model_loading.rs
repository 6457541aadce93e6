//! Where a model comes from (a model bundled with the site, a URL base such as
//! a Hugging Face `resolve/main/` folder or a `.gguf` file, or files the user
//! picked or dropped, a whole folder included), and reading its files: what
//! the model needs in memory first (from `config.json` or the GGUF header,
//! [`MemoryNeed`]), shown and checked against the page's [`Limit`] before any
//! weights are downloaded or read.

use std::cell::Cell;

use serde::Deserialize;
use tinyeval_core::config::ModelConfig;
use tinyeval_core::file_bytes::PIECE_BYTES;
use tinyeval_core::memory::MemoryNeed;
use tinyeval_core::{Device, LanguageModel, ModelFiles};

use crate::pool::ModelBytes;

use crate::browser::fetch::{Check, Download, fetch_bytes, fetch_cached, fetch_optional, read_pieces};
use crate::memory::{Limit, gguf_file_need, gguf_need, next_header_try};
pub use crate::model_files::{ChosenFile, Dropped, chosen_files};

/// The bundled model the page opens with, when the site has it.
pub const PREFERRED_MODEL: &str = "tinyhelen-1m";

/// A model bundled with the site (`models/index.json`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BuiltinModel {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A membership manifest (JSONL: task, split, idx, member) next to the model, if any.
    #[serde(default)]
    pub membership: Option<String>,
}

#[derive(Deserialize)]
struct ModelIndex {
    models: Vec<BuiltinModel>,
}

/// The models listed in `models/index.json`.
pub async fn builtin_models() -> Result<Vec<BuiltinModel>, String> {
    let url = "models/index.json";
    let bytes = fetch_bytes(url).await?;
    let index: ModelIndex = serde_json::from_slice(&bytes).map_err(|e| format!("{url}: {e}"))?;
    Ok(index.models)
}

/// `tinyhelen-1m` when bundled, else the first model listed.
pub fn default_model(models: &[BuiltinModel]) -> Option<&BuiltinModel> {
    models.iter().find(|m| m.name == PREFERRED_MODEL).or(models.first())
}

/// A file read into memory (a task's data, a corpus, Leaner-Eval's files):
/// its path relative to the chosen folder, or its URL, and its bytes.
#[derive(Clone)]
pub struct LocalFile {
    pub path: String,
    pub bytes: std::rc::Rc<Vec<u8>>,
}

#[derive(Clone)]
pub enum ModelSource {
    Builtin(String),
    /// A folder URL (ending in `/`) holding config.json, tokenizer.json and
    /// safetensors weights, or the URL of a `.gguf` file. Relative URLs are
    /// resolved against the page.
    Url(String),
    /// Files picked or dropped, read when the model loads.
    Local(Vec<ChosenFile>),
}

impl ModelSource {
    /// The `model` query parameter of the page URL, if any.
    pub fn from_page_url() -> Option<Self> {
        web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get("model"))
            .filter(|m| !m.trim().is_empty())
            .map(ModelSource::Url)
    }

    pub fn describe(&self) -> String {
        match self {
            ModelSource::Builtin(name) => name.clone(),
            ModelSource::Url(url) => url.clone(),
            ModelSource::Local(files) => match files.iter().find(|f| is_gguf_name(&f.path)) {
                Some(f) => base_name(&f.path).to_string(),
                None => files
                    .first()
                    .and_then(|f| f.path.rsplit_once('/').map(|(dir, _)| dir.to_string()))
                    .unwrap_or_else(|| "local files".into()),
            },
        }
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_gguf_name(path: &str) -> bool {
    path.to_lowercase().ends_with(".gguf")
}

/// A download in progress: which file, bytes so far, and the total when known.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadProgress {
    pub file: String,
    pub done: u64,
    pub total: Option<u64>,
}

/// What loading reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadEvent {
    Download(DownloadProgress),
    /// What the model needs in memory, against the page's limit
    /// ([`Limit::explain`]), known before its weights are read.
    Need(String),
}

/// A loaded model, and whether every file came from the browser's cache.
pub struct Loaded {
    pub model: LanguageModel,
    pub from_cache: bool,
    /// The message that loads a copy of it in a worker, when asked for
    /// ([`Keep::ForWorkers`]).
    pub for_workers: Option<js_sys::Object>,
}

/// Whether loading keeps a copy of the model's files for the page's workers.
#[derive(Clone, Copy, PartialEq)]
pub enum Keep {
    Nothing,
    ForWorkers,
}

/// Builds the model from its files, first copying them into a message for
/// the workers when `keep` asks for it.
fn build(bytes: ModelBytes, device: &Device, keep: Keep, from_cache: bool) -> Result<Loaded, String> {
    let for_workers = (keep == Keep::ForWorkers).then(|| bytes.load_message());
    Ok(Loaded { model: bytes.load(device)?, from_cache, for_workers })
}

pub async fn load_model(source: &ModelSource, device: &Device, keep: Keep, on_event: &dyn Fn(LoadEvent)) -> Result<Loaded, String> {
    let limit = Limit::here();
    // Shows the need, then refuses it if it does not fit.
    let need = |name: &str, file: &str, n: &MemoryNeed| -> Result<(), String> {
        on_event(LoadEvent::Need(limit.explain(name, n)));
        limit.check(file, n)
    };
    match source {
        ModelSource::Builtin(name) => load_bundled(name, device, keep, &need).await,
        ModelSource::Url(url) => load_url(url, device, keep, &limit, &|p| on_event(LoadEvent::Download(p)), &need).await,
        ModelSource::Local(files) => load_local(&source.describe(), files, device, keep, &need).await,
    }
}

/// `need(model name, file to name in an error, need)`: shows the need and checks it.
type NeedCheck<'a> = dyn Fn(&str, &str, &MemoryNeed) -> Result<(), String> + 'a;

/// A bundled model: served with the site, so no cache and no progress.
async fn load_bundled(name: &str, device: &Device, keep: Keep, need: &NeedCheck<'_>) -> Result<Loaded, String> {
    let base = format!("models/{name}/");
    let weights = format!("{base}model.safetensors");
    let files = ModelFiles {
        name: name.to_string(),
        config_json: fetch_bytes(&format!("{base}config.json")).await?,
        tokenizer_json: fetch_bytes(&format!("{base}tokenizer.json")).await?,
        tokenizer_config_json: fetch_optional(&format!("{base}tokenizer_config.json")).await?,
        safetensors: vec![(weights.clone(), fetch_bytes(&weights).await?)],
    };
    let config = ModelConfig::from_json(&format!("{name}/config.json"), &files.config_json).map_err(|e| e.to_string())?;
    need(name, &weights, &MemoryNeed::of_config(&config, files.safetensors[0].1.len() as u64))?;
    build(ModelBytes::Folder(files), device, keep, false)
}

/// A model by URL: a GGUF file's header or a folder's `config.json` first,
/// so that a model too large for the page is refused before its weights are
/// downloaded (a GGUF as soon as its header has come in; a folder's weights
/// from their `Content-Length`).
async fn load_url(url: &str, device: &Device, keep: Keep, limit: &Limit, on_progress: &dyn Fn(DownloadProgress), need: &NeedCheck<'_>) -> Result<Loaded, String> {
    let all_cached = Cell::new(true);
    // The file in pieces of `piece_len` bytes (one piece if `None`).
    let get_pieces = async |url: String, required: bool, check: &Check<'_>, piece_len: Option<usize>| -> Result<Option<Vec<Vec<u8>>>, String> {
        let file = base_name(&url).to_string();
        let report = |done, total| on_progress(DownloadProgress { file: file.clone(), done, total });
        match fetch_cached(&url, &report, check, piece_len).await? {
            Some(d) => {
                all_cached.set(all_cached.get() && d.from_cache);
                Ok(Some(d.pieces))
            }
            None if required => Err(format!("{url}: HTTP 404 Not Found")),
            None => Ok(None),
        }
    };
    let get = async |url: String, required: bool, check: &Check<'_>| -> Result<Option<Vec<u8>>, String> {
        let pieces = get_pieces(url, required, check, None).await?;
        Ok(pieces.map(|p| Download { pieces: p, from_cache: false }.bytes()))
    };
    let any_size = |_: Option<u64>, _: &[u8]| -> Result<bool, String> { Ok(true) };
    if is_gguf_name(url) {
        let tried_at = Cell::new(0u64);
        let check = |size: Option<u64>, prefix: &[u8]| -> Result<bool, String> {
            let Some(size) = size else {
                // No declared length: the header is read after the download.
                return Ok(true);
            };
            if prefix.is_empty() {
                // Before the header: the file, and its weights at least as large.
                limit.check_at_least(url, size.saturating_mul(2))?;
                return Ok(false);
            }
            if (prefix.len() as u64) < next_header_try(tried_at.get()) && (prefix.len() as u64) < size {
                return Ok(false);
            }
            tried_at.set(prefix.len() as u64);
            match gguf_need(url, prefix, size)? {
                Some(n) => need(url, url, &n).map(|()| true),
                None => Ok(false),
            }
        };
        let pieces = get_pieces(url.to_string(), true, &check, Some(PIECE_BYTES)).await?.unwrap_or_default();
        if tried_at.get() == 0 {
            // Nothing declared its size: the header now, before the weights are built.
            let len = pieces.iter().map(|p| p.len() as u64).sum();
            let prefix: Vec<u8> = pieces.iter().flatten().copied().take(64 << 20).collect();
            if let Some(n) = gguf_need(url, &prefix, len)? {
                need(url, url, &n)?;
            }
        }
        return build(ModelBytes::Gguf { name: url.to_string(), pieces }, device, keep, all_cached.get());
    }
    let base = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
    let name = base.trim_end_matches('/').to_string();
    let config_url = format!("{base}config.json");
    let config_json = get(config_url.clone(), true, &any_size).await?.unwrap_or_default();
    // A configuration core cannot run is reported now, before its weights are downloaded.
    let config = ModelConfig::from_json(&config_url, &config_json).map_err(|e| e.to_string())?;
    limit.check(&config_url, &MemoryNeed::of_config(&config, 0))?;
    // Weight bytes so far (earlier shards), for each next file's check.
    let weights_so_far = Cell::new(0u64);
    let fits = |file: &str, size: Option<u64>| match size {
        Some(s) => need(&name, file, &MemoryNeed::of_config(&config, weights_so_far.get() + s)).map(|()| true),
        None => Ok(true),
    };
    let single = format!("{base}model.safetensors");
    let single_bytes = get(single.clone(), false, &|size: Option<u64>, _: &[u8]| fits(&single, size)).await?;
    let safetensors = match single_bytes {
        Some(bytes) => vec![(single, bytes)],
        None => {
            let index_url = format!("{base}model.safetensors.index.json");
            let index = get(index_url.clone(), false, &any_size)
                .await?
                .ok_or_else(|| format!("{base}: no model.safetensors, and no model.safetensors.index.json either"))?;
            let names = tinyeval_core::weights::SafetensorsWeights::shard_names_from_index(&index_url, &index)
                .map_err(|e| e.to_string())?;
            let mut shards = Vec::with_capacity(names.len());
            for shard_name in names {
                let shard = format!("{base}{shard_name}");
                let bytes = get(shard.clone(), true, &|size: Option<u64>, _: &[u8]| fits(&shard, size)).await?.unwrap_or_default();
                weights_so_far.set(weights_so_far.get() + bytes.len() as u64);
                shards.push((shard, bytes));
            }
            shards
        }
    };
    let files = ModelFiles {
        name,
        config_json,
        tokenizer_json: get(format!("{base}tokenizer.json"), true, &any_size).await?.unwrap_or_default(),
        tokenizer_config_json: get(format!("{base}tokenizer_config.json"), false, &any_size).await?,
        safetensors,
    };
    build(ModelBytes::Folder(files), device, keep, all_cached.get())
}

/// Files picked or dropped: one `.gguf` file (its header read first, then
/// the file), or a Hugging Face folder's files (`config.json` first). Each
/// file is read once, into the buffer core takes over.
async fn load_local(name: &str, files: &[ChosenFile], device: &Device, keep: Keep, need: &NeedCheck<'_>) -> Result<Loaded, String> {
    let find = |file: &str| files.iter().find(|f| base_name(&f.path) == file);
    if let Some(gguf) = files.iter().find(|f| is_gguf_name(&f.path)) {
        need(&gguf.path, &gguf.path, &gguf_file_need(&gguf.path, &gguf.file).await?)?;
        // In pieces, which loading frees as it reads the tensors in them.
        let pieces = read_pieces(&gguf.file, PIECE_BYTES as u64).await?;
        return build(ModelBytes::Gguf { name: gguf.path.clone(), pieces }, device, keep, false);
    }
    let names: Vec<&str> = files.iter().map(|f| base_name(&f.path)).collect();
    let missing = |file: &str| {
        format!(
            "{name}: {file} is missing (a Hugging Face model folder needs config.json, tokenizer.json and model.safetensors; got {})",
            if names.is_empty() { "no files".to_string() } else { names.join(", ") }
        )
    };
    let weights: Vec<&ChosenFile> = match find("model.safetensors") {
        Some(f) => vec![f],
        None => {
            let index = find("model.safetensors.index.json").ok_or_else(|| missing("model.safetensors"))?;
            let shard_names = tinyeval_core::weights::SafetensorsWeights::shard_names_from_index(&index.path, &index.read().await?)
                .map_err(|e| e.to_string())?;
            shard_names.iter().map(|s| find(s).ok_or_else(|| missing(s))).collect::<Result<Vec<_>, _>>()?
        }
    };
    let config_file = find("config.json").ok_or_else(|| missing("config.json"))?;
    let config_json = config_file.read().await?;
    // Named as LanguageModel::load names it, so either reports a bad config alike.
    let config = ModelConfig::from_json(&format!("{name}/config.json"), &config_json).map_err(|e| e.to_string())?;
    let first = weights.first().ok_or_else(|| missing("model.safetensors"))?;
    let weight_bytes = weights.iter().map(|f| f.size()).sum();
    need(name, &first.path, &MemoryNeed::of_config(&config, weight_bytes))?;
    let tokenizer_json = find("tokenizer.json").ok_or_else(|| missing("tokenizer.json"))?.read().await?;
    let tokenizer_config_json = match find("tokenizer_config.json") {
        Some(f) => Some(f.read().await?),
        None => None,
    };
    let mut safetensors = Vec::with_capacity(weights.len());
    for f in weights {
        safetensors.push((f.path.clone(), f.read().await?));
    }
    let files = ModelFiles { name: name.to_string(), config_json, tokenizer_json, tokenizer_config_json, safetensors };
    build(ModelBytes::Folder(files), device, keep, false)
}
