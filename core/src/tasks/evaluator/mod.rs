//! Runs a task on a model: requests, scores or generations, per-sample metrics
//! and aggregation, as lm-eval-harness 0.4.13 does for its four output types.
//!
//! Tokenization follows lm-eval's HF model (`HFLM`):
//! - `loglikelihood` and `multiple_choice` (`_encode_pair`): whitespace at the
//!   end of the context moves to the front of the continuation; the context and
//!   the whole string are each encoded with the tokenizer's default special
//!   tokens (HFLM's `add_bos_token` defaults to `None`, i.e. `tokenizer(text)` as
//!   configured, which is
//!   [`TextTokenizer::encode`](crate::tokenizer::TextTokenizer::encode)); the
//!   continuation is the whole string's tokens after the context's. An empty
//!   context becomes the prefix token (BOS, else EOS).
//! - `loglikelihood_rolling`: the text's tokens in rolling windows of the
//!   model's context ([`rolling_windows`](crate::scoring::rolling_windows)),
//!   the prefix token predicting the first.
//! - `generate_until`: the context's tokens, left-truncated to leave room for
//!   `max_gen_toks`, then greedy (or sampled) tokens until a stop string, the
//!   EOS token or the budget; the text is cut before the first stop string.
//!
//! The files: `requests` (a doc's requests and their tokens, and the check
//! that every doc renders), `generation` (`generate_until`'s settings as
//! lm-eval normalizes them, and one generation), `task_metrics` (which metrics
//! a task computes, and each sample's values of them), and here the loop that
//! scores or generates every request in batches and aggregates. What an
//! evaluation gives back ([`TaskResult`] and its parts) is in
//! [`crate::tasks::records`].

mod generation;
mod requests;
mod task_metrics;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::scorer::score_in_length_order;
use crate::scoring::ScoreRequest;
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::data::TaskDocs;
use crate::tasks::fewshot::{FewshotSampler, fewshot_context};
use crate::tasks::metrics::{self, SampleValue};

pub use crate::tasks::records::{MetricResult, Request, Response, SampleRecord, TaskResult};
pub use generation::{GenerationSettings, generation_settings};
pub use requests::{check_docs, encode_pair, rolling_requests};
pub use crate::tasks::metrics::{count_words, default_metrics};

use generation::generate_until;
use requests::plan_doc;
use task_metrics::{sample_metrics, task_metrics};

/// lm-eval's default `bootstrap_iters`.
pub const DEFAULT_BOOTSTRAP_ITERS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Overrides the task's `num_fewshot` (lm-eval's `--num_fewshot`).
    pub num_fewshot: Option<usize>,
    /// The first `limit` docs of the evaluated split.
    pub limit: Option<usize>,
    pub batch_size: usize,
    /// lm-eval's `fewshot_random_seed` (1234 by default); also seeds sampling
    /// in `generate_until` tasks with `do_sample`.
    pub seed: i64,
    /// Bootstrap replicates for the standard errors of mcc, f1 and the
    /// perplexities (lm-eval's `--bootstrap_iters`); 0 turns every standard
    /// error off, as in lm-eval.
    pub bootstrap_iters: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self { num_fewshot: None, limit: None, batch_size: 8, seed: 1234, bootstrap_iters: DEFAULT_BOOTSTRAP_ITERS }
    }
}

/// Where a stepwise evaluation is, after a batch of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalProgress {
    /// Requests scored or generated so far, and in all (one per doc and
    /// choice; a rolling text counts one per context window).
    pub requests_done: usize,
    pub requests_total: usize,
    /// Tokens that went through the model so far (contexts and continuations).
    pub tokens_done: usize,
}

/// How many docs' requests are prepared between two calls of the stepwise
/// evaluator's `after_batch` (a few milliseconds of work in the browser).
pub const PREPARE_STEP: usize = 32;

/// Evaluates a task on the first `limit` docs of its evaluated split.
pub async fn evaluate_task(model: &LanguageModel, task: &TaskConfig, docs: &TaskDocs, options: EvalOptions) -> Result<TaskResult> {
    evaluate_task_stepwise(model, task, docs, options, |_| async { Ok(()) }).await
}

/// [`evaluate_task`], awaiting `after_batch` after each batch of requests (the
/// browser yields to its event loop there, shows progress, and cancels by
/// returning an error such as [`Error::Cancelled`], which ends the evaluation).
/// While the requests are prepared (prompts rendered and tokenized), it is
/// also awaited every [`PREPARE_STEP`] docs, with nothing done and no total yet.
/// The numbers are those of [`evaluate_task`], which is this with a no-op.
pub async fn evaluate_task_stepwise<F, Fut>(
    model: &LanguageModel,
    task: &TaskConfig,
    docs: &TaskDocs,
    options: EvalOptions,
    mut after_batch: F,
) -> Result<TaskResult>
where
    F: FnMut(EvalProgress) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let task_metrics = task_metrics(task)?;
    let split = task.eval_split();
    let all_docs = docs
        .get(split)
        .ok_or_else(|| Error::Input(format!("task {}: no data for the split `{split}`", task.task)))?;
    let eval_docs = &all_docs[..options.limit.unwrap_or(usize::MAX).min(all_docs.len())];
    let num_fewshot = options.num_fewshot.or(task.num_fewshot).unwrap_or(0);
    if num_fewshot > 0 && task.output_type == OutputType::LoglikelihoodRolling {
        return Err(Error::Input(format!("task {}: loglikelihood_rolling takes no few-shot examples", task.task)));
    }
    let generation = match task.output_type {
        OutputType::GenerateUntil => Some(generation_settings(task)?),
        _ => None,
    };

    let pool: &[Value] = if num_fewshot > 0 {
        let fs_split = task.fewshot_source_split().unwrap_or(split);
        docs.get(fs_split)
            .ok_or_else(|| Error::Input(format!("task {}: no data for the few-shot split `{fs_split}`", task.task)))?
    } else {
        &[]
    };
    let exclude_eval_doc = task.fewshot_excludes_eval_doc();
    if num_fewshot > 0 && pool.len() < num_fewshot + exclude_eval_doc as usize {
        let fs_split = task.fewshot_source_split().unwrap_or(split);
        return Err(Error::Input(format!(
            "task {}: `num_fewshot` is {num_fewshot}, but its few-shot split `{fs_split}` has {} docs{}",
            task.task,
            pool.len(),
            if exclude_eval_doc { " (the evaluated doc is left out of its own examples)" } else { "" }
        )));
    }
    let mut sampler = FewshotSampler::new(pool, options.seed);

    let preparing = EvalProgress { requests_done: 0, requests_total: 0, tokens_done: 0 };
    // Requests of every doc, in order.
    let mut samples = Vec::with_capacity(eval_docs.len());
    let mut plans = Vec::with_capacity(eval_docs.len());
    for (doc_id, doc) in eval_docs.iter().enumerate() {
        if doc_id > 0 && doc_id % PREPARE_STEP == 0 {
            after_batch(preparing).await?;
        }
        let examples = sampler.sample(num_fewshot, exclude_eval_doc.then_some(doc))?;
        let context = fewshot_context(task, doc, &examples)?;
        let plan = plan_doc(task, doc, &context, generation.as_ref())
            .map_err(|p| Error::Input(format!("task {}: doc {doc_id} of split {split}: {p}", task.task)))?;
        samples.push(SampleRecord {
            doc_id,
            doc: doc.clone(),
            target: plan.target.clone(),
            arguments: plan.requests.clone(),
            resps: Vec::new(),
            metrics: BTreeMap::new(),
        });
        plans.push(plan);
    }

    // Log-likelihood requests (each a list of scoring requests: one, or a
    // rolling text's windows), scored in batches in order.
    let mut score_requests: Vec<ScoreRequest> = Vec::new();
    let mut windows_of: Vec<usize> = Vec::new();
    for (doc_id, plan) in plans.iter().enumerate() {
        if doc_id > 0 && doc_id % PREPARE_STEP == 0 {
            after_batch(preparing).await?;
        }
        for r in &plan.requests {
            match r {
                Request::Loglikelihood { context, continuation } => {
                    score_requests.push(encode_pair(&model.tokenizer, context, continuation)?);
                    windows_of.push(1);
                }
                Request::Rolling { text } => {
                    let w = rolling_requests(model, text)?;
                    windows_of.push(w.len());
                    score_requests.extend(w);
                }
                Request::Generate { .. } => {}
            }
        }
    }
    let generate_total: usize = plans.iter().map(|p| p.requests.iter().filter(|r| matches!(r, Request::Generate { .. })).count()).sum();
    let requests_total = score_requests.len() + generate_total;
    let mut tokens_done = 0;
    let scores = score_in_length_order(model.scorer(), &score_requests, options.batch_size, |batch, done| {
        tokens_done += batch.iter().map(|r| r.context.len() + r.continuation.len()).sum::<usize>();
        after_batch(EvalProgress { requests_done: done, requests_total, tokens_done })
    })
    .await?;
    let mut scores = scores.into_iter();
    let mut windows = windows_of.into_iter();
    let mut generated_done = 0;
    for (sample, plan) in samples.iter_mut().zip(&plans) {
        for r in &plan.requests {
            let resp = match r {
                Request::Loglikelihood { .. } => {
                    let s = scores.next().ok_or_else(|| Error::Device("fewer scores than requests".into()))?;
                    windows.next();
                    Response::Loglikelihood { logprob: s.total_logprob(), is_greedy: s.is_greedy.iter().all(|&g| g) }
                }
                Request::Rolling { .. } => {
                    let n = windows.next().unwrap_or(0);
                    // lm-eval sums the windows' log-likelihoods in Python floats.
                    let logprob = scores.by_ref().take(n).map(|s| s.total_logprob()).sum();
                    Response::Rolling { logprob }
                }
                Request::Generate { context, .. } => {
                    let settings = generation.as_ref().ok_or_else(|| Error::Input("generation settings missing".into()))?;
                    let (text, used) = generate_until(model, context, settings, options.seed).await?;
                    generated_done += 1;
                    tokens_done += used;
                    let requests_done = requests_total - generate_total + generated_done;
                    after_batch(EvalProgress { requests_done, requests_total, tokens_done }).await?;
                    Response::Generated { text }
                }
            };
            sample.resps.push(resp);
        }
        sample.metrics = sample_metrics(task, &task_metrics, plan, &sample.resps)
            .map_err(|p| Error::Input(format!("task {}: doc {}: {p}", task.task, sample.doc_id)))?;
    }

    let mut aggregated = BTreeMap::new();
    for m in task_metrics {
        let values: Vec<SampleValue> = samples.iter().map(|s| s.metrics[&m.name]).collect();
        let a = m.aggregation;
        let value = if values.is_empty() { f64::NAN } else { (a.function)(&values) };
        let uncertainty = metrics::uncertainty(a, &values, options.bootstrap_iters);
        aggregated.insert(
            m.name,
            MetricResult { value, stderr: uncertainty.stderr, uncertainty, aggregation: a.name.to_string(), higher_is_better: m.higher_is_better },
        );
    }
    Ok(TaskResult { task: task.task.clone(), num_fewshot, samples, metrics: aggregated, config: task.clone(), n_docs: all_docs.len() })
}
