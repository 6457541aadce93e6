//! Rotary position embeddings in transformers' "rotate half" layout, and their
//! frequencies: unscaled or scaled (`linear`, `llama3`, `yarn`) exactly as
//! transformers' `modeling_rope_utils` computes them.

use burn::tensor::{Device, Tensor, TensorData};

use crate::config::RopeScaling;

/// cos/sin tables for every position, applied to the first `dims` dimensions of each head.
#[derive(Clone, Debug)]
pub struct Rotary {
    dims: usize,
    /// [max_positions, dims]
    cos: Tensor<2>,
    sin: Tensor<2>,
}

impl Rotary {
    pub fn new(theta: f64, dims: usize, scaling: &RopeScaling, max_positions: usize, device: &Device) -> Self {
        let (inv_freq, attention_factor) = inverse_frequencies(theta, dims, scaling);
        // transformers multiplies cos and sin by the attention factor (YaRN's; 1 otherwise).
        let attention_factor = attention_factor as f32;
        let mut cos = Vec::with_capacity(max_positions * dims);
        let mut sin = Vec::with_capacity(max_positions * dims);
        for pos in 0..max_positions {
            // cos/sin of [freqs, freqs], as transformers concatenates them.
            for _ in 0..2 {
                for f in &inv_freq {
                    let angle = pos as f32 * f;
                    cos.push(angle.cos() * attention_factor);
                    sin.push(angle.sin() * attention_factor);
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
    /// The same tables as autodiff constants (fine-tuning), or plain again.
    pub fn set_autodiff(&mut self, on: bool) {
        let set = |t: Tensor<2>| if on { t.autodiff() } else { t.without_autodiff() };
        self.cos = set(self.cos.clone());
        self.sin = set(self.sin.clone());
    }

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

/// The `dims / 2` inverse frequencies and the attention factor, as transformers
/// computes them: f32 tensors in its order of operations, where a Python float
/// meeting an f32 tensor is first rounded to f32 (so angles at long positions
/// round the same way); the scalar-only parts (YaRN's correction range) in f64
/// as Python does them.
pub fn inverse_frequencies(theta: f64, dims: usize, scaling: &RopeScaling) -> (Vec<f32>, f64) {
    let half = dims / 2;
    // 1 / base ** (arange(0, dim, 2) / dim)
    let base_powers: Vec<f32> = (0..half).map(|i| (theta as f32).powf((2 * i) as f32 / dims as f32)).collect();
    let unscaled = || base_powers.iter().map(|p| 1.0 / p).collect::<Vec<f32>>();
    match *scaling {
        RopeScaling::None => (unscaled(), 1.0),
        RopeScaling::Linear { factor } => (unscaled().into_iter().map(|f| f / factor as f32).collect(), 1.0),
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_positions } => {
            let old = original_max_positions as f64;
            let (low_wavelen, high_wavelen) = ((old / low_freq_factor) as f32, (old / high_freq_factor) as f32);
            let factor = factor as f32;
            let freqs = unscaled()
                .into_iter()
                .map(|f| {
                    let wavelen = (2.0 * std::f64::consts::PI) as f32 / f;
                    // Long wavelengths are interpolated, short ones kept...
                    let scaled = if wavelen > low_wavelen { f / factor } else { f };
                    // ...and those in between blended along a ramp.
                    let smooth = (old as f32 / wavelen - low_freq_factor as f32) / (high_freq_factor - low_freq_factor) as f32;
                    let smoothed = (1.0 - smooth) * scaled / factor + smooth * scaled;
                    let medium = wavelen >= high_wavelen && wavelen <= low_wavelen;
                    if medium { smoothed } else { scaled }
                })
                .collect();
            (freqs, 1.0)
        }
        RopeScaling::Yarn { factor, original_max_positions, beta_fast, beta_slow, truncate, attention_factor } => {
            // The dimension at which `rotations` full turns fit the original context.
            let correction_dim = |rotations: f64| {
                (dims as f64 * (original_max_positions as f64 / (rotations * 2.0 * std::f64::consts::PI)).ln()) / (2.0 * theta.ln())
            };
            let (mut low, mut high) = (correction_dim(beta_fast), correction_dim(beta_slow));
            if truncate {
                (low, high) = (low.floor(), high.ceil());
            }
            let (low, mut high) = (low.max(0.0), high.min(dims as f64 - 1.0));
            if low == high {
                high += 0.001; // transformers: "prevent singularity"
            }
            let freqs = base_powers
                .iter()
                .enumerate()
                .map(|(i, &p)| {
                    let extrapolated = 1.0 / p;
                    let interpolated = 1.0 / (factor as f32 * p);
                    let ramp = ((i as f32 - low as f32) / (high - low) as f32).clamp(0.0, 1.0);
                    let extrapolation = 1.0 - ramp;
                    interpolated * (1.0 - extrapolation) + extrapolated * extrapolation
                })
                .collect();
            (freqs, attention_factor)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::inverse_frequencies;
    use crate::config::{ModelConfig, Positions};

    /// transformers' frequencies for published configs (scripts/make_goldens.py --rope),
    /// read through our config reader: equal to the f32 bit, or within 2 ulps
    /// where f32 `pow` rounds differently from torch's.
    #[test]
    fn frequencies_are_transformers() {
        let goldens: Value = serde_json::from_str(include_str!("../../tests/fixtures/rope_goldens.json")).unwrap();
        for (name, case) in goldens["cases"].as_object().unwrap() {
            let config = json!({
                "model_type": "llama", "vocab_size": 10, "hidden_size": 64, "intermediate_size": 8, "num_hidden_layers": 1,
                "num_attention_heads": 1, "head_dim": case["head_dim"], "max_position_embeddings": case["max_position_embeddings"],
                "rope_parameters": case["rope_parameters"]
            });
            let config = ModelConfig::from_json(name, config.to_string().as_bytes()).unwrap();
            let Positions::Rotary { theta, rotary_dims } = config.positions else { panic!("{name}: rotary") };
            let (ours, attention_factor) = inverse_frequencies(theta, rotary_dims, &config.extras.rope_scaling);
            assert_eq!(attention_factor, case["attention_factor"].as_f64().unwrap(), "{name}: attention factor");
            let theirs: Vec<f32> = case["inv_freq"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            assert_eq!(ours.len(), theirs.len(), "{name}");
            let ulps = ours.iter().zip(&theirs).map(|(a, b)| (a.to_bits() as i64 - b.to_bits() as i64).abs()).max().unwrap();
            eprintln!("{name}: at most {ulps} ulps from transformers");
            assert!(ulps <= 2, "{name}: {ours:?}\ntransformers {theirs:?}");
        }
    }
}
