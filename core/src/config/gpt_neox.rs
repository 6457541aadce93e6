//! GPT-NeoX's `config.json` (`model_type: "gpt_neox"`, Pythia): LayerNorm,
//! parallel residual, rotary positions on part of each head.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
use crate::model_limits::{MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB, head_size};

use super::rope::refuse_scaling;
use super::{Activation, Architecture, Extras, ModelConfig, NormKind, Positions, RopeParameters, check_dims, default_ln_eps, default_true, token_id, unsupported};

#[derive(Debug, Deserialize)]
pub(super) struct GptNeoXJson {
    vocab_size: usize,
    max_position_embeddings: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    #[serde(default = "default_gelu")]
    hidden_act: String,
    rotary_pct: Option<f64>,
    partial_rotary_factor: Option<f64>,
    rotary_emb_base: Option<f64>,
    rope_theta: Option<f64>,
    rope_scaling: Option<Value>,
    rope_parameters: Option<RopeParameters>,
    #[serde(default = "default_ln_eps")]
    layer_norm_eps: f64,
    #[serde(default = "default_true")]
    use_parallel_residual: bool,
    #[serde(default = "default_true")]
    attention_bias: bool,
    #[serde(default)]
    tie_word_embeddings: bool,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

fn default_gelu() -> String {
    "gelu".into()
}

impl GptNeoXJson {
    pub(super) fn into_config(self, file: &str) -> Result<ModelConfig> {
        refuse_scaling(file, &self.rope_parameters, &self.rope_scaling)?;
        if !self.attention_bias {
            return Err(unsupported(file, "attention_bias", false, "GPT-NeoX without attention biases is not implemented"));
        }
        check_dims(file, &[
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("intermediate_size", self.intermediate_size, MAX_INTERMEDIATE),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, MAX_HEADS),
            ("max_position_embeddings", self.max_position_embeddings, MAX_POSITIONS),
        ])?;
        let head_dim = head_size(file, "hidden_size", self.hidden_size, "num_attention_heads", self.num_attention_heads)?;
        let rope = self.rope_parameters.as_ref();
        let fraction = rope
            .and_then(|r| r.partial_rotary_factor())
            .or(self.partial_rotary_factor)
            .or(self.rotary_pct)
            .unwrap_or(0.25);
        let theta = rope
            .and_then(|r| r.rope_theta)
            .or(self.rope_theta)
            .or(self.rotary_emb_base)
            .unwrap_or(10_000.0);
        Ok(ModelConfig {
            architecture: Architecture::GptNeoX,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_hidden_layers,
            num_heads: self.num_attention_heads,
            num_kv_heads: self.num_attention_heads,
            head_dim,
            intermediate_size: self.intermediate_size,
            max_positions: self.max_position_embeddings,
            // transformers: int(head_dim * rotary_pct)
            positions: Positions::Rotary { theta, rotary_dims: (head_dim as f64 * fraction) as usize },
            norm: NormKind::Layer,
            norm_eps: self.layer_norm_eps,
            activation: Activation::parse(file, "hidden_act", &self.hidden_act)?,
            gated_mlp: false,
            parallel_residual: self.use_parallel_residual,
            tie_embeddings: self.tie_word_embeddings,
            scale_attention: true,
            attention_windows: vec![None; self.num_hidden_layers],
            bos_token_id: token_id(file, "bos_token_id", &self.bos_token_id)?,
            eos_token_id: token_id(file, "eos_token_id", &self.eos_token_id)?,
            extras: Extras::default(),
        })
    }
}
