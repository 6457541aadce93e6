//! The per-token statistics of rows of logits, computed on the host: the CPU
//! path's version of [`crate::scoring::token_statistics`].
//!
//! Why by hand: burn's tensor version makes a dozen passes over the [rows,
//! vocab] logits (max, shift, exp, sums, log, products), each writing a new
//! tensor of that size. On a GPU those passes are cheap and the logits never
//! leave it; on the CPU (flex, natively and in the browser's wasm) they cost
//! more than the LM head's matmul. Here each row is read once into a scratch
//! row that stays in cache, its exps are SIMD ([`cpu_kernels::exp`]) and the
//! sums are accumulated in f64.

use crate::cpu_kernels;

/// For each row of `logits` ([rows, vocab], row-major) and the token it
/// predicts: (log p(target), E[log p], Var[log p], 1.0 if the target is the
/// row's argmax else 0.0), the layout `token_statistics` returns.
pub fn rows(logits: &[f32], vocab: usize, targets: &[u32]) -> Vec<[f32; 4]> {
    let mut out = vec![[0f32; 4]; targets.len()];
    // Rows in pieces of 16, each piece with its own scratch row.
    const PIECE: usize = 16;
    cpu_kernels::each_piece(&mut out, PIECE, |p, stats| {
        let mut exps = vec![0f32; vocab];
        for (j, s) in stats.iter_mut().enumerate() {
            let r = p * PIECE + j;
            *s = one_row(&logits[r * vocab..(r + 1) * vocab], targets[r] as usize, &mut exps);
        }
    });
    out
}

fn one_row(row: &[f32], target: usize, exps: &mut [f32]) -> [f32; 4] {
    // The first maximum, as torch.argmax and burn's argmax pick it.
    let (mut argmax, mut max) = (0, row[0]);
    for (i, &x) in row.iter().enumerate() {
        if x > max {
            (argmax, max) = (i, x);
        }
    }
    for (e, &x) in exps.iter_mut().zip(row) {
        *e = cpu_kernels::exp(x - max);
    }
    let sum: f64 = exps.iter().map(|&e| e as f64).sum();
    let log_sum = sum.ln();
    // log p_i = (x_i - max) - log Σ exp; p_i = exp_i / Σ exp.
    let log_p = |x: f32| (x - max) as f64 - log_sum;
    let mut mean = 0f64;
    for (&e, &x) in exps.iter().zip(row) {
        mean += e as f64 * log_p(x);
    }
    mean /= sum;
    // Var = E[(log p - mean)^2], as the tensor version computes it.
    let mut variance = 0f64;
    for (&e, &x) in exps.iter().zip(row) {
        let d = log_p(x) - mean;
        variance += e as f64 * d * d;
    }
    variance /= sum;
    let greedy = if argmax == target { 1.0 } else { 0.0 };
    [log_p(row[target]) as f32, mean as f32, variance as f32, greedy]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definitions, in f64 from scratch.
    fn reference(row: &[f32], target: usize) -> [f64; 4] {
        let xs: Vec<f64> = row.iter().map(|&x| x as f64).collect();
        let max = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + xs.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
        let logp: Vec<f64> = xs.iter().map(|x| x - lse).collect();
        let mean: f64 = logp.iter().map(|l| l.exp() * l).sum();
        let var: f64 = logp.iter().map(|l| l.exp() * (l - mean).powi(2)).sum();
        let argmax = (0..xs.len()).find(|&i| xs[i] == max).unwrap();
        [logp[target], mean, var, (argmax == target) as u8 as f64]
    }

    #[test]
    fn each_row_matches_the_definitions() {
        // Splitmix-style deterministic logits over a vocabulary of 2,000.
        let vocab = 2000;
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state = state.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
        };
        let logits: Vec<f32> = (0..3 * vocab).map(|_| next() * 30.0 - 15.0).collect();
        let mut targets = vec![7u32, 1999, 0];
        // The third row's target is its argmax.
        let third = &logits[2 * vocab..];
        targets[2] = (0..vocab).max_by(|&a, &b| third[a].total_cmp(&third[b])).unwrap() as u32;
        let got = rows(&logits, vocab, &targets);
        for (i, g) in got.iter().enumerate() {
            let want = reference(&logits[i * vocab..(i + 1) * vocab], targets[i] as usize);
            for k in 0..3 {
                assert!((g[k] as f64 - want[k]).abs() <= 1e-5 * want[k].abs().max(1.0), "row {i} stat {k}: {} vs {}", g[k], want[k]);
            }
            assert_eq!(g[3] as f64, want[3], "row {i} greedy");
        }
        assert_eq!(got[2][3], 1.0);
    }
}
