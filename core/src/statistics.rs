//! Metrics of scores against binary labels (ROC curve, AUROC, TPR at a fixed
//! FPR, best accuracy), and the statistics of a metric: mean with standard
//! error, seeded bootstrap confidence intervals.
//!
//! Scores are oriented so that higher means "positive" (label `true`, e.g. a
//! member of the training data).

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::error::{Error, Result};

/// Points of the ROC curve, as scikit-learn's `roc_curve(labels, scores,
/// drop_intermediate=...)`: the first point is `(0, 0)` at threshold `+inf`,
/// then one point per distinct score, from the highest; a point counts the
/// items whose score is `>= threshold` as predicted positive.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    /// `+inf` first (serialized by serde_json as `null`).
    pub thresholds: Vec<f64>,
}

fn check(scores: &[f64], labels: &[bool]) -> Result<(usize, usize)> {
    if scores.len() != labels.len() {
        return Err(Error::Input(format!("{} scores but {} labels", scores.len(), labels.len())));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Input(format!("score {i} is NaN")));
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(Error::Input(format!(
            "ROC metrics need both labels ({positives} positive, {negatives} negative)"
        )));
    }
    Ok((positives, negatives))
}

/// The points of a curve (e.g. a ROC's `fpr`, `tpr`) at least `step` apart in
/// x or y from the point kept before, with both ends kept: every dropped point
/// lies within `step` of a kept one, so the thinned curve draws the same at a
/// glance with at most about 2 / `step` points for a curve within the unit square.
pub fn thin_curve(x: &[f64], y: &[f64], step: f64) -> (Vec<f64>, Vec<f64>) {
    let mut kept: Vec<(f64, f64)> = Vec::new();
    for (i, (&a, &b)) in x.iter().zip(y).enumerate() {
        let last = i + 1 == x.len().min(y.len());
        let far = kept.last().is_none_or(|&(ka, kb)| (a - ka).abs().max((b - kb).abs()) >= step);
        if far || last {
            kept.push((a, b));
        }
    }
    kept.into_iter().unzip()
}

/// The ROC curve; `drop_intermediate` drops collinear points exactly as
/// scikit-learn does (its default, `True`). Errors on NaN scores, mismatched
/// lengths, or labels of one class only.
pub fn roc_curve(scores: &[f64], labels: &[bool], drop_intermediate: bool) -> Result<RocCurve> {
    check(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // Cumulative true and false positives at the last item of each run of equal scores.
    let (mut tps, mut fps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0f64, 0.0f64);
    for (rank, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_run = order.get(rank + 1).is_none_or(|&next| scores[next] != scores[i]);
        if last_of_run {
            tps.push(tp);
            fps.push(fp);
            thresholds.push(scores[i]);
        }
    }
    if drop_intermediate && fps.len() > 2 {
        let n = fps.len();
        let keep: Vec<usize> = (0..n)
            .filter(|&j| {
                j == 0 || j == n - 1 || {
                    let second = |v: &[f64]| (v[j + 1] - v[j]) - (v[j] - v[j - 1]);
                    second(&fps) != 0.0 || second(&tps) != 0.0
                }
            })
            .collect();
        tps = keep.iter().map(|&j| tps[j]).collect();
        fps = keep.iter().map(|&j| fps[j]).collect();
        thresholds = keep.iter().map(|&j| thresholds[j]).collect();
    }
    let (tp_total, fp_total) = (*tps.last().unwrap(), *fps.last().unwrap());
    Ok(RocCurve {
        fpr: std::iter::once(0.0).chain(fps.iter().map(|f| f / fp_total)).collect(),
        tpr: std::iter::once(0.0).chain(tps.iter().map(|t| t / tp_total)).collect(),
        thresholds: std::iter::once(f64::INFINITY).chain(thresholds).collect(),
    })
}

/// NumPy's pairwise summation (`np.add.reduce` on a contiguous float64 array),
/// so that sums agree with NumPy's to the last bit.
fn numpy_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut res = -0.0;
        for &v in values {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += values[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[i..] {
            res += v;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        numpy_sum(&values[..half]) + numpy_sum(&values[half..])
    }
}

/// Area under the ROC curve, as scikit-learn's `roc_auc_score` computes it (the
/// trapezoidal rule over `roc_curve(drop_intermediate=True)`, summed as NumPy
/// does): tied scores count half.
pub fn auroc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let roc = roc_curve(scores, labels, true)?;
    Ok(area(&roc))
}

fn area(roc: &RocCurve) -> f64 {
    let terms: Vec<f64> = (1..roc.fpr.len())
        .map(|j| (roc.fpr[j] - roc.fpr[j - 1]) * (roc.tpr[j] + roc.tpr[j - 1]) / 2.0)
        .collect();
    numpy_sum(&terms)
}

/// The highest TPR among ROC points with FPR `<=` `max_fpr` (Min-K%++'s
/// `tpr[np.where(fpr <= max_fpr)[0][-1]]`; dropping intermediate points does
/// not change it).
pub fn tpr_at_fpr(roc: &RocCurve, max_fpr: f64) -> f64 {
    roc.fpr.iter().zip(&roc.tpr).filter(|(f, _)| **f <= max_fpr).map(|(_, t)| *t).fold(0.0, f64::max)
}

/// Best accuracy over thresholds as Min-K%'s code defines it:
/// `max(1 − (FPR + (1 − TPR)) / 2)` over the ROC points, i.e. the best balanced
/// accuracy (plain accuracy when the two classes are equally many).
pub fn best_accuracy(roc: &RocCurve) -> f64 {
    roc.fpr.iter().zip(&roc.tpr).map(|(f, t)| 1.0 - (f + (1.0 - t)) / 2.0).fold(f64::NEG_INFINITY, f64::max)
}

/// What detection reports for one method on a labelled set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DetectionMetrics {
    pub n: usize,
    pub positives: usize,
    pub auroc: f64,
    pub tpr_at_1_fpr: f64,
    pub tpr_at_5_fpr: f64,
    pub best_accuracy: f64,
    /// All points (`drop_intermediate=False`).
    pub roc: RocCurve,
}

pub fn detection_metrics(scores: &[f64], labels: &[bool]) -> Result<DetectionMetrics> {
    let (positives, _) = check(scores, labels)?;
    let roc = roc_curve(scores, labels, false)?;
    Ok(DetectionMetrics {
        n: scores.len(),
        positives,
        auroc: auroc(scores, labels)?,
        tpr_at_1_fpr: tpr_at_fpr(&roc, 0.01),
        tpr_at_5_fpr: tpr_at_fpr(&roc, 0.05),
        best_accuracy: best_accuracy(&roc),
        roc,
    })
}

/// A mean and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MeanStderr {
    pub mean: f64,
    /// Sample standard deviation (`n − 1` denominator) over `√n`; NaN when `n = 1`.
    pub stderr: f64,
}

pub fn mean_stderr(values: &[f64]) -> Result<MeanStderr> {
    if values.is_empty() {
        return Err(Error::Input("the mean of no values".into()));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    Ok(MeanStderr { mean, stderr: (var / n).sqrt() })
}

/// A uniform integer in `0..n` (`n > 0`), without modulo bias (Lemire's method).
fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    let n = n as u64;
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = (rng.next_u64() as u128) * (n as u128);
        if (m as u64) >= threshold {
            return (m >> 64) as usize;
        }
    }
}

/// `resamples` bootstrap replicates of a statistic of `n` items: each draws `n`
/// item indices with replacement (ChaCha20 seeded with `seed`, so the same on
/// every platform) and calls `statistic` on them; replicates where it returns
/// `None` (e.g. one class only) are left out.
pub fn bootstrap<F: FnMut(&[usize]) -> Option<f64>>(n: usize, resamples: usize, seed: u64, mut statistic: F) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut indices = vec![0; n];
    let mut out = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for i in indices.iter_mut() {
            *i = below(&mut rng, n);
        }
        if let Some(v) = statistic(&indices) {
            out.push(v);
        }
    }
    out
}

/// The `q`-th percentile (`q` in `[0, 100]`) with linear interpolation, as
/// NumPy's `np.percentile` by default. `None` for no values.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub level: f64,
}

/// Percentile bootstrap interval at `level` (e.g. 0.95) of replicates from [`bootstrap`].
pub fn percentile_interval(replicates: &[f64], level: f64) -> Option<Interval> {
    let tail = (1.0 - level) / 2.0 * 100.0;
    Some(Interval {
        low: percentile(replicates, tail)?,
        high: percentile(replicates, 100.0 - tail)?,
        level,
    })
}

/// Seeded percentile-bootstrap confidence interval of the AUROC (resamples
/// with one class only are left out). `None` if every resample was.
pub fn auroc_interval(scores: &[f64], labels: &[bool], resamples: usize, seed: u64, level: f64) -> Result<Option<Interval>> {
    check(scores, labels)?;
    let replicates = bootstrap(scores.len(), resamples, seed, |idx| {
        let s: Vec<f64> = idx.iter().map(|&i| scores[i]).collect();
        let l: Vec<bool> = idx.iter().map(|&i| labels[i]).collect();
        auroc(&s, &l).ok()
    });
    Ok(percentile_interval(&replicates, level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thinned_curve_keeps_its_ends_and_every_point_is_within_a_step_of_a_kept_one() {
        // A staircase of 1,001 points from (0, 0) to (1, 1).
        let n = 1000;
        let x: Vec<f64> = (0..=n).map(|i| (i / 2 * 2) as f64 / n as f64).collect();
        let y: Vec<f64> = (0..=n).map(|i| ((i + 1) / 2 * 2).min(n) as f64 / n as f64).collect();
        let step = 0.01;
        let (tx, ty) = thin_curve(&x, &y, step);
        assert!(tx.len() <= 201, "{} points kept", tx.len());
        assert!(tx.len() >= 100, "{} points kept", tx.len());
        assert_eq!((tx[0], ty[0]), (0.0, 0.0));
        assert_eq!((*tx.last().unwrap(), *ty.last().unwrap()), (1.0, 1.0));
        for (a, b) in x.iter().zip(&y) {
            let nearest = tx.iter().zip(&ty).map(|(c, d)| (a - c).abs().max((b - d).abs())).fold(f64::INFINITY, f64::min);
            assert!(nearest < step, "({a}, {b}) is {nearest} from the thinned curve");
        }
    }

    #[test]
    fn a_curve_with_points_a_step_apart_is_kept_whole() {
        let (x, y) = thin_curve(&[0.0, 0.0, 0.5, 1.0], &[0.0, 0.5, 1.0, 1.0], 0.01);
        assert_eq!((x, y), (vec![0.0, 0.0, 0.5, 1.0], vec![0.0, 0.5, 1.0, 1.0]));
    }

    #[test]
    fn pairwise_sum_is_exact_on_integers() {
        let v: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert_eq!(numpy_sum(&v), 499500.0);
    }

    #[test]
    fn bootstrap_is_seeded() {
        let a = bootstrap(10, 5, 7, |idx| Some(idx.iter().sum::<usize>() as f64));
        let b = bootstrap(10, 5, 7, |idx| Some(idx.iter().sum::<usize>() as f64));
        assert_eq!(a, b);
        assert_ne!(a, bootstrap(10, 5, 8, |idx| Some(idx.iter().sum::<usize>() as f64)));
    }

    #[test]
    fn perfect_and_tied_auroc() {
        assert_eq!(auroc(&[3.0, 2.0, 1.0, 0.0], &[true, true, false, false]).unwrap(), 1.0);
        assert_eq!(auroc(&[1.0, 1.0], &[true, false]).unwrap(), 0.5);
        assert!(auroc(&[1.0, 2.0], &[true, true]).is_err());
    }
}
