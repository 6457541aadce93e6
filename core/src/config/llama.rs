//! Llama's `config.json` (`model_type: "llama"`): RMSNorm, SwiGLU MLP, rotary
//! positions, optional grouped-query attention.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
use crate::model_limits::{MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB, head_size};

use super::{Activation, Architecture, ModelConfig, NormKind, Positions, RopeParameters, check_dims, check_rope_type, token_id, unsupported};

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
    rope_theta: Option<f64>,
    rope_scaling: Option<Value>,
    rope_parameters: Option<RopeParameters>,
    #[serde(default = "default_silu")]
    hidden_act: String,
    #[serde(default)]
    attention_bias: bool,
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
fn default_rms_eps() -> f64 {
    1e-6
}
fn default_silu() -> String {
    "silu".into()
}

impl LlamaJson {
    pub(super) fn into_config(self, file: &str) -> Result<ModelConfig> {
        check_rope_type(file, &self.rope_parameters, &self.rope_scaling)?;
        if self.attention_bias {
            return Err(unsupported(file, "attention_bias", true, "Llama attention biases are not implemented"));
        }
        if self.mlp_bias {
            return Err(unsupported(file, "mlp_bias", true, "Llama MLP biases are not implemented"));
        }
        check_dims(file, &[
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("intermediate_size", self.intermediate_size, MAX_INTERMEDIATE),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, MAX_HEADS),
            ("num_key_value_heads", self.num_key_value_heads.unwrap_or(1), MAX_HEADS),
            ("head_dim", self.head_dim.unwrap_or(1), MAX_HEAD_DIM),
            ("max_position_embeddings", self.max_position_embeddings, MAX_POSITIONS),
        ])?;
        let head_dim = match self.head_dim {
            Some(d) => d,
            None => head_size(file, "hidden_size", self.hidden_size, "num_attention_heads", self.num_attention_heads)?,
        };
        let theta = self
            .rope_parameters
            .as_ref()
            .and_then(|r| r.rope_theta)
            .or(self.rope_theta)
            .unwrap_or(10_000.0);
        Ok(ModelConfig {
            architecture: Architecture::Llama,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_hidden_layers,
            num_heads: self.num_attention_heads,
            num_kv_heads: self.num_key_value_heads.unwrap_or(self.num_attention_heads),
            head_dim,
            intermediate_size: self.intermediate_size,
            max_positions: self.max_position_embeddings,
            positions: Positions::Rotary { theta, rotary_dims: head_dim },
            norm: NormKind::Rms,
            norm_eps: self.rms_norm_eps,
            activation: Activation::parse(file, "hidden_act", &self.hidden_act)?,
            gated_mlp: true,
            parallel_residual: false,
            tie_embeddings: self.tie_word_embeddings,
            scale_attention: true,
            attention_windows: vec![None; self.num_hidden_layers],
            bos_token_id: token_id(file, "bos_token_id", &self.bos_token_id)?,
            eos_token_id: token_id(file, "eos_token_id", &self.eos_token_id)?,
        })
    }
}
