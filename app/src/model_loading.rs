//! Where a model comes from (a model bundled with the site, a URL base such as
//! a Hugging Face `resolve/main/` folder or a `.gguf` file, or files the user
//! picked), and reading its files.

use std::rc::Rc;

use serde::Deserialize;
use tinyeval_core::{Device, LanguageModel, ModelFiles};

use crate::fetch::{fetch_bytes, fetch_cached, fetch_optional};

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

async fn load_url(url: &str, device: &Device, on_progress: &dyn Fn(DownloadProgress)) -> Result<Loaded, String> {
    let all_cached = std::cell::Cell::new(true);
    let get = async |url: String, required: bool| -> Result<Option<Vec<u8>>, String> {
        let file = base_name(&url).to_string();
        let report = |done, total| on_progress(DownloadProgress { file: file.clone(), done, total });
        match fetch_cached(&url, &report).await? {
            Some(d) => {
                all_cached.set(all_cached.get() && d.from_cache);
                Ok(Some(d.bytes))
            }
            None if required => Err(format!("{url}: HTTP 404 Not Found")),
            None => Ok(None),
        }
    };
    if url.to_lowercase().ends_with(".gguf") {
        let bytes = get(url.to_string(), true).await?.unwrap_or_default();
        let model = LanguageModel::load_gguf(url.to_string(), bytes, device).map_err(|e| e.to_string())?;
        return Ok(Loaded { model, from_cache: all_cached.get() });
    }
    let base = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
    let safetensors = match get(format!("{base}model.safetensors"), false).await? {
        Some(bytes) => vec![(format!("{base}model.safetensors"), bytes)],
        None => {
            let index_url = format!("{base}model.safetensors.index.json");
            let index = get(index_url.clone(), false)
                .await?
                .ok_or_else(|| format!("{base}: no model.safetensors, and no model.safetensors.index.json either"))?;
            let names = tinyeval_core::weights::SafetensorsWeights::shard_names_from_index(&index_url, &index)
                .map_err(|e| e.to_string())?;
            let mut shards = Vec::with_capacity(names.len());
            for name in names {
                let shard = format!("{base}{name}");
                shards.push((shard.clone(), get(shard, true).await?.unwrap_or_default()));
            }
            shards
        }
    };
    let files = ModelFiles {
        name: base.trim_end_matches('/').to_string(),
        config_json: get(format!("{base}config.json"), true).await?.unwrap_or_default(),
        tokenizer_json: get(format!("{base}tokenizer.json"), true).await?.unwrap_or_default(),
        tokenizer_config_json: get(format!("{base}tokenizer_config.json"), false).await?,
        safetensors,
    };
    let model = LanguageModel::load(files, device).map_err(|e| e.to_string())?;
    Ok(Loaded { model, from_cache: all_cached.get() })
}

/// Files picked or dropped: one `.gguf` file, or a Hugging Face folder's files.
fn load_local(name: &str, files: &[LocalFile], device: &Device) -> Result<Loaded, String> {
    let find = |file: &str| files.iter().find(|f| base_name(&f.path) == file);
    if let Some(gguf) = files.iter().find(|f| f.path.to_lowercase().ends_with(".gguf")) {
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
    let files = ModelFiles {
        name: name.to_string(),
        config_json: find("config.json").ok_or_else(|| missing("config.json"))?.bytes.to_vec(),
        tokenizer_json: find("tokenizer.json").ok_or_else(|| missing("tokenizer.json"))?.bytes.to_vec(),
        tokenizer_config_json: find("tokenizer_config.json").map(|f| f.bytes.to_vec()),
        safetensors,
    };
    let model = LanguageModel::load(files, device).map_err(|e| e.to_string())?;
    Ok(Loaded { model, from_cache: false })
}
