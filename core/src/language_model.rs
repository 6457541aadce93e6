//! A model ready to use: its configuration, tokenizer and decoder, loaded from
//! the files of a Hugging Face model folder or from one GGUF file (parsed by
//! [`crate::gguf`]), as bytes, so that the browser and the CLI share the code.

use std::rc::Rc;

use burn::tensor::Device;

use crate::config::ModelConfig;
use crate::error::Result;
#[cfg(not(target_family = "wasm"))]
use crate::error::Error;
use crate::file_bytes::FileBytes;
use crate::gguf::GgufFile;
use crate::model::Decoder;
use crate::scorer::{BatchScorer, score_in_length_order};
use crate::scoring::{ScoreRequest, TokenScores, rolling_windows};
use crate::tokenizer::TextTokenizer;
use crate::weights::SafetensorsWeights;

/// The files of a Hugging Face model folder, read into memory.
pub struct ModelFiles {
    /// Shown to the user and in errors (a folder path or a URL).
    pub name: String,
    pub config_json: Vec<u8>,
    pub tokenizer_json: Vec<u8>,
    pub tokenizer_config_json: Option<Vec<u8>>,
    /// `(file name, bytes)` of every safetensors shard.
    pub safetensors: Vec<(String, Vec<u8>)>,
}

impl ModelFiles {
    /// Reads a model folder: `config.json`, `tokenizer.json`, optional
    /// `tokenizer_config.json`, and `model.safetensors` or the shards listed in
    /// `model.safetensors.index.json`.
    #[cfg(not(target_family = "wasm"))]
    pub fn from_dir(dir: &std::path::Path) -> Result<Self> {
        let read = |name: &str| crate::files::read_model_file(&dir.join(name));
        let index_path = dir.join("model.safetensors.index.json");
        let shard_names = if index_path.exists() {
            let index_name = index_path.display().to_string();
            let names = SafetensorsWeights::shard_names_from_index(&index_name, &read("model.safetensors.index.json")?)?;
            // Shards live in the folder: an index cannot send the loader elsewhere.
            let inside = |n: &str| std::path::Path::new(n).components().all(|c| matches!(c, std::path::Component::Normal(_)));
            if let Some(bad) = names.iter().find(|n| !inside(n)) {
                return Err(Error::bad_file(index_name, format!("shard `{bad}` is not a file name inside the model folder")));
            }
            names
        } else {
            vec!["model.safetensors".to_string()]
        };
        let safetensors = shard_names
            .into_iter()
            .map(|name| Ok((dir.join(&name).display().to_string(), read(&name)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            name: dir.display().to_string(),
            config_json: read("config.json")?,
            tokenizer_json: read("tokenizer.json")?,
            tokenizer_config_json: read("tokenizer_config.json").ok(),
            safetensors,
        })
    }
}

pub struct LanguageModel {
    pub name: String,
    pub config: ModelConfig,
    pub tokenizer: TextTokenizer,
    pub decoder: Decoder,
    /// Bytes of weights as stored in the files.
    pub file_bytes: usize,
    /// Where scoring runs do their forward passes when not on `decoder`
    /// (the page's pool of Web Workers, each holding a copy of the model).
    scorer: Option<Rc<dyn BatchScorer>>,
}

/// Log-probabilities of each token of one text. Entry `j` of `logprobs`, `means`
/// and `variances` belongs to the distribution that predicted token `j`; the first
/// token has no prediction (`None`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextScores {
    pub text: String,
    pub tokens: Vec<u32>,
    pub token_strs: Vec<String>,
    pub logprobs: Vec<Option<f32>>,
    pub mean: Vec<Option<f32>>,
    pub var: Vec<Option<f32>>,
}

/// A text split into scoring requests, waiting for their scores.
pub struct TextPlan {
    pub text: String,
    pub tokens: Vec<u32>,
    pub requests: Vec<ScoreRequest>,
}

impl LanguageModel {
    pub fn load(files: ModelFiles, device: &Device) -> Result<Self> {
        let config = ModelConfig::from_json(&format!("{}/config.json", files.name), &files.config_json)?;
        let tokenizer = TextTokenizer::from_bytes(
            &format!("{}/tokenizer.json", files.name),
            &files.tokenizer_json,
            files.tokenizer_config_json.as_deref(),
        )?;
        tokenizer.check_fits(&format!("{}/tokenizer.json", files.name), config.vocab_size)?;
        let file_bytes = files.safetensors.iter().map(|(_, b)| b.len()).sum();
        // Headers first, so that a broken shard is named before the config is
        // compared with the weights' size.
        let weights = SafetensorsWeights::from_shards(files.name.clone(), files.safetensors)?;
        config.check_backed_by(&format!("{}/config.json", files.name), file_bytes)?;
        let decoder = Decoder::load(&config, &weights, device)?;
        Ok(Self {
            name: files.name,
            config,
            tokenizer,
            decoder,
            file_bytes,
            scorer: None,
        })
    }

    /// Loads a model from the bytes of one `.gguf` file (a `Vec<u8>`, or
    /// [`FileBytes`] in pieces, freed as the tensors in them are read, which
    /// spares holding the whole file and every f32 weight at once); `name` is
    /// shown to the user and in errors.
    pub fn load_gguf(name: impl Into<String>, bytes: impl Into<FileBytes>, device: &Device) -> Result<Self> {
        let name = name.into();
        let gguf = GgufFile::parse(name.clone(), bytes)?;
        let config = gguf.model_config()?;
        config.check_backed_by(&name, gguf.tensor_data_bytes())?;
        let tokenizer = gguf.tokenizer()?;
        tokenizer.check_fits(&name, config.vocab_size)?;
        let decoder = Decoder::load(&config, &gguf, device)?;
        Ok(Self {
            name,
            config,
            tokenizer,
            decoder,
            file_bytes: gguf.tensor_data_bytes(),
            scorer: None,
        })
    }

    /// Loads a Hugging Face model folder, or a single `.gguf` file.
    #[cfg(not(target_family = "wasm"))]
    pub fn load_path(path: &std::path::Path, device: &Device) -> Result<Self> {
        if path.is_dir() {
            return Self::load(ModelFiles::from_dir(path)?, device);
        }
        let name = path.display().to_string();
        let bytes = crate::files::read_model_pieces(path)?;
        if !crate::gguf::is_gguf(&bytes.prefix(4)) {
            return Err(Error::bad_file(name, "neither a model folder nor a GGUF file"));
        }
        Self::load_gguf(name, bytes, device)
    }

    /// The model whose scoring runs do their forward passes on `scorer` (a
    /// pool of copies of this model) instead of on its own decoder.
    pub fn with_scorer(self, scorer: Rc<dyn BatchScorer>) -> Self {
        Self { scorer: Some(scorer), ..self }
    }

    /// Where scoring runs do their forward passes: the pool given to
    /// [`Self::with_scorer`], else this model's decoder.
    pub fn scorer(&self) -> &dyn BatchScorer {
        self.scorer.as_deref().unwrap_or(&self.decoder)
    }

    /// Tokenizes `text` and splits it into rolling windows of the model's context.
    pub fn plan_text(&self, text: &str) -> Result<TextPlan> {
        let tokens = self.tokenizer.encode(text)?;
        let requests = match tokens.split_first() {
            Some((&first, rest)) => rolling_windows(first, rest, self.config.max_positions),
            None => Vec::new(),
        };
        Ok(TextPlan {
            text: text.to_string(),
            tokens,
            requests,
        })
    }

    /// Joins the scores of a plan's requests (in order) into per-token scores.
    pub fn finish_text(&self, plan: TextPlan, scores: Vec<TokenScores>) -> TextScores {
        let mut logprobs = Vec::with_capacity(plan.tokens.len());
        let mut mean = Vec::with_capacity(plan.tokens.len());
        let mut var = Vec::with_capacity(plan.tokens.len());
        if !plan.tokens.is_empty() {
            logprobs.push(None);
            mean.push(None);
            var.push(None);
        }
        for s in scores {
            logprobs.extend(s.logprobs.into_iter().map(Some));
            mean.extend(s.means.into_iter().map(Some));
            var.extend(s.variances.into_iter().map(Some));
        }
        TextScores {
            token_strs: plan.tokens.iter().map(|&t| self.tokenizer.token_str(t)).collect(),
            text: plan.text,
            tokens: plan.tokens,
            logprobs,
            mean,
            var,
        }
    }

    /// Scores texts, `batch_size` windows per forward pass.
    pub async fn score_texts(&self, texts: &[String], batch_size: usize) -> Result<Vec<TextScores>> {
        self.score_texts_stepwise(texts, batch_size, |_| std::future::ready(Ok(()))).await
    }

    /// [`Self::score_texts`] with `after_batch` awaited before the first
    /// forward pass and after each one (the page yields to its event loop there
    /// and shows progress; an error it returns, e.g. [`crate::Error::Cancelled`], stops the run).
    pub async fn score_texts_stepwise<F, Fut>(&self, texts: &[String], batch_size: usize, after_batch: F) -> Result<Vec<TextScores>>
    where
        F: FnMut(BatchProgress) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let plans = texts.iter().map(|t| self.plan_text(t)).collect::<Result<Vec<_>>>()?;
        let requests: Vec<ScoreRequest> = plans.iter().flat_map(|p| p.requests.iter().cloned()).collect();
        let mut scores = self.score_requests_stepwise(&requests, batch_size, after_batch).await?.into_iter();
        Ok(plans
            .into_iter()
            .map(|plan| {
                let mine = scores.by_ref().take(plan.requests.len()).collect();
                self.finish_text(plan, mine)
            })
            .collect())
    }

    /// Scores requests `batch_size` at a time, awaiting `after_batch` before
    /// the first forward pass and after each one.
    pub async fn score_requests_stepwise<F, Fut>(&self, requests: &[ScoreRequest], batch_size: usize, mut after_batch: F) -> Result<Vec<TokenScores>>
    where
        F: FnMut(BatchProgress) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut progress = BatchProgress { requests_done: 0, requests_total: requests.len(), tokens_done: 0 };
        after_batch(progress).await?;
        let scores = score_in_length_order(self.scorer(), requests, batch_size, |batch, done| {
            progress.tokens_done += batch.iter().map(|r| r.continuation.len()).sum::<usize>();
            progress.requests_done = done;
            after_batch(progress)
        })
        .await?;
        Ok(scores)
    }
}

/// Where a scoring run is: requests scored of the total, and tokens scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchProgress {
    pub requests_done: usize,
    pub requests_total: usize,
    pub tokens_done: usize,
}
