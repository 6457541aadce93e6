//! Metrics and aggregations, by name, as lm-eval-harness computes them, with
//! their standard errors and confidence intervals. The evaluator looks
//! everything up here and knows nothing about any task.

use serde::Serialize;

use crate::statistics::{Interval, percentile_interval};
use crate::tasks::pyrandom::PyRandom;

/// What one sample contributes to a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SampleValue {
    Score(f64),
    /// `(gold, pred)`, for f1 and mcc.
    GoldPred(i64, i64),
    /// `(loglikelihood, words or bytes)`, for the rolling perplexities.
    Weighted(f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSpec {
    pub name: &'static str,
    pub default_aggregation: &'static str,
    pub higher_is_better: bool,
}

/// lm-eval's registered metrics that tinyeval computes (`lm_eval/api/metrics.py`).
const METRICS: &[MetricSpec] = &[
    MetricSpec { name: "acc", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "acc_norm", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "acc_bytes", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "exact_match", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "mcc", default_aggregation: "matthews_corrcoef", higher_is_better: true },
    MetricSpec { name: "f1", default_aggregation: "f1", higher_is_better: true },
    MetricSpec { name: "perplexity", default_aggregation: "perplexity", higher_is_better: false },
    MetricSpec { name: "word_perplexity", default_aggregation: "weighted_perplexity", higher_is_better: false },
    MetricSpec { name: "byte_perplexity", default_aggregation: "weighted_perplexity", higher_is_better: false },
    MetricSpec { name: "bits_per_byte", default_aggregation: "bits_per_byte", higher_is_better: false },
];

/// The metric named `name`, if supported.
pub fn metric(name: &str) -> Option<MetricSpec> {
    METRICS.iter().copied().find(|m| m.name == name)
}

pub type Aggregation = fn(&[SampleValue]) -> f64;

/// The aggregation named `name`: `mean`, `matthews_corrcoef`, `f1`,
/// `perplexity`, `weighted_perplexity` or `bits_per_byte`.
pub fn aggregation(name: &str) -> Option<Aggregation> {
    match name {
        "mean" => Some(mean),
        "matthews_corrcoef" => Some(matthews_corrcoef),
        "f1" => Some(f1),
        "perplexity" => Some(perplexity),
        "weighted_perplexity" => Some(weighted_perplexity),
        "bits_per_byte" => Some(bits_per_byte),
        _ => None,
    }
}

/// Aggregations whose standard error is bootstrapped. lm-eval bootstraps
/// `matthews_corrcoef`, `f1` and `perplexity` (`stderr_for_metric`) and reports
/// "N/A" for `weighted_perplexity` and `bits_per_byte`; tinyeval bootstraps
/// those two the same way, so that every perplexity has an error bar.
fn is_bootstrapped(aggregation: &str) -> bool {
    matches!(aggregation, "matthews_corrcoef" | "f1" | "perplexity" | "weighted_perplexity" | "bits_per_byte")
}

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
/// confidence interval. `mean`: sample standard deviation / √n. The others
/// (see [`is_bootstrapped`]): the sample standard deviation of
/// `bootstrap_iters` replicates drawn exactly as lm-eval's `bootstrap_stderr`
/// draws them (see [`bootstrap_replicates`]), so the numbers are lm-eval's.
/// `bootstrap_iters == 0` turns error bars off, as in lm-eval; fewer than two
/// samples give none.
pub fn uncertainty(aggregation_name: &str, values: &[SampleValue], bootstrap_iters: usize) -> Uncertainty {
    let none = Uncertainty { stderr: None, interval: None, interval_method: "none" };
    if bootstrap_iters == 0 || values.len() < 2 {
        return none;
    }
    if aggregation_name == "mean" {
        let xs: Vec<f64> = values.iter().map(score).collect();
        let value = mean(values);
        let stderr = sample_stddev(&xs) / (xs.len() as f64).sqrt();
        return Uncertainty {
            stderr: Some(stderr),
            interval: Some(Interval { low: value - Z_975 * stderr, high: value + Z_975 * stderr, level: 0.95 }),
            interval_method: "normal",
        };
    }
    match aggregation(aggregation_name) {
        Some(f) if is_bootstrapped(aggregation_name) => {
            let replicates = bootstrap_replicates(f, values, bootstrap_iters);
            Uncertainty {
                stderr: (replicates.len() > 1).then(|| sample_stddev(&replicates)),
                interval: percentile_interval(&replicates, 0.95),
                interval_method: "bootstrap_percentile",
            }
        }
        _ => none,
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

fn score(v: &SampleValue) -> f64 {
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

/// lm-eval's `exact_match` (ported from Hugging Face evaluate): optional
/// regexes removed, then case, punctuation (Python's `string.punctuation`) and
/// digits ignored as asked, then string equality.
pub fn exact_match(prediction: &str, reference: &str, options: &ExactMatchOptions) -> crate::Result<f64> {
    let prep = |s: &str| -> crate::Result<String> {
        let mut s = s.to_string();
        for r in &options.regexes_to_ignore {
            let re = regex::Regex::new(r)
                .map_err(|e| crate::Error::Input(format!("regexes_to_ignore: `{r}` is not a valid regex: {e}")))?;
            s = re.replace_all(&s, "").into_owned();
        }
        if options.ignore_case {
            s = s.to_lowercase();
        }
        if options.ignore_punctuation {
            s.retain(|c| !c.is_ascii_punctuation());
        }
        if options.ignore_numbers {
            s.retain(|c| !c.is_ascii_digit());
        }
        Ok(s)
    };
    Ok(if prep(prediction)? == prep(reference)? { 1.0 } else { 0.0 })
}

/// The keyword arguments lm-eval passes to `exact_match` from `metric_list`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactMatchOptions {
    pub regexes_to_ignore: Vec<String>,
    pub ignore_case: bool,
    pub ignore_punctuation: bool,
    pub ignore_numbers: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!((uncertainty("mean", &m, 1).stderr.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(uncertainty("mean", &m, 0).stderr, None);
    }

    #[test]
    fn weighted_perplexities() {
        let v = [SampleValue::Weighted(-3.0, 2.0), SampleValue::Weighted(-5.0, 2.0)];
        assert!((weighted_perplexity(&v) - 2.0f64.exp()).abs() < 1e-12);
        assert!((bits_per_byte(&v) - 2.0 / std::f64::consts::LN_2).abs() < 1e-12);
    }

    #[test]
    fn exact_match_options() {
        let o = ExactMatchOptions { ignore_case: true, ignore_punctuation: true, ..Default::default() };
        assert_eq!(exact_match("Yes!", "yes", &o).unwrap(), 1.0);
        assert_eq!(exact_match("Yes!", "yes", &ExactMatchOptions::default()).unwrap(), 0.0);
        let r = ExactMatchOptions { regexes_to_ignore: vec![r"\s+$".into()], ..Default::default() };
        assert_eq!(exact_match("no  ", "no", &r).unwrap(), 1.0);
    }
}
