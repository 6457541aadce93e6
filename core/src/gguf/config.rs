//! The decoder's [`ModelConfig`] from a GGUF file's `<arch>.*` metadata, read
//! with the keys transformers' `GGUF_CONFIG_MAPPING` (integrations/ggml.py)
//! reads for each architecture and, where transformers reads nothing and
//! fills in a config class default, what llama.cpp (src/llama-model.cpp) does
//! with the file; each such choice is commented where it is made.

use super::arch::GgufArch;
use super::container::GgufFile;
use super::metadata::MetaValue;
use crate::config::{Activation, Architecture, Extras, ModelConfig, NormKind, NormPlacement, Positions, QkNorm};
use crate::error::{Error, Result};
use crate::model_limits::{
    MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, check_dim, check_float, head_size,
};

/// Gemma 3: every sixth layer attends globally, the others through the
/// sliding window (llama.cpp's `set_swa_pattern(6)`, transformers'
/// `sliding_window_pattern` default); neither reads a pattern from the file.
const GEMMA3_PATTERN: usize = 6;
/// Gemma 3's sliding layers rotate with base 10000 in both llama.cpp (fixed)
/// and transformers (`rope_local_base_freq` default); neither reads
/// `gemma3.rope.freq_base_swa`.
const GEMMA3_LOCAL_THETA: f64 = 10_000.0;
/// llama.cpp's one Gemma 3 size whose attention scale is not 1/sqrt(head_dim).
const GEMMA3_27B_LAYERS: usize = 62;

/// The shapes every architecture states, each checked by its key.
struct Dims {
    hidden: usize,
    layers: usize,
    intermediate: usize,
    heads: usize,
    kv_heads: usize,
    max_positions: Option<usize>,
    vocab: usize,
}

impl GgufFile {
    fn key(&self, arch: GgufArch, k: &str) -> String {
        format!("{}.{k}", arch.name())
    }

    fn dim(&self, arch: GgufArch, k: &str, max: usize) -> Result<usize> {
        let key = self.key(arch, k);
        check_dim(&self.file, &key, self.require_usize(&key)?, max)
    }

    fn optional_dim(&self, arch: GgufArch, k: &str, max: usize) -> Result<Option<usize>> {
        let key = self.key(arch, k);
        self.get_usize(&key)?.map(|v| check_dim(&self.file, &key, v, max)).transpose()
    }

    fn unsupported(&self, option: &str, value: impl ToString, why: &str) -> Error {
        Error::UnsupportedOption { file: self.file.clone(), option: option.into(), value: value.to_string(), why: why.into() }
    }

    fn dims(&self, arch: GgufArch) -> Result<Dims> {
        let hidden = self.dim(arch, "embedding_length", MAX_HIDDEN)?;
        let layers = self.dim(arch, "block_count", MAX_LAYERS)?;
        let intermediate = self.dim(arch, "feed_forward_length", MAX_INTERMEDIATE)?;
        let heads = self.dim(arch, "attention.head_count", MAX_HEADS)?;
        // `<arch>.vocab_size` where llama.cpp wrote one (llama), else the
        // tokenizer's length, as transformers falls back to.
        let vocab = match self.get_usize(&self.key(arch, "vocab_size"))? {
            Some(n) => n,
            None => self
                .get("tokenizer.ggml.tokens")
                .and_then(MetaValue::as_array)
                .map(<[MetaValue]>::len)
                .ok_or_else(|| self.missing("tokenizer.ggml.tokens"))?,
        };
        Ok(Dims {
            hidden,
            layers,
            intermediate,
            heads,
            kv_heads: self.optional_dim(arch, "attention.head_count_kv", MAX_HEADS)?.unwrap_or(heads),
            max_positions: self.optional_dim(arch, "context_length", MAX_POSITIONS)?,
            vocab,
        })
    }

    fn token_id(&self, key: &str) -> Result<Option<u32>> {
        Ok(self.get_usize(key)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    fn has_tensor(&self, name: &str) -> bool {
        self.tensor_info(name).is_some()
    }

    /// The decoder's configuration for this file's architecture (see the module docs).
    pub fn model_config(&self) -> Result<ModelConfig> {
        let arch = self.arch()?;
        if self.get(&self.key(arch, "expert_count")).and_then(MetaValue::as_u64).unwrap_or(0) > 0 {
            return Err(self.unsupported(&self.key(arch, "expert_count"), "> 0", "mixture-of-experts models are not implemented"));
        }
        let config = match arch {
            GgufArch::Gpt2 => self.gpt2_config()?,
            _ => self.rotary_config(arch)?,
        };
        config.validate(&self.file)?;
        Ok(config)
    }

    /// GPT-2 (`GGUF_CONFIG_MAPPING["gpt2"]`): LayerNorm, GELU (tanh) MLP,
    /// learned positions, fused qkv.
    fn gpt2_config(&self) -> Result<ModelConfig> {
        let arch = GgufArch::Gpt2;
        let d = self.dims(arch)?;
        // transformers maps `gpt2.context_length` to `n_ctx`, which GPT2Config
        // no longer reads, so it keeps its default 1024 and cannot load a file
        // with another; llama.cpp and the position table use the file's value.
        let max_positions = d.max_positions.unwrap_or(1024);
        Ok(ModelConfig {
            architecture: Architecture::Gpt2,
            vocab_size: d.vocab,
            hidden_size: d.hidden,
            num_layers: d.layers,
            num_heads: d.heads,
            num_kv_heads: d.heads,
            head_dim: head_size(&self.file, &self.key(arch, "embedding_length"), d.hidden, &self.key(arch, "attention.head_count"), d.heads)?,
            intermediate_size: d.intermediate,
            max_positions,
            positions: Positions::Learned,
            norm: NormKind::Layer,
            norm_eps: self.get_f64(&self.key(arch, "attention.layer_norm_epsilon"))?.unwrap_or(1e-5),
            activation: Activation::GeluTanh,
            gated_mlp: false,
            parallel_residual: false,
            // llama.cpp's converter writes no `output.weight` for GPT-2 (older
            // ones wrote a copy of the embedding); either way it is what is used.
            tie_embeddings: !self.has_tensor("output.weight"),
            scale_attention: true,
            attention_windows: vec![None; d.layers],
            bos_token_id: self.token_id("tokenizer.ggml.bos_token_id")?,
            eos_token_id: self.token_id("tokenizer.ggml.eos_token_id")?,
            extras: Extras::default(),
        })
    }

    /// Llama, Qwen 2, Qwen 3 and Gemma 3: RMSNorm, gated MLP, rotary positions.
    fn rotary_config(&self, arch: GgufArch) -> Result<ModelConfig> {
        self.check_rotary_scaling(arch)?;
        let d = self.dims(arch)?;
        let key = |k: &str| self.key(arch, k);
        let rope_dims = self.optional_dim(arch, "rope.dimension_count", MAX_HEAD_DIM)?;
        let key_length = self.optional_dim(arch, "attention.key_length", MAX_HEAD_DIM)?;
        if let Some(v) = self.optional_dim(arch, "attention.value_length", MAX_HEAD_DIM)?
            && Some(v) != key_length
        {
            return Err(self.unsupported(&key("attention.value_length"), v, "values must have the keys' head size"));
        }
        // transformers reads the head size from `rope.dimension_count` for
        // llama, from `attention.key_length` for gemma3, and from neither for
        // qwen2 (hidden / heads) and qwen3 (Qwen3Config's default 128, which
        // every Qwen 3 has); llama.cpp reads `attention.key_length`, else
        // hidden / heads. Both agree on every file llama.cpp's converter writes.
        let head_dim = match (arch, key_length, rope_dims) {
            (_, Some(k), _) => k,
            (GgufArch::Llama, None, Some(r)) => r,
            _ => head_size(&self.file, &key("embedding_length"), d.hidden, &key("attention.head_count"), d.heads)?,
        };
        if let Some(r) = rope_dims
            && r != head_dim
        {
            return Err(self.unsupported(&key("rope.dimension_count"), r, "rotary embeddings must cover the whole head"));
        }
        let theta = self.get_f64(&key("rope.freq_base"))?.unwrap_or(match arch {
            GgufArch::Gemma3 => 1_000_000.0,
            _ => 10_000.0,
        });
        check_float(&self.file, &key("rope.freq_base"), theta, false)?;
        // f32 in the file; transformers keeps the f32 value widened to a
        // Python float, as we do.
        let norm_eps = self.get_f64(&key("attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-6);
        let bias = |t: &str| self.has_tensor(&format!("blk.0.{t}.bias"));
        if arch == GgufArch::Llama {
            for t in ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"] {
                if bias(t) {
                    return Err(self.unsupported(&format!("blk.0.{t}.bias"), "present", "biases in Llama GGUF files are not implemented"));
                }
            }
        }
        let mut windows = vec![None; d.layers];
        let mut extras = Extras {
            // Qwen 2 always has them; elsewhere they are there or not.
            qkv_bias: bias("attn_q"),
            attention_out_bias: bias("attn_output"),
            ..Extras::default()
        };
        let mut activation = Activation::Silu;
        let architecture = match arch {
            GgufArch::Llama => Architecture::Llama,
            GgufArch::Qwen2 => Architecture::Qwen2,
            GgufArch::Qwen3 => {
                extras.qk_norm = Some(QkNorm::PerHead);
                Architecture::Qwen3
            }
            GgufArch::Gemma3 => {
                activation = Activation::GeluTanh;
                extras.qk_norm = Some(QkNorm::PerHead);
                extras.norm_placement = NormPlacement::Sandwich;
                extras.norm_adds_one = true;
                // transformers' f32 buffer and llama.cpp's sqrtf(n_embd).
                extras.embed_scale = Some((d.hidden as f64).sqrt() as f32);
                // llama.cpp: 1/sqrt(n_embd / n_head) for the 27B, else 1/sqrt(head_dim).
                // transformers' GGUF loader keeps query_pre_attn_scalar's default
                // 256, which agrees for every Gemma 3 size but the 27B.
                if d.layers == GEMMA3_27B_LAYERS {
                    extras.attention_scale = Some(1.0 / ((d.hidden / d.heads) as f64).sqrt());
                }
                // llama.cpp applies a soft-cap the file states; transformers
                // reads none (Gemma 3 checkpoints have none).
                extras.final_logit_softcap = self.get_f64(&key("final_logit_softcapping"))?;
                if let Some(cap) = extras.final_logit_softcap {
                    check_float(&self.file, &key("final_logit_softcapping"), cap, false)?;
                }
                extras.local_rope_theta = Some(GEMMA3_LOCAL_THETA);
                // Without a window (llama.cpp's reading) every layer is global.
                if let Some(w) = self.optional_dim(arch, "attention.sliding_window", MAX_POSITIONS)? {
                    for (i, window) in windows.iter_mut().enumerate() {
                        if (i + 1) % GEMMA3_PATTERN != 0 {
                            *window = Some(w);
                        }
                    }
                }
                Architecture::Gemma3
            }
            GgufArch::Gpt2 => unreachable!("handled by gpt2_config"),
        };
        Ok(ModelConfig {
            architecture,
            vocab_size: d.vocab,
            hidden_size: d.hidden,
            num_layers: d.layers,
            num_heads: d.heads,
            num_kv_heads: d.kv_heads,
            head_dim,
            intermediate_size: d.intermediate,
            // llama.cpp requires it; 2048 is transformers' LlamaConfig default.
            max_positions: d.max_positions.unwrap_or(2048),
            positions: Positions::Rotary { theta, rotary_dims: head_dim },
            norm: NormKind::Rms,
            norm_eps,
            activation,
            gated_mlp: true,
            parallel_residual: false,
            // llama.cpp writes `output.weight` only when it differs from the embedding.
            tie_embeddings: !self.has_tensor("output.weight"),
            scale_attention: true,
            attention_windows: windows,
            bos_token_id: self.token_id("tokenizer.ggml.bos_token_id")?,
            eos_token_id: self.token_id("tokenizer.ggml.eos_token_id")?,
            extras,
        })
    }

    /// Rotary scaling is refused by name: transformers' GGUF loader reads none
    /// of it for these architectures (its numbers are unscaled), while llama.cpp
    /// applies it, so no reading would match both. Llama 3.1+ files carry
    /// theirs as a `rope_freqs.weight` tensor of per-dimension factors.
    fn check_rotary_scaling(&self, arch: GgufArch) -> Result<()> {
        let why = "rotary scaling in GGUF files is not implemented (transformers ignores it, llama.cpp applies it)";
        if let Some(scaling) = self.get_str(&self.key(arch, "rope.scaling.type"))?
            && scaling != "none"
        {
            return Err(self.unsupported(&self.key(arch, "rope.scaling.type"), scaling, why));
        }
        for k in ["rope.scale_linear", "rope.scaling.factor"] {
            if let Some(factor) = self.get_f64(&self.key(arch, k))?
                && factor != 1.0
                && factor != 0.0
            {
                return Err(self.unsupported(&self.key(arch, k), factor, why));
            }
        }
        if self.has_tensor("rope_freqs.weight") {
            return Err(self.unsupported("rope_freqs.weight", "present", why));
        }
        Ok(())
    }
}
