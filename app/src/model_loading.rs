//! Where a model comes from (the bundled demo, or a URL base such as a Hugging
//! Face `resolve/main/` folder or a `.gguf` file), and fetching its files.

use tinyeval_core::{Device, LanguageModel, ModelFiles};

use crate::fetch::{fetch_bytes, fetch_optional};

/// The model bundled with the site, served from `public/models/`.
pub const DEMO_MODEL: &str = "llama-2k-1m-random";

#[derive(Clone, Debug, PartialEq)]
pub enum ModelSource {
    Demo,
    /// A folder URL (ending in `/`) holding config.json, tokenizer.json and
    /// safetensors weights, or the URL of a `.gguf` file. Relative URLs are
    /// resolved against the page.
    Url(String),
}

impl ModelSource {
    /// The `model` query parameter of the page URL, or the demo model.
    pub fn from_page_url() -> Self {
        let param = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get("model"))
            .filter(|m| !m.trim().is_empty());
        match param {
            Some(url) => ModelSource::Url(url),
            None => ModelSource::Demo,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ModelSource::Demo => DEMO_MODEL.to_string(),
            ModelSource::Url(url) => url.clone(),
        }
    }

    fn base(&self) -> String {
        match self {
            ModelSource::Demo => format!("models/{DEMO_MODEL}/"),
            ModelSource::Url(url) if url.ends_with('/') => url.clone(),
            ModelSource::Url(url) => format!("{url}/"),
        }
    }
}

pub async fn load_model(source: &ModelSource, device: &Device) -> Result<LanguageModel, String> {
    if let ModelSource::Url(url) = source {
        if url.to_lowercase().ends_with(".gguf") {
            let bytes = fetch_bytes(url).await?;
            return LanguageModel::load_gguf(url.clone(), bytes, device).map_err(|e| e.to_string());
        }
    }
    let base = source.base();
    // Most checkpoints are one file; ask for the shard index only when it is missing
    // (a 404 shows in the browser console, so probe in the common case's favour).
    let safetensors = match fetch_optional(&format!("{base}model.safetensors")).await? {
        Some(bytes) => vec![(format!("{base}model.safetensors"), bytes)],
        None => {
            let index_url = format!("{base}model.safetensors.index.json");
            let index = fetch_bytes(&index_url)
                .await
                .map_err(|e| format!("{base}: no model.safetensors, and no shard index either ({e})"))?;
            let names = tinyeval_core::weights::SafetensorsWeights::shard_names_from_index(&index_url, &index)
                .map_err(|e| e.to_string())?;
            let mut shards = Vec::with_capacity(names.len());
            for name in names {
                let url = format!("{base}{name}");
                shards.push((url.clone(), fetch_bytes(&url).await?));
            }
            shards
        }
    };
    let files = ModelFiles {
        name: source.describe(),
        config_json: fetch_bytes(&format!("{base}config.json")).await?,
        tokenizer_json: fetch_bytes(&format!("{base}tokenizer.json")).await?,
        tokenizer_config_json: fetch_optional(&format!("{base}tokenizer_config.json")).await?,
        safetensors,
    };
    LanguageModel::load(files, device).map_err(|e| e.to_string())
}
