//! `leaner_glue_probe`: a linear probe on frozen features. TinyHelen scores
//! GLUE by fine-tuning; a probe is the cheap, deterministic stand-in that runs
//! in a browser tab: each item's text goes through the model once, its last
//! hidden states (after the final norm) are averaged over its tokens, and a
//! linear model is fitted on the training items' averages.
//!
//! - Features: the item's fields joined by `"\n"` (`sentence`; `sentence1`,
//!   `sentence2`; …), tokenized as `tokenizer(text)` (BOS where the tokenizer
//!   adds one), cut to the model's context, mean over every token. Batches are
//!   right-padded; the model is causal, so padding after a text cannot change
//!   its states, and the mean skips the padded positions.
//! - Each feature is standardised with the training items' mean and standard
//!   deviation (ddof 0; a constant feature is left unscaled), as scikit-learn's
//!   `StandardScaler`.
//! - Classification: L2-regularised logistic regression with `C` = 1 and an
//!   unpenalised intercept, as scikit-learn's `LogisticRegression(C=1)`
//!   (binary: one weight vector; more classes: multinomial softmax). The
//!   objective is strictly convex, so its minimiser is unique and any exact
//!   optimiser finds the same model: we run L-BFGS from zero until the
//!   gradient is below 1e-10 or the objective stops decreasing beyond
//!   round-off (scikit-learn's own `ftol`), which makes the probe deterministic (no seed is needed).
//!   The optimiser is written here rather than taken from linfa-logistic: that
//!   crate brings linfa, argmin and ndarray into core's wasm build for ~100
//!   lines of L-BFGS.
//! - Regression (STS-B): ridge regression with `alpha` = 1 and an unpenalised
//!   intercept, as scikit-learn's `Ridge(alpha=1)`, solved exactly (Cholesky).
//! - Metrics are GLUE's: MCC (CoLA); accuracy (SST-2, MNLI, QNLI, RTE, WNLI);
//!   F1 of class 1 and accuracy (MRPC, QQP); Pearson and Spearman (STS-B).
//!
//! Splits: Leaner-GLUE has train files only for CoLA, MRPC, RTE, STS-B and
//! WNLI; those train on `train` and report on `validation` and `test`. SST-2,
//! QNLI, QQP and MNLI have none: they train on `validation` (MNLI on
//! `validation_matched`) and report on `test` (MNLI on `test_matched` and
//! `test_mismatched`), so they are never scored on items they were fitted on.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::statistics;

/// A probed task's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeTask {
    /// Leaner-GLUE's file prefix: `{name}_{split}.jsonl`.
    pub name: &'static str,
    pub fields: &'static [&'static str],
    /// 0 for regression (STS-B).
    pub num_classes: usize,
    pub train_split: &'static str,
    pub eval_splits: &'static [&'static str],
    pub metrics: &'static [Metric],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Acc,
    Mcc,
    F1,
    Pearson,
    Spearman,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Acc => "acc",
            Metric::Mcc => "mcc",
            Metric::F1 => "f1",
            Metric::Pearson => "pearson",
            Metric::Spearman => "spearman",
        }
    }
}

const PAIR: &[&str] = &["sentence1", "sentence2"];
const TRAIN_EVAL: &[&str] = &["validation", "test"];

pub const PROBE_TASKS: &[ProbeTask] = &[
    ProbeTask { name: "cola", fields: &["sentence"], num_classes: 2, train_split: "train", eval_splits: TRAIN_EVAL, metrics: &[Metric::Mcc] },
    ProbeTask { name: "sst2", fields: &["sentence"], num_classes: 2, train_split: "validation", eval_splits: &["test"], metrics: &[Metric::Acc] },
    ProbeTask { name: "mrpc", fields: PAIR, num_classes: 2, train_split: "train", eval_splits: TRAIN_EVAL, metrics: &[Metric::F1, Metric::Acc] },
    ProbeTask { name: "qqp", fields: &["question1", "question2"], num_classes: 2, train_split: "validation", eval_splits: &["test"], metrics: &[Metric::F1, Metric::Acc] },
    ProbeTask { name: "stsb", fields: PAIR, num_classes: 0, train_split: "train", eval_splits: TRAIN_EVAL, metrics: &[Metric::Pearson, Metric::Spearman] },
    ProbeTask { name: "mnli", fields: &["premise", "hypothesis"], num_classes: 3, train_split: "validation_matched", eval_splits: &["test_matched", "test_mismatched"], metrics: &[Metric::Acc] },
    ProbeTask { name: "qnli", fields: &["question", "sentence"], num_classes: 2, train_split: "validation", eval_splits: &["test"], metrics: &[Metric::Acc] },
    ProbeTask { name: "rte", fields: PAIR, num_classes: 2, train_split: "train", eval_splits: TRAIN_EVAL, metrics: &[Metric::Acc] },
    ProbeTask { name: "wnli", fields: PAIR, num_classes: 2, train_split: "train", eval_splits: TRAIN_EVAL, metrics: &[Metric::Acc] },
];

pub fn probe_task(name: &str) -> Result<&'static ProbeTask> {
    PROBE_TASKS.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<_> = PROBE_TASKS.iter().map(|t| t.name).collect();
        Error::Input(format!("no probe task `{name}` (known: {})", names.join(", ")))
    })
}

/// One labelled item: its text and its label (a class index, or a float for regression).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeItem {
    pub text: String,
    pub label: f64,
}

impl ProbeTask {
    /// Items of a Leaner-GLUE JSONL file; errors name the file and line.
    pub fn parse_items(&self, file: &str, bytes: &[u8]) -> Result<Vec<ProbeItem>> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::bad_file(file, format!("not valid UTF-8 ({e})")))?;
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |p: String| Error::bad_file(file, format!("line {}: {p}", i + 1));
            let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("not valid JSON: {e}")))?;
            let parts = self
                .fields
                .iter()
                .map(|f| v.get(*f).and_then(Value::as_str).ok_or_else(|| bad(format!("no string field `{f}`"))))
                .collect::<Result<Vec<_>>>()?;
            let label = v.get("label").and_then(Value::as_f64).ok_or_else(|| bad("no numeric `label`".into()))?;
            if self.num_classes > 0 && !(label >= 0.0 && label < self.num_classes as f64 && label.fract() == 0.0) {
                return Err(bad(format!("label {label} is not a class of 0..{}", self.num_classes)));
            }
            out.push(ProbeItem { text: parts.join("\n"), label });
        }
        if out.is_empty() {
            return Err(Error::bad_file(file, "no items (the file is empty)"));
        }
        Ok(out)
    }
}

/// At most `limit` items, evenly spaced (every k-th, k = len / limit) rather
/// than the first ones: some Leaner-GLUE files are sorted by label.
pub fn subsample(items: Vec<ProbeItem>, limit: Option<usize>) -> Vec<ProbeItem> {
    let n = limit.unwrap_or(usize::MAX).min(items.len()).max(1);
    let step = (items.len() / n).max(1);
    items.into_iter().step_by(step).take(n).collect()
}

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

/// Mean-pooled last hidden states of each text (see the module's documentation), `batch_size` texts a pass.
pub async fn features(model: &LanguageModel, texts: &[String], batch_size: usize) -> Result<Vec<Vec<f64>>> {
    let h = model.config.hidden_size;
    let context = model.config.max_positions;
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(batch_size.max(1)) {
        let mut tokens = chunk
            .iter()
            .map(|t| {
                let mut ids = model.tokenizer.encode(t)?;
                ids.truncate(context);
                if ids.is_empty() {
                    return Err(Error::Input(format!("probe: the text {t:?} has no tokens")));
                }
                Ok(ids)
            })
            .collect::<Result<Vec<_>>>()?;
        let lengths: Vec<usize> = tokens.iter().map(Vec::len).collect();
        let longest = *lengths.iter().max().unwrap();
        for t in &mut tokens {
            t.resize(longest, 0);
        }
        let states = model.decoder.hidden_states(&tokens, None);
        let data = states.into_data_async().await.map_err(|e| Error::Device(format!("{e:?}")))?;
        let values = data.as_slice::<f32>().map_err(|e| Error::Device(format!("{e:?}")))?;
        for (b, &len) in lengths.iter().enumerate() {
            let mut mean = vec![0.0f64; h];
            for pos in 0..len {
                let row = &values[(b * longest + pos) * h..][..h];
                for (m, &x) in mean.iter_mut().zip(row) {
                    *m += x as f64;
                }
            }
            mean.iter_mut().for_each(|m| *m /= len as f64);
            out.push(mean);
        }
    }
    Ok(out)
}

/// Per-feature standardisation fitted on the training features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Scaler {
    pub fn fit(x: &[Vec<f64>]) -> Self {
        let (n, d) = (x.len() as f64, x[0].len());
        let mean: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let scale = (0..d)
            .map(|j| {
                let var = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                // StandardScaler leaves a (near-)constant feature unscaled.
                if var.sqrt() < 10.0 * f64::EPSILON * mean[j].abs().max(1.0) { 1.0 } else { var.sqrt() }
            })
            .collect();
        Self { mean, scale }
    }

    pub fn transform(&self, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        x.iter().map(|r| r.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect()).collect()
    }
}

/// A fitted linear model: `coef[k]` and `intercept[k]` per output (one output for
/// binary classification and regression, one per class otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearModel {
    pub coef: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
    /// 0 for regression.
    pub num_classes: usize,
    /// L-BFGS iterations (0 for ridge).
    pub iterations: usize,
}

impl LinearModel {
    fn scores(&self, x: &[f64]) -> Vec<f64> {
        self.coef.iter().zip(&self.intercept).map(|(w, b)| dot(w, x) + b).collect()
    }

    /// Class probabilities (classification) or the predicted value (regression, one entry).
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let z = self.scores(x);
        match self.num_classes {
            0 => z,
            2 => {
                let p = sigmoid(z[0]);
                vec![1.0 - p, p]
            }
            _ => softmax(&z),
        }
    }

    /// The most likely class (the first on ties, as NumPy's argmax), or the predicted value.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let p = self.predict_proba(x);
        if self.num_classes == 0 {
            return p[0];
        }
        let mut best = 0;
        for (k, &v) in p.iter().enumerate() {
            if v > p[best] {
                best = k;
            }
        }
        best as f64
    }
}

use crate::lbfgs::dot;

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// `log(1 + exp(z))` without overflow.
pub(crate) fn log1pexp(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

/// The logistic objective divided by n (same minimiser as scikit-learn's
/// `C·Σ loss + ½‖W‖²`): `(1/n)·Σ loss + ‖W‖² / (2·C·n)`, and its gradient.
/// Parameters: `outputs` blocks of `d` weights and then `outputs` intercepts.
fn logistic_objective(x: &[Vec<f64>], y: &[usize], classes: usize, c: f64, params: &[f64], grad: &mut [f64]) -> f64 {
    let (n, d) = (x.len(), x[0].len());
    let outputs = if classes == 2 { 1 } else { classes };
    let (w, b) = params.split_at(outputs * d);
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut loss = 0.0;
    let mut residual = vec![0.0; outputs];
    for (xi, &yi) in x.iter().zip(y) {
        let z: Vec<f64> = (0..outputs).map(|k| dot(&w[k * d..(k + 1) * d], xi) + b[k]).collect();
        if classes == 2 {
            // loss = log(1 + exp(z)) − y·z
            loss += log1pexp(z[0]) - if yi == 1 { z[0] } else { 0.0 };
            residual[0] = sigmoid(z[0]) - yi as f64;
        } else {
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            loss += lse - z[yi];
            for k in 0..outputs {
                residual[k] = (z[k] - lse).exp() - if k == yi { 1.0 } else { 0.0 };
            }
        }
        for k in 0..outputs {
            for (g, xv) in grad[k * d..(k + 1) * d].iter_mut().zip(xi) {
                *g += residual[k] * xv;
            }
            grad[outputs * d + k] += residual[k];
        }
    }
    let nf = n as f64;
    let penalty = 1.0 / (c * nf);
    grad.iter_mut().for_each(|g| *g /= nf);
    for (g, wv) in grad[..outputs * d].iter_mut().zip(w) {
        *g += penalty * wv;
    }
    loss / nf + 0.5 * penalty * dot(w, w)
}

/// L2-regularised logistic regression (see the module's documentation). `y`: class indices.
pub fn fit_logistic(x: &[Vec<f64>], y: &[usize], classes: usize, c: f64) -> Result<LinearModel> {
    if x.is_empty() || classes < 2 {
        return Err(Error::Input("logistic regression needs items and at least two classes".into()));
    }
    let d = x[0].len();
    let outputs = if classes == 2 { 1 } else { classes };
    let (params, iterations) =
        crate::lbfgs::lbfgs(outputs * (d + 1), 1e-10, 20_000, |p, g| logistic_objective(x, y, classes, c, p, g));
    let (w, b) = params.split_at(outputs * d);
    Ok(LinearModel { coef: w.chunks(d).map(<[f64]>::to_vec).collect(), intercept: b.to_vec(), num_classes: classes, iterations })
}

/// Ridge regression with an unpenalised intercept (scikit-learn's `Ridge`):
/// centre X and y, solve `(XᵀX + αI) w = Xᵀy` by Cholesky, `b = ȳ − x̄·w`.
pub fn fit_ridge(x: &[Vec<f64>], y: &[f64], alpha: f64) -> Result<LinearModel> {
    if x.is_empty() {
        return Err(Error::Input("ridge regression needs items".into()));
    }
    let (n, d) = (x.len() as f64, x[0].len());
    let xm: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let ym = y.iter().sum::<f64>() / n;
    let mut a = vec![vec![0.0; d]; d];
    let mut rhs = vec![0.0; d];
    for (r, &yi) in x.iter().zip(y) {
        let c: Vec<f64> = r.iter().zip(&xm).map(|(v, m)| v - m).collect();
        for i in 0..d {
            rhs[i] += c[i] * (yi - ym);
            for j in 0..=i {
                a[i][j] += c[i] * c[j];
            }
        }
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += alpha;
    }
    // Cholesky: a = L Lᵀ (lower triangle of `a` holds L).
    for j in 0..d {
        let mut diag = a[j][j] - (0..j).map(|k| a[j][k] * a[j][k]).sum::<f64>();
        if diag <= 0.0 {
            return Err(Error::Input("ridge regression: the system is not positive definite".into()));
        }
        diag = diag.sqrt();
        a[j][j] = diag;
        for i in j + 1..d {
            a[i][j] = (a[i][j] - (0..j).map(|k| a[i][k] * a[j][k]).sum::<f64>()) / diag;
        }
    }
    let mut z = vec![0.0; d];
    for i in 0..d {
        z[i] = (rhs[i] - (0..i).map(|k| a[i][k] * z[k]).sum::<f64>()) / a[i][i];
    }
    let mut w = vec![0.0; d];
    for i in (0..d).rev() {
        w[i] = (z[i] - (i + 1..d).map(|k| a[k][i] * w[k]).sum::<f64>()) / a[i][i];
    }
    let b = ym - dot(&xm, &w);
    Ok(LinearModel { coef: vec![w], intercept: vec![b], num_classes: 0, iterations: 0 })
}

/// Accuracy.
pub fn accuracy(gold: &[f64], pred: &[f64]) -> f64 {
    gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / gold.len() as f64
}

/// Matthews correlation of binary labels (scikit-learn's `matthews_corrcoef`; 0 when undefined).
pub fn mcc(gold: &[f64], pred: &[f64]) -> f64 {
    let count = |g: f64, p: f64| gold.iter().zip(pred).filter(|(a, b)| **a == g && **b == p).count() as f64;
    let (tp, tn, fp, fne) = (count(1.0, 1.0), count(0.0, 0.0), count(0.0, 1.0), count(1.0, 0.0));
    let denom = ((tp + fp) * (tp + fne) * (tn + fp) * (tn + fne)).sqrt();
    if denom == 0.0 { 0.0 } else { (tp * tn - fp * fne) / denom }
}

/// F1 of class 1 (scikit-learn's `f1_score`; 0 when there are no positives at all).
pub fn f1(gold: &[f64], pred: &[f64]) -> f64 {
    let count = |g: f64, p: f64| gold.iter().zip(pred).filter(|(a, b)| **a == g && **b == p).count() as f64;
    let (tp, fp, fne) = (count(1.0, 1.0), count(0.0, 1.0), count(1.0, 0.0));
    if 2.0 * tp + fp + fne == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fne) }
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

/// A fitted probe: the scaler and the linear model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub scaler: Scaler,
    pub model: LinearModel,
}

impl Probe {
    /// Fits the task's probe on training features and labels.
    pub fn fit(task: &ProbeTask, features: &[Vec<f64>], labels: &[f64]) -> Result<Self> {
        if features.is_empty() {
            return Err(Error::Input(format!("probe {}: no training items", task.name)));
        }
        let scaler = Scaler::fit(features);
        let x = scaler.transform(features);
        let model = if task.num_classes == 0 {
            fit_ridge(&x, labels, 1.0)?
        } else {
            let y: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
            fit_logistic(&x, &y, task.num_classes, 1.0)?
        };
        Ok(Self { scaler, model })
    }

    /// Predictions (class or value) of each item.
    pub fn predict(&self, features: &[Vec<f64>]) -> Vec<f64> {
        self.scaler.transform(features).iter().map(|x| self.model.predict(x)).collect()
    }

    /// Class probabilities (or the value) of each item.
    pub fn predict_proba(&self, features: &[Vec<f64>]) -> Vec<Vec<f64>> {
        self.scaler.transform(features).iter().map(|x| self.model.predict_proba(x)).collect()
    }
}
