//! GPT-2's `config.json` (`model_type: "gpt2"`): LayerNorm, GELU MLP, learned
//! positions, tied embeddings.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
use crate::model_limits::{MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB, head_size};

use super::{Activation, Architecture, Extras, ModelConfig, NormKind, Positions, check_dims, default_gelu_new, default_ln_eps, default_true, token_id, unsupported};

#[derive(Debug, Deserialize)]
pub(super) struct Gpt2Json {
    vocab_size: usize,
    n_positions: usize,
    n_embd: usize,
    n_layer: usize,
    n_head: usize,
    n_inner: Option<usize>,
    #[serde(default = "default_gelu_new")]
    activation_function: String,
    #[serde(default = "default_ln_eps")]
    layer_norm_epsilon: f64,
    #[serde(default = "default_true")]
    scale_attn_weights: bool,
    #[serde(default)]
    scale_attn_by_inverse_layer_idx: bool,
    #[serde(default = "default_true")]
    tie_word_embeddings: bool,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

impl Gpt2Json {
    pub(super) fn into_config(self, file: &str) -> Result<ModelConfig> {
        if self.scale_attn_by_inverse_layer_idx {
            return Err(unsupported(file, "scale_attn_by_inverse_layer_idx", true, "not implemented"));
        }
        if !self.tie_word_embeddings {
            return Err(unsupported(file, "tie_word_embeddings", false, "GPT-2 checkpoints share the embedding with the output layer"));
        }
        check_dims(file, &[
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("n_embd", self.n_embd, MAX_HIDDEN),
            ("n_inner", self.n_inner.unwrap_or(1), MAX_INTERMEDIATE),
            ("n_layer", self.n_layer, MAX_LAYERS),
            ("n_head", self.n_head, MAX_HEADS),
            ("n_positions", self.n_positions, MAX_POSITIONS),
        ])?;
        let head_dim = head_size(file, "n_embd", self.n_embd, "n_head", self.n_head)?;
        Ok(ModelConfig {
            architecture: Architecture::Gpt2,
            vocab_size: self.vocab_size,
            hidden_size: self.n_embd,
            num_layers: self.n_layer,
            num_heads: self.n_head,
            num_kv_heads: self.n_head,
            head_dim,
            intermediate_size: self.n_inner.unwrap_or(4 * self.n_embd),
            max_positions: self.n_positions,
            positions: Positions::Learned,
            norm: NormKind::Layer,
            norm_eps: self.layer_norm_epsilon,
            activation: Activation::parse(file, "activation_function", &self.activation_function)?,
            gated_mlp: false,
            parallel_residual: false,
            tie_embeddings: true,
            scale_attention: self.scale_attn_weights,
            attention_windows: vec![None; self.n_layer],
            bos_token_id: token_id(file, "bos_token_id", &self.bos_token_id)?,
            eos_token_id: token_id(file, "eos_token_id", &self.eos_token_id)?,
            extras: Extras::default(),
        })
    }
}
