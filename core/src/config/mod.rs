//! Model configuration, read straight from a Hugging Face `config.json`.
//!
//! Each supported `model_type` has its own serde struct with the field names
//! transformers writes; all of them are turned into one [`ModelConfig`] that the
//! decoder is built from. Options that would change the computation but are not
//! implemented are rejected by name rather than ignored.
//!
//! This file holds the shared types ([`ModelConfig`], [`Architecture`],
//! [`Activation`], [`NormKind`], [`Positions`]), the dispatch on `model_type`
//! and the helpers every family uses; each family's `config.json` fields are
//! in its own file (`llama`, `gpt2`, `gpt_neo`, `gpt_neox`), and the checks of a
//! configuration as a whole (dimensions, parameters against weights, batch
//! memory) in `validate`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model_limits::check_dim;

mod gpt2;
mod gpt_neo;
mod gpt_neox;
mod llama;
mod validate;

use gpt2::Gpt2Json;
use gpt_neo::GptNeoJson;
use gpt_neox::GptNeoXJson;
use llama::LlamaJson;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Llama,
    Gpt2,
    GptNeo,
    GptNeoX,
}

/// The MLP's non-linearity, named as in transformers' `ACT2FN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Silu,
    /// Exact GELU, with erf.
    Gelu,
    /// GELU's tanh approximation (`gelu_new`, `gelu_fast`, `gelu_pytorch_tanh`).
    GeluTanh,
    QuickGelu,
    Relu,
}

impl Activation {
    fn parse(file: &str, option: &str, name: &str) -> Result<Self> {
        Ok(match name {
            "silu" | "swish" => Activation::Silu,
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_fast" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "quick_gelu" => Activation::QuickGelu,
            "relu" => Activation::Relu,
            other => {
                return Err(unsupported(file, option, other, "unknown activation function"));
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormKind {
    Rms,
    Layer,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Positions {
    /// Rotary embeddings on the first `rotary_dims` dimensions of each head.
    Rotary { theta: f64, rotary_dims: usize },
    /// A learned position-embedding table added to the token embeddings.
    Learned,
}

/// Everything the decoder needs to know, whatever the checkpoint's family.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub architecture: Architecture,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub intermediate_size: usize,
    /// Longest sequence the model was trained on (its context window).
    pub max_positions: usize,
    pub positions: Positions,
    pub norm: NormKind,
    pub norm_eps: f64,
    pub activation: Activation,
    /// SwiGLU-style `down(act(gate(x)) * up(x))` instead of `fc_out(act(fc_in(x)))`.
    pub gated_mlp: bool,
    /// GPT-NeoX: `x + attn(ln1(x)) + mlp(ln2(x))`.
    pub parallel_residual: bool,
    pub tie_embeddings: bool,
    /// GPT-Neo does not divide attention scores by sqrt(head_dim).
    pub scale_attention: bool,
    /// Per layer: `Some(w)` restricts attention to the last `w` positions (GPT-Neo's local layers).
    pub attention_windows: Vec<Option<usize>>,
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<u32>,
}

impl ModelConfig {
    /// Parses a `config.json`; `file` names it in error messages.
    pub fn from_json(file: &str, json: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(json)
            .map_err(|e| Error::bad_file(file, format!("not valid UTF-8 (byte {})", e.valid_up_to())))?;
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::bad_file(file, format!("not valid JSON: {e}")))?;
        let model_type = value
            .get("model_type")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::bad_file(file, "no `model_type` field"))?
            .to_string();
        let config = match model_type.as_str() {
            "llama" => fields::<LlamaJson>(file, value)?.into_config(file)?,
            "gpt2" => fields::<Gpt2Json>(file, value)?.into_config(file)?,
            "gpt_neo" => fields::<GptNeoJson>(file, value)?.into_config(file)?,
            "gpt_neox" => fields::<GptNeoXJson>(file, value)?.into_config(file)?,
            _ => return Err(Error::UnsupportedModelType { file: file.into(), model_type }),
        };
        config.validate(file)?;
        Ok(config)
    }

    /// Number of parameters, counting a tied embedding once.
    pub fn num_parameters(&self) -> usize {
        usize::try_from(self.parameters_u64()).unwrap_or(usize::MAX)
    }
}

/// A family's fields; an error names the field at fault (e.g. `num_attention_heads: invalid type: string "2"`).
fn fields<T: serde::de::DeserializeOwned>(file: &str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            Error::bad_file(file, format!("bad config: {inner}"))
        } else {
            Error::bad_file(file, format!("`{path}`: {inner}"))
        }
    })
}

fn unsupported(file: &str, option: &str, value: impl std::fmt::Display, why: &str) -> Error {
    Error::UnsupportedOption {
        file: file.into(),
        option: option.into(),
        value: value.to_string(),
        why: why.into(),
    }
}

/// Newer transformers write `rope_parameters` instead of top-level `rope_theta`/`rope_scaling`.
#[derive(Debug, Deserialize, Default)]
struct RopeParameters {
    rope_type: Option<String>,
    rope_theta: Option<f64>,
    partial_rotary_factor: Option<f64>,
}

fn check_rope_type(file: &str, rope: &Option<RopeParameters>, scaling: &Option<Value>) -> Result<()> {
    if let Some(scaling) = scaling {
        if !scaling.is_null() {
            return Err(unsupported(file, "rope_scaling", scaling, "only unscaled rotary positions are implemented"));
        }
    }
    match rope.as_ref().and_then(|r| r.rope_type.as_deref()) {
        None | Some("default") => Ok(()),
        Some(other) => Err(unsupported(file, "rope_parameters.rope_type", other, "only `default` rotary positions are implemented")),
    }
}

/// Checks the dimensions a family's `config.json` declares, by their own names.
fn check_dims(file: &str, dims: &[(&str, usize, usize)]) -> Result<()> {
    for &(field, value, max) in dims {
        check_dim(file, field, value, max)?;
    }
    Ok(())
}

/// `bos_token_id`/`eos_token_id`: a token id, a list of them (the first is the
/// canonical one) or null. [`ModelConfig::validate`] checks it against the vocabulary.
fn token_id(file: &str, field: &str, value: &Option<Value>) -> Result<Option<u32>> {
    let id = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(ids)) if ids.is_empty() => return Ok(None),
        Some(Value::Array(ids)) => &ids[0],
        Some(v) => v,
    };
    match id.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) => Ok(Some(n)),
        None => Err(Error::bad_file(file, format!("`{field}` is {id}, which is not a token id"))),
    }
}

fn default_ln_eps() -> f64 {
    1e-5
}
fn default_gelu_new() -> String {
    "gelu_new".into()
}
fn default_true() -> bool {
    true
}
