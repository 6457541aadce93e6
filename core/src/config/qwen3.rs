//! Qwen 3's `config.json` (`model_type: "qwen3"`): Llama's layout with an
//! RMSNorm over each query and key head before rotary positions, a head size
//! of its own (`head_dim`, 128 unless given) and Qwen 2's sliding-window fields.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;

use super::llama::{LlamaLayout, default_rms_eps, default_silu};
use super::qwen2::QwenWindows;
use super::rope::RopeFields;
use super::{Architecture, Extras, ModelConfig, QkNorm};

#[derive(Debug, Deserialize)]
pub(super) struct Qwen3Json {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    /// Qwen3Config's default is 128, not hidden_size / num_attention_heads.
    #[serde(default = "default_qwen3_head_dim")]
    head_dim: usize,
    #[serde(default = "default_qwen3_positions")]
    max_position_embeddings: usize,
    #[serde(default = "default_rms_eps")]
    rms_norm_eps: f64,
    #[serde(default = "default_silu")]
    hidden_act: String,
    /// Biases on q, k, v and o.
    #[serde(default)]
    attention_bias: bool,
    #[serde(default)]
    tie_word_embeddings: bool,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

fn default_qwen3_head_dim() -> usize {
    128
}
fn default_qwen3_positions() -> usize {
    32768
}

impl Qwen3Json {
    pub(super) fn into_config(self, file: &str, rope: RopeFields, windows: QwenWindows) -> Result<ModelConfig> {
        let layout = LlamaLayout {
            architecture: Architecture::Qwen3,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_layers: self.num_hidden_layers,
            num_heads: self.num_attention_heads,
            num_kv_heads: self.num_key_value_heads,
            head_dim: Some(self.head_dim),
            max_positions: self.max_position_embeddings,
            norm_eps: self.rms_norm_eps,
            activation: ("hidden_act", &self.hidden_act),
            tie_embeddings: self.tie_word_embeddings,
            bos_token_id: &self.bos_token_id,
            eos_token_id: &self.eos_token_id,
        };
        layout.check(file)?;
        let windows = windows.per_layer(file, self.num_hidden_layers)?;
        let (theta, rope_scaling) = rope.resolve(file, 10_000.0, self.max_position_embeddings)?;
        let extras = Extras {
            qkv_bias: self.attention_bias,
            attention_out_bias: self.attention_bias,
            qk_norm: Some(QkNorm::PerHead),
            rope_scaling,
            ..Extras::default()
        };
        layout.into_config(file, theta, windows, extras)
    }
}
