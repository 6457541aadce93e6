//! Runs a task on a model: requests, scores, per-sample metrics, aggregation,
//! and results in lm-eval-harness's JSON layout.
//!
//! Tokenization follows lm-eval's `_encode_pair`: whitespace at the end of the
//! context moves to the front of the continuation; the context and the whole
//! string are each encoded with the tokenizer's default special tokens (HFLM's
//! `add_bos_token` defaults to `None`, i.e. `tokenizer(text)` as configured, which
//! is [`TextTokenizer::encode`](crate::tokenizer::TextTokenizer::encode)); the
//! continuation is the whole string's tokens after the context's. An empty
//! context becomes the EOS token (lm-eval's `prefix_token_id`, BOS or EOS).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::scoring::{ScoreRequest, score_batch};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::data::TaskDocs;
use crate::tasks::fewshot::{FewshotSampler, fewshot_context};
use crate::tasks::metrics::{self, SampleValue};
use crate::tasks::template::{doc_to_choice, doc_to_target};
use crate::tokenizer::TextTokenizer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Overrides the task's `num_fewshot` (lm-eval's `--num_fewshot`).
    pub num_fewshot: Option<usize>,
    /// The first `limit` docs of the evaluated split.
    pub limit: Option<usize>,
    pub batch_size: usize,
    /// lm-eval's `fewshot_random_seed` (1234 by default).
    pub seed: i64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self { num_fewshot: None, limit: None, batch_size: 8, seed: 1234 }
    }
}

/// One evaluated doc, as lm-eval's `--log_samples` records it.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    pub doc_id: usize,
    pub doc: Value,
    pub target: Value,
    /// `(context, continuation)` per request (per choice).
    pub arguments: Vec<(String, String)>,
    /// `[(loglikelihood, is_greedy)]` per request.
    pub resps: Vec<Vec<(f64, bool)>>,
    pub filtered_resps: Vec<(f64, bool)>,
    pub metrics: BTreeMap<String, SampleValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricResult {
    pub value: f64,
    pub stderr: Option<f64>,
    pub aggregation: String,
    pub higher_is_better: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    pub task: String,
    pub num_fewshot: usize,
    pub samples: Vec<SampleRecord>,
    pub metrics: BTreeMap<String, MetricResult>,
    pub config: TaskConfig,
    pub n_docs: usize,
}

impl TaskResult {
    /// lm-eval's results layout: `results` → task → `"acc,none"`, `"acc_stderr,none"`…,
    /// with `n-shot`, `configs`, `versions`, `higher_is_better` and `n-samples`.
    pub fn results_json(&self) -> Value {
        let mut r = serde_json::Map::new();
        r.insert("alias".into(), json!(self.task));
        let mut hib = serde_json::Map::new();
        for (name, m) in &self.metrics {
            r.insert(format!("{name},none"), json!(m.value));
            r.insert(
                format!("{name}_stderr,none"),
                m.stderr.map(|s| json!(s)).unwrap_or(json!("N/A")),
            );
            hib.insert(name.clone(), json!(m.higher_is_better));
        }
        let mut config = serde_json::to_value(&self.config).unwrap_or(Value::Null);
        if let Some(o) = config.as_object_mut() {
            o.insert("num_fewshot".into(), json!(self.num_fewshot));
        }
        json!({
            "results": { &self.task: r },
            "configs": { &self.task: config },
            "versions": { &self.task: self.config.version() },
            "n-shot": { &self.task: self.num_fewshot },
            "higher_is_better": { &self.task: hib },
            "n-samples": { &self.task: { "original": self.n_docs, "effective": self.samples.len() } },
        })
    }
}

/// lm-eval's `_encode_pair` (see the module's documentation).
pub fn encode_pair(tokenizer: &TextTokenizer, context: &str, continuation: &str) -> Result<ScoreRequest> {
    if context.is_empty() {
        let cont = tokenizer.encode_plain(continuation, false)?;
        let prefix = tokenizer
            .eos_token_id
            .ok_or_else(|| Error::Input("an empty context needs a BOS/EOS token, and the tokenizer has none".into()))?;
        return Ok(if cont.first() != Some(&prefix) {
            ScoreRequest { context: vec![prefix], continuation: cont }
        } else {
            ScoreRequest { context: cont[..1].to_vec(), continuation: cont[1..].to_vec() }
        });
    }
    let trimmed = context.trim_end();
    let (context, continuation) = if trimmed.len() < context.len() {
        (trimmed.to_string(), format!("{}{continuation}", &context[trimmed.len()..]))
    } else {
        (context.to_string(), continuation.to_string())
    };
    let whole = tokenizer.encode(&format!("{context}{continuation}"))?;
    let context_enc = tokenizer.encode(&context)?;
    let continuation_enc = whole.get(context_enc.len()..).unwrap_or_default().to_vec();
    Ok(ScoreRequest { context: context_enc, continuation: continuation_enc })
}

/// The metrics of a task: `(name, aggregation, higher_is_better)`.
fn task_metrics(config: &TaskConfig) -> Result<Vec<(String, String, bool)>> {
    let unsupported = |name: &str| Error::Input(format!("task {}: metric `{name}` is not supported", config.task));
    match &config.metric_list {
        None => metrics::default_metrics(config.output_type)
            .iter()
            .map(|&n| {
                let m = metrics::metric(n).ok_or_else(|| unsupported(n))?;
                Ok((n.to_string(), m.default_aggregation.to_string(), m.higher_is_better))
            })
            .collect(),
        Some(list) => list
            .iter()
            .map(|mc| {
                let m = metrics::metric(&mc.metric).ok_or_else(|| unsupported(&mc.metric))?;
                Ok((
                    mc.metric.clone(),
                    mc.aggregation.clone().unwrap_or_else(|| m.default_aggregation.to_string()),
                    mc.higher_is_better.unwrap_or(m.higher_is_better),
                ))
            })
            .collect(),
    }
}

fn argmax(xs: &[f64]) -> i64 {
    // numpy's argmax: the first maximum.
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best as i64
}

/// Evaluates a multiple-choice task (the only output type so far).
pub async fn evaluate_task(model: &LanguageModel, task: &TaskConfig, docs: &TaskDocs, options: EvalOptions) -> Result<TaskResult> {
    evaluate_task_stepwise(model, task, docs, options, |_| async { Ok(()) }).await
}

/// Where a stepwise evaluation is, after a batch of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalProgress {
    /// Requests (one per doc and choice) scored so far, and in all.
    pub requests_done: usize,
    pub requests_total: usize,
    /// Tokens that went through the model so far (contexts and continuations).
    pub tokens_done: usize,
}

/// [`evaluate_task`], awaiting `after_batch` after each batch of requests (the
/// browser yields to its event loop there, shows progress, and cancels by
/// returning an error such as [`Error::Cancelled`], which ends the evaluation).
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
    if task.output_type != OutputType::MultipleChoice {
        return Err(Error::Input(format!(
            "task {}: output_type {:?} is not supported yet (multiple_choice is)",
            task.task, task.output_type
        )));
    }
    let metric_names = task_metrics(task)?;
    let split = task.eval_split();
    let all_docs = docs
        .get(split)
        .ok_or_else(|| Error::Input(format!("task {}: no data for the split `{split}`", task.task)))?;
    let eval_docs = &all_docs[..options.limit.unwrap_or(usize::MAX).min(all_docs.len())];
    let num_fewshot = options.num_fewshot.or(task.num_fewshot).unwrap_or(0);

    let pool: &[Value] = if num_fewshot > 0 {
        let fs_split = task.fewshot_source_split().unwrap_or(split);
        docs.get(fs_split)
            .ok_or_else(|| Error::Input(format!("task {}: no data for the few-shot split `{fs_split}`", task.task)))?
    } else {
        &[]
    };
    let mut sampler = FewshotSampler::new(pool, options.seed);
    let exclude_eval_doc = task.fewshot_excludes_eval_doc();

    // Requests of every doc, in order.
    let mut samples = Vec::with_capacity(eval_docs.len());
    let mut requests = Vec::new();
    let mut choices_of = Vec::new();
    for (doc_id, doc) in eval_docs.iter().enumerate() {
        let examples = sampler.sample(num_fewshot, exclude_eval_doc.then_some(doc))?;
        let context = fewshot_context(task, doc, &examples)?;
        let choices = doc_to_choice(task, doc)?;
        let arguments: Vec<(String, String)> = choices
            .iter()
            .map(|c| (context.clone(), format!("{}{c}", task.target_delimiter)))
            .collect();
        for (ctx, cont) in &arguments {
            requests.push(encode_pair(&model.tokenizer, ctx, cont)?);
        }
        samples.push(SampleRecord {
            doc_id,
            doc: doc.clone(),
            target: doc_to_target(task, doc)?,
            arguments,
            resps: Vec::new(),
            filtered_resps: Vec::new(),
            metrics: BTreeMap::new(),
        });
        choices_of.push(choices);
    }

    let mut scores = Vec::with_capacity(requests.len());
    let mut tokens_done = 0;
    for batch in requests.chunks(options.batch_size.max(1)) {
        scores.extend(score_batch(&model.decoder, batch).await?);
        tokens_done += batch.iter().map(|r| r.context.len() + r.continuation.len()).sum::<usize>();
        after_batch(EvalProgress { requests_done: scores.len(), requests_total: requests.len(), tokens_done }).await?;
    }
    let mut scores = scores.into_iter();

    for (sample, choices) in samples.iter_mut().zip(&choices_of) {
        let resps: Vec<(f64, bool)> = scores
            .by_ref()
            .take(choices.len())
            .map(|s| (s.total_logprob(), s.is_greedy.iter().all(|&g| g)))
            .collect();
        let lls: Vec<f64> = resps.iter().map(|r| r.0).collect();
        let pred = argmax(&lls);
        // acc_norm divides by the choice's length in characters (Python len()),
        // acc_bytes by its UTF-8 bytes; neither counts the target delimiter.
        let by_chars: Vec<f64> = lls.iter().zip(choices).map(|(l, c)| l / c.chars().count() as f64).collect();
        let by_bytes: Vec<f64> = lls.iter().zip(choices).map(|(l, c)| l / c.len() as f64).collect();
        let (pred_norm, pred_bytes) = (argmax(&by_chars), argmax(&by_bytes));
        let gold: i64 = match &sample.target {
            Value::Number(n) => n.as_i64().filter(|&g| g >= 0 && (g as usize) < choices.len()).unwrap_or(-100),
            Value::String(s) => choices.iter().position(|c| c == s).map(|p| p as i64).unwrap_or(-100),
            other => {
                return Err(Error::Input(format!(
                    "task {}: doc {}: target {other} is neither a choice index nor a choice",
                    task.task, sample.doc_id
                )));
            }
        };
        let hit = |p: i64| if p == gold { 1.0 } else { 0.0 };
        for (name, _, _) in &metric_names {
            let v = match name.as_str() {
                "acc" => SampleValue::Score(hit(pred)),
                "acc_norm" => SampleValue::Score(hit(pred_norm)),
                "acc_bytes" => SampleValue::Score(hit(pred_bytes)),
                "exact_match" => SampleValue::Score(if gold >= 0 && resps[gold as usize].1 { 1.0 } else { 0.0 }),
                "f1" | "mcc" => SampleValue::GoldPred(gold, pred),
                other => return Err(Error::Input(format!("task {}: metric `{other}` does not apply to multiple_choice", task.task))),
            };
            sample.metrics.insert(name.clone(), v);
        }
        sample.resps = resps.iter().map(|&r| vec![r]).collect();
        sample.filtered_resps = resps;
    }

    let mut aggregated = BTreeMap::new();
    for (name, agg, higher_is_better) in metric_names {
        let values: Vec<SampleValue> = samples.iter().map(|s| s.metrics[&name]).collect();
        let f = metrics::aggregation(&agg)
            .ok_or_else(|| Error::Input(format!("task {}: aggregation `{agg}` is not supported", task.task)))?;
        aggregated.insert(
            name,
            MetricResult { value: f(&values), stderr: metrics::stderr(&agg, &values), aggregation: agg, higher_is_better },
        );
    }
    Ok(TaskResult {
        task: task.task.clone(),
        num_fewshot,
        samples,
        metrics: aggregated,
        config: task.clone(),
        n_docs: all_docs.len(),
    })
}
