//! Causal self-attention with grouped key/value heads, optional query/key
//! norms, rotary or learned positions, an optional local window, and a
//! key/value cache for generation. The projections' loading per family is in
//! `projections`.

use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Tensor, TensorData, activation};

use crate::config::{ModelConfig, QkNorm};
use crate::cpu_kernels::{host_values, is_plain_cpu, masked_softmax, to_tensor};
use crate::error::Result;
use crate::model::layers::{Linear, Loader, Norm, ParamMut};
use crate::model::projections::Projections;
use crate::model::rotary::Rotary;

/// Keys and values of the positions seen so far, for one layer.
#[derive(Clone, Debug, Default)]
pub struct LayerCache {
    /// [batch, kv_heads, seen, head_dim]
    keys: Option<Tensor<4>>,
    values: Option<Tensor<4>>,
}

#[derive(Clone, Debug)]
pub struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    /// RMSNorms of queries and keys before rotary positions (Qwen 3, Gemma 3, OLMo 2).
    qk_norm: Option<(QkNorm, Norm, Norm)>,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
    /// Multiplies the scores: 1/sqrt(head_dim), 1 for GPT-Neo, `query_pre_attn_scalar`^-0.5 for Gemma 3.
    scale: f64,
    /// Attend only to the last `window` positions (GPT-Neo's local layers, sliding-window layers).
    window: Option<usize>,
    /// Use burn's fused attention op on flex under autodiff (one kernel that
    /// shares key/value heads without copying them and masks without an additive
    /// tensor) until fine-tuning unfuses it. Inference on flex runs
    /// `cpu_attention`; elsewhere that op is either the same separate kernels
    /// (wgpu without autotune) or lacks grouped heads, so we keep our own.
    fused: bool,
}

impl Attention {
    pub fn load(loader: &Loader, config: &ModelConfig, prefixes: &[&str], layer: usize) -> Result<Self> {
        let Projections { q, k, v, out } = Projections::load(loader, config, prefixes, layer)?;
        let qk_norm = match config.extras.qk_norm {
            None => None,
            Some(kind) => {
                let (q_size, k_size) = match kind {
                    QkNorm::PerHead => (config.head_dim, config.head_dim),
                    QkNorm::Whole => (config.num_heads * config.head_dim, config.num_kv_heads * config.head_dim),
                };
                let norm = |name: &str, size| Norm::load(loader, prefixes, &format!("layers.{layer}.self_attn.{name}"), size, config);
                Some((kind, norm("q_norm", q_size)?, norm("k_norm", k_size)?))
            }
        };
        let default_scale = if config.scale_attention { 1.0 / (config.head_dim as f64).sqrt() } else { 1.0 };
        Ok(Self {
            q,
            k,
            v,
            out,
            qk_norm,
            num_heads: config.num_heads,
            num_kv_heads: config.num_kv_heads,
            head_dim: config.head_dim,
            scale: config.extras.attention_scale.unwrap_or(default_scale),
            window: config.attention_windows[layer],
            fused: *loader.device == Device::flex(),
        })
    }

    /// Trainable tensors; `unfuse` leaves burn's fused attention op (whose
    /// autodiff fallback lacks grouped key/value heads) for our own.
    pub fn params_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a>>, unfuse: bool) {
        if unfuse {
            self.fused = false;
        }
        for l in [&mut self.q, &mut self.k, &mut self.v, &mut self.out] {
            l.params_mut(out);
        }
        if let Some((_, q_norm, k_norm)) = &mut self.qk_norm {
            q_norm.params_mut(out);
            k_norm.params_mut(out);
        }
    }

    /// `x`: [batch, seq, hidden] at positions `start..start + seq`; returns the same shape.
    pub fn forward(&self, x: Tensor<3>, start: usize, rotary: Option<&Rotary>, cache: Option<&mut LayerCache>) -> Tensor<3> {
        let [batch, seq, _] = x.dims();
        let split_heads = |t: Tensor<3>, heads: usize| t.reshape([batch, seq, heads, self.head_dim]).swap_dims(1, 2);
        let (mut q, mut k) = (self.q.forward(x.clone()), self.k.forward(x.clone()));
        if let Some((QkNorm::Whole, q_norm, k_norm)) = &self.qk_norm {
            (q, k) = (q_norm.forward(q), k_norm.forward(k));
        }
        let mut q = split_heads(q, self.num_heads);
        let mut k = split_heads(k, self.num_kv_heads);
        let mut v = split_heads(self.v.forward(x), self.num_kv_heads);
        if let Some((QkNorm::PerHead, q_norm, k_norm)) = &self.qk_norm {
            (q, k) = (q_norm.forward(q), k_norm.forward(k));
        }
        if let Some(rotary) = rotary {
            q = rotary.apply(q, start);
            k = rotary.apply(k, start);
        }
        if let Some(cache) = cache {
            if let (Some(past_k), Some(past_v)) = (cache.keys.take(), cache.values.take()) {
                k = Tensor::cat(vec![past_k, k], 2);
                v = Tensor::cat(vec![past_v, v], 2);
            }
            cache.keys = Some(k.clone());
            cache.values = Some(v.clone());
        }
        let keys_len = k.dims()[2];
        let device = v.device();
        let context = if is_plain_cpu(&device) {
            self.cpu_attention(q, k, v, start)
        } else if self.fused {
            let hidden = self.hidden_keys(seq, keys_len, start);
            let mask = Tensor::<2, Bool>::from_data(TensorData::new(hidden, [seq, keys_len]), &device);
            let options = AttentionModuleOptions {
                scale: Some(self.scale),
                softcap: None,
                is_causal: false,
            };
            attention(q, k, v, Some(mask.unsqueeze::<4>()), None, options)
        } else {
            let hidden = self.hidden_keys(seq, keys_len, start);
            let (k, v) = (self.repeat_kv(k), self.repeat_kv(v));
            // [batch, heads, seq, keys_len]
            let scores = q.matmul(k.swap_dims(2, 3)) * self.scale;
            // A large finite number rather than -inf: a fully masked row then stays finite.
            let mask: Vec<f32> = hidden.iter().map(|&h| if h { -1e30 } else { 0.0 }).collect();
            let mask = Tensor::<2>::from_data(TensorData::new(mask, [seq, keys_len]), &device);
            let weights = activation::softmax(scores + mask.unsqueeze::<4>(), 3);
            weights.matmul(v)
        }; // [batch, heads, seq, head_dim]
        let context = context.swap_dims(1, 2).reshape([batch, seq, self.num_heads * self.head_dim]);
        self.out.forward(context)
    }

    /// Inference on the CPU (see cpu_kernels): the scores by one batched matmul,
    /// the causal (and local) softmax on the host, then the values. A key/value
    /// head's query heads go in one matmul, their rows one after another, so
    /// keys and values are never copied per query head.
    fn cpu_attention(&self, q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, start: usize) -> Tensor<4> {
        let [batch, heads, seq, dim] = q.dims();
        let [_, kv_heads, keys_len, _] = k.dims();
        let rows = heads / kv_heads * seq;
        let q = q.reshape([batch, kv_heads, rows, dim]);
        let mut weights = host_values(q.matmul(k.swap_dims(2, 3)));
        let window = self.window;
        masked_softmax(&mut weights, keys_len, seq, self.scale as f32, |i| {
            let pos = start + i;
            (pos + 1).saturating_sub(window.unwrap_or(usize::MAX))..(pos + 1).min(keys_len)
        });
        let weights = to_tensor(weights, [batch, kv_heads, rows, keys_len], &v.device());
        weights.matmul(v).reshape([batch, heads, seq, dim])
    }

    /// [batch, kv_heads, s, d] → [batch, heads, s, d], each kv head serving `heads / kv_heads` query heads.
    fn repeat_kv(&self, t: Tensor<4>) -> Tensor<4> {
        let groups = self.num_heads / self.num_kv_heads;
        if groups == 1 {
            return t;
        }
        let [b, kv, s, d] = t.dims();
        t.unsqueeze_dim::<5>(2).expand([b, kv, groups, s, d]).reshape([b, kv * groups, s, d])
    }

    /// [seq, keys_len], row-major: whether query i (at position start + i) must not
    /// see key j. It sees it if j <= start + i and, in a local layer, start + i - j < window.
    fn hidden_keys(&self, seq: usize, keys_len: usize, start: usize) -> Vec<bool> {
        let mut hidden = Vec::with_capacity(seq * keys_len);
        for i in 0..seq {
            let pos = start + i;
            for j in 0..keys_len {
                let visible = j <= pos && self.window.is_none_or(|w| pos - j < w);
                hidden.push(!visible);
            }
        }
        hidden
    }
}
