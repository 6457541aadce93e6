//! Checks of a [`ModelConfig`] as a whole, against the limits of
//! [`crate::model_limits`]: every dimension before anything is allocated, the
//! parameters against the bytes of weights that must hold them, and a batch's
//! activations against the memory allowed; and the parameter count they use.

use crate::error::{Error, Result};
use crate::model_limits::{
    MAX_BATCH_BYTES, MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, MAX_ROTARY_ELEMENTS, MAX_VOCAB,
    MIN_BITS_PER_WEIGHT, check_dim, check_float,
};

use super::{Architecture, ModelConfig, NormKind, NormPlacement, Positions, QkNorm, RopeScaling};

impl ModelConfig {
    /// Checks a configuration as a whole; `file` names it. Field names are
    /// transformers' (`config.json`); the GGUF reader checks its own keys first.
    pub(crate) fn validate(&self, file: &str) -> Result<()> {
        check_dim(file, "vocab_size", self.vocab_size, MAX_VOCAB)?;
        check_dim(file, "hidden_size", self.hidden_size, MAX_HIDDEN)?;
        check_dim(file, "intermediate_size", self.intermediate_size, MAX_INTERMEDIATE)?;
        check_dim(file, "num_hidden_layers", self.num_layers, MAX_LAYERS)?;
        check_dim(file, "num_attention_heads", self.num_heads, MAX_HEADS)?;
        check_dim(file, "num_key_value_heads", self.num_kv_heads, MAX_HEADS)?;
        check_dim(file, "head_dim", self.head_dim, MAX_HEAD_DIM)?;
        check_dim(file, "max_position_embeddings", self.max_positions, MAX_POSITIONS)?;
        check_float(file, "norm epsilon", self.norm_eps, true)?;
        for (field, id) in [("bos_token_id", self.bos_token_id), ("eos_token_id", self.eos_token_id)] {
            if let Some(id) = id.filter(|&id| id as usize >= self.vocab_size) {
                return Err(Error::bad_file(
                    file,
                    format!("`{field}` is {id}, outside the vocabulary of {} tokens", self.vocab_size),
                ));
            }
        }
        if !self.num_heads.is_multiple_of(self.num_kv_heads) {
            return Err(Error::bad_file(
                file,
                format!(
                    "{} attention heads cannot be shared among {} key/value heads (`num_attention_heads` must be a multiple of `num_key_value_heads`)",
                    self.num_heads, self.num_kv_heads
                ),
            ));
        }
        if self.attention_windows.len() != self.num_layers {
            return Err(Error::bad_file(file, format!("{} attention windows for {} layers", self.attention_windows.len(), self.num_layers)));
        }
        if self.attention_windows.iter().any(|w| *w == Some(0)) {
            return Err(Error::bad_file(file, "`window_size` is 0; it must be at least 1"));
        }
        let extras = &self.extras;
        for (field, value) in [
            ("rope_local_base_freq", extras.local_rope_theta),
            ("query_pre_attn_scalar", extras.attention_scale),
            ("final_logit_softcapping", extras.final_logit_softcap),
            ("embedding scale", extras.embed_scale.map(f64::from)),
        ] {
            if let Some(v) = value {
                check_float(file, field, v, false)?;
            }
        }
        match extras.rope_scaling {
            RopeScaling::None => {}
            RopeScaling::Linear { factor } => check_float(file, "rope scaling factor", factor, false)?,
            RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_positions } => {
                check_float(file, "rope scaling factor", factor, false)?;
                check_float(file, "rope scaling low_freq_factor", low_freq_factor, false)?;
                check_float(file, "rope scaling high_freq_factor", high_freq_factor, false)?;
                check_dim(file, "original_max_position_embeddings", original_max_positions, MAX_POSITIONS)?;
            }
            RopeScaling::Yarn { factor, original_max_positions, beta_fast, beta_slow, attention_factor, .. } => {
                check_float(file, "rope scaling factor", factor, false)?;
                check_float(file, "rope scaling beta_fast", beta_fast, false)?;
                check_float(file, "rope scaling beta_slow", beta_slow, false)?;
                check_float(file, "rope scaling attention_factor", attention_factor, true)?;
                check_dim(file, "original_max_position_embeddings", original_max_positions, MAX_POSITIONS)?;
            }
        }
        if extras.rope_scaling != RopeScaling::None && !matches!(self.positions, Positions::Rotary { .. }) {
            return Err(Error::bad_file(file, "rotary scaling without rotary positions"));
        }
        if let Positions::Rotary { theta, rotary_dims } = self.positions {
            check_float(file, "rope_theta", theta, false)?;
            if rotary_dims == 0 || rotary_dims % 2 != 0 || rotary_dims > self.head_dim {
                return Err(Error::bad_file(
                    file,
                    format!("rotary dimensions {rotary_dims} do not fit a head of {}", self.head_dim),
                ));
            }
            // Gemma 3's sliding layers have tables of their own.
            let tables = if extras.local_rope_theta.is_some() { 2 } else { 1 };
            if 2 * tables * self.max_positions * rotary_dims > MAX_ROTARY_ELEMENTS {
                return Err(Error::bad_file(
                    file,
                    format!(
                        "`max_position_embeddings` = {} with {rotary_dims} rotary dimensions needs rotary tables larger than 1 GiB",
                        self.max_positions
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Refuses a configuration whose parameters `weight_bytes` bytes of stored
    /// weights could not hold, before the decoder is built from it.
    pub fn check_backed_by(&self, file: &str, weight_bytes: usize) -> Result<()> {
        let parameters = self.parameters_u64();
        let most = (weight_bytes as u64).saturating_mul((8 / MIN_BITS_PER_WEIGHT) as u64);
        if parameters > most {
            return Err(Error::bad_file(
                file,
                format!(
                    "the configuration describes {parameters} parameters, but the weights hold only {weight_bytes} bytes (at most {most} parameters): the config does not belong to these weights"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a forward pass over `batch` sequences of `seq` tokens whose
    /// activations would not fit in [`MAX_BATCH_BYTES`], before it allocates.
    pub fn check_batch(&self, batch: usize, seq: usize) -> Result<()> {
        // The largest live tensors: the MLP's (gated) hidden layer, and one
        // layer's attention scores with their softmax.
        let mlp = 3 * self.intermediate_size.max(self.hidden_size);
        let attention = 2 * self.num_heads * seq;
        let bytes = (batch as u128) * (seq as u128) * ((mlp + attention) as u128) * 4;
        if bytes > u128::from(MAX_BATCH_BYTES) {
            return Err(Error::Input(format!(
                "a batch of {batch} sequences of {seq} tokens needs about {:.1} GB for its activations, more than the {} GB allowed: use a smaller batch size",
                bytes as f64 / 1e9,
                MAX_BATCH_BYTES >> 30
            )));
        }
        Ok(())
    }

    /// The number of parameters, counting a tied embedding once, in u64:
    /// within the limits of [`crate::model_limits`] it cannot overflow, even where usize is 32 bits
    /// (the browser), so a config declaring billions of parameters is compared
    /// with its weights instead of wrapping.
    pub(crate) fn parameters_u64(&self) -> u64 {
        let [h, kv, q, ff, vocab, positions, layers] = [
            self.hidden_size,
            self.num_kv_heads * self.head_dim,
            self.num_heads * self.head_dim,
            self.intermediate_size,
            self.vocab_size,
            self.max_positions,
            self.num_layers,
        ]
        .map(|n| n as u64);
        let extras = &self.extras;
        let mlp = if self.gated_mlp { 3 } else { 2 } * h * ff;
        // A LayerNorm has a bias beside its weight; an RMSNorm has none.
        let norm = match self.norm {
            NormKind::Layer => 2 * h,
            NormKind::Rms => h,
        };
        let norms = match extras.norm_placement {
            NormPlacement::Pre | NormPlacement::Post => 2 * norm,
            NormPlacement::Sandwich => 4 * norm,
        };
        let qk_norm = match extras.qk_norm {
            None => 0,
            Some(QkNorm::PerHead) => 2 * self.head_dim as u64,
            Some(QkNorm::Whole) => q + kv,
        };
        // The GPT families' biases come with the architecture (as the decoder
        // loads them); the Llama layout's are options.
        let (qkv_bias, out_bias, mlp_bias) = match self.architecture {
            Architecture::Gpt2 | Architecture::GptNeoX => (q + 2 * kv, h, ff + h),
            Architecture::GptNeo => (0, h, ff + h),
            _ => (
                u64::from(extras.qkv_bias) * (q + 2 * kv),
                u64::from(extras.attention_out_bias) * h,
                u64::from(extras.mlp_bias) * (2 * ff + h),
            ),
        };
        let biases = qkv_bias + out_bias + mlp_bias;
        let layer = 2 * h * q + 2 * h * kv + mlp + norms + qk_norm + biases;
        let embed = vocab * h;
        let head = if self.tie_embeddings { 0 } else { embed };
        let positions = if matches!(self.positions, Positions::Learned) { positions * h } else { 0 };
        layers.saturating_mul(layer).saturating_add(embed + head + positions + norm)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::config::ModelConfig;

    fn llama(changes: Value) -> String {
        let mut config = json!({
            "model_type": "llama", "vocab_size": 2000, "hidden_size": 64, "intermediate_size": 256,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "max_position_embeddings": 256
        });
        for (k, v) in changes.as_object().unwrap() {
            config[k] = v.clone();
        }
        match ModelConfig::from_json("m/config.json", config.to_string().as_bytes()) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn absurd_dimensions_are_refused_by_name() {
        assert_eq!(llama(json!({})), "ok");
        for (change, expected) in [
            (json!({"num_attention_heads": 0}), "`num_attention_heads` is 0"),
            (json!({"num_key_value_heads": 3}), "must be a multiple of `num_key_value_heads`"),
            (json!({"hidden_size": 66}), "`hidden_size` = 66 is not divisible by `num_attention_heads` = 4"),
            (json!({"num_hidden_layers": 1u64 << 40}), "`num_hidden_layers` is 1099511627776, more than the 1024"),
            (json!({"max_position_embeddings": 0}), "`max_position_embeddings` is 0"),
            (json!({"max_position_embeddings": 1u64 << 40}), "`max_position_embeddings` is 1099511627776"),
            (json!({"intermediate_size": 1u64 << 40}), "`intermediate_size` is 1099511627776"),
            (json!({"vocab_size": 0}), "`vocab_size` is 0"),
            (json!({"rope_theta": -1.0}), "`rope_theta` is -1"),
        ] {
            let got = llama(change.clone());
            assert!(got.starts_with("m/config.json: ") && got.contains(expected), "{change}: {got}");
        }
    }

    #[test]
    fn gpt_neo_layer_patterns_are_counted_before_they_are_expanded() {
        let config = json!({
            "model_type": "gpt_neo", "vocab_size": 100, "hidden_size": 64, "num_layers": 2, "num_heads": 4,
            "max_position_embeddings": 128, "attention_types": [[["global", "local"], 1_000_000_000_000u64]]
        });
        let err = ModelConfig::from_json("neo.json", config.to_string().as_bytes()).unwrap_err().to_string();
        assert!(err.contains("`attention_types` describes 2000000000000 layers but `num_layers` is 2"), "{err}");
        let gpt2 = json!({"model_type": "gpt2", "vocab_size": 100, "n_positions": 64, "n_embd": 64, "n_layer": 2, "n_head": 0});
        let err = ModelConfig::from_json("gpt2.json", gpt2.to_string().as_bytes()).unwrap_err().to_string();
        assert!(err.contains("`n_head` is 0"), "{err}");
    }

    #[test]
    fn weights_must_be_able_to_hold_the_parameters() {
        let config = ModelConfig::from_json("c.json", br#"{"model_type": "llama", "vocab_size": 2000, "hidden_size": 64,
            "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4}"#).unwrap();
        let n = config.num_parameters();
        assert!(config.check_backed_by("c.json", n).is_ok());
        let err = config.check_backed_by("c.json", n / 8).unwrap_err().to_string();
        assert!(err.contains("does not belong to these weights"), "{err}");
        assert!(config.check_batch(8, 256).is_ok());
        let err = config.check_batch(100_000, 2048).unwrap_err().to_string();
        assert!(err.contains("use a smaller batch size"), "{err}");
    }
}
