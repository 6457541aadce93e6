//! Hand-written kernels for inference on burn's CPU backend (flex), natively
//! and in the browser's wasm: the causal softmax of attention, the SiLU gate
//! of SwiGLU blocks and an exp that the compiler vectorizes.
//!
//! Why by hand: flex computes every exp with the scalar libm `expf` (a call
//! per element, never vectorized) and its attention masks element by element.
//! Profiled in the page (`e2e/profile_bench.mjs`, tinyhelen-1m, B=8, T=256),
//! `expf` took 30% of a forward pass and attention's scalar loops 13%, more
//! than any matmul but the biggest. These kernels work on the host copy of a
//! tensor and give it back: on flex that is a memory copy, cheap beside the
//! element-wise passes they replace. Training (autodiff) and the GPU keep
//! burn's ops ([`is_plain_cpu`]).

use burn::tensor::{Device, Tensor, TensorData};

/// Whether `device` is flex without autodiff (burn's device equality ignores
/// autodiff, so it alone cannot tell).
pub fn is_plain_cpu(device: &Device) -> bool {
    *device == Device::flex() && !device.is_autodiff()
}

/// e^x, within 2 ulp of the exact value for x in [-87.3, 88] (below, the
/// smallest normal float; above, e^88). Cephes' `expf`: x = n ln 2 + r with
/// |r| <= ln 2 / 2, a degree-7 polynomial for e^r, then 2^n put in the
/// exponent bits. No branches and no calls, so a loop of it becomes SIMD
/// (simd128 in wasm, SSE/AVX natively).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.336_55, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    // ln 2 split in two so that n * ln 2 is exact in its first part.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 5.000_000_1e-1;
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The host copy of a float tensor, as a vector.
pub fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("a float32 tensor on the CPU")
}

/// Calls `f` with each `len`-long piece of `xs` and its index: on every core
/// natively (rayon, as flex's own ops), one after another in wasm (a tab's
/// worker has one thread).
pub fn each_piece<T: Send>(xs: &mut [T], len: usize, f: impl Fn(usize, &mut [T]) + Send + Sync) {
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        xs.par_chunks_mut(len).enumerate().for_each(|(i, piece)| f(i, piece));
    }
    #[cfg(target_family = "wasm")]
    xs.chunks_mut(len).enumerate().for_each(|(i, piece)| f(i, piece));
}

/// A tensor of `shape` on `device` from host values.
pub fn to_tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// `silu(gate) * up` = gate * up / (1 + e^-gate), element-wise, into `gate`.
pub fn silu_gate(gate: &mut [f32], up: &[f32]) {
    const PIECE: usize = 1 << 14;
    each_piece(gate, PIECE, |i, gate| {
        for (g, &u) in gate.iter_mut().zip(&up[i * PIECE..]) {
            *g = *g * u / (1.0 + exp(-*g));
        }
    });
}

/// Attention weights from raw scores, in place: `scores` holds rows of
/// `keys_len` scores (any number of rows, `rows_per_head` queries a head, the
/// heads one after another). Query `i` of a head sees the keys in
/// `visible(i)`; each row is scaled by `scale`, soft-maxed over its visible
/// keys and zero elsewhere.
pub fn masked_softmax(scores: &mut [f32], keys_len: usize, rows_per_head: usize, scale: f32, visible: impl Fn(usize) -> std::ops::Range<usize> + Send + Sync) {
    // The row's maximum times the scale is the maximum of the scaled row.
    debug_assert!(scale > 0.0);
    each_piece(scores, keys_len, |r, row| {
        let keys = visible(r % rows_per_head);
        let (seen, (before, after)) = {
            let (before, rest) = row.split_at_mut(keys.start);
            let (seen, after) = rest.split_at_mut(keys.len());
            (seen, (before, after))
        };
        before.fill(0.0);
        after.fill(0.0);
        if seen.is_empty() {
            return;
        }
        // `if` rather than f32::max, which wasm runs as a call to fmaxf (its NaN rule).
        let max = lanes(seen, f32::NEG_INFINITY, |m, s| if s > m { s } else { m }) * scale;
        // Two passes, so that the exps become SIMD (a running sum beside them would not).
        seen.iter_mut().for_each(|s| *s = exp(*s * scale - max));
        let inv = 1.0 / lanes(seen, 0.0, |a, b| a + b);
        seen.iter_mut().for_each(|s| *s *= inv);
    });
}

/// Folds `xs` with `f` in eight interleaved lanes (so that it becomes SIMD:
/// a single running fold would be one long dependency chain), then the lanes.
fn lanes(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = f(acc[i], c[i]);
        }
    }
    for (i, &x) in rest.iter().enumerate() {
        acc[i] = f(acc[i], x);
    }
    acc.into_iter().fold(init, &f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_the_exact_value() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let exact = (x as f64).exp();
            let ulp = (exact as f32).to_bits().abs_diff(exp(x).to_bits());
            worst = worst.max(ulp as f64);
            x += 0.001_37;
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        let tiny = exp(f32::NEG_INFINITY);
        assert!((0.0..1.2e-38).contains(&tiny), "{tiny}");
    }

    #[test]
    fn masked_softmax_normalizes_the_visible_keys_only() {
        // Two heads of two causal queries over three keys (the third key unseen);
        // then one row of 20 keys, past the eight lanes.
        let mut scores = vec![5.0, 1.0, 2.0, 1.0, 2.0, 3.0, 7.0, 7.0, 7.0, -1.0, 1.0, 9.0];
        masked_softmax(&mut scores, 3, 2, 0.5, |i| 0..i + 1);
        let e = [0.5f64.exp(), 1.0f64.exp()];
        let z: f64 = e.iter().sum();
        let want = [1.0, 0.0, 0.0, e[0] / z, e[1] / z, 0.0, 1.0, 0.0, 0.0, (-0.5f64).exp() / ((-0.5f64).exp() + 0.5f64.exp()), 0.5f64.exp() / ((-0.5f64).exp() + 0.5f64.exp()), 0.0];
        for (i, (got, want)) in scores.iter().zip(want).enumerate() {
            assert!((*got as f64 - want).abs() < 1e-6, "{i}: {got} vs {want}");
        }
        let mut row: Vec<f32> = (0..20).map(|i| (i as f32 * 0.37).sin() * 4.0).collect();
        let exact: Vec<f64> = row[2..19].iter().map(|&s| (s as f64 * 0.25).exp()).collect();
        let z: f64 = exact.iter().sum();
        masked_softmax(&mut row, 20, 1, 0.25, |_| 2..19);
        assert_eq!((row[0], row[1], row[19]), (0.0, 0.0, 0.0));
        for (got, want) in row[2..19].iter().zip(exact.iter().map(|e| e / z)) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
}
