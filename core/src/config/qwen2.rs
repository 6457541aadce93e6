//! Qwen 2's `config.json` (`model_type: "qwen2"`, Qwen2 and Qwen2.5): Llama's
//! layout with biases on the query, key and value projections (never on the
//! output one), and optional sliding-window layers.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

use super::llama::{LlamaLayout, default_rms_eps, default_silu};
use super::rope::RopeFields;
use super::{Architecture, Extras, ModelConfig, layer_windows};

#[derive(Debug, Deserialize)]
pub(super) struct Qwen2Json {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    /// Not a Qwen2Config field, but transformers uses it when config.json has it.
    head_dim: Option<usize>,
    #[serde(default = "default_qwen_positions")]
    max_position_embeddings: usize,
    #[serde(default = "default_rms_eps")]
    rms_norm_eps: f64,
    #[serde(default = "default_silu")]
    hidden_act: String,
    #[serde(default)]
    tie_word_embeddings: bool,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

fn default_qwen_positions() -> usize {
    32768
}

/// Qwen 2 and 3's sliding-window fields. transformers uses `sliding_window`
/// only with `use_sliding_window`, on the layers from `max_window_layers` on
/// unless `layer_types` lists them.
#[derive(Debug, Deserialize)]
pub(super) struct QwenWindows {
    #[serde(default)]
    use_sliding_window: bool,
    #[serde(default = "default_sliding_window")]
    sliding_window: Option<usize>,
    #[serde(default = "default_max_window_layers")]
    max_window_layers: usize,
    layer_types: Option<Vec<String>>,
}

fn default_sliding_window() -> Option<usize> {
    Some(4096)
}
fn default_max_window_layers() -> usize {
    28
}

impl QwenWindows {
    pub(super) fn per_layer(&self, file: &str, num_layers: usize) -> Result<Vec<Option<usize>>> {
        let window = self.sliding_window.filter(|_| self.use_sliding_window);
        let layer_types = match &self.layer_types {
            Some(types) => types.clone(),
            None => (0..num_layers)
                .map(|i| if window.is_some() && i >= self.max_window_layers { "sliding_attention" } else { "full_attention" }.to_string())
                .collect(),
        };
        if window.is_none() && layer_types.iter().any(|t| t == "sliding_attention") {
            // transformers stops here too ("Could not find a `sliding_window` argument").
            return Err(Error::bad_file(file, "`layer_types` has sliding_attention layers but `use_sliding_window` is false or `sliding_window` null"));
        }
        layer_windows(file, &layer_types, num_layers, window)
    }
}

impl Qwen2Json {
    pub(super) fn into_config(self, file: &str, rope: RopeFields, windows: QwenWindows) -> Result<ModelConfig> {
        let layout = LlamaLayout {
            architecture: Architecture::Qwen2,
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
        let windows = windows.per_layer(file, self.num_hidden_layers)?;
        let (theta, rope_scaling) = rope.resolve(file, 10_000.0, self.max_position_embeddings)?;
        let extras = Extras { qkv_bias: true, rope_scaling, ..Extras::default() };
        layout.into_config(file, theta, windows, extras)
    }
}
