//! Where a model comes from (a model bundled with the site, a URL base such as
//! a Hugging Face `resolve/main/` folder or a `.gguf` file, or files the user
//! picked or dropped, a whole folder included), and reading its files.

use std::rc::Rc;

use serde::Deserialize;
use tinyeval_core::{Device, LanguageModel, ModelFiles};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser::fetch::{fetch_bytes, fetch_cached, fetch_optional, js_error, read_file};
use crate::memory::{Limit, declared_parameters, needed};

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

/// A file the user picked or dropped: its path relative to the chosen folder, and its bytes.
#[derive(Clone)]
pub struct LocalFile {
    pub path: String,
    pub bytes: Rc<Vec<u8>>,
}

#[derive(Clone)]
pub enum ModelSource {
    Builtin(String),
    /// A folder URL (ending in `/`) holding config.json, tokenizer.json and
    /// safetensors weights, or the URL of a `.gguf` file. Relative URLs are
    /// resolved against the page.
    Url(String),
    Local(Vec<LocalFile>),
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
            ModelSource::Local(files) => match files.iter().find(|f| f.path.to_lowercase().ends_with(".gguf")) {
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

/// A download in progress: which file, bytes so far, and the total when known.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadProgress {
    pub file: String,
    pub done: u64,
    pub total: Option<u64>,
}

/// A loaded model, and whether every file came from the browser's cache.
pub struct Loaded {
    pub model: LanguageModel,
    pub from_cache: bool,
}

pub async fn load_model(source: &ModelSource, device: &Device, on_progress: &dyn Fn(DownloadProgress)) -> Result<Loaded, String> {
    match source {
        ModelSource::Builtin(name) => load_bundled(name, device).await,
        ModelSource::Url(url) => load_url(url, device, on_progress).await,
        ModelSource::Local(files) => load_local(&source.describe(), files, device),
    }
}

/// A bundled model: served with the site, so no cache and no progress.
async fn load_bundled(name: &str, device: &Device) -> Result<Loaded, String> {
    let base = format!("models/{name}/");
    let files = ModelFiles {
        name: name.to_string(),
        config_json: fetch_bytes(&format!("{base}config.json")).await?,
        tokenizer_json: fetch_bytes(&format!("{base}tokenizer.json")).await?,
        tokenizer_config_json: fetch_optional(&format!("{base}tokenizer_config.json")).await?,
        safetensors: vec![(format!("{base}model.safetensors"), fetch_bytes(&format!("{base}model.safetensors")).await?)],
    };
    let model = LanguageModel::load(files, device).map_err(|e| e.to_string())?;
    Ok(Loaded { model, from_cache: false })
}

/// A model by URL: `config.json` first, so a model too large for the page
/// (its declared parameters, then each weight file's `Content-Length`) is
/// refused before its weights are downloaded.
async fn load_url(url: &str, device: &Device, on_progress: &dyn Fn(DownloadProgress)) -> Result<Loaded, String> {
    let all_cached = std::cell::Cell::new(true);
    let limit = Limit::here();
    // `check(declared size)` may refuse a file before its body is read.
    let get = async |url: String, required: bool, check: &dyn Fn(Option<u64>) -> Result<(), String>| -> Result<Option<Vec<u8>>, String> {
        let file = base_name(&url).to_string();
        let report = |done, total| on_progress(DownloadProgress { file: file.clone(), done, total });
        match fetch_cached(&url, &report, check).await? {
            Some(d) => {
                all_cached.set(all_cached.get() && d.from_cache);
                Ok(Some(d.bytes))
            }
            None if required => Err(format!("{url}: HTTP 404 Not Found")),
            None => Ok(None),
        }
    };
    let any_size = |_: Option<u64>| -> Result<(), String> { Ok(()) };
    if url.to_lowercase().ends_with(".gguf") {
        // The file itself, and its weights as tensors at least as large.
        let check = |size: Option<u64>| size.map_or(Ok(()), |s| limit.check(url, 2.0 * s as f64, true));
        let bytes = get(url.to_string(), true, &check).await?.unwrap_or_default();
        limit.check(url, 2.0 * bytes.len() as f64, true)?;
        let model = LanguageModel::load_gguf(url.to_string(), bytes, device).map_err(|e| e.to_string())?;
        return Ok(Loaded { model, from_cache: all_cached.get() });
    }
    let base = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
    let config_url = format!("{base}config.json");
    let config_json = get(config_url.clone(), true, &any_size).await?.unwrap_or_default();
    let params = declared_parameters(&config_url, &config_json).unwrap_or(0.0);
    limit.check(&config_url, needed(0, params), false)?;
    // Weight bytes so far (earlier shards), for each next file's check.
    let weights_so_far = std::cell::Cell::new(0u64);
    let fits = |file: &str, size: Option<u64>| size.map_or(Ok(()), |s| limit.check(file, needed(weights_so_far.get() + s, params), false));
    let single = format!("{base}model.safetensors");
    let single_bytes = get(single.clone(), false, &|size: Option<u64>| fits(&single, size)).await?;
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
            for name in names {
                let shard = format!("{base}{name}");
                let bytes = get(shard.clone(), true, &|size: Option<u64>| fits(&shard, size)).await?.unwrap_or_default();
                weights_so_far.set(weights_so_far.get() + bytes.len() as u64);
                shards.push((shard, bytes));
            }
            shards
        }
    };
    let files = ModelFiles {
        name: base.trim_end_matches('/').to_string(),
        config_json,
        tokenizer_json: get(format!("{base}tokenizer.json"), true, &any_size).await?.unwrap_or_default(),
        tokenizer_config_json: get(format!("{base}tokenizer_config.json"), false, &any_size).await?,
        safetensors,
    };
    let model = LanguageModel::load(files, device).map_err(|e| e.to_string())?;
    Ok(Loaded { model, from_cache: all_cached.get() })
}

/// Refuses files the user chose before they are read into memory: the weight
/// files' sizes and the parameters `config.json` declares (read first, it is
/// small) against [`Limit::here`]. A `config.json` that does not parse is left
/// for loading to report.
pub async fn check_chosen_files(files: &[web_sys::File]) -> Result<(), String> {
    let limit = Limit::here();
    let is_weights = |f: &web_sys::File| {
        let n = f.name().to_lowercase();
        n.ends_with(".safetensors") || n.ends_with(".gguf")
    };
    if let Some(gguf) = files.iter().find(|f| f.name().to_lowercase().ends_with(".gguf")) {
        return limit.check(&gguf.name(), 2.0 * gguf.size(), true);
    }
    let weights: f64 = files.iter().filter(|&f| is_weights(f)).map(|f| f.size()).sum();
    let params = match files.iter().find(|f| f.name() == "config.json") {
        // A config.json of more than 1 MiB is not one; loading says so.
        Some(c) if c.size() <= 1048576.0 => declared_parameters(&c.name(), &read_file(c).await?).unwrap_or(0.0),
        _ => 0.0,
    };
    let named = files.iter().find(|&f| is_weights(f)).map(|f| f.name()).unwrap_or_else(|| "config.json".into());
    limit.check(&named, needed(weights as u64, params), false)
}

/// Files picked or dropped: one `.gguf` file, or a Hugging Face folder's files.
fn load_local(name: &str, files: &[LocalFile], device: &Device) -> Result<Loaded, String> {
    let find = |file: &str| files.iter().find(|f| base_name(&f.path) == file);
    let limit = Limit::here();
    if let Some(gguf) = files.iter().find(|f| f.path.to_lowercase().ends_with(".gguf")) {
        limit.check(&gguf.path, 2.0 * gguf.bytes.len() as f64, true)?;
        let model = LanguageModel::load_gguf(gguf.path.clone(), gguf.bytes.to_vec(), device).map_err(|e| e.to_string())?;
        return Ok(Loaded { model, from_cache: false });
    }
    let names: Vec<&str> = files.iter().map(|f| base_name(&f.path)).collect();
    let missing = |file: &str| {
        format!(
            "{name}: {file} is missing (a Hugging Face model folder needs config.json, tokenizer.json and model.safetensors; got {})",
            if names.is_empty() { "no files".to_string() } else { names.join(", ") }
        )
    };
    let safetensors = match find("model.safetensors") {
        Some(f) => vec![(f.path.clone(), f.bytes.to_vec())],
        None => {
            let index = find("model.safetensors.index.json").ok_or_else(|| missing("model.safetensors"))?;
            let shard_names = tinyeval_core::weights::SafetensorsWeights::shard_names_from_index(&index.path, &index.bytes)
                .map_err(|e| e.to_string())?;
            shard_names
                .iter()
                .map(|s| find(s).map(|f| (f.path.clone(), f.bytes.to_vec())).ok_or_else(|| missing(s)))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let config = find("config.json").ok_or_else(|| missing("config.json"))?;
    let params = declared_parameters(&config.path, &config.bytes).unwrap_or(0.0);
    let weight_bytes: u64 = safetensors.iter().map(|(_, b)| b.len() as u64).sum();
    let named = safetensors.first().map_or(config.path.as_str(), |(path, _)| path.as_str());
    limit.check(named, needed(weight_bytes, params), false)?;
    let files = ModelFiles {
        name: name.to_string(),
        config_json: config.bytes.to_vec(),
        tokenizer_json: find("tokenizer.json").ok_or_else(|| missing("tokenizer.json"))?.bytes.to_vec(),
        tokenizer_config_json: find("tokenizer_config.json").map(|f| f.bytes.to_vec()),
        safetensors,
    };
    let model = LanguageModel::load(files, device).map_err(|e| e.to_string())?;
    Ok(Loaded { model, from_cache: false })
}

/// Whether a file in a dropped folder is one a model is loaded from (other
/// files, such as a model card or PyTorch weights, are not read).
fn is_model_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    matches!(lower.as_str(), "config.json" | "tokenizer.json" | "tokenizer_config.json" | "model.safetensors.index.json")
        || lower.ends_with(".safetensors")
        || lower.ends_with(".gguf")
}

/// What was dropped onto a model slot, taken from the drop event while the
/// browser still lets it be read (it empties the `DataTransfer` afterwards):
/// folders and files as file-system entries, or plain files where the browser
/// gives no entry (a `DataTransfer` made by a script).
pub struct Dropped {
    entries: Vec<web_sys::FileSystemEntry>,
    files: Vec<web_sys::File>,
}

impl Dropped {
    /// Takes the drop's items; call it inside the drop event's handler.
    pub fn take(data: &web_sys::DataTransfer) -> Self {
        let items = data.items();
        let mut dropped = Dropped { entries: Vec::new(), files: Vec::new() };
        for item in (0..items.length()).filter_map(|i| items.get(i)).filter(|item| item.kind() == "file") {
            match item.webkit_get_as_entry() {
                Ok(Some(entry)) => dropped.entries.push(entry),
                _ => dropped.files.extend(item.get_as_file().ok().flatten()),
            }
        }
        dropped
    }

    /// Reads the dropped files, and the model files at the top of each dropped folder.
    pub async fn read(self) -> Result<Vec<LocalFile>, String> {
        // Dropped files (not folders) are refused before they are read when too large.
        check_chosen_files(&self.files).await?;
        let mut out = Vec::new();
        for file in &self.files {
            out.push(LocalFile { path: file.name(), bytes: Rc::new(read_file(file).await?) });
        }
        for entry in &self.entries {
            // Chromium's entries are `DirectoryEntry`/`FileEntry` objects: ask, rather than test the class.
            if entry.is_directory() {
                let dir: &web_sys::FileSystemDirectoryEntry = entry.unchecked_ref();
                let before = out.len();
                for child in directory_entries(dir).await? {
                    if child.is_file() && is_model_file(&child.name()) {
                        out.push(read_entry(child.unchecked_ref()).await?);
                    }
                }
                if out.len() == before {
                    return Err(format!(
                        "{}: no model files in this folder (a Hugging Face model folder has config.json, tokenizer.json and model.safetensors; or drop a .gguf file)",
                        entry.name()
                    ));
                }
            } else if entry.is_file() {
                out.push(read_entry(entry.unchecked_ref()).await?);
            }
        }
        if out.is_empty() {
            return Err("nothing to read: drop a .gguf file, or a model folder (config.json, tokenizer.json, model.safetensors) or its files".into());
        }
        Ok(out)
    }
}

/// Waits for a callback-style file-system call: `call(on_success, on_error)`.
async fn callback_result(call: impl FnOnce(&js_sys::Function, &js_sys::Function)) -> Result<JsValue, JsValue> {
    let mut call = Some(call);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await
}

/// Every entry of a folder (`readEntries` gives them a batch at a time, then an empty batch).
async fn directory_entries(dir: &web_sys::FileSystemDirectoryEntry) -> Result<Vec<web_sys::FileSystemEntry>, String> {
    let reader = dir.create_reader();
    let mut all = Vec::new();
    loop {
        let batch = callback_result(|ok, err| {
            if let Err(e) = reader.read_entries_with_callback_and_callback(ok, err) {
                let _ = err.call1(&JsValue::NULL, &e);
            }
        })
        .await
        .map_err(|e| format!("{}: cannot list the folder ({})", dir.name(), js_error(&e)))?;
        let batch: js_sys::Array = batch.unchecked_into();
        if batch.length() == 0 {
            return Ok(all);
        }
        all.extend(batch.iter().map(|e| e.unchecked_into::<web_sys::FileSystemEntry>()));
    }
}

/// A file of a dropped folder, with its path inside the drop (`tinyhelen-1m/config.json`).
async fn read_entry(entry: &web_sys::FileSystemFileEntry) -> Result<LocalFile, String> {
    let path = entry.full_path().trim_start_matches('/').to_string();
    let file: web_sys::File = callback_result(|ok, err| entry.file_with_callback_and_callback(ok, err))
        .await
        .map_err(|e| format!("{path}: cannot read it ({})", js_error(&e)))?
        .unchecked_into();
    Ok(LocalFile { path, bytes: Rc::new(read_file(&file).await?) })
}
