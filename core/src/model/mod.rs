//! One config-driven decoder-only transformer covering Llama, GPT-2, GPT-Neo and GPT-NeoX.

mod attention;
mod layers;
mod mlp;

use burn::tensor::{Device, Int, Tensor, TensorData};

pub use attention::LayerCache;
use attention::Attention;
use layers::{Loader, Norm, Rotary, names};
use mlp::Mlp;

use crate::config::{Architecture, ModelConfig, Positions};
use crate::error::Result;
use crate::weights::WeightSource;

/// One transformer layer: attention and MLP, each behind a norm.
#[derive(Clone, Debug)]
struct Block {
    attn_norm: Norm,
    attn: Attention,
    mlp_norm: Norm,
    mlp: Mlp,
    parallel_residual: bool,
}

impl Block {
    fn load(loader: &Loader, config: &ModelConfig, prefixes: &[&str], layer: usize) -> Result<Self> {
        let (attn_norm, mlp_norm) = match config.architecture {
            Architecture::Llama | Architecture::GptNeoX => ("input_layernorm", "post_attention_layernorm"),
            Architecture::Gpt2 | Architecture::GptNeo => ("ln_1", "ln_2"),
        };
        let layers = match config.architecture {
            Architecture::Llama | Architecture::GptNeoX => "layers",
            Architecture::Gpt2 | Architecture::GptNeo => "h",
        };
        let norm = |name: &str| {
            Norm::load(loader, prefixes, &format!("{layers}.{layer}.{name}"), config.norm, config.hidden_size, config.norm_eps)
        };
        Ok(Self {
            attn_norm: norm(attn_norm)?,
            attn: Attention::load(loader, config, prefixes, layer)?,
            mlp_norm: norm(mlp_norm)?,
            mlp: Mlp::load(loader, config, prefixes, layer)?,
            parallel_residual: config.parallel_residual,
        })
    }

    fn forward(&self, x: Tensor<3>, start: usize, rotary: Option<&Rotary>, cache: Option<&mut LayerCache>) -> Tensor<3> {
        let attn = self.attn.forward(self.attn_norm.forward(x.clone()), start, rotary, cache);
        if self.parallel_residual {
            let mlp = self.mlp.forward(self.mlp_norm.forward(x.clone()));
            x + attn + mlp
        } else {
            let x = x + attn;
            x.clone() + self.mlp.forward(self.mlp_norm.forward(x))
        }
    }
}

/// A decoder-only language model on one device.
#[derive(Clone, Debug)]
pub struct Decoder {
    config: ModelConfig,
    /// [vocab, hidden]
    embed: Tensor<2>,
    /// [max_positions, hidden], for learned positions.
    position_embed: Option<Tensor<2>>,
    rotary: Option<Rotary>,
    blocks: Vec<Block>,
    final_norm: Norm,
    /// [vocab, hidden] as stored (used transposed, as `embed` is when tied); `None` when tied.
    /// On flex a transposed view multiplies about twice as fast as a contiguous
    /// [hidden, vocab] copy for the row chunks `score_batch` uses.
    lm_head: Option<Tensor<2>>,
    device: Device,
}

/// The key/value cache of every layer, for incremental decoding.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<LayerCache>,
    /// Positions already in the cache.
    pub len: usize,
}

impl Decoder {
    pub fn load(config: &ModelConfig, source: &dyn WeightSource, device: &Device) -> Result<Self> {
        let loader = Loader { source, device };
        let (h, vocab) = (config.hidden_size, config.vocab_size);
        // Checkpoints saved from the bare model lack the family's prefix.
        let prefixes: &[&str] = match config.architecture {
            Architecture::Llama => &["model.", ""],
            Architecture::Gpt2 | Architecture::GptNeo => &["transformer.", ""],
            Architecture::GptNeoX => &["gpt_neox.", ""],
        };
        let embed_name = match config.architecture {
            Architecture::Llama => "embed_tokens.weight",
            Architecture::Gpt2 | Architecture::GptNeo => "wte.weight",
            Architecture::GptNeoX => "embed_in.weight",
        };
        let embed = loader.tensor(&names(prefixes, embed_name), &[vocab, h])?;
        let position_embed = match config.positions {
            Positions::Learned => Some(loader.tensor(&names(prefixes, "wpe.weight"), &[config.max_positions, h])?),
            Positions::Rotary { .. } => None,
        };
        let rotary = match config.positions {
            Positions::Rotary { theta, rotary_dims } => Some(Rotary::new(theta, rotary_dims, config.max_positions, device)),
            Positions::Learned => None,
        };
        let blocks = (0..config.num_layers)
            .map(|layer| Block::load(&loader, config, prefixes, layer))
            .collect::<Result<Vec<_>>>()?;
        let final_norm_name = match config.architecture {
            Architecture::Llama => "norm",
            Architecture::Gpt2 | Architecture::GptNeo => "ln_f",
            Architecture::GptNeoX => "final_layer_norm",
        };
        let final_norm = Norm::load(&loader, prefixes, final_norm_name, config.norm, h, config.norm_eps)?;
        let head_name = match config.architecture {
            Architecture::GptNeoX => "embed_out.weight",
            _ => "lm_head.weight",
        };
        let lm_head = if config.tie_embeddings {
            None
        } else {
            Some(loader.tensor(&[head_name.to_string()], &[vocab, h])?)
        };
        Ok(Self {
            config: config.clone(),
            embed,
            position_embed,
            rotary,
            blocks,
            final_norm,
            lm_head,
            device: device.clone(),
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Final hidden states, after the last norm. `tokens`: [batch][seq], all the same length,
    /// at positions `cache.len..` (or `0..` without a cache). Returns [batch, seq, hidden].
    pub fn hidden_states(&self, tokens: &[Vec<u32>], mut cache: Option<&mut KvCache>) -> Tensor<3> {
        let batch = tokens.len();
        let seq = tokens[0].len();
        let start = cache.as_ref().map_or(0, |c| c.len);
        let ids: Vec<i64> = tokens.iter().flatten().map(|&t| t as i64).collect();
        let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [batch * seq]), &self.device);
        let mut x = self.embed.clone().select(0, ids).reshape([batch, seq, self.config.hidden_size]);
        if let Some(wpe) = &self.position_embed {
            x = x + wpe.clone().slice([start..start + seq]).unsqueeze::<3>();
        }
        if let Some(cache) = cache.as_deref_mut() {
            cache.layers.resize_with(self.blocks.len(), LayerCache::default);
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let layer_cache = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            x = block.forward(x, start, self.rotary.as_ref(), layer_cache);
        }
        if let Some(cache) = cache {
            cache.len += seq;
        }
        self.final_norm.forward(x)
    }

    /// Next-token logits for rows of hidden states: [rows, hidden] → [rows, vocab].
    pub fn logits(&self, hidden: Tensor<2>) -> Tensor<2> {
        let weight = self.lm_head.as_ref().unwrap_or(&self.embed);
        hidden.matmul(weight.clone().transpose())
    }
}
