//! GLUE's metrics of a probe's predictions (accuracy, MCC, F1, Pearson,
//! Spearman) and their seeded bootstrap estimates per evaluation split.

use serde::Serialize;

use crate::statistics;
use crate::tasks;
use crate::tasks::metrics::{SampleValue, matthews_corrcoef};

use super::{Metric, ProbeTask};

/// One metric of a probe on one evaluation split, with a seeded bootstrap
/// standard error (`None` when every resample was degenerate) and 95% percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricEstimate {
    pub metric: Metric,
    pub value: f64,
    pub stderr: Option<f64>,
    pub ci95: Option<statistics::Interval>,
}

/// The task's metrics of predictions `pred` against `gold`, each with
/// `resamples` bootstrap replicates drawn with `seed` (the same on every platform).
pub fn evaluate_split(task: &ProbeTask, gold: &[f64], pred: &[f64], resamples: usize, seed: u64) -> Vec<MetricEstimate> {
    task.metrics
        .iter()
        .map(|&metric| {
            let value = metric_value(metric, gold, pred);
            let replicates = statistics::bootstrap(gold.len(), resamples, seed, |idx| {
                let g: Vec<f64> = idx.iter().map(|&i| gold[i]).collect();
                let p: Vec<f64> = idx.iter().map(|&i| pred[i]).collect();
                Some(metric_value(metric, &g, &p)).filter(|v| v.is_finite())
            });
            // The standard deviation of the replicates (mean_stderr's stderr is sd / √n).
            let stderr = statistics::mean_stderr(&replicates).ok().map(|ms| ms.stderr * (replicates.len() as f64).sqrt());
            MetricEstimate { metric, value, stderr, ci95: statistics::percentile_interval(&replicates, 0.95) }
        })
        .collect()
}

/// Accuracy.
pub fn accuracy(gold: &[f64], pred: &[f64]) -> f64 {
    gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / gold.len() as f64
}

/// Labels as `(gold, pred)` samples, for the task metrics' mcc and f1.
fn gold_pred(gold: &[f64], pred: &[f64]) -> Vec<SampleValue> {
    gold.iter().zip(pred).map(|(&g, &p)| SampleValue::GoldPred(g as i64, p as i64)).collect()
}

/// Matthews correlation (scikit-learn's `matthews_corrcoef`; 0 when
/// undefined): the benchmark tasks' own `mcc`, on the probe's predictions.
pub fn mcc(gold: &[f64], pred: &[f64]) -> f64 {
    matthews_corrcoef(&gold_pred(gold, pred))
}

/// F1 of class 1 (scikit-learn's `f1_score`; 0 when there are no positives
/// at all): the benchmark tasks' own `f1`.
pub fn f1(gold: &[f64], pred: &[f64]) -> f64 {
    tasks::metrics::f1(&gold_pred(gold, pred))
}

/// Pearson's r (NaN when a side is constant, as SciPy).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Ranks from 1, ties given their average rank (SciPy's `rankdata`).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rho: Pearson's r of the average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

pub fn metric_value(metric: Metric, gold: &[f64], pred: &[f64]) -> f64 {
    match metric {
        Metric::Acc => accuracy(gold, pred),
        Metric::Mcc => mcc(gold, pred),
        Metric::F1 => f1(gold, pred),
        Metric::Pearson => pearson(gold, pred),
        Metric::Spearman => spearman(gold, pred),
    }
}
