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
//!
//! This file holds the tasks ([`PROBE_TASKS`]), their items, the features and
//! the fitted [`Probe`]; the scaler and the two linear models are in `linear`,
//! the GLUE metrics and their bootstrap estimates in `metrics`; the whole run,
//! from the split files to the results JSON, in `run`.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;

mod linear;
mod metrics;
mod run;

pub use linear::{LinearModel, Scaler, fit_logistic, fit_ridge};
pub(crate) use linear::{log1pexp, sigmoid};
pub use metrics::{MetricEstimate, accuracy, evaluate_split, f1, mcc, metric_value, pearson, spearman};
pub use run::{
    PROBE_SUITE, ProbeOptions, ProbeProgress, ProbeRun, ProbeSplitResult, SplitFile, glue_results_json, insert_split_metrics, probe_results_json, run_probe,
};

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
        let mut out = Vec::new();
        for (line, v) in crate::jsonl::jsonl_rows(file, bytes)? {
            let bad = |p: String| Error::bad_file(file, format!("line {line}: {p}"));
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
