//! The small building blocks of a decoder: linear maps, norms, activations and
//! rotary position embeddings, each loaded from checkpoint tensors.

use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::config::{Activation, NormKind};
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

/// RMSNorm (Llama) or LayerNorm (GPT-2, GPT-Neo, GPT-NeoX) over the last dimension.
#[derive(Clone, Debug)]
pub struct Norm {
    kind: NormKind,
    weight: Tensor<1>,
    bias: Option<Tensor<1>>,
    eps: f64,
}

impl Norm {
    /// Loads `{prefix}.weight` (and `{prefix}.bias` for LayerNorm).
    pub fn load(loader: &Loader, prefixes: &[&str], name: &str, kind: NormKind, size: usize, eps: f64) -> Result<Self> {
        let weight = loader.tensor(&names(prefixes, &format!("{name}.weight")), &[size])?;
        let bias = match kind {
            NormKind::Layer => Some(loader.tensor(&names(prefixes, &format!("{name}.bias")), &[size])?),
            NormKind::Rms => None,
        };
        Ok(Self { kind, weight, bias, eps })
    }

    /// `x`: [batch, seq, hidden]
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let weight = self.weight.clone().unsqueeze::<3>();
        match self.kind {
            NormKind::Rms => {
                let variance = x.clone().square().mean_dim(2);
                x * (variance + self.eps).sqrt().recip() * weight
            }
            NormKind::Layer => {
                let mean = x.clone().mean_dim(2);
                let centered = x - mean;
                let variance = centered.clone().square().mean_dim(2);
                let bias = self.bias.clone().expect("LayerNorm has a bias").unsqueeze::<3>();
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

/// Rotary position embeddings in transformers' "rotate half" layout, applied to
/// the first `dims` dimensions of each head.
#[derive(Clone, Debug)]
pub struct Rotary {
    dims: usize,
    /// [max_positions, dims]
    cos: Tensor<2>,
    sin: Tensor<2>,
}

impl Rotary {
    pub fn new(theta: f64, dims: usize, max_positions: usize, device: &Device) -> Self {
        // Computed in f32, in the same order as transformers, so that angles at
        // long positions round the same way.
        let half = dims / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / dims as f32))
            .collect();
        let mut cos = Vec::with_capacity(max_positions * dims);
        let mut sin = Vec::with_capacity(max_positions * dims);
        for pos in 0..max_positions {
            // cos/sin of [freqs, freqs], as transformers concatenates them.
            for _ in 0..2 {
                for f in &inv_freq {
                    let angle = pos as f32 * f;
                    cos.push(angle.cos());
                    sin.push(angle.sin());
                }
            }
        }
        Self {
            dims,
            cos: Tensor::from_data(TensorData::new(cos, [max_positions, dims]), device),
            sin: Tensor::from_data(TensorData::new(sin, [max_positions, dims]), device),
        }
    }

    /// `x`: [batch, heads, seq, head_dim] at positions `start..start + seq`.
    pub fn apply(&self, x: Tensor<4>, start: usize) -> Tensor<4> {
        let [batch, heads, seq, head_dim] = x.dims();
        let cos = self.cos.clone().slice([start..start + seq]).unsqueeze::<4>();
        let sin = self.sin.clone().slice([start..start + seq]).unsqueeze::<4>();
        let rot = x.clone().slice([0..batch, 0..heads, 0..seq, 0..self.dims]);
        let half = self.dims / 2;
        let first = rot.clone().slice([0..batch, 0..heads, 0..seq, 0..half]);
        let second = rot.clone().slice([0..batch, 0..heads, 0..seq, half..self.dims]);
        let rotated_half = Tensor::cat(vec![second.neg(), first], 3);
        let rot = rot * cos + rotated_half * sin;
        if self.dims == head_dim {
            rot
        } else {
            let pass = x.slice([0..batch, 0..heads, 0..seq, self.dims..head_dim]);
            Tensor::cat(vec![rot, pass], 3)
        }
    }
}
