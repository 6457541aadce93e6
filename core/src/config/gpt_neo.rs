//! GPT-Neo's `config.json` (`model_type: "gpt_neo"`): GPT-2's layout with
//! unscaled attention and a pattern of global and local (windowed) layers.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model_limits::{MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB, head_size};

use super::{Activation, Architecture, Extras, ModelConfig, NormKind, Positions, check_dims, default_gelu_new, default_ln_eps, token_id, unsupported};

#[derive(Debug, Deserialize)]
pub(super) struct GptNeoJson {
    vocab_size: usize,
    max_position_embeddings: usize,
    hidden_size: usize,
    num_layers: usize,
    num_heads: usize,
    intermediate_size: Option<usize>,
    #[serde(default = "default_window")]
    window_size: usize,
    /// e.g. `[[["global", "local"], 12]]`: a pattern and how often it repeats.
    attention_types: Vec<(Vec<String>, usize)>,
    #[serde(default = "default_gelu_new")]
    activation_function: String,
    #[serde(default = "default_ln_eps")]
    layer_norm_epsilon: f64,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

fn default_window() -> usize {
    256
}

impl GptNeoJson {
    pub(super) fn into_config(self, file: &str) -> Result<ModelConfig> {
        check_dims(file, &[
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("intermediate_size", self.intermediate_size.unwrap_or(1), MAX_INTERMEDIATE),
            ("num_layers", self.num_layers, MAX_LAYERS),
            ("num_heads", self.num_heads, MAX_HEADS),
            ("max_position_embeddings", self.max_position_embeddings, MAX_POSITIONS),
            ("window_size", self.window_size, MAX_POSITIONS),
        ])?;
        let head_dim = head_size(file, "hidden_size", self.hidden_size, "num_heads", self.num_heads)?;
        // Count before expanding: a pattern repeated 10^12 times is a broken file.
        let described = self
            .attention_types
            .iter()
            .try_fold(0usize, |n, (pattern, repeat)| n.checked_add(pattern.len().checked_mul(*repeat)?));
        if described != Some(self.num_layers) {
            let described = described.map_or("more than can be counted".to_string(), |n| n.to_string());
            return Err(Error::bad_file(
                file,
                format!("`attention_types` describes {described} layers but `num_layers` is {}", self.num_layers),
            ));
        }
        let mut windows = Vec::with_capacity(self.num_layers);
        for (pattern, repeat) in &self.attention_types {
            for _ in 0..*repeat {
                for kind in pattern {
                    windows.push(match kind.as_str() {
                        "global" => None,
                        "local" => Some(self.window_size),
                        other => return Err(unsupported(file, "attention_types", other, "expected `global` or `local`")),
                    });
                }
            }
        }
        if windows.len() != self.num_layers {
            return Err(Error::bad_file(
                file,
                format!("attention_types describes {} layers but num_layers is {}", windows.len(), self.num_layers),
            ));
        }
        Ok(ModelConfig {
            architecture: Architecture::GptNeo,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            num_heads: self.num_heads,
            num_kv_heads: self.num_heads,
            head_dim,
            intermediate_size: self.intermediate_size.unwrap_or(4 * self.hidden_size),
            max_positions: self.max_position_embeddings,
            positions: Positions::Learned,
            norm: NormKind::Layer,
            norm_eps: self.layer_norm_epsilon,
            activation: Activation::parse(file, "activation_function", &self.activation_function)?,
            gated_mlp: false,
            parallel_residual: false,
            tie_embeddings: true,
            scale_attention: false,
            attention_windows: windows,
            bos_token_id: token_id(file, "bos_token_id", &self.bos_token_id)?,
            eos_token_id: token_id(file, "eos_token_id", &self.eos_token_id)?,
            extras: Extras::default(),
        })
    }
}
