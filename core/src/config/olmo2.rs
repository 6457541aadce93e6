//! OLMo 2's `config.json` (`model_type: "olmo2"`): Llama's layout with its
//! norms after attention and MLP instead of before (`x + norm(f(x))`), and an
//! RMSNorm over the whole query and key projections before they are split into heads.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;

use super::llama::{LlamaLayout, default_silu};
use super::rope::RopeFields;
use super::{Architecture, Extras, ModelConfig, NormPlacement, QkNorm};

#[derive(Debug, Deserialize)]
pub(super) struct Olmo2Json {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    /// Not an Olmo2Config field, but transformers uses it when config.json has it.
    head_dim: Option<usize>,
    #[serde(default = "default_olmo2_positions")]
    max_position_embeddings: usize,
    #[serde(default = "default_olmo2_eps")]
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

fn default_olmo2_positions() -> usize {
    2048
}
fn default_olmo2_eps() -> f64 {
    1e-5
}

impl Olmo2Json {
    pub(super) fn into_config(self, file: &str, rope: RopeFields) -> Result<ModelConfig> {
        let layout = LlamaLayout {
            architecture: Architecture::Olmo2,
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
            qk_norm: Some(QkNorm::Whole),
            norm_placement: NormPlacement::Post,
            rope_scaling,
            ..Extras::default()
        };
        layout.into_config(file, theta, vec![None; self.num_hidden_layers], extras)
    }
}
