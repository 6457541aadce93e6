//! One transformer layer: attention and MLP, each with its residual and its
//! norms where the family puts them (before, before and after, or after).

use burn::tensor::Tensor;

use crate::config::{Architecture, ModelConfig, NormPlacement};
use crate::error::Result;
use crate::model::attention::{Attention, LayerCache};
use crate::model::layers::{Loader, Norm, ParamMut};
use crate::model::mlp::Mlp;
use crate::model::rotary::Rotary;

#[derive(Clone, Debug)]
pub struct Block {
    pre_attn_norm: Option<Norm>,
    attn: Attention,
    post_attn_norm: Option<Norm>,
    pre_mlp_norm: Option<Norm>,
    mlp: Mlp,
    post_mlp_norm: Option<Norm>,
    /// GPT-NeoX: `x + attn(ln1(x)) + mlp(ln2(x))`.
    parallel_residual: bool,
    /// Uses the sliding layers' rotary tables (Gemma 3's local layers).
    pub local_rope: bool,
}

impl Block {
    pub fn load(loader: &Loader, config: &ModelConfig, prefixes: &[&str], layer: usize) -> Result<Self> {
        // The norms' names: [pre-attention, post-attention, pre-MLP, post-MLP].
        // Llama's "post_attention_layernorm" is its pre-MLP norm; Gemma 3's and
        // OLMo 2's is the one after attention.
        let names: [Option<&str>; 4] = match (config.architecture, config.extras.norm_placement) {
            (Architecture::Gpt2 | Architecture::GptNeo, _) => [Some("h.{}.ln_1"), None, Some("h.{}.ln_2"), None],
            (_, NormPlacement::Pre) => [Some("layers.{}.input_layernorm"), None, Some("layers.{}.post_attention_layernorm"), None],
            (_, NormPlacement::Sandwich) => [
                Some("layers.{}.input_layernorm"),
                Some("layers.{}.post_attention_layernorm"),
                Some("layers.{}.pre_feedforward_layernorm"),
                Some("layers.{}.post_feedforward_layernorm"),
            ],
            (_, NormPlacement::Post) => [None, Some("layers.{}.post_attention_layernorm"), None, Some("layers.{}.post_feedforward_layernorm")],
        };
        let [pre_attn_norm, post_attn_norm, pre_mlp_norm, post_mlp_norm] = names.map(|name| {
            name.map(|n| Norm::load(loader, prefixes, &n.replace("{}", &layer.to_string()), config.hidden_size, config))
                .transpose()
        });
        Ok(Self {
            pre_attn_norm: pre_attn_norm?,
            attn: Attention::load(loader, config, prefixes, layer)?,
            post_attn_norm: post_attn_norm?,
            pre_mlp_norm: pre_mlp_norm?,
            mlp: Mlp::load(loader, config, prefixes, layer)?,
            post_mlp_norm: post_mlp_norm?,
            parallel_residual: config.parallel_residual,
            local_rope: config.attention_windows[layer].is_some() && config.extras.local_rope_theta.is_some(),
        })
    }

    pub fn params_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a>>, unfuse: bool) {
        if let Some(n) = &mut self.pre_attn_norm {
            n.params_mut(out);
        }
        self.attn.params_mut(out, unfuse);
        for n in [&mut self.post_attn_norm, &mut self.pre_mlp_norm].into_iter().flatten() {
            n.params_mut(out);
        }
        self.mlp.params_mut(out);
        if let Some(n) = &mut self.post_mlp_norm {
            n.params_mut(out);
        }
    }

    pub fn forward(&self, x: Tensor<3>, start: usize, rotary: Option<&Rotary>, cache: Option<&mut LayerCache>) -> Tensor<3> {
        let attn = self.attn.forward(norm(&self.pre_attn_norm, x.clone()), start, rotary, cache);
        if self.parallel_residual {
            let mlp = self.mlp.forward(norm(&self.pre_mlp_norm, x.clone()));
            return x + attn + mlp;
        }
        let x = x + norm(&self.post_attn_norm, attn);
        let mlp = self.mlp.forward(norm(&self.pre_mlp_norm, x.clone()));
        x + norm(&self.post_mlp_norm, mlp)
    }
}

fn norm(norm: &Option<Norm>, x: Tensor<3>) -> Tensor<3> {
    match norm {
        Some(n) => n.forward(x),
        None => x,
    }
}
