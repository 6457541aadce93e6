//! Aggregations over samples, as lm-eval-harness computes them, with their
//! standard errors and confidence intervals.

use serde::Serialize;

use crate::statistics::{Interval, percentile_interval};
use crate::tasks::pyrandom::PyRandom;

use super::{AggregationSpec, SampleValue};

pub type Aggregation = fn(&[SampleValue]) -> f64;

/// The 97.5% quantile of the standard normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// A metric's standard error and 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Uncertainty {
    pub stderr: Option<f64>,
    pub interval: Option<Interval>,
    /// `normal` (value ± 1.96 stderr, for means) or `bootstrap_percentile`
    /// (2.5th and 97.5th percentiles of the bootstrap replicates).
    pub interval_method: &'static str,
}

/// The standard error of an aggregation as lm-eval computes it, and a 95%
/// confidence interval. `mean`: sample standard deviation / √n. A
/// `bootstrapped` aggregation (see `AGGREGATIONS`): the sample standard deviation of
/// `bootstrap_iters` replicates drawn exactly as lm-eval's `bootstrap_stderr`
/// draws them (see [`bootstrap_replicates`]), so the numbers are lm-eval's.
/// `bootstrap_iters == 0` turns error bars off, as in lm-eval; fewer than two
/// samples give none.
pub fn uncertainty(aggregation: &AggregationSpec, values: &[SampleValue], bootstrap_iters: usize) -> Uncertainty {
    let none = Uncertainty { stderr: None, interval: None, interval_method: "none" };
    if bootstrap_iters == 0 || values.len() < 2 {
        return none;
    }
    if aggregation.name == "mean" {
        let xs: Vec<f64> = values.iter().map(score).collect();
        let value = mean(values);
        let stderr = sample_stddev(&xs) / (xs.len() as f64).sqrt();
        return Uncertainty {
            stderr: Some(stderr),
            interval: Some(Interval { low: value - Z_975 * stderr, high: value + Z_975 * stderr, level: 0.95 }),
            interval_method: "normal",
        };
    }
    if !aggregation.bootstrapped {
        return none;
    }
    let replicates = bootstrap_replicates(aggregation.function, values, bootstrap_iters);
    Uncertainty {
        stderr: (replicates.len() > 1).then(|| sample_stddev(&replicates)),
        interval: percentile_interval(&replicates, 0.95),
        interval_method: "bootstrap_percentile",
    }
}

/// lm-eval's `bootstrap_stderr` resampling: `iters / chunk` chunks of
/// `chunk = min(1000, iters)` replicates; chunk `i` draws with Python's
/// `random.Random(i)`, each replicate being `f(rnd.choices(xs, k=len(xs)))`,
/// where `choices` picks `xs[floor(random() * n)]`.
pub fn bootstrap_replicates(f: Aggregation, values: &[SampleValue], iters: usize) -> Vec<f64> {
    let chunk = iters.min(1000);
    let n = values.len();
    if chunk == 0 || n == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(iters / chunk * chunk);
    let mut resample = Vec::with_capacity(n);
    for i in 0..iters / chunk {
        let mut rnd = PyRandom::new(i as i64);
        for _ in 0..chunk {
            resample.clear();
            resample.extend((0..n).map(|_| values[(rnd.random() * n as f64).floor() as usize]));
            out.push(f(&resample));
        }
    }
    out
}

/// lm-eval's `sample_stddev` (summed left to right, as Python's `sum`).
fn sample_stddev(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mu = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / (n - 1.0)).sqrt()
}

pub(super) fn score(v: &SampleValue) -> f64 {
    match *v {
        SampleValue::Score(x) => x,
        SampleValue::GoldPred(g, p) => (g == p) as u8 as f64,
        SampleValue::Weighted(ll, _) => ll,
    }
}

pub fn mean(values: &[SampleValue]) -> f64 {
    values.iter().map(score).sum::<f64>() / values.len() as f64
}

/// `exp(-mean(loglikelihoods))`, for the loglikelihood output type.
pub fn perplexity(values: &[SampleValue]) -> f64 {
    (-mean(values)).exp()
}

/// lm-eval's `weighted_mean`: the summed log-likelihoods over the summed weights.
fn weighted_mean(values: &[SampleValue]) -> f64 {
    let (mut a, mut b) = (0.0, 0.0);
    for v in values {
        if let SampleValue::Weighted(ll, w) = *v {
            a += ll;
            b += w;
        }
    }
    a / b
}

/// `exp(-Σ loglikelihood / Σ words)` (or bytes).
pub fn weighted_perplexity(values: &[SampleValue]) -> f64 {
    (-weighted_mean(values)).exp()
}

/// `-Σ loglikelihood / Σ bytes / ln 2`.
pub fn bits_per_byte(values: &[SampleValue]) -> f64 {
    -weighted_mean(values) / std::f64::consts::LN_2
}

/// sklearn's `matthews_corrcoef` (multiclass form; 0 when undefined).
pub fn matthews_corrcoef(values: &[SampleValue]) -> f64 {
    // Counts per label; labels are small non-negative class indices in practice
    // (GLUE), anything else goes through a sorted list.
    let mut labels: Vec<i64> = Vec::new();
    let (mut s, mut c) = (0.0, 0.0);
    let mut t_counts: Vec<f64> = Vec::new();
    let mut p_counts: Vec<f64> = Vec::new();
    let slot = |labels: &mut Vec<i64>, t: &mut Vec<f64>, p: &mut Vec<f64>, k: i64| -> usize {
        match labels.iter().position(|&l| l == k) {
            Some(i) => i,
            None => {
                labels.push(k);
                t.push(0.0);
                p.push(0.0);
                labels.len() - 1
            }
        }
    };
    for v in values {
        if let SampleValue::GoldPred(g, p) = *v {
            s += 1.0;
            if g == p {
                c += 1.0;
            }
            let gi = slot(&mut labels, &mut t_counts, &mut p_counts, g);
            t_counts[gi] += 1.0;
            let pi = slot(&mut labels, &mut t_counts, &mut p_counts, p);
            p_counts[pi] += 1.0;
        }
    }
    let (mut sum_pt, mut sum_pp, mut sum_tt) = (0.0, 0.0, 0.0);
    for (t, p) in t_counts.iter().zip(&p_counts) {
        sum_pt += p * t;
        sum_pp += p * p;
        sum_tt += t * t;
    }
    let cov_ytyp = c * s - sum_pt;
    let cov_ypyp = s * s - sum_pp;
    let cov_ytyt = s * s - sum_tt;
    if cov_ypyp * cov_ytyt == 0.0 {
        0.0
    } else {
        cov_ytyp / (cov_ytyt * cov_ypyp).sqrt()
    }
}

/// sklearn's binary `f1_score` (positive label 1; 0 when undefined).
pub fn f1(values: &[SampleValue]) -> f64 {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for v in values {
        if let SampleValue::GoldPred(g, p) = *v {
            match (g == 1, p == 1) {
                (true, true) => tp += 1.0,
                (false, true) => fp += 1.0,
                (true, false) => fn_ += 1.0,
                (false, false) => {}
            }
        }
    }
    let denom = 2.0 * tp + fp + fn_;
    if denom == 0.0 { 0.0 } else { 2.0 * tp / denom }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEAN: AggregationSpec = AggregationSpec { name: "mean", function: mean, bootstrapped: false };

    #[test]
    fn mcc_and_f1_match_sklearn() {
        // sklearn: matthews_corrcoef([1,1,0,0,1],[1,0,0,1,1]) = 1/6; f1_score = 2/3
        let v: Vec<SampleValue> = [(1, 1), (1, 0), (0, 0), (0, 1), (1, 1)]
            .iter()
            .map(|&(g, p)| SampleValue::GoldPred(g, p))
            .collect();
        assert!((matthews_corrcoef(&v) - 1.0 / 6.0).abs() < 1e-12);
        assert!((f1(&v) - 2.0 / 3.0).abs() < 1e-12);
        let m = [SampleValue::Score(1.0), SampleValue::Score(0.0), SampleValue::Score(1.0)];
        assert!((mean(&m) - 2.0 / 3.0).abs() < 1e-12);
        // sqrt(1/3) / sqrt(3) = 1/3
        assert!((uncertainty(&MEAN, &m, 1).stderr.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(uncertainty(&MEAN, &m, 0).stderr, None);
    }

    #[test]
    fn weighted_perplexities() {
        let v = [SampleValue::Weighted(-3.0, 2.0), SampleValue::Weighted(-5.0, 2.0)];
        assert!((weighted_perplexity(&v) - 2.0f64.exp()).abs() < 1e-12);
        assert!((bits_per_byte(&v) - 2.0 / std::f64::consts::LN_2).abs() < 1e-12);
    }
}
