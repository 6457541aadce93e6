//! Fine-tuning as one run, from a task's split files to its results JSON and
//! loss log, in the style of `probe::run_probe`: [`train_and_evaluate`] trains
//! one configuration, [`run_finetune`] the grid, [`finetune_results_json`]
//! writes lm-eval-harness's layout (`results` → `leaner_glue_finetune_{task}`
//! → `"{metric},{split}"`, `"{metric}_stderr,{split}"`, `"{metric}_ci95,{split}"`
//! of the chosen configuration; `configs` → the protocol and every grid point).

use std::collections::BTreeMap;
use std::future::Future;

use burn::tensor::Tensor;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{AdamW, AdamWConfig, Classifier, SplitMix64, clip_coefficient, host_values, initial_head, linear_schedule};
use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::model::ParamMut;
use crate::probe::{MetricEstimate, ProbeItem, ProbeTask, SplitFile, evaluate_split, glue_results_json, insert_split_metrics, subsample};

pub use crate::run_plan::FINETUNE_SUITE;

/// How tasks are fine-tuned; the defaults are `tinyeval finetune`'s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinetuneOptions {
    pub learning_rates: Vec<f64>,
    pub seeds: Vec<u64>,
    pub epochs: usize,
    pub batch_size: usize,
    /// Tokens kept of each text (its first ones).
    pub max_length: usize,
    pub weight_decay: f64,
    pub warmup_ratio: f64,
    pub max_grad_norm: f64,
    pub head_init_std: f64,
    /// Only this many items of every split, evenly spaced (`probe::subsample`).
    pub limit: Option<usize>,
    pub bootstrap: usize,
    pub bootstrap_seed: u64,
}

impl Default for FinetuneOptions {
    fn default() -> Self {
        Self {
            learning_rates: vec![1e-4, 3e-4, 1e-3],
            seeds: vec![0],
            epochs: 3,
            batch_size: 32,
            max_length: 128,
            weight_decay: 0.01,
            warmup_ratio: 0.06,
            max_grad_norm: 1.0,
            head_init_std: 0.02,
            limit: None,
            bootstrap: 1000,
            bootstrap_seed: 0,
        }
    }
}

/// Where a fine-tuning run is: after optimiser step `step` (from 1) of `steps`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinetuneProgress {
    pub task: &'static str,
    /// Grid point (from 0) of `configs`.
    pub config: usize,
    pub configs: usize,
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub lr: f64,
}

/// One optimiser step: its batch's loss before the update and the learning rate it used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepLog {
    pub step: usize,
    pub epoch: usize,
    pub loss: f64,
    pub lr: f64,
}

/// One split's predictions and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct FinetuneSplitResult {
    pub split: String,
    pub labels: Vec<f64>,
    pub predictions: Vec<f64>,
    pub metrics: Vec<MetricEstimate>,
}

/// One grid point, trained and evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedConfig {
    pub learning_rate: f64,
    pub seed: u64,
    pub steps: Vec<StepLog>,
    pub splits: Vec<FinetuneSplitResult>,
    /// The first metric on the selection split.
    pub selection_score: f64,
}

/// A fine-tuned task: every grid point and the chosen one.
#[derive(Debug, Clone, PartialEq)]
pub struct FinetuneRun {
    pub task: &'static ProbeTask,
    pub n_train: usize,
    pub grid: Vec<TrainedConfig>,
    pub best: usize,
    /// `validation`, or the training split where there is no held-out one.
    pub selection_split: &'static str,
    pub options: FinetuneOptions,
}

/// The task's name in results: `leaner_glue_finetune_{name}`.
pub fn run_name(task: &ProbeTask) -> String {
    format!("{FINETUNE_SUITE}_{}", task.name)
}

fn encode(model: &LanguageModel, items: &[ProbeItem], max_length: usize) -> Result<Vec<Vec<u32>>> {
    items
        .iter()
        .map(|i| {
            let mut ids = model.tokenizer.encode(&i.text)?;
            ids.truncate(max_length.min(model.config.max_positions));
            if ids.is_empty() {
                return Err(Error::Input(format!("finetune: the text {:?} has no tokens", i.text)));
            }
            Ok(ids)
        })
        .collect()
}

/// Trains one configuration on `train` and scores `evals` (see the module's documentation).
/// `after_step` is called after every optimiser step; an error from it (`Error::Cancelled`) stops the run.
#[allow(clippy::too_many_arguments)]
pub async fn train_and_evaluate<F, Fut>(
    model: &LanguageModel,
    task: &'static ProbeTask,
    train: &[ProbeItem],
    evals: &[(&str, Vec<ProbeItem>)],
    learning_rate: f64,
    seed: u64,
    options: &FinetuneOptions,
    mut after_step: F,
) -> Result<TrainedConfig>
where
    F: FnMut(StepLog, usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let outputs = if task.num_classes == 0 { 1 } else { task.num_classes };
    let mut rng = SplitMix64::new(seed);
    let head = initial_head(&mut rng, outputs, model.config.hidden_size, options.head_init_std);
    let mut clf = Classifier::new(model.decoder.clone(), outputs, &head)?;
    clf.set_autodiff(true);
    let tokens = encode(model, train, options.max_length)?;
    let batch_size = options.batch_size.max(1);
    let per_epoch = train.len().div_ceil(batch_size);
    let total = per_epoch * options.epochs;
    let warmup = (options.warmup_ratio * total as f64).ceil() as usize;
    let n_params = clf.params_mut().len();
    let mut adamw = AdamW::new(AdamWConfig { weight_decay: options.weight_decay, ..AdamWConfig::default() }, n_params);
    let mut steps = Vec::with_capacity(total);
    for epoch in 0..options.epochs {
        let order = rng.permutation(train.len());
        for batch in order.chunks(batch_size) {
            let lr = linear_schedule(learning_rate, steps.len(), warmup, total);
            let batch_tokens: Vec<Vec<u32>> = batch.iter().map(|&i| tokens[i].clone()).collect();
            let labels: Vec<f64> = batch.iter().map(|&i| train[i].label).collect();
            let loss = clf.loss(clf.forward(&batch_tokens), &labels);
            let grads = loss.backward();
            let loss = host_values(loss).await?[0] as f64;
            let mut params = Vec::with_capacity(n_params);
            let mut grad_list = Vec::with_capacity(n_params);
            let mut shapes = Vec::with_capacity(n_params);
            for p in clf.params_mut() {
                let (flat, grad, dims) = match p {
                    ParamMut::Vector(t) => (t.clone().without_autodiff(), t.grad(&grads), t.dims().to_vec()),
                    ParamMut::Matrix(t) => {
                        let [r, c] = t.dims();
                        (t.clone().without_autodiff().reshape([r * c]), t.grad(&grads).map(|g| g.reshape([r * c])), vec![r, c])
                    }
                };
                params.push(flat);
                grad_list.push(grad);
                shapes.push(dims);
            }
            drop(grads);
            // clip_grad_norm_: the norm of every gradient together.
            let squares: Vec<Tensor<1>> = grad_list.iter().flatten().map(|g| g.clone().square().sum()).collect();
            let norm = (host_values(Tensor::cat(squares, 0).sum()).await?[0] as f64).sqrt();
            let coef = clip_coefficient(norm, options.max_grad_norm);
            if coef < 1.0 {
                grad_list = grad_list.into_iter().map(|g| g.map(|g| g * coef)).collect();
            }
            let updated = adamw.step(lr, params, grad_list);
            for ((p, new), dims) in clf.params_mut().into_iter().zip(updated).zip(&shapes) {
                match p {
                    ParamMut::Vector(t) => *t = new.autodiff().require_grad(),
                    ParamMut::Matrix(t) => *t = new.reshape([dims[0], dims[1]]).autodiff().require_grad(),
                }
            }
            let log = StepLog { step: steps.len() + 1, epoch: epoch + 1, loss, lr };
            steps.push(log);
            after_step(log, total).await?;
        }
    }
    clf.set_autodiff(false);
    let mut splits = Vec::new();
    for (split, items) in evals {
        let tokens = encode(model, items, options.max_length)?;
        let mut predictions = Vec::with_capacity(items.len());
        for chunk in tokens.chunks(batch_size) {
            let values = host_values(clf.forward(chunk)).await?;
            for row in values.chunks(outputs) {
                predictions.push(if outputs == 1 { row[0] as f64 } else { argmax(row) as f64 });
            }
        }
        let labels: Vec<f64> = items.iter().map(|i| i.label).collect();
        let metrics = evaluate_split(task, &labels, &predictions, options.bootstrap, options.bootstrap_seed);
        splits.push(FinetuneSplitResult { split: split.to_string(), labels, predictions, metrics });
    }
    Ok(TrainedConfig { learning_rate, seed, steps, splits, selection_score: f64::NAN })
}

/// The first index of the largest value (torch's `argmax`).
fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}

/// Fine-tunes `task` on `model` over the options' grid from its split files (see the module's documentation).
pub async fn run_finetune<F, Fut>(
    model: &LanguageModel,
    task: &'static ProbeTask,
    files: &BTreeMap<String, SplitFile>,
    options: &FinetuneOptions,
    mut after_step: F,
) -> Result<FinetuneRun>
where
    F: FnMut(FinetuneProgress) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let items = |split: &str| -> Result<Vec<ProbeItem>> {
        let file = files
            .get(split)
            .ok_or_else(|| Error::Input(format!("{}: the {split} split's file ({}) was not given", run_name(task), task.file_name(split))))?;
        Ok(subsample(task.parse_items(&file.name, &file.bytes)?, options.limit))
    };
    if options.learning_rates.is_empty() || options.seeds.is_empty() || options.epochs == 0 {
        return Err(Error::Input("finetune: at least one learning rate, one seed and one epoch".into()));
    }
    let train = items(task.train_split)?;
    let held_out = task.eval_splits.contains(&"validation");
    let selection_split = if held_out { "validation" } else { task.train_split };
    let mut evals = task.eval_splits.iter().map(|s| Ok((*s, items(s)?))).collect::<Result<Vec<_>>>()?;
    let grid: Vec<(f64, u64)> = options.learning_rates.iter().flat_map(|&lr| options.seeds.iter().map(move |&s| (lr, s))).collect();
    if !held_out && grid.len() > 1 {
        evals.push((task.train_split, train.clone()));
    }
    let mut trained = Vec::with_capacity(grid.len());
    for (config, &(lr, seed)) in grid.iter().enumerate() {
        let configs = grid.len();
        let hook = |log: StepLog, steps: usize| {
            after_step(FinetuneProgress { task: task.name, config, configs, step: log.step, steps, loss: log.loss, lr: log.lr })
        };
        let mut result = train_and_evaluate(model, task, &train, &evals, lr, seed, options, hook).await?;
        result.selection_score = result.splits.iter().find(|s| s.split == selection_split).map_or(f64::NAN, |s| s.metrics[0].value);
        // The training split was scored only to choose; it is not a result.
        result.splits.retain(|s| task.eval_splits.contains(&s.split.as_str()));
        trained.push(result);
    }
    // The first of the best (NaN, e.g. an undefined correlation, never wins).
    let best = (0..trained.len()).fold(0, |b, i| if trained[i].selection_score > trained[b].selection_score || trained[b].selection_score.is_nan() { i } else { b });
    Ok(FinetuneRun { task, n_train: train.len(), grid: trained, best, selection_split, options: options.clone() })
}

fn metrics_entry(splits: &[FinetuneSplitResult]) -> Map<String, Value> {
    let mut r = Map::new();
    for s in splits {
        insert_split_metrics(&mut r, &s.split, s.labels.len(), &s.metrics);
    }
    r
}

impl FinetuneRun {
    pub fn chosen(&self) -> &TrainedConfig {
        &self.grid[self.best]
    }

    /// This task's entry under `results`: the chosen configuration's metrics.
    pub fn results_entry(&self) -> Value {
        let mut r = Map::new();
        r.insert("alias".into(), json!(run_name(self.task)));
        r.extend(metrics_entry(&self.chosen().splits));
        Value::Object(r)
    }

    /// This task's entry under `configs`: the protocol and every grid point.
    pub fn config_entry(&self, data: &str) -> Value {
        let task = self.task;
        let grid: Vec<Value> = self
            .grid
            .iter()
            .map(|c| {
                json!({
                    "learning_rate": c.learning_rate,
                    "seed": c.seed,
                    "steps": c.steps.len(),
                    "final_loss": c.steps.last().map(|s| s.loss),
                    "selection_score": c.selection_score,
                    "metrics": Value::Object(metrics_entry(&c.splits)),
                })
            })
            .collect();
        let chosen = self.chosen();
        json!({
            "task": run_name(task),
            "data": data,
            "fields": task.fields,
            "train_split": task.train_split,
            "n_train": self.n_train,
            "eval_splits": task.eval_splits,
            "model": "sequence classification: a linear head without bias on the last token's final hidden state (transformers' LlamaForSequenceClassification), every decoder weight trained",
            "loss": if task.num_classes == 0 { "mse" } else { "cross_entropy" },
            "selection": format!("best {} on {}{}", task.metrics[0].name(), self.selection_split,
                if self.selection_split == task.train_split { " (the training split: this task has no held-out split)" } else { "" }),
            "chosen": { "learning_rate": chosen.learning_rate, "seed": chosen.seed },
            "options": self.options,
            "grid": grid,
        })
    }

    /// The loss log: one line per optimiser step of every grid point.
    pub fn loss_log(&self) -> Vec<Value> {
        self.grid
            .iter()
            .flat_map(|c| {
                c.steps.iter().map(move |s| {
                    json!({"task": run_name(self.task), "learning_rate": c.learning_rate, "seed": c.seed,
                        "step": s.step, "epoch": s.epoch, "loss": s.loss, "lr": s.lr})
                })
            })
            .collect()
    }

    /// The chosen configuration's predictions: one line per evaluated item.
    pub fn predictions(&self) -> Vec<Value> {
        self.chosen()
            .splits
            .iter()
            .flat_map(|s| {
                s.labels.iter().zip(&s.predictions).enumerate().map(move |(idx, (l, p))| {
                    json!({"task": run_name(self.task), "split": s.split, "idx": idx, "label": l, "prediction": p})
                })
            })
            .collect()
    }
}

/// The results JSON of fine-tuned tasks (see the module's documentation).
pub fn finetune_results_json(runs: &[FinetuneRun], data: &str, model_name: &str) -> Value {
    let entries = runs.iter().map(|r| (run_name(r.task), r.task, r.results_entry(), r.config_entry(data))).collect();
    glue_results_json(entries, model_name)
}
