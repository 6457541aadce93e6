//! The small building blocks of a decoder: linear maps, norms and activations,
//! each loaded from checkpoint tensors.

use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::config::{Activation, ModelConfig, NormKind};
use crate::error::{Error, Result};
use crate::weights::{HostTensor, WeightSource};

/// Uploads checkpoint tensors to the device, checking names and shapes.
pub struct Loader<'a> {
    pub source: &'a dyn WeightSource,
    pub device: &'a Device,
}

impl Loader<'_> {
    /// The first of `names` that the checkpoint has (checkpoints differ in prefixes).
    pub fn host(&self, names: &[String], expected: &[usize]) -> Result<HostTensor> {
        for name in names {
            if let Some(t) = self.source.tensor(name)? {
                if t.shape != expected {
                    return Err(Error::TensorShape {
                        file: self.source.describe().into(),
                        name: self.source.stored_name(name),
                        found: t.shape,
                        expected: expected.to_vec(),
                    });
                }
                return Ok(t);
            }
        }
        let mut stored: Vec<String> = names.iter().map(|n| self.source.stored_name(n)).collect();
        stored.dedup();
        Err(Error::MissingTensor {
            file: self.source.describe().into(),
            name: stored.join(" or "),
        })
    }

    pub fn upload<const D: usize>(&self, t: HostTensor) -> Tensor<D> {
        Tensor::from_data(TensorData::new(t.data, t.shape), self.device)
    }

    pub fn tensor<const D: usize>(&self, names: &[String], expected: &[usize]) -> Result<Tensor<D>> {
        Ok(self.upload(self.host(names, expected)?))
    }
}

/// Candidate names: the name itself and with each of `prefixes` in front.
pub fn names(prefixes: &[&str], name: &str) -> Vec<String> {
    prefixes.iter().map(|p| format!("{p}{name}")).collect()
}

/// A mutable handle on one trainable tensor (fine-tuning, `crate::finetune`).
pub enum ParamMut<'a> {
    Vector(&'a mut Tensor<1>),
    Matrix(&'a mut Tensor<2>),
}

/// `y = x W + b`, with `W` stored as `[in, out]`.
#[derive(Clone, Debug)]
pub struct Linear {
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
}

impl Linear {
    pub fn new(weight: Tensor<2>, bias: Option<Tensor<1>>) -> Self {
        Self { weight, bias }
    }

    /// Loads a PyTorch `nn.Linear` weight, stored `[out, in]`.
    pub fn from_torch(weight: HostTensor, bias: Option<HostTensor>, loader: &Loader) -> Self {
        Self::new(loader.upload(transpose(&weight)), bias.map(|b| loader.upload(b)))
    }

    pub fn params_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a>>) {
        out.push(ParamMut::Matrix(&mut self.weight));
        if let Some(b) = &mut self.bias {
            out.push(ParamMut::Vector(b));
        }
    }

    /// `x`: [batch, seq, in] → [batch, seq, out]
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq, input] = x.dims();
        let out = self.weight.dims()[1];
        self.forward_2d(x.reshape([batch * seq, input])).reshape([batch, seq, out])
    }

    /// `x`: [rows, in] → [rows, out]
    pub fn forward_2d(&self, x: Tensor<2>) -> Tensor<2> {
        let y = x.matmul(self.weight.clone());
        match &self.bias {
            Some(b) => y + b.clone().unsqueeze::<2>(),
            None => y,
        }
    }
}

/// Row-major transpose of a 2-D host tensor.
pub fn transpose(t: &HostTensor) -> HostTensor {
    let (rows, cols) = (t.shape[0], t.shape[1]);
    let mut data = vec![0.0; t.data.len()];
    for r in 0..rows {
        for c in 0..cols {
            data[c * rows + r] = t.data[r * cols + c];
        }
    }
    HostTensor {
        shape: vec![cols, rows],
        data,
    }
}

/// Rows `[start, start + len)` of a 2-D host tensor.
pub fn rows(t: &HostTensor, start: usize, len: usize) -> HostTensor {
    let cols = t.shape[1];
    HostTensor {
        shape: vec![len, cols],
        data: t.data[start * cols..(start + len) * cols].to_vec(),
    }
}

/// Columns `[start, start + len)` of a 2-D host tensor.
pub fn columns(t: &HostTensor, start: usize, len: usize) -> HostTensor {
    let cols = t.shape[1];
    let data = t
        .data
        .chunks_exact(cols)
        .flat_map(|row| row[start..start + len].iter().copied())
        .collect();
    HostTensor {
        shape: vec![t.shape[0], len],
        data,
    }
}

/// RMSNorm (Llama family) or LayerNorm (GPT-2, GPT-Neo, GPT-NeoX) over the last dimension.
#[derive(Clone, Debug)]
pub struct Norm {
    kind: NormKind,
    /// For Gemma, `1 + weight` as stored (computed in f32 as transformers does).
    weight: Tensor<1>,
    bias: Option<Tensor<1>>,
    eps: f64,
}

impl Norm {
    /// Loads `{name}.weight` (and `{name}.bias` for LayerNorm) of `size` values,
    /// of the kind, epsilon and weight convention `config` says.
    pub fn load(loader: &Loader, prefixes: &[&str], name: &str, size: usize, config: &ModelConfig) -> Result<Self> {
        let mut weight = loader.host(&names(prefixes, &format!("{name}.weight")), &[size])?;
        if config.extras.norm_adds_one {
            weight.data.iter_mut().for_each(|w| *w += 1.0);
        }
        let bias = match config.norm {
            NormKind::Layer => Some(loader.tensor(&names(prefixes, &format!("{name}.bias")), &[size])?),
            NormKind::Rms => None,
        };
        Ok(Self {
            kind: config.norm,
            weight: loader.upload(weight),
            bias,
            eps: config.norm_eps,
        })
    }

    pub fn params_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a>>) {
        out.push(ParamMut::Vector(&mut self.weight));
        if let Some(b) = &mut self.bias {
            out.push(ParamMut::Vector(b));
        }
    }

    /// Normalises over the last dimension of `x` ([batch, seq, hidden], or
    /// [batch, heads, seq, head_dim] for per-head query/key norms).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let weight = self.weight.clone().unsqueeze::<D>();
        match self.kind {
            NormKind::Rms => {
                let variance = x.clone().square().mean_dim(D - 1);
                x * (variance + self.eps).sqrt().recip() * weight
            }
            NormKind::Layer => {
                let mean = x.clone().mean_dim(D - 1);
                let centered = x - mean;
                let variance = centered.clone().square().mean_dim(D - 1);
                let bias = self.bias.clone().expect("LayerNorm has a bias").unsqueeze::<D>();
                centered * (variance + self.eps).sqrt().recip() * weight + bias
            }
        }
    }
}

pub fn activate(act: Activation, x: Tensor<3>) -> Tensor<3> {
    match act {
        Activation::Silu => activation::silu(x),
        Activation::Gelu => activation::gelu(x),
        Activation::GeluTanh => activation::gelu_approximate(x),
        Activation::QuickGelu => x.clone() * activation::sigmoid(x * 1.702),
        Activation::Relu => activation::relu(x),
    }
}
