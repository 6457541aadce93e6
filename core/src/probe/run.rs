//! The probe as one run, from the task's files to its results JSON: what
//! `tinyeval probe` and the page's Benchmarks tab both call, so that their
//! numbers and their files cannot drift apart.
//!
//! The caller reads the files (from disk, or by `fetch`) and hands over their
//! bytes; [`run_probe`] parses and subsamples every split, encodes the texts
//! `batch_size` a pass (calling `after_batch` between passes, where the page
//! yields and a cancel stops the run), fits on the training split and scores
//! every evaluation split. [`probe_results_json`] writes lm-eval-harness's
//! layout: `results` → `leaner_glue_probe_{task}` → `"{metric},{split}"`,
//! `"{metric}_stderr,{split}"` and `"{metric}_ci95,{split}"` (the split where
//! lm-eval puts its filter name), with a `configs` block saying how each task
//! was probed.

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::{Map, Value, json};

use super::{MetricEstimate, Probe, ProbeItem, ProbeTask, evaluate_split, features, subsample};
use crate::error::{Error, Result};
use crate::language_model::LanguageModel;

/// The suite's name, and the prefix of every probed task's name.
pub const PROBE_SUITE: &str = "leaner_glue_probe";

/// How a probe is run; the defaults are `tinyeval probe`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOptions {
    /// Only this many items of every split, evenly spaced ([`subsample`]).
    pub limit: Option<usize>,
    /// Texts a forward pass.
    pub batch_size: usize,
    /// Bootstrap resamples for each metric's standard error and interval (0: none).
    pub bootstrap: usize,
    pub seed: u64,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self { limit: None, batch_size: 16, bootstrap: 1000, seed: 0 }
    }
}

/// How far a probe is: texts encoded, of all its splits together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeProgress {
    pub texts_done: usize,
    pub texts_total: usize,
}

/// One split's file: its name (for errors) and its bytes.
#[derive(Debug, Clone)]
pub struct SplitFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A probed task's metrics on one evaluation split.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSplitResult {
    pub split: String,
    pub n: usize,
    pub metrics: Vec<MetricEstimate>,
}

/// A probed task's result.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeRun {
    pub task: &'static ProbeTask,
    pub n_train: usize,
    /// L-BFGS iterations of the fit (0 for ridge regression, solved exactly).
    pub iterations: usize,
    pub splits: Vec<ProbeSplitResult>,
    pub options: ProbeOptions,
}

impl ProbeTask {
    /// Every split the probe reads: the training split first.
    pub fn splits(&self) -> Vec<&'static str> {
        std::iter::once(self.train_split).chain(self.eval_splits.iter().copied()).collect()
    }

    /// The file of `split`, relative to the Leaner-GLUE folder (`data/leaner/glue`).
    pub fn file_name(&self, split: &str) -> String {
        format!("{}_{split}.jsonl", self.name)
    }

    /// The task's name in results: `leaner_glue_probe_{name}`.
    pub fn run_name(&self) -> String {
        format!("{PROBE_SUITE}_{}", self.name)
    }
}

/// Probes `task` on `model` from its split files (see the module's documentation).
pub async fn run_probe<F, Fut>(
    model: &LanguageModel,
    task: &'static ProbeTask,
    files: &BTreeMap<String, SplitFile>,
    options: &ProbeOptions,
    mut after_batch: F,
) -> Result<ProbeRun>
where
    F: FnMut(ProbeProgress) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let items = |split: &str| -> Result<Vec<ProbeItem>> {
        let file = files
            .get(split)
            .ok_or_else(|| Error::Input(format!("{}: the {split} split's file ({}) was not given", task.run_name(), task.file_name(split))))?;
        Ok(subsample(task.parse_items(&file.name, &file.bytes)?, options.limit))
    };
    let train = items(task.train_split)?;
    let evals = task.eval_splits.iter().map(|s| Ok((*s, items(s)?))).collect::<Result<Vec<_>>>()?;
    let texts_total = train.len() + evals.iter().map(|(_, i)| i.len()).sum::<usize>();
    let mut texts_done = 0;
    let mut encode = async |items: &[ProbeItem]| -> Result<Vec<Vec<f64>>> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(options.batch_size.max(1)) {
            let texts: Vec<String> = chunk.iter().map(|i| i.text.clone()).collect();
            out.extend(features(model, &texts, options.batch_size).await?);
            texts_done += chunk.len();
            after_batch(ProbeProgress { texts_done, texts_total }).await?;
        }
        Ok(out)
    };
    let labels: Vec<f64> = train.iter().map(|i| i.label).collect();
    let probe = Probe::fit(task, &encode(&train).await?, &labels).map_err(|e| Error::Input(format!("{}: {e}", task.run_name())))?;
    let mut splits = Vec::new();
    for (split, items) in evals {
        let predictions = probe.predict(&encode(&items).await?);
        let gold: Vec<f64> = items.iter().map(|i| i.label).collect();
        let metrics = evaluate_split(task, &gold, &predictions, options.bootstrap, options.seed);
        splits.push(ProbeSplitResult { split: split.to_string(), n: items.len(), metrics });
    }
    Ok(ProbeRun { task, n_train: train.len(), iterations: probe.model.iterations, splits, options: options.clone() })
}

impl ProbeRun {
    /// This task's entry under `results`.
    pub fn results_entry(&self) -> Value {
        let mut r = Map::new();
        r.insert("alias".into(), json!(self.task.run_name()));
        for s in &self.splits {
            insert_split_metrics(&mut r, &s.split, s.n, &s.metrics);
        }
        Value::Object(r)
    }

    /// This task's entry under `configs`: how it was probed. `data` names where the files came from.
    pub fn config_entry(&self, data: &str) -> Value {
        let task = self.task;
        let model = if task.num_classes == 0 {
            "ridge regression, alpha = 1".to_string()
        } else {
            format!("L2 logistic regression, C = 1, {} classes, {} L-BFGS iterations", task.num_classes, self.iterations)
        };
        json!({
            "task": task.run_name(),
            "data": data,
            "fields": task.fields,
            "train_split": task.train_split,
            "n_train": self.n_train,
            "eval_splits": task.eval_splits,
            "features": "mean of the last hidden states (after the final norm), standardised on the training items",
            "model": model,
            "limit": self.options.limit,
            "batch_size": self.options.batch_size,
            "bootstrap": { "resamples": self.options.bootstrap, "seed": self.options.seed },
        })
    }
}

/// The results JSON of probed tasks (see the module's documentation).
pub fn probe_results_json(runs: &[ProbeRun], data: &str, model_name: &str) -> Value {
    let entries = runs.iter().map(|r| (r.task.run_name(), r.task, r.results_entry(), r.config_entry(data))).collect();
    glue_results_json(entries, model_name)
}

/// One evaluation split's metrics as results keys: `"{metric},{split}"`,
/// `"{metric}_stderr,{split}"`, `"{metric}_ci95,{split}"` and `"n,{split}"`.
pub fn insert_split_metrics(r: &mut Map<String, Value>, split: &str, n: usize, metrics: &[MetricEstimate]) {
    for MetricEstimate { metric, value, stderr, ci95 } in metrics {
        r.insert(format!("{},{split}", metric.name()), json!(value));
        r.insert(format!("{}_stderr,{split}", metric.name()), stderr.map_or(json!("N/A"), |s| json!(s)));
        r.insert(format!("{}_ci95,{split}", metric.name()), serde_json::to_value(ci95).unwrap_or(Value::Null));
    }
    r.insert(format!("n,{split}"), json!(n));
}

/// lm-eval's results layout for Leaner-GLUE tasks, whether probed or
/// fine-tuned: one `(name, task, results entry, configs entry)` a task.
pub fn glue_results_json(entries: Vec<(String, &ProbeTask, Value, Value)>, model_name: &str) -> Value {
    let (mut results, mut configs, mut higher, mut versions) = (Map::new(), Map::new(), Map::new(), Map::new());
    for (name, task, result, config) in entries {
        results.insert(name.clone(), result);
        configs.insert(name.clone(), config);
        // Every GLUE metric (mcc, acc, f1, pearson, spearman) is better higher.
        let metrics: Map<String, Value> = task.metrics.iter().map(|m| (m.name().to_string(), json!(true))).collect();
        higher.insert(name.clone(), Value::Object(metrics));
        versions.insert(name, json!(1));
    }
    json!({
        "results": results,
        "configs": configs,
        "higher_is_better": higher,
        "versions": versions,
        "model_name": model_name,
        "tinyeval_version": env!("CARGO_PKG_VERSION"),
    })
}
