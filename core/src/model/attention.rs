//! Causal self-attention with grouped key/value heads, rotary or learned
//! positions, an optional local window, and a key/value cache for generation.

use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Tensor, TensorData, activation};

use crate::config::{Architecture, ModelConfig};
use crate::error::Result;
use crate::model::layers::{Linear, Loader, Rotary, columns, names, rows};
use crate::weights::HostTensor;

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
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
    /// Multiplies the scores: 1/sqrt(head_dim), or 1 for GPT-Neo.
    scale: f64,
    /// Attend only to the last `window` positions (GPT-Neo's local layers).
    window: Option<usize>,
    /// Use burn's fused attention op (on flex, the CPU backend: one kernel that
    /// shares key/value heads without copying them and masks without an additive
    /// tensor). Elsewhere that op is either the same separate kernels (wgpu
    /// without autotune) or lacks grouped heads, so we keep our own.
    fused: bool,
}

impl Attention {
    pub fn load(loader: &Loader, config: &ModelConfig, prefixes: &[&str], layer: usize) -> Result<Self> {
        let h = config.hidden_size;
        let q_size = config.num_heads * config.head_dim;
        let kv_size = config.num_kv_heads * config.head_dim;
        let w = |name: &str, shape: &[usize]| loader.host(&names(prefixes, name), shape);
        let (q, k, v, out) = match config.architecture {
            Architecture::Llama => {
                let p = format!("layers.{layer}.self_attn");
                (
                    Linear::from_torch(w(&format!("{p}.q_proj.weight"), &[q_size, h])?, None, loader),
                    Linear::from_torch(w(&format!("{p}.k_proj.weight"), &[kv_size, h])?, None, loader),
                    Linear::from_torch(w(&format!("{p}.v_proj.weight"), &[kv_size, h])?, None, loader),
                    Linear::from_torch(w(&format!("{p}.o_proj.weight"), &[h, q_size])?, None, loader),
                )
            }
            Architecture::Gpt2 => {
                // Conv1D weights are stored [in, out]; q, k and v sit side by side.
                let p = format!("h.{layer}.attn");
                let qkv = w(&format!("{p}.c_attn.weight"), &[h, 3 * h])?;
                let qkv_bias = w(&format!("{p}.c_attn.bias"), &[3 * h])?;
                let part = |i: usize| {
                    let weight = loader.upload(columns(&qkv, i * h, h));
                    let bias = HostTensor {
                        shape: vec![h],
                        data: qkv_bias.data[i * h..(i + 1) * h].to_vec(),
                    };
                    Linear::new(weight, Some(loader.upload(bias)))
                };
                let out = Linear::new(
                    loader.upload(w(&format!("{p}.c_proj.weight"), &[h, h])?),
                    Some(loader.upload(w(&format!("{p}.c_proj.bias"), &[h])?)),
                );
                (part(0), part(1), part(2), out)
            }
            Architecture::GptNeo => {
                let p = format!("h.{layer}.attn.attention");
                (
                    Linear::from_torch(w(&format!("{p}.q_proj.weight"), &[h, h])?, None, loader),
                    Linear::from_torch(w(&format!("{p}.k_proj.weight"), &[h, h])?, None, loader),
                    Linear::from_torch(w(&format!("{p}.v_proj.weight"), &[h, h])?, None, loader),
                    Linear::from_torch(
                        w(&format!("{p}.out_proj.weight"), &[h, h])?,
                        Some(w(&format!("{p}.out_proj.bias"), &[h])?),
                        loader,
                    ),
                )
            }
            Architecture::GptNeoX => {
                // query_key_value rows are grouped by head: [head][q|k|v][head_dim].
                let p = format!("layers.{layer}.attention");
                let qkv = w(&format!("{p}.query_key_value.weight"), &[3 * h, h])?;
                let qkv_bias = w(&format!("{p}.query_key_value.bias"), &[3 * h])?;
                let d = config.head_dim;
                let part = |i: usize| {
                    let mut weight = Vec::with_capacity(h * h);
                    let mut bias = Vec::with_capacity(h);
                    for head in 0..config.num_heads {
                        let start = head * 3 * d + i * d;
                        weight.extend(rows(&qkv, start, d).data);
                        bias.extend_from_slice(&qkv_bias.data[start..start + d]);
                    }
                    let weight = HostTensor { shape: vec![h, h], data: weight };
                    let bias = HostTensor { shape: vec![h], data: bias };
                    Linear::from_torch(weight, Some(bias), loader)
                };
                let out = Linear::from_torch(
                    w(&format!("{p}.dense.weight"), &[h, h])?,
                    Some(w(&format!("{p}.dense.bias"), &[h])?),
                    loader,
                );
                (part(0), part(1), part(2), out)
            }
        };
        Ok(Self {
            q,
            k,
            v,
            out,
            num_heads: config.num_heads,
            num_kv_heads: config.num_kv_heads,
            head_dim: config.head_dim,
            scale: if config.scale_attention { 1.0 / (config.head_dim as f64).sqrt() } else { 1.0 },
            window: config.attention_windows[layer],
            fused: *loader.device == Device::flex(),
        })
    }

    /// `x`: [batch, seq, hidden] at positions `start..start + seq`; returns the same shape.
    pub fn forward(&self, x: Tensor<3>, start: usize, rotary: Option<&Rotary>, cache: Option<&mut LayerCache>) -> Tensor<3> {
        let [batch, seq, _] = x.dims();
        let split_heads = |t: Tensor<3>, heads: usize| t.reshape([batch, seq, heads, self.head_dim]).swap_dims(1, 2);
        let mut q = split_heads(self.q.forward(x.clone()), self.num_heads);
        let mut k = split_heads(self.k.forward(x.clone()), self.num_kv_heads);
        let mut v = split_heads(self.v.forward(x), self.num_kv_heads);
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
        let hidden = self.hidden_keys(seq, keys_len, start);
        let device = v.device();
        let context = if self.fused {
            let mask = Tensor::<2, Bool>::from_data(TensorData::new(hidden, [seq, keys_len]), &device);
            let options = AttentionModuleOptions {
                scale: Some(self.scale),
                softcap: None,
                is_causal: false,
            };
            attention(q, k, v, Some(mask.unsqueeze::<4>()), None, options)
        } else {
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
