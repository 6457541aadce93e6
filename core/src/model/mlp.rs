//! The feed-forward block: gated (SwiGLU for Llama, Qwen and OLMo; GeGLU for
//! Gemma) or plain two-layer (GPT family).

use burn::tensor::Tensor;

use crate::config::{Activation, Architecture, ModelConfig};
use crate::cpu_kernels::{host_values, is_plain_cpu, silu_gate, to_tensor};
use crate::error::Result;
use crate::model::layers::{Linear, Loader, ParamMut, activate, names};

#[derive(Clone, Debug)]
pub enum Mlp {
    /// `down(act(gate(x)) * up(x))`
    Gated { gate: Linear, up: Linear, down: Linear, act: Activation },
    /// `fc_out(act(fc_in(x)))`
    Plain { fc_in: Linear, fc_out: Linear, act: Activation },
}

impl Mlp {
    pub fn load(loader: &Loader, config: &ModelConfig, prefixes: &[&str], layer: usize) -> Result<Self> {
        let (h, m) = (config.hidden_size, config.intermediate_size);
        let act = config.activation;
        let w = |name: String, shape: &[usize]| loader.host(&names(prefixes, &name), shape);
        Ok(match config.architecture {
            Architecture::Llama | Architecture::Qwen2 | Architecture::Qwen3 | Architecture::Gemma3 | Architecture::Olmo2 => {
                let p = format!("layers.{layer}.mlp");
                let linear = |name: &str, out: usize, input: usize| -> Result<Linear> {
                    let bias = if config.extras.mlp_bias { Some(w(format!("{p}.{name}.bias"), &[out])?) } else { None };
                    Ok(Linear::from_torch(w(format!("{p}.{name}.weight"), &[out, input])?, bias, loader))
                };
                Mlp::Gated {
                    gate: linear("gate_proj", m, h)?,
                    up: linear("up_proj", m, h)?,
                    down: linear("down_proj", h, m)?,
                    act,
                }
            }
            Architecture::Gpt2 => {
                // Conv1D: weights already [in, out].
                let p = format!("h.{layer}.mlp");
                Mlp::Plain {
                    fc_in: Linear::new(
                        loader.upload(w(format!("{p}.c_fc.weight"), &[h, m])?),
                        Some(loader.upload(w(format!("{p}.c_fc.bias"), &[m])?)),
                    ),
                    fc_out: Linear::new(
                        loader.upload(w(format!("{p}.c_proj.weight"), &[m, h])?),
                        Some(loader.upload(w(format!("{p}.c_proj.bias"), &[h])?)),
                    ),
                    act,
                }
            }
            Architecture::GptNeo => {
                let p = format!("h.{layer}.mlp");
                Mlp::Plain {
                    fc_in: Linear::from_torch(w(format!("{p}.c_fc.weight"), &[m, h])?, Some(w(format!("{p}.c_fc.bias"), &[m])?), loader),
                    fc_out: Linear::from_torch(w(format!("{p}.c_proj.weight"), &[h, m])?, Some(w(format!("{p}.c_proj.bias"), &[h])?), loader),
                    act,
                }
            }
            Architecture::GptNeoX => {
                let p = format!("layers.{layer}.mlp");
                Mlp::Plain {
                    fc_in: Linear::from_torch(
                        w(format!("{p}.dense_h_to_4h.weight"), &[m, h])?,
                        Some(w(format!("{p}.dense_h_to_4h.bias"), &[m])?),
                        loader,
                    ),
                    fc_out: Linear::from_torch(
                        w(format!("{p}.dense_4h_to_h.weight"), &[h, m])?,
                        Some(w(format!("{p}.dense_4h_to_h.bias"), &[h])?),
                        loader,
                    ),
                    act,
                }
            }
        })
    }

    pub fn params_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a>>) {
        match self {
            Mlp::Gated { gate, up, down, .. } => [gate, up, down].into_iter().for_each(|l| l.params_mut(out)),
            Mlp::Plain { fc_in, fc_out, .. } => [fc_in, fc_out].into_iter().for_each(|l| l.params_mut(out)),
        }
    }

    /// `x`: [batch, seq, hidden]
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Mlp::Gated { gate, up, down, act: Activation::Silu } if is_plain_cpu(&x.device()) => {
                // SwiGLU inference on the CPU: one SIMD pass (see cpu_kernels).
                let device = x.device();
                let g = gate.forward(x.clone());
                let dims = g.dims();
                let mut g = host_values(g);
                silu_gate(&mut g, &host_values(up.forward(x)));
                down.forward(to_tensor(g, dims, &device))
            }
            Mlp::Gated { gate, up, down, act } => down.forward(activate(*act, gate.forward(x.clone())) * up.forward(x)),
            Mlp::Plain { fc_in, fc_out, act } => fc_out.forward(activate(*act, fc_in.forward(x))),
        }
    }
}
