//! Model configuration, read straight from a Hugging Face `config.json`.
//!
//! Each supported `model_type` has its own serde struct with the field names
//! transformers writes; all of them are turned into one [`ModelConfig`] that the
//! decoder is built from. Options that would change the computation but are not
//! implemented are rejected by name rather than ignored.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model_limits::{
    MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB, check_dim, head_size,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Llama,
    Gpt2,
    GptNeo,
    GptNeoX,
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
    /// Rotary embeddings on the first `rotary_dims` dimensions of each head.
    Rotary { theta: f64, rotary_dims: usize },
    /// A learned position-embedding table added to the token embeddings.
    Learned,
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
            "llama" => fields::<LlamaJson>(file, value)?.into_config(file)?,
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

/// Newer transformers write `rope_parameters` instead of top-level `rope_theta`/`rope_scaling`.
#[derive(Debug, Deserialize, Default)]
struct RopeParameters {
    rope_type: Option<String>,
    rope_theta: Option<f64>,
    partial_rotary_factor: Option<f64>,
}

fn check_rope_type(file: &str, rope: &Option<RopeParameters>, scaling: &Option<Value>) -> Result<()> {
    if let Some(scaling) = scaling {
        if !scaling.is_null() {
            return Err(unsupported(file, "rope_scaling", scaling, "only unscaled rotary positions are implemented"));
        }
    }
    match rope.as_ref().and_then(|r| r.rope_type.as_deref()) {
        None | Some("default") => Ok(()),
        Some(other) => Err(unsupported(file, "rope_parameters.rope_type", other, "only `default` rotary positions are implemented")),
    }
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

#[derive(Debug, Deserialize)]
struct LlamaJson {
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
fn default_ln_eps() -> f64 {
    1e-5
}
fn default_gelu_new() -> String {
    "gelu_new".into()
}

impl LlamaJson {
    fn into_config(self, file: &str) -> Result<ModelConfig> {
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

#[derive(Debug, Deserialize)]
struct Gpt2Json {
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

fn default_true() -> bool {
    true
}

impl Gpt2Json {
    fn into_config(self, file: &str) -> Result<ModelConfig> {
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
        })
    }
}

#[derive(Debug, Deserialize)]
struct GptNeoJson {
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
    fn into_config(self, file: &str) -> Result<ModelConfig> {
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
        })
    }
}

#[derive(Debug, Deserialize)]
struct GptNeoXJson {
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
    fn into_config(self, file: &str) -> Result<ModelConfig> {
        check_rope_type(file, &self.rope_parameters, &self.rope_scaling)?;
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
            .and_then(|r| r.partial_rotary_factor)
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
        })
    }
}
