//! Llama's `config.json` (`model_type: "llama"`): RMSNorm, SwiGLU MLP, rotary
//! positions (optionally scaled: linear, llama3, yarn), optional grouped-query
//! attention and biases. Also [`LlamaLayout`], the fields that Qwen 2/3, Gemma 3
//! and OLMo 2 share with it, turned into a [`ModelConfig`] in one place.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
use crate::model_limits::{MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB, head_size};

use super::rope::RopeFields;
use super::{Activation, Architecture, Extras, ModelConfig, NormKind, Positions, check_dims, token_id};

#[derive(Debug, Deserialize)]
pub(super) struct LlamaJson {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    #[serde(default = "default_llama_positions")]
    max_position_embeddings: usize,
    #[serde(default = "default_rms_eps")]
    rms_norm_eps: f64,
    #[serde(default = "default_silu")]
    hidden_act: String,
    /// Biases on q, k, v and o.
    #[serde(default)]
    attention_bias: bool,
    /// Biases on gate, up and down.
    #[serde(default)]
    mlp_bias: bool,
    #[serde(default)]
    tie_word_embeddings: bool,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

fn default_llama_positions() -> usize {
    2048
}
pub(super) fn default_rms_eps() -> f64 {
    1e-6
}
pub(super) fn default_silu() -> String {
    "silu".into()
}

impl LlamaJson {
    pub(super) fn into_config(self, file: &str, rope: RopeFields) -> Result<ModelConfig> {
        let layout = LlamaLayout {
            architecture: Architecture::Llama,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_layers: self.num_hidden_layers,
            num_heads: self.num_attention_heads,
            num_kv_heads: self.num_key_value_heads,
            head_dim: self.head_dim,
            max_positions: self.max_position_embeddings,
            norm_eps: self.rms_norm_eps,
            activation: ("hidden_act", &self.hidden_act),
            tie_embeddings: self.tie_word_embeddings,
            bos_token_id: &self.bos_token_id,
            eos_token_id: &self.eos_token_id,
        };
        layout.check(file)?;
        let (theta, rope_scaling) = rope.resolve(file, 10_000.0, self.max_position_embeddings)?;
        let extras = Extras {
            qkv_bias: self.attention_bias,
            attention_out_bias: self.attention_bias,
            mlp_bias: self.mlp_bias,
            rope_scaling,
            ..Extras::default()
        };
        layout.into_config(file, theta, vec![None; self.num_hidden_layers], extras)
    }
}

/// What every Llama-layout family declares, by value; `activation` is
/// `(field name, value)` since Gemma calls it `hidden_activation`.
pub(super) struct LlamaLayout<'a> {
    pub architecture: Architecture,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    /// `None`: as many as the query heads.
    pub num_kv_heads: Option<usize>,
    /// `None`: hidden_size / num_heads.
    pub head_dim: Option<usize>,
    pub max_positions: usize,
    pub norm_eps: f64,
    pub activation: (&'a str, &'a str),
    pub tie_embeddings: bool,
    pub bos_token_id: &'a Option<Value>,
    pub eos_token_id: &'a Option<Value>,
}

impl LlamaLayout<'_> {
    /// Checks every dimension by its `config.json` name, before anything is sized from it.
    pub(super) fn check(&self, file: &str) -> Result<()> {
        check_dims(file, &[
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("intermediate_size", self.intermediate_size, MAX_INTERMEDIATE),
            ("num_hidden_layers", self.num_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_heads, MAX_HEADS),
            ("num_key_value_heads", self.num_kv_heads.unwrap_or(1), MAX_HEADS),
            ("head_dim", self.head_dim.unwrap_or(1), MAX_HEAD_DIM),
            ("max_position_embeddings", self.max_positions, MAX_POSITIONS),
        ])
    }

    /// The configuration: RMSNorm, gated MLP, rotary positions over whole heads.
    pub(super) fn into_config(self, file: &str, theta: f64, attention_windows: Vec<Option<usize>>, extras: Extras) -> Result<ModelConfig> {
        let head_dim = match self.head_dim {
            Some(d) => d,
            None => head_size(file, "hidden_size", self.hidden_size, "num_attention_heads", self.num_heads)?,
        };
        let (act_field, act) = self.activation;
        Ok(ModelConfig {
            architecture: self.architecture,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            num_heads: self.num_heads,
            num_kv_heads: self.num_kv_heads.unwrap_or(self.num_heads),
            head_dim,
            intermediate_size: self.intermediate_size,
            max_positions: self.max_positions,
            positions: Positions::Rotary { theta, rotary_dims: head_dim },
            norm: NormKind::Rms,
            norm_eps: self.norm_eps,
            activation: Activation::parse(file, act_field, act)?,
            gated_mlp: true,
            parallel_residual: false,
            tie_embeddings: self.tie_embeddings,
            scale_attention: true,
            attention_windows,
            bos_token_id: token_id(file, "bos_token_id", self.bos_token_id)?,
            eos_token_id: token_id(file, "eos_token_id", self.eos_token_id)?,
            extras,
        })
    }
}
