//! The decoder's [`ModelConfig`] from a GGUF file's `llama.*` metadata.

use super::container::GgufFile;
use super::metadata::MetaValue;
use crate::config::{Activation, Architecture, Extras, ModelConfig, NormKind, Positions};
use crate::error::{Error, Result};
use crate::model_limits::{MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, check_dim, head_size};

impl GgufFile {
    /// `general.architecture`, checked to be one we can run.
    fn architecture(&self) -> Result<&str> {
        let arch = self.get_str("general.architecture")?.ok_or_else(|| self.missing("general.architecture"))?;
        if arch != "llama" {
            return Err(Error::UnsupportedModelType { file: self.file.clone(), model_type: format!("{arch} (GGUF; only llama is supported)") });
        }
        Ok(arch)
    }

    /// The decoder's configuration, from the `llama.*` metadata as transformers
    /// reads it (`GGUF_CONFIG_MAPPING["llama"]`), with transformers' defaults.
    pub fn model_config(&self) -> Result<ModelConfig> {
        let arch = self.architecture()?;
        let key = |k: &str| format!("{arch}.{k}");
        let unsupported = |option: &str, value: String, why: &str| Error::UnsupportedOption {
            file: self.file.clone(),
            option: option.into(),
            value,
            why: why.into(),
        };
        if let Some(scaling) = self.get_str(&key("rope.scaling.type"))?
            && scaling != "none"
        {
            return Err(unsupported(&key("rope.scaling.type"), scaling.into(), "only unscaled rotary positions are implemented"));
        }
        if let Some(factor) = self.get_f64(&key("rope.scale_linear"))?
            && factor != 1.0
        {
            return Err(unsupported(&key("rope.scale_linear"), factor.to_string(), "only unscaled rotary positions are implemented"));
        }
        if self.get(&key("expert_count")).and_then(MetaValue::as_u64).unwrap_or(0) > 0 {
            return Err(unsupported(&key("expert_count"), "> 0".into(), "mixture-of-experts models are not implemented"));
        }
        for bias in ["attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias", "ffn_up.bias"] {
            if self.tensor_info(&format!("blk.0.{bias}")).is_some() {
                return Err(unsupported(&format!("blk.0.{bias}"), "present".into(), "Llama biases are not implemented"));
            }
        }

        // Every dimension is checked by its key before anything is sized from it.
        let dim = |k: &str, max: usize| -> Result<usize> { check_dim(&self.file, &key(k), self.require_usize(&key(k))?, max) };
        let optional_dim = |k: &str, max: usize| -> Result<Option<usize>> {
            self.get_usize(&key(k))?.map(|v| check_dim(&self.file, &key(k), v, max)).transpose()
        };
        let hidden_size = dim("embedding_length", MAX_HIDDEN)?;
        let num_layers = dim("block_count", MAX_LAYERS)?;
        let intermediate_size = dim("feed_forward_length", MAX_INTERMEDIATE)?;
        let num_heads = dim("attention.head_count", MAX_HEADS)?;
        let num_kv_heads = optional_dim("attention.head_count_kv", MAX_HEADS)?.unwrap_or(num_heads);
        let rope_dims = optional_dim("rope.dimension_count", MAX_HEAD_DIM)?;
        let max_positions = optional_dim("context_length", MAX_POSITIONS)?;
        // transformers takes head_dim from rope.dimension_count for llama.
        let head_dim = match optional_dim("attention.key_length", MAX_HEAD_DIM)?.or(rope_dims) {
            Some(d) => d,
            None => head_size(&self.file, &key("embedding_length"), hidden_size, &key("attention.head_count"), num_heads)?,
        };
        let rotary_dims = rope_dims.unwrap_or(head_dim);
        if rotary_dims != head_dim {
            return Err(unsupported(
                &key("rope.dimension_count"),
                rotary_dims.to_string(),
                "llama rotary embeddings must cover the whole head",
            ));
        }
        let vocab_size = match self.get_usize(&key("vocab_size"))? {
            Some(n) => n,
            None => self
                .get("tokenizer.ggml.tokens")
                .and_then(MetaValue::as_array)
                .map(<[MetaValue]>::len)
                .ok_or_else(|| self.missing("tokenizer.ggml.tokens"))?,
        };
        let token_id = |k: &str| -> Result<Option<u32>> { Ok(self.get_usize(k)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX))) };
        let config = ModelConfig {
            architecture: Architecture::Llama,
            vocab_size,
            hidden_size,
            num_layers,
            num_heads,
            num_kv_heads,
            head_dim,
            intermediate_size,
            // llama.cpp requires it; 2048 is transformers' LlamaConfig default.
            max_positions: max_positions.unwrap_or(2048),
            positions: Positions::Rotary {
                theta: self.get_f64(&key("rope.freq_base"))?.unwrap_or(10_000.0),
                rotary_dims,
            },
            norm: NormKind::Rms,
            // f32 in the file; transformers keeps the f32 value widened to a
            // Python float, as we do.
            norm_eps: self.get_f64(&key("attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-6),
            activation: Activation::Silu,
            gated_mlp: true,
            parallel_residual: false,
            // llama.cpp writes `output.weight` only when it differs from the embedding.
            tie_embeddings: self.tensor_info("output.weight").is_none(),
            scale_attention: true,
            attention_windows: vec![None; num_layers],
            bos_token_id: token_id("tokenizer.ggml.bos_token_id")?,
            eos_token_id: token_id("tokenizer.ggml.eos_token_id")?,
            extras: Extras::default(),
        };
        config.validate(&self.file)?;
        Ok(config)
    }
}
