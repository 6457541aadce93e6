//! Gemma 3's text `config.json` (`model_type: "gemma3_text"`): Llama's layout
//! with embeddings scaled by sqrt(hidden_size), RMSNorms that multiply by
//! `1 + weight`, four norms per layer (before and after attention and MLP), an
//! RMSNorm over each query and key head, a GELU-gated MLP, attention scores
//! scaled by `query_pre_attn_scalar`^-0.5, optional soft-capped logits, and
//! interleaved sliding-window and global layers, each kind with its own rotary base.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model_limits::{MAX_LAYERS, check_dim, check_float};

use super::llama::{LlamaLayout, default_rms_eps};
use super::rope::{RopeParameters, is_non_empty};
use super::{Architecture, Extras, ModelConfig, NormPlacement, QkNorm, RopeScaling, layer_windows, unsupported};

#[derive(Debug, Deserialize)]
pub(super) struct Gemma3Json {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    #[serde(default = "default_kv_heads")]
    num_key_value_heads: usize,
    #[serde(default = "default_head_dim")]
    head_dim: usize,
    #[serde(default = "default_activation")]
    hidden_activation: String,
    #[serde(default = "default_positions")]
    max_position_embeddings: usize,
    #[serde(default = "default_rms_eps")]
    rms_norm_eps: f64,
    #[serde(default = "default_true")]
    tie_word_embeddings: bool,
    /// Biases on q, k, v and o.
    #[serde(default)]
    attention_bias: bool,
    #[serde(default = "default_query_pre_attn_scalar")]
    query_pre_attn_scalar: f64,
    #[serde(default = "default_sliding_window")]
    sliding_window: Option<usize>,
    layer_types: Option<Vec<String>>,
    /// transformers 4's way to say which layers are global: every `n`th.
    #[serde(default = "default_pattern")]
    sliding_window_pattern: usize,
    final_logit_softcapping: Option<f64>,
    attn_logit_softcapping: Option<f64>,
    #[serde(default)]
    use_bidirectional_attention: Option<bool>,
    /// transformers 5: `{"full_attention": {...}, "sliding_attention": {...}}`.
    rope_parameters: Option<Gemma3Rope>,
    /// transformers 4: the global layers' base, the sliding layers' base, and the
    /// global layers' scaling.
    rope_theta: Option<f64>,
    rope_local_base_freq: Option<f64>,
    rope_scaling: Option<Value>,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
}

/// The per-layer-type rotary objects; anything else (a flat object) is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gemma3Rope {
    full_attention: Option<Map<String, Value>>,
    sliding_attention: Option<Map<String, Value>>,
}

fn default_kv_heads() -> usize {
    4
}
fn default_head_dim() -> usize {
    256
}
fn default_activation() -> String {
    "gelu_pytorch_tanh".into()
}
fn default_positions() -> usize {
    131_072
}
fn default_true() -> bool {
    true
}
fn default_query_pre_attn_scalar() -> f64 {
    256.0
}
fn default_sliding_window() -> Option<usize> {
    Some(4096)
}
fn default_pattern() -> usize {
    6
}

impl Gemma3Json {
    pub(super) fn into_config(self, file: &str) -> Result<ModelConfig> {
        if self.use_bidirectional_attention == Some(true) {
            return Err(unsupported(file, "use_bidirectional_attention", true, "only causal language models are implemented"));
        }
        if let Some(cap) = self.attn_logit_softcapping {
            // Gemma 2 applies it; transformers 5's Gemma 3 stores it but never
            // passes it to its attention, so neither reading would be safe.
            return Err(unsupported(file, "attn_logit_softcapping", cap, "transformers' Gemma 3 does not apply it"));
        }
        let layout = LlamaLayout {
            architecture: Architecture::Gemma3,
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_layers: self.num_hidden_layers,
            num_heads: self.num_attention_heads,
            num_kv_heads: Some(self.num_key_value_heads),
            head_dim: Some(self.head_dim),
            max_positions: self.max_position_embeddings,
            norm_eps: self.rms_norm_eps,
            activation: ("hidden_activation", &self.hidden_activation),
            tie_embeddings: self.tie_word_embeddings,
            bos_token_id: &self.bos_token_id,
            eos_token_id: &self.eos_token_id,
        };
        layout.check(file)?;
        check_float(file, "query_pre_attn_scalar", self.query_pre_attn_scalar, false)?;
        if let Some(cap) = self.final_logit_softcapping {
            check_float(file, "final_logit_softcapping", cap, false)?;
        }
        let windows = layer_windows(file, &self.layer_types(file)?, self.num_hidden_layers, self.sliding_window)?;
        let (theta, rope_scaling, local_theta) = self.rope(file)?;
        let extras = Extras {
            qkv_bias: self.attention_bias,
            attention_out_bias: self.attention_bias,
            qk_norm: Some(QkNorm::PerHead),
            norm_placement: NormPlacement::Sandwich,
            norm_adds_one: true,
            // transformers keeps sqrt(hidden_size) in an f32 buffer (cast to the
            // weights' dtype, f32 here).
            embed_scale: Some((self.hidden_size as f64).sqrt() as f32),
            attention_scale: Some(self.query_pre_attn_scalar.powf(-0.5)),
            final_logit_softcap: self.final_logit_softcapping,
            rope_scaling,
            local_rope_theta: Some(local_theta),
            ..Extras::default()
        };
        layout.into_config(file, theta, windows, extras)
    }

    /// `layer_types`, else every `sliding_window_pattern`th layer global (transformers' default, 6).
    fn layer_types(&self, file: &str) -> Result<Vec<String>> {
        if let Some(types) = &self.layer_types {
            return Ok(types.clone());
        }
        let pattern = check_dim(file, "sliding_window_pattern", self.sliding_window_pattern, MAX_LAYERS)?;
        Ok((0..self.num_hidden_layers)
            .map(|i| if (i + 1) % pattern != 0 { "sliding_attention" } else { "full_attention" }.to_string())
            .collect())
    }

    /// `(global theta, global scaling, sliding theta)`, as Gemma3TextConfig's
    /// `convert_rope_params_to_dict` reads either form: the legacy `rope_scaling`
    /// is laid over the global layers' object.
    fn rope(&self, file: &str) -> Result<(f64, RopeScaling, f64)> {
        let (full, sliding) = match &self.rope_parameters {
            Some(r) => (r.full_attention.clone(), r.sliding_attention.clone()),
            None => (None, None),
        };
        let default_object = || Map::from_iter([("rope_type".to_string(), Value::from("default"))]);
        let mut full = full.unwrap_or_else(default_object);
        let field = if let Some(scaling) = self.rope_scaling.as_ref().filter(|s| is_non_empty(s)) {
            let Some(scaling) = scaling.as_object() else {
                return Err(Error::bad_file(file, format!("`rope_scaling` is {scaling}, not an object")));
            };
            if scaling.contains_key("type") && !scaling.contains_key("rope_type") {
                // transformers 4 applied `type`; transformers 5 keeps the `rope_type`
                // already there ("default") and ignores it.
                return Err(unsupported(file, "rope_scaling.type", &scaling["type"], "transformers 4 and 5 read it differently for Gemma 3; write `rope_type`"));
            }
            full.extend(scaling.clone());
            "rope_scaling"
        } else {
            "rope_parameters.full_attention"
        };
        let full = RopeParameters::parse(file, field, &Value::Object(full))?;
        if full.truncate == Some(false) {
            // transformers reads `truncate` from the outer object, which never has it here.
            return Err(unsupported(file, &format!("{field}.truncate"), false, "transformers ignores it for Gemma 3"));
        }
        if let Some(fraction) = full.partial_rotary_factor().filter(|&f| f != 1.0) {
            return Err(unsupported(file, &format!("{field}.partial_rotary_factor"), fraction, "Gemma 3 rotates whole heads"));
        }
        let scaling = full.scaling(file, field, None, self.max_position_embeddings)?;
        let theta = full.rope_theta.or(self.rope_theta).unwrap_or(1_000_000.0);

        let field = "rope_parameters.sliding_attention";
        let sliding = RopeParameters::parse(file, field, &Value::Object(sliding.unwrap_or_else(default_object)))?;
        if sliding.rope_type() != "default" {
            return Err(unsupported(file, &format!("{field}.rope_type"), sliding.rope_type(), "only unscaled rotary positions are implemented for sliding layers"));
        }
        let local_theta = sliding.rope_theta.or(self.rope_local_base_freq).unwrap_or(10_000.0);
        check_float(file, "rope_local_base_freq", local_theta, false)?;
        Ok((theta, scaling, local_theta))
    }
}
