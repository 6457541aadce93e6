//! Choosing the next token from the logits: greedy [`argmax`], or
//! temperature, then transformers' top-p ([`top_p_keep`]), then a seeded draw
//! ([`sample`]); softmax in f64 with libm's `exp`, the same on every platform.

use rand_chacha::rand_core::RngCore;

/// The first (lowest) index of the largest logit, as `torch.argmax`; NaNs never win.
pub fn argmax(logits: &[f32]) -> Option<u32> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in logits.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i as u32)
}

/// transformers' `TopPLogitsWarper` (with `min_tokens_to_keep = 1`): sort the
/// logits ascending, take the cumulative softmax, and remove every token whose
/// cumulative probability is <= 1 - top_p; the most likely token always stays.
/// Returns which tokens are kept. NaN logits are never kept.
pub fn top_p_keep(logits: &[f32], top_p: f32) -> Vec<bool> {
    let mut keep: Vec<bool> = logits.iter().map(|x| !x.is_nan()).collect();
    if top_p >= 1.0 {
        return keep;
    }
    let mut order: Vec<usize> = (0..logits.len()).filter(|&i| keep[i]).collect();
    // Ascending; ties by descending index, so that the last (always kept) is the
    // lowest-index maximum, as argmax picks, whatever the sort's stability.
    order.sort_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)));
    let probs = softmax(&order.iter().map(|&i| logits[i]).collect::<Vec<_>>());
    let threshold = 1.0 - top_p as f64;
    let mut cumulative = 0.0;
    for (k, (&i, p)) in order.iter().zip(&probs).enumerate() {
        cumulative += p;
        if cumulative <= threshold && k + 1 < order.len() {
            keep[i] = false;
        }
    }
    keep
}

/// Draws a token: logits / temperature, then top-p, then a draw from the
/// softmax of what is left, with one uniform number from `rng`.
pub fn sample(logits: &[f32], temperature: f32, top_p: f32, rng: &mut impl RngCore) -> Option<u32> {
    // Temperature first, in f32, as transformers' TemperatureLogitsWarper.
    let scaled: Vec<f32> = if temperature == 1.0 {
        logits.to_vec()
    } else {
        logits.iter().map(|&x| x / temperature).collect()
    };
    let keep = top_p_keep(&scaled, top_p);
    let kept: Vec<usize> = (0..scaled.len()).filter(|&i| keep[i]).collect();
    if kept.is_empty() {
        return None;
    }
    let probs = softmax(&kept.iter().map(|&i| scaled[i]).collect::<Vec<_>>());
    let total: f64 = probs.iter().sum();
    // A uniform number in [0, 1) from the top 53 bits.
    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * total;
    let mut cumulative = 0.0;
    for (&i, &p) in kept.iter().zip(&probs) {
        cumulative += p;
        if u < cumulative && p > 0.0 {
            return Some(i as u32);
        }
    }
    // Rounding left `u` at the very end: the last token with any probability.
    kept.iter().zip(&probs).rev().find(|(_, p)| **p > 0.0).map(|(&i, _)| i as u32)
}

/// Softmax in f64 with libm's exp (the same bits on every platform). -inf gives 0.
fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    if max == f64::NEG_INFINITY {
        // All -inf: uniform, as torch would give NaNs here and we would rather not.
        return vec![1.0 / logits.len() as f64; logits.len()];
    }
    let exps: Vec<f64> = logits.iter().map(|&x| libm::exp(x as f64 - max)).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn ln(p: f64) -> f32 {
        p.ln() as f32
    }

    #[test]
    fn top_p_follows_transformers() {
        // Probabilities 0.1, 0.2, 0.3, 0.4; ascending cumulative 0.1, 0.3, 0.6, 1.0.
        let logits = [ln(0.2), ln(0.4), ln(0.1), ln(0.3)];
        // top_p 0.5: remove cumulative <= 0.5, i.e. 0.1 and 0.2.
        assert_eq!(top_p_keep(&logits, 0.5), [false, true, false, true]);
        // top_p 0.75: remove cumulative <= 0.25, i.e. only 0.1.
        assert_eq!(top_p_keep(&logits, 0.75), [true, true, false, true]);
        // Tiny top_p: only the most likely token is left.
        assert_eq!(top_p_keep(&logits, 1e-6), [false, true, false, false]);
        assert_eq!(top_p_keep(&logits, 0.0), [false, true, false, false]);
        assert_eq!(top_p_keep(&logits, 1.0), [true; 4]);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, f32::NAN, 3.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN]), None);
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let logits = [ln(0.1), ln(0.2), ln(0.3), ln(0.4)];
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut counts = [0usize; 4];
        let n = 20_000;
        for _ in 0..n {
            counts[sample(&logits, 1.0, 1.0, &mut rng).unwrap() as usize] += 1;
        }
        for (c, p) in counts.iter().zip([0.1, 0.2, 0.3, 0.4]) {
            let f = *c as f64 / n as f64;
            assert!((f - p).abs() < 0.015, "frequency {f}, probability {p}");
        }
        // Temperature 0.5 squares the probabilities: 1, 4, 9, 16 over 30.
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[sample(&logits, 0.5, 1.0, &mut rng).unwrap() as usize] += 1;
        }
        assert!(((counts[3] as f64 / n as f64) - 16.0 / 30.0).abs() < 0.015);
        // Top-p 0.5 leaves 0.3 and 0.4, renormalised.
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[sample(&logits, 1.0, 0.5, &mut rng).unwrap() as usize] += 1;
        }
        assert_eq!(counts[0] + counts[1], 0);
        assert!(((counts[3] as f64 / n as f64) - 4.0 / 7.0).abs() < 0.015);
    }
}
