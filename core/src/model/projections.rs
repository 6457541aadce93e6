//! The attention block's query, key, value and output projections, as each
//! family stores them: separate `nn.Linear`s (Llama layout, GPT-Neo), GPT-2's
//! fused Conv1D, or GPT-NeoX's fused rows grouped by head.

use crate::config::{Architecture, ModelConfig};
use crate::error::Result;
use crate::model::layers::{Linear, Loader, columns, names, rows};
use crate::weights::HostTensor;

pub struct Projections {
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub out: Linear,
}

impl Projections {
    pub fn load(loader: &Loader, config: &ModelConfig, prefixes: &[&str], layer: usize) -> Result<Self> {
        let h = config.hidden_size;
        let q_size = config.num_heads * config.head_dim;
        let kv_size = config.num_kv_heads * config.head_dim;
        let w = |name: &str, shape: &[usize]| loader.host(&names(prefixes, name), shape);
        let (q, k, v, out) = match config.architecture {
            Architecture::Llama | Architecture::Qwen2 | Architecture::Qwen3 | Architecture::Gemma3 | Architecture::Olmo2 => {
                let p = format!("layers.{layer}.self_attn");
                let extras = &config.extras;
                let linear = |name: &str, out: usize, input: usize, bias: bool| -> Result<Linear> {
                    let bias = if bias { Some(w(&format!("{p}.{name}.bias"), &[out])?) } else { None };
                    Ok(Linear::from_torch(w(&format!("{p}.{name}.weight"), &[out, input])?, bias, loader))
                };
                (
                    linear("q_proj", q_size, h, extras.qkv_bias)?,
                    linear("k_proj", kv_size, h, extras.qkv_bias)?,
                    linear("v_proj", kv_size, h, extras.qkv_bias)?,
                    linear("o_proj", h, q_size, extras.attention_out_bias)?,
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
        Ok(Self { q, k, v, out })
    }
}
