//! Metrics and aggregations, by name, as lm-eval-harness computes them. The
//! evaluator looks everything up here and knows nothing about any task.

use serde::Serialize;

/// What one sample contributes to a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SampleValue {
    Score(f64),
    /// `(gold, pred)`, for f1 and mcc.
    GoldPred(i64, i64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSpec {
    pub name: &'static str,
    pub default_aggregation: &'static str,
    pub higher_is_better: bool,
}

const METRICS: &[MetricSpec] = &[
    MetricSpec { name: "acc", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "acc_norm", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "acc_bytes", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "exact_match", default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "mcc", default_aggregation: "matthews_corrcoef", higher_is_better: true },
    MetricSpec { name: "f1", default_aggregation: "f1", higher_is_better: true },
];

/// The metric named `name`, if supported.
pub fn metric(name: &str) -> Option<MetricSpec> {
    METRICS.iter().copied().find(|m| m.name == name)
}

/// lm-eval's default metrics of an output type when `metric_list` is absent.
pub fn default_metrics(output_type: crate::tasks::config::OutputType) -> &'static [&'static str] {
    use crate::tasks::config::OutputType::*;
    match output_type {
        MultipleChoice => &["acc", "acc_norm"],
        Loglikelihood => &["acc"],
        LoglikelihoodRolling | GenerateUntil => &[],
    }
}

pub type Aggregation = fn(&[SampleValue]) -> f64;

/// The aggregation named `name`: `mean`, `matthews_corrcoef` or `f1`.
pub fn aggregation(name: &str) -> Option<Aggregation> {
    match name {
        "mean" => Some(mean),
        "matthews_corrcoef" => Some(matthews_corrcoef),
        "f1" => Some(f1),
        _ => None,
    }
}

/// The standard error of an aggregation, where lm-eval has a closed form
/// (`mean`: sample standard deviation / sqrt(n)). lm-eval bootstraps the others
/// (f1, mcc) with Python's RNG in worker processes; those are `None` here.
pub fn stderr(aggregation: &str, values: &[SampleValue]) -> Option<f64> {
    if aggregation != "mean" || values.len() < 2 {
        return None;
    }
    let xs: Vec<f64> = values.iter().map(score).collect();
    crate::statistics::mean_stderr(&xs).ok().map(|m| m.stderr)
}

fn score(v: &SampleValue) -> f64 {
    match *v {
        SampleValue::Score(x) => x,
        SampleValue::GoldPred(g, p) => (g == p) as u8 as f64,
    }
}

fn pairs(values: &[SampleValue]) -> Vec<(i64, i64)> {
    values
        .iter()
        .filter_map(|v| match *v {
            SampleValue::GoldPred(g, p) => Some((g, p)),
            SampleValue::Score(_) => None,
        })
        .collect()
}

pub fn mean(values: &[SampleValue]) -> f64 {
    values.iter().map(score).sum::<f64>() / values.len() as f64
}

/// sklearn's `matthews_corrcoef` (multiclass form; 0 when undefined).
pub fn matthews_corrcoef(values: &[SampleValue]) -> f64 {
    let pairs = pairs(values);
    let mut labels: Vec<i64> = pairs.iter().flat_map(|&(g, p)| [g, p]).collect();
    labels.sort_unstable();
    labels.dedup();
    let count = |f: &dyn Fn(&(i64, i64)) -> bool| pairs.iter().filter(|p| f(p)).count() as f64;
    let s = pairs.len() as f64;
    let c = count(&|&(g, p)| g == p);
    let (mut sum_pt, mut sum_pp, mut sum_tt) = (0.0, 0.0, 0.0);
    for &k in &labels {
        let t = count(&|&(g, _)| g == k);
        let p = count(&|&(_, p)| p == k);
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
    let pairs = pairs(values);
    let tp = pairs.iter().filter(|&&(g, p)| g == 1 && p == 1).count() as f64;
    let fp = pairs.iter().filter(|&&(g, p)| g != 1 && p == 1).count() as f64;
    let fn_ = pairs.iter().filter(|&&(g, p)| g == 1 && p != 1).count() as f64;
    let denom = 2.0 * tp + fp + fn_;
    if denom == 0.0 { 0.0 } else { 2.0 * tp / denom }
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
        assert!((stderr("mean", &m).unwrap() - 1.0 / 3.0).abs() < 1e-12);
    }
}
