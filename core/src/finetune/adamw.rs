//! The optimiser side of fine-tuning, each piece as PyTorch and transformers
//! define it so that a run can be replayed step for step in PyTorch
//! (`scripts/make_finetune_goldens.py`):
//!
//! - [`AdamW`]: `torch.optim.AdamW` (single-tensor path, `amsgrad=False`):
//!   `p ← p·(1 − lr·λ)`; `m ← m + (g − m)(1 − β₁)` (torch's `lerp_`);
//!   `v ← β₂v + (1 − β₂)g²`; `p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
//!   Parameters without a gradient are skipped (neither decayed nor moved), as torch does.
//! - [`linear_schedule`]: `get_linear_schedule_with_warmup`: the learning rate
//!   of optimiser step `k` (from 0) is `base · k / warmup` during warm-up, then
//!   `base · (total − k) / (total − warmup)`; so with warm-up the first step's is 0.
//! - [`clip_coefficient`]: `torch.nn.utils.clip_grad_norm_`: the total L2 norm
//!   over every gradient; gradients are multiplied by `min(1, max / (norm + 1e-6))`.

use burn::tensor::Tensor;

/// AdamW's hyper-parameters (torch's defaults but `weight_decay`, which is the caller's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
    }
}

/// AdamW's state: first and second moments of each parameter (flattened), and the step count.
#[derive(Debug, Clone)]
pub struct AdamW {
    pub config: AdamWConfig,
    moments: Vec<Option<(Tensor<1>, Tensor<1>)>>,
    step: usize,
}

impl AdamW {
    pub fn new(config: AdamWConfig, params: usize) -> Self {
        Self { config, moments: vec![None; params], step: 0 }
    }

    /// One step at learning rate `lr`: `params[i]` and `grads[i]` flattened, without autodiff.
    /// Returns the updated parameters (a parameter without a gradient is returned unchanged).
    pub fn step(&mut self, lr: f64, params: Vec<Tensor<1>>, grads: Vec<Option<Tensor<1>>>) -> Vec<Tensor<1>> {
        self.step += 1;
        let AdamWConfig { beta1, beta2, eps, weight_decay } = self.config;
        let t = self.step as i32;
        let bias1 = 1.0 - beta1.powi(t);
        let bias2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        let step_size = lr / bias1;
        params
            .into_iter()
            .zip(grads)
            .zip(self.moments.iter_mut())
            .map(|((p, g), state)| {
                let Some(g) = g else { return p };
                let p = p * (1.0 - lr * weight_decay);
                let (m, v) = state.take().unwrap_or_else(|| (g.zeros_like(), g.zeros_like()));
                let m = m.clone() + (g.clone() - m) * (1.0 - beta1);
                let v = v * beta2 + g.clone() * g * (1.0 - beta2);
                let denom = v.clone().sqrt() / bias2_sqrt + eps;
                let p = p - m.clone() / denom * step_size;
                *state = Some((m, v));
                p
            })
            .collect()
    }
}

/// The learning rate of optimiser step `step` (from 0) of `total`, `warmup` of them warming up.
pub fn linear_schedule(base: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return base * step as f64 / warmup.max(1) as f64;
    }
    base * (0.0f64).max((total - step.min(total)) as f64 / (total - warmup).max(1) as f64)
}

/// Gradient clipping's factor for a total gradient norm `norm`.
pub fn clip_coefficient(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_transformers_linear_warmup() {
        // get_linear_schedule_with_warmup(opt, 2, 10): 0, .5, 1, 7/8, ..., 1/8.
        let lrs: Vec<f64> = (0..10).map(|k| linear_schedule(1.0, k, 2, 10)).collect();
        assert_eq!(lrs[..3], [0.0, 0.5, 1.0]);
        assert!((lrs[3] - 7.0 / 8.0).abs() < 1e-15 && (lrs[9] - 1.0 / 8.0).abs() < 1e-15);
        assert_eq!(linear_schedule(1.0, 0, 0, 4), 1.0);
        assert_eq!(clip_coefficient(0.5, 1.0), 1.0);
        assert!((clip_coefficient(4.0, 1.0) - 1.0 / (4.0 + 1e-6)).abs() < 1e-15);
    }
}
