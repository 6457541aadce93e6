//! One config-driven decoder-only transformer covering Llama, Qwen 2, Qwen 3,
//! Gemma 3, OLMo 2, GPT-2, GPT-Neo and GPT-NeoX: embeddings, a stack of
//! [`block::Block`]s, a final norm and the output head.

mod attention;
mod block;
mod layers;
mod mlp;
mod projections;
mod rotary;

use burn::tensor::{Device, Int, Tensor, TensorData};

pub use attention::LayerCache;
use block::Block;
pub use layers::ParamMut;
use layers::{Loader, Norm, names};
use rotary::Rotary;

use crate::config::{Architecture, ModelConfig, Positions, RopeScaling};
use crate::error::Result;
use crate::weights::WeightSource;

/// A decoder-only language model on one device.
#[derive(Clone, Debug)]
pub struct Decoder {
    config: ModelConfig,
    /// [vocab, hidden]
    embed: Tensor<2>,
    /// [max_positions, hidden], for learned positions.
    position_embed: Option<Tensor<2>>,
    rotary: Option<Rotary>,
    /// Rotary tables of the sliding-window layers when they have their own base (Gemma 3).
    local_rotary: Option<Rotary>,
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
        let (prefixes, embed_name, final_norm_name): (&[&str], _, _) = match config.architecture {
            Architecture::Llama | Architecture::Qwen2 | Architecture::Qwen3 | Architecture::Gemma3 | Architecture::Olmo2 => {
                (&["model.", ""], "embed_tokens.weight", "norm")
            }
            Architecture::Gpt2 | Architecture::GptNeo => (&["transformer.", ""], "wte.weight", "ln_f"),
            Architecture::GptNeoX => (&["gpt_neox.", ""], "embed_in.weight", "final_layer_norm"),
        };
        let embed = loader.tensor(&names(prefixes, embed_name), &[vocab, h])?;
        let position_embed = match config.positions {
            Positions::Learned => Some(loader.tensor(&names(prefixes, "wpe.weight"), &[config.max_positions, h])?),
            Positions::Rotary { .. } => None,
        };
        let (rotary, local_rotary) = match config.positions {
            Positions::Rotary { theta, rotary_dims } => {
                let table = |theta, scaling: &RopeScaling| Rotary::new(theta, rotary_dims, scaling, config.max_positions, device);
                let local = config.extras.local_rope_theta.map(|local| table(local, &RopeScaling::None));
                (Some(table(theta, &config.extras.rope_scaling)), local)
            }
            Positions::Learned => (None, None),
        };
        let blocks = (0..config.num_layers)
            .map(|layer| Block::load(&loader, config, prefixes, layer))
            .collect::<Result<Vec<_>>>()?;
        let final_norm = Norm::load(&loader, prefixes, final_norm_name, h, config)?;
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
            local_rotary,
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

    /// Every tensor that [`Decoder::hidden_states`] reads, in a fixed order
    /// (embeddings, positions, each block's, the final norm; not the output
    /// head): what fine-tuning trains. `unfuse` switches attention to the
    /// unfused kernels, which autodiff differentiates.
    pub fn params_mut(&mut self, unfuse: bool) -> Vec<ParamMut<'_>> {
        let mut out = vec![ParamMut::Matrix(&mut self.embed)];
        if let Some(wpe) = &mut self.position_embed {
            out.push(ParamMut::Matrix(wpe));
        }
        for block in &mut self.blocks {
            block.params_mut(&mut out, unfuse);
        }
        self.final_norm.params_mut(&mut out);
        out
    }

    /// Puts the decoder's constants (rotary tables) and the device it creates
    /// tensors on under autodiff (fine-tuning), or takes them out again.
    /// Parameters are set by the caller through [`Decoder::params_mut`].
    pub fn set_autodiff(&mut self, on: bool) {
        for r in [&mut self.rotary, &mut self.local_rotary].into_iter().flatten() {
            r.set_autodiff(on);
        }
        let device = self.device.clone();
        self.device = if on { device.autodiff() } else { device.without_autodiff() };
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
        if let Some(scale) = self.config.extras.embed_scale {
            x = x * scale;
        }
        if let Some(wpe) = &self.position_embed {
            x = x + wpe.clone().slice([start..start + seq]).unsqueeze::<3>();
        }
        if let Some(cache) = cache.as_deref_mut() {
            cache.layers.resize_with(self.blocks.len(), LayerCache::default);
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let layer_cache = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            let rotary = if block.local_rope { self.local_rotary.as_ref() } else { self.rotary.as_ref() };
            x = block.forward(x, start, rotary, layer_cache);
        }
        if let Some(cache) = cache {
            cache.len += seq;
        }
        self.final_norm.forward(x)
    }

    /// Next-token logits for rows of hidden states: [rows, hidden] → [rows, vocab].
    pub fn logits(&self, hidden: Tensor<2>) -> Tensor<2> {
        let weight = self.lm_head.as_ref().unwrap_or(&self.embed);
        let logits = hidden.matmul(weight.clone().transpose());
        match self.config.extras.final_logit_softcap {
            // Gemma 3: cap * tanh(logits / cap), in that order as transformers does.
            Some(cap) => (logits / cap).tanh() * cap,
            None => logits,
        }
    }
}
