//! `leaner_glue_probe` in the page: the same steps as `tinyeval probe` (core's
//! `probe`): Leaner-GLUE's files read from the TinyHelen base URL, every split
//! subsampled to `limit` items, features `batch_size` texts a pass with the
//! browser's event loop given back between passes, the probe fitted on the
//! training split and scored on the evaluation splits with bootstrap stderrs.

use std::cell::Cell;

use tinyeval_core::LanguageModel;
use tinyeval_core::probe::{MetricEstimate, Probe, ProbeItem, ProbeTask, evaluate_split, features, subsample};

use crate::fetch::fetch_bytes;
use crate::runs::{Outcome, yield_now};

/// `tinyeval probe`'s default number of bootstrap resamples.
pub const PROBE_BOOTSTRAP: usize = 1000;

/// A probed task's metrics on one evaluation split.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSplitResult {
    pub split: String,
    pub n: usize,
    pub metrics: Vec<MetricEstimate>,
}

/// A probed task (`leaner_glue_probe_{name}`).
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeResult {
    pub task: String,
    pub n_train: usize,
    pub splits: Vec<ProbeSplitResult>,
}

/// How far a probe is: `(texts encoded, texts in all)`.
pub type ProbeProgress = (usize, usize);

async fn read_split(task: &ProbeTask, base: &str, split: &str, limit: Option<usize>) -> Result<Vec<ProbeItem>, String> {
    let url = format!("{}/data/leaner/glue/{}_{split}.jsonl", base.trim().trim_end_matches('/'), task.name);
    let bytes = fetch_bytes(&url).await?;
    Ok(subsample(task.parse_items(&url, &bytes).map_err(|e| e.to_string())?, limit))
}

/// Features of `items`, one batch a step (the batches `tinyeval probe` makes).
async fn features_stepwise(
    model: &LanguageModel,
    items: &[ProbeItem],
    batch_size: usize,
    cancel: &Cell<bool>,
    mut on_batch: impl FnMut(usize),
) -> Result<Outcome<Vec<Vec<f64>>>, String> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(batch_size.max(1)) {
        let texts: Vec<String> = chunk.iter().map(|i| i.text.clone()).collect();
        out.extend(features(model, &texts, batch_size).await.map_err(|e| e.to_string())?);
        on_batch(chunk.len());
        if yield_now(cancel).await.is_err() {
            return Ok(Outcome::Cancelled);
        }
    }
    Ok(Outcome::Done(out))
}

/// Runs the probe of `task` on `model` (see the module's documentation).
pub async fn run_probe(
    model: &LanguageModel,
    task: &ProbeTask,
    tinyhelen_base: &str,
    limit: Option<usize>,
    batch_size: usize,
    seed: u64,
    cancel: &Cell<bool>,
    on_progress: impl Fn(ProbeProgress),
) -> Result<Outcome<ProbeResult>, String> {
    let name = format!("leaner_glue_probe_{}", task.name);
    let train = read_split(task, tinyhelen_base, task.train_split, limit).await?;
    let mut evals = Vec::new();
    for split in task.eval_splits {
        evals.push((*split, read_split(task, tinyhelen_base, split, limit).await?));
    }
    let total = train.len() + evals.iter().map(|(_, items)| items.len()).sum::<usize>();
    let done = Cell::new(0);
    let step = |n: usize| {
        done.set(done.get() + n);
        on_progress((done.get(), total));
    };
    let Outcome::Done(train_features) = features_stepwise(model, &train, batch_size, cancel, step).await? else {
        return Ok(Outcome::Cancelled);
    };
    let labels: Vec<f64> = train.iter().map(|i| i.label).collect();
    let probe = Probe::fit(task, &train_features, &labels).map_err(|e| format!("{name}: {e}"))?;
    let mut splits = Vec::new();
    for (split, items) in evals {
        let Outcome::Done(x) = features_stepwise(model, &items, batch_size, cancel, step).await? else {
            return Ok(Outcome::Cancelled);
        };
        let gold: Vec<f64> = items.iter().map(|i| i.label).collect();
        let metrics = evaluate_split(task, &gold, &probe.predict(&x), PROBE_BOOTSTRAP, seed);
        splits.push(ProbeSplitResult { split: split.to_string(), n: items.len(), metrics });
    }
    Ok(Outcome::Done(ProbeResult { task: name, n_train: train.len(), splits }))
}
