//! Model configuration, read straight from a Hugging Face `config.json`.
//!
//! Each supported `model_type` has its own serde struct with the field names
//! transformers writes; all of them are turned into one [`ModelConfig`] that the
//! decoder is built from. Options that would change the computation but are not
//! implemented are rejected by name rather than ignored.
//!
//! This file holds the shared types ([`ModelConfig`], [`Architecture`],
//! [`Activation`], [`NormKind`], [`Positions`], [`Extras`]), the dispatch on
//! `model_type` and the helpers every family uses; each family's `config.json`
//! fields are in its own file (`llama`, `qwen2`, `qwen3`, `gemma3`, `olmo2`,
//! `gpt2`, `gpt_neo`, `gpt_neox`), rotary settings and their scaling in `rope`,
//! and the checks of a configuration as a whole (dimensions, parameters against
//! weights, batch memory) in `validate`.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model_limits::check_dim;

mod gemma3;
mod gpt2;
mod gpt_neo;
mod gpt_neox;
mod llama;
mod olmo2;
mod qwen2;
mod qwen3;
mod rope;
mod validate;

use gemma3::Gemma3Json;
use gpt_neo::GptNeoJson;
use gpt_neox::GptNeoXJson;
use gpt2::Gpt2Json;
use llama::LlamaJson;
use olmo2::Olmo2Json;
use qwen2::Qwen2Json;
use qwen3::Qwen3Json;
pub use rope::RopeScaling;
use rope::RopeParameters;

/// The checkpoint layout: which tensor names the decoder loads. Llama, Qwen 2,
/// Qwen 3, Gemma 3 and OLMo 2 share Llama's names; what they compute
/// differently is in [`Extras`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Llama,
    Gpt2,
    GptNeo,
    GptNeoX,
    Qwen2,
    Qwen3,
    Gemma3,
    Olmo2,
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
    /// Rotary embeddings on the first `rotary_dims` dimensions of each head
    /// (scaled as [`Extras::rope_scaling`] says).
    Rotary { theta: f64, rotary_dims: usize },
    /// A learned position-embedding table added to the token embeddings.
    Learned,
}

/// Query/key RMSNorm before rotary positions (Qwen 3, Gemma 3, OLMo 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QkNorm {
    /// Over each head's `head_dim` values, one weight of `head_dim` shared by all
    /// heads (Qwen 3, Gemma 3: `q_norm.weight` is [head_dim]).
    PerHead,
    /// Over the whole projection before it is split into heads (OLMo 2:
    /// `q_norm.weight` is [heads * head_dim], `k_norm.weight` [kv_heads * head_dim]).
    Whole,
}

/// Where a layer's norms sit around attention and MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NormPlacement {
    /// `x + f(norm(x))` (Llama, Qwen, GPT): `input_layernorm`, `post_attention_layernorm`.
    #[default]
    Pre,
    /// `x + post(f(pre(x)))`, four norms per layer (Gemma 3: `input_layernorm`,
    /// `post_attention_layernorm`, `pre_feedforward_layernorm`, `post_feedforward_layernorm`).
    Sandwich,
    /// `x + norm(f(x))` (OLMo 2: `post_attention_layernorm`, `post_feedforward_layernorm`).
    Post,
}

/// What Qwen 2/3, Gemma 3, OLMo 2 and Llama's rarer options add to the plain
/// layouts. `Extras::default()` is plain Llama (and what the GPT families use):
/// no biases, no query/key norm, pre-norms, unscaled rotary positions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extras {
    /// Biases on the query, key and value projections (Qwen 2 always; Llama,
    /// Qwen 3, OLMo 2 and Gemma 3 with `attention_bias`).
    pub qkv_bias: bool,
    /// A bias on the attention output projection (`attention_bias`, but never Qwen 2's).
    pub attention_out_bias: bool,
    /// Biases on the gated MLP's three projections (Llama's `mlp_bias`).
    pub mlp_bias: bool,
    pub qk_norm: Option<QkNorm>,
    pub norm_placement: NormPlacement,
    /// Gemma's RMSNorm multiplies by `1 + weight` (its weights are stored centred on 0).
    pub norm_adds_one: bool,
    /// Token embeddings are multiplied by this (Gemma 3: sqrt(hidden_size), rounded
    /// to f32 as transformers' buffer is).
    pub embed_scale: Option<f32>,
    /// Multiplies attention scores in place of 1/sqrt(head_dim) (Gemma 3:
    /// `query_pre_attn_scalar`^-0.5).
    pub attention_scale: Option<f64>,
    /// `cap * tanh(logits / cap)` on the output logits (Gemma 3's `final_logit_softcapping`).
    pub final_logit_softcap: Option<f64>,
    /// How rotary frequencies are scaled (`rope_scaling` / `rope_parameters.rope_type`);
    /// applies to the layers without an attention window when `local_rope_theta` is set.
    pub rope_scaling: RopeScaling,
    /// Rotary base of the layers with an attention window, unscaled (Gemma 3's
    /// sliding layers: `rope_local_base_freq`); `None`: every layer uses `theta`.
    pub local_rope_theta: Option<f64>,
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
    /// Options beyond the plain Llama/GPT layouts; `Extras::default()` for those.
    pub extras: Extras,
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
            // The rotary and sliding-window fields several families share are
            // read from the same object (not flattened, so errors keep the field's name).
            "llama" => fields::<LlamaJson>(file, value.clone())?.into_config(file, fields(file, value)?)?,
            "qwen2" => fields::<Qwen2Json>(file, value.clone())?.into_config(file, fields(file, value.clone())?, fields(file, value)?)?,
            "qwen3" => fields::<Qwen3Json>(file, value.clone())?.into_config(file, fields(file, value.clone())?, fields(file, value)?)?,
            "gemma3_text" => fields::<Gemma3Json>(file, value)?.into_config(file)?,
            "olmo2" => fields::<Olmo2Json>(file, value.clone())?.into_config(file, fields(file, value)?)?,
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

/// Per-layer attention windows from transformers' `layer_types`: a
/// `sliding_attention` layer sees the last `window` positions (`window` is the
/// config's `sliding_window`), a `full_attention` one all of them.
fn layer_windows(file: &str, layer_types: &[String], num_layers: usize, window: Option<usize>) -> Result<Vec<Option<usize>>> {
    if layer_types.len() != num_layers {
        return Err(Error::bad_file(file, format!("`layer_types` lists {} layers but `num_hidden_layers` is {num_layers}", layer_types.len())));
    }
    layer_types
        .iter()
        .map(|t| match t.as_str() {
            "full_attention" => Ok(None),
            "sliding_attention" => match window {
                Some(w) => Ok(Some(check_dim(file, "sliding_window", w, crate::model_limits::MAX_POSITIONS)?)),
                None => Err(Error::bad_file(file, "`layer_types` has sliding_attention layers but `sliding_window` is null")),
            },
            other => Err(unsupported(file, "layer_types", other, "only full_attention and sliding_attention layers are implemented")),
        })
        .collect()
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

#[cfg(test)]
mod tests;
