//! Runs a task on a model: requests, scores or generations, per-sample metrics
//! and aggregation, as lm-eval-harness 0.4.13 does for its four output types.
//!
//! Tokenization follows lm-eval's HF model (`HFLM`):
//! - `loglikelihood` and `multiple_choice` (`_encode_pair`): whitespace at the
//!   end of the context moves to the front of the continuation; the context and
//!   the whole string are each encoded with the tokenizer's default special
//!   tokens (HFLM's `add_bos_token` defaults to `None`, i.e. `tokenizer(text)` as
//!   configured, which is [`TextTokenizer::encode`]); the continuation is the
//!   whole string's tokens after the context's. An empty context becomes the
//!   prefix token (BOS, else EOS).
//! - `loglikelihood_rolling`: the text's tokens in rolling windows of the
//!   model's context ([`rolling_windows`]), the prefix token predicting the first.
//! - `generate_until`: the context's tokens, left-truncated to leave room for
//!   `max_gen_toks`, then greedy (or sampled) tokens until a stop string, the
//!   EOS token or the budget; the text is cut before the first stop string.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeSeq;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::generation::{GenerationConfig, Generator};
use crate::language_model::LanguageModel;
use crate::scoring::{ScoreRequest, rolling_windows, score_batch};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::data::{DocOrigins, TaskDocs};
use crate::tasks::fewshot::{FewshotSampler, fewshot_context};
use crate::tasks::metrics::{self, ExactMatchOptions, SampleValue, Uncertainty};
use crate::tasks::template::{doc_to_choice, doc_to_target};
use crate::tokenizer::TextTokenizer;

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

/// One request of a doc, as lm-eval's `Instance.arguments`.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `(context, continuation)`: multiple_choice (one per choice) and loglikelihood.
    Loglikelihood { context: String, continuation: String },
    /// `(text,)`.
    Rolling { text: String },
    /// `(context, generation_kwargs)`.
    Generate { context: String, generation_kwargs: Value },
}

impl Request {
    /// The arguments as lm-eval lists them.
    pub fn arguments(&self) -> Vec<Value> {
        match self {
            Request::Loglikelihood { context, continuation } => vec![json!(context), json!(continuation)],
            Request::Rolling { text } => vec![json!(text)],
            Request::Generate { context, generation_kwargs } => vec![json!(context), generation_kwargs.clone()],
        }
    }
}

impl Serialize for Request {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let args = self.arguments();
        let mut seq = s.serialize_seq(Some(args.len()))?;
        for a in &args {
            seq.serialize_element(a)?;
        }
        seq.end()
    }
}

/// The model's answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// Sum of the continuation's log-probabilities, and whether every token was the argmax.
    Loglikelihood { logprob: f64, is_greedy: bool },
    /// Sum of the text's log-probabilities.
    Rolling { logprob: f64 },
    /// The generated text, cut before the first stop string.
    Generated { text: String },
}

impl Response {
    pub fn logprob(&self) -> Option<f64> {
        match self {
            Response::Loglikelihood { logprob, .. } | Response::Rolling { logprob } => Some(*logprob),
            Response::Generated { .. } => None,
        }
    }
}

impl Serialize for Response {
    /// As lm-eval writes it: `[logprob, is_greedy]`, `logprob` or the text.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Response::Loglikelihood { logprob, is_greedy } => (logprob, is_greedy).serialize(s),
            Response::Rolling { logprob } => logprob.serialize(s),
            Response::Generated { text } => text.serialize(s),
        }
    }
}

/// One evaluated doc, as lm-eval's `--log_samples` records it.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    pub doc_id: usize,
    pub doc: Value,
    /// `doc_to_target(doc)`.
    pub target: Value,
    /// One per request (per choice for multiple_choice).
    pub arguments: Vec<Request>,
    /// One per request. tinyeval has lm-eval's default filter only (`none`,
    /// take the first response), so these are also the filtered responses.
    pub resps: Vec<Response>,
    pub metrics: BTreeMap<String, SampleValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricResult {
    pub value: f64,
    pub stderr: Option<f64>,
    /// 95% confidence interval; see [`Uncertainty`].
    pub uncertainty: Uncertainty,
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
    /// Docs in the evaluated split (before `limit`).
    pub n_docs: usize,
}

impl TaskResult {
    /// lm-eval's results layout for this task alone; see
    /// [`crate::tasks::results::results_json`] for several tasks and groups.
    pub fn results_json(&self) -> Value {
        crate::tasks::results::results_json(std::slice::from_ref(self), &[])
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

/// lm-eval's `prefix_token_id`: BOS, else EOS.
fn prefix_token(tokenizer: &TextTokenizer) -> Result<u32> {
    tokenizer
        .bos_token_id
        .or(tokenizer.eos_token_id)
        .ok_or_else(|| Error::Input("the tokenizer has neither a BOS nor an EOS token to start a text with".into()))
}

/// lm-eval's `_encode_pair` (see the module's documentation).
pub fn encode_pair(tokenizer: &TextTokenizer, context: &str, continuation: &str) -> Result<ScoreRequest> {
    if context.is_empty() {
        let cont = tokenizer.encode_plain(continuation, false)?;
        let prefix = prefix_token(tokenizer)?;
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

/// lm-eval's rolling windows of a text (`loglikelihood_rolling`).
pub fn rolling_requests(model: &LanguageModel, text: &str) -> Result<Vec<ScoreRequest>> {
    let tokens = model.tokenizer.encode(text)?;
    Ok(rolling_windows(prefix_token(&model.tokenizer)?, &tokens, model.config.max_positions))
}

/// A task's metric: name, aggregation, direction, and exact_match's options.
struct TaskMetric {
    name: String,
    aggregation: String,
    higher_is_better: bool,
    exact_match: ExactMatchOptions,
}

fn task_metrics(config: &TaskConfig) -> Result<Vec<TaskMetric>> {
    let unsupported = |name: &str| Error::Input(format!("task {}: metric `{name}` is not supported", config.task));
    let applies = |name: &str| -> Result<()> {
        let ok = match config.output_type {
            OutputType::MultipleChoice => matches!(name, "acc" | "acc_norm" | "acc_bytes" | "exact_match" | "f1" | "mcc"),
            OutputType::Loglikelihood => matches!(name, "acc" | "perplexity"),
            OutputType::LoglikelihoodRolling => matches!(name, "word_perplexity" | "byte_perplexity" | "bits_per_byte"),
            OutputType::GenerateUntil => name == "exact_match",
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Input(format!(
                "task {}: metric `{name}` does not apply to output_type {:?}",
                config.task, config.output_type
            )))
        }
    };
    match &config.metric_list {
        None => metrics::default_metrics(config.output_type)
            .iter()
            .map(|&n| {
                let m = metrics::metric(n).ok_or_else(|| unsupported(n))?;
                Ok(TaskMetric {
                    name: n.to_string(),
                    aggregation: m.default_aggregation.to_string(),
                    higher_is_better: m.higher_is_better,
                    exact_match: ExactMatchOptions::default(),
                })
            })
            .collect(),
        Some(list) => list
            .iter()
            .map(|mc| {
                let m = metrics::metric(&mc.metric).ok_or_else(|| unsupported(&mc.metric))?;
                applies(&mc.metric)?;
                Ok(TaskMetric {
                    name: mc.metric.clone(),
                    aggregation: mc.aggregation.clone().unwrap_or_else(|| m.default_aggregation.to_string()),
                    higher_is_better: mc.higher_is_better.unwrap_or(m.higher_is_better),
                    exact_match: mc.exact_match_options(),
                })
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

/// The generation settings of a task as lm-eval normalizes them
/// (`TaskConfig.__post_init__`, then `normalize_gen_kwargs`).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationSettings {
    /// The `generation_kwargs` passed with each request (lm-eval logs them).
    pub kwargs: Value,
    pub until: Vec<String>,
    pub max_gen_toks: usize,
    pub do_sample: bool,
    pub temperature: f64,
    pub top_p: f64,
}

/// lm-eval's `DEFAULT_MAX_GEN_TOKS`.
const DEFAULT_MAX_GEN_TOKS: usize = 256;

pub fn generation_settings(task: &TaskConfig) -> Result<GenerationSettings> {
    let bad = |what: String| Error::Input(format!("task {}: generation_kwargs: {what}", task.task));
    // TaskConfig.__post_init__: defaults when absent, `until` defaulting to the
    // few-shot delimiter, temperature as a float.
    let mut kwargs = match &task.generation_kwargs {
        Some(Value::Object(m)) => {
            let mut m = m.clone();
            if let Some(t) = m.get("temperature") {
                let t = t.as_f64().ok_or_else(|| bad(format!("temperature {t} is not a number")))?;
                m.insert("temperature".into(), json!(t));
            }
            m.entry("until").or_insert_with(|| json!([task.fewshot_delimiter]));
            m
        }
        Some(other) => return Err(bad(format!("{other} is not a mapping"))),
        None => serde_json::from_value(json!({
            "temperature": 0.0, "do_sample": false, "max_gen_toks": DEFAULT_MAX_GEN_TOKS, "until": [task.fewshot_delimiter]
        }))
        .map_err(|e| bad(e.to_string()))?,
    };
    let until = match kwargs.get("until") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad(format!("until entry {v} is not a string"))))
            .collect::<Result<_>>()?,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => return Err(bad(format!("until {other} is neither a string nor a list"))),
    };
    // normalize_gen_kwargs: the first token budget by priority.
    let mut max_gen_toks = DEFAULT_MAX_GEN_TOKS;
    for key in ["max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens"] {
        if let Some(v) = kwargs.get(key).filter(|v| !v.is_null()) {
            max_gen_toks = v.as_u64().ok_or_else(|| bad(format!("{key} {v} is not a non-negative integer")))? as usize;
            break;
        }
    }
    let temperature = match kwargs.get("temperature") {
        Some(v) => v.as_f64().ok_or_else(|| bad(format!("temperature {v} is not a number")))?,
        None => 0.0,
    };
    let do_sample = match kwargs.get("do_sample") {
        None | Some(Value::Null) => temperature > 0.0,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(bad(format!("do_sample {other} is not a boolean"))),
    };
    let top_p = match kwargs.get("top_p") {
        Some(v) => v.as_f64().ok_or_else(|| bad(format!("top_p {v} is not a number")))?,
        None => 1.0,
    };
    kwargs.insert("until".into(), json!(until));
    Ok(GenerationSettings {
        kwargs: Value::Object(kwargs),
        until,
        max_gen_toks,
        do_sample,
        // do_sample=False means greedy whatever the temperature; do_sample=True
        // with temperature 0 samples at transformers' default temperature, 1.
        temperature: if !do_sample { 0.0 } else if temperature == 0.0 { 1.0 } else { temperature },
        top_p,
    })
}

/// What a doc asks of the model, and what it is scored against.
struct DocPlan {
    requests: Vec<Request>,
    target: Value,
    /// The choices (multiple_choice, or generate_until with doc_to_choice).
    choices: Option<Vec<String>>,
    /// The gold choice index (multiple_choice).
    gold: i64,
}

/// The gold index of a multiple-choice doc. lm-eval turns a target outside the
/// choices into -100 (never right); tinyeval refuses it, since it is almost
/// always a wrong label type or a wrong `doc_to_choice`.
fn gold_index(target: &Value, choices: &[String]) -> std::result::Result<i64, String> {
    match target {
        Value::Number(n) => match n.as_i64() {
            Some(g) if g >= 0 && (g as usize) < choices.len() => Ok(g),
            _ => Err(format!("target {n} is not a choice index (0 to {})", choices.len().saturating_sub(1))),
        },
        Value::String(s) => choices
            .iter()
            .position(|c| c == s)
            .map(|p| p as i64)
            .ok_or_else(|| format!("target {s:?} is not one of the choices {choices:?}")),
        other => Err(format!("target {other} is neither a choice index nor a choice")),
    }
}

fn plan_doc(task: &TaskConfig, doc: &Value, context: &str, generation: Option<&GenerationSettings>) -> std::result::Result<DocPlan, String> {
    let target = doc_to_target(task, doc).map_err(|e| e.to_string())?;
    let text_target = |what: &str| -> std::result::Result<String, String> {
        match &target {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!("the {what} (doc_to_target) is {other}, not a string")),
        }
    };
    Ok(match task.output_type {
        OutputType::MultipleChoice => {
            let choices = doc_to_choice(task, doc).map_err(|e| e.to_string())?;
            let gold = gold_index(&target, &choices)?;
            let requests = choices
                .iter()
                .map(|c| Request::Loglikelihood { context: context.to_string(), continuation: format!("{}{c}", task.target_delimiter) })
                .collect();
            DocPlan { requests, target, choices: Some(choices), gold }
        }
        OutputType::Loglikelihood => {
            let continuation = text_target("continuation")?;
            DocPlan { requests: vec![Request::Loglikelihood { context: context.to_string(), continuation }], target, choices: None, gold: -1 }
        }
        OutputType::LoglikelihoodRolling => {
            let text = text_target("text to score")?;
            DocPlan { requests: vec![Request::Rolling { text }], target, choices: None, gold: -1 }
        }
        OutputType::GenerateUntil => {
            let choices = match task.doc_to_choice {
                Some(_) => {
                    let choices = doc_to_choice(task, doc).map_err(|e| e.to_string())?;
                    gold_index(&target, &choices)?;
                    Some(choices)
                }
                None => {
                    text_target("reference answer")?;
                    None
                }
            };
            let kwargs = generation.map(|g| g.kwargs.clone()).unwrap_or(Value::Null);
            DocPlan {
                requests: vec![Request::Generate { context: context.to_string(), generation_kwargs: kwargs }],
                target,
                choices,
                gold: -1,
            }
        }
    })
}

/// Checks that every doc of a task's evaluated and few-shot splits renders
/// (fields present, templates valid, a target of the right type), before any
/// model work; errors name the data file and line from `origins`.
pub fn check_docs(task: &TaskConfig, docs: &TaskDocs, origins: &DocOrigins) -> Result<()> {
    let generation = match task.output_type {
        OutputType::GenerateUntil => Some(generation_settings(task)?),
        _ => None,
    };
    let split = task.eval_split();
    let mut splits = vec![split];
    if let Some(fs) = task.fewshot_source_split().filter(|s| *s != split) {
        splits.push(fs);
    }
    for split in splits {
        let Some(split_docs) = docs.get(split) else { continue };
        for (i, doc) in split_docs.iter().enumerate() {
            let locate = |problem: String| match origins.get(split).and_then(|o| o.get(i)) {
                Some(origin) => Error::bad_file(&origin.file, format!("line {}: task {}: {problem}", origin.line, task.task)),
                None => Error::Input(format!("task {}: split {split}, doc {i}: {problem}", task.task)),
            };
            let context = crate::tasks::template::doc_to_text(task, doc).map_err(|e| locate(e.to_string()))?;
            if !context.is_string() {
                return Err(locate(format!("doc_to_text gave {context}, not a string")));
            }
            plan_doc(task, doc, "", generation.as_ref()).map_err(locate)?;
        }
    }
    Ok(())
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
    let mut scores = Vec::with_capacity(score_requests.len());
    for batch in score_requests.chunks(options.batch_size.max(1)) {
        scores.extend(score_batch(&model.decoder, batch).await?);
        tokens_done += batch.iter().map(|r| r.context.len() + r.continuation.len()).sum::<usize>();
        after_batch(EvalProgress { requests_done: scores.len(), requests_total, tokens_done }).await?;
    }
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
        let f = metrics::aggregation(&m.aggregation)
            .ok_or_else(|| Error::Input(format!("task {}: aggregation `{}` is not supported", task.task, m.aggregation)))?;
        let value = if values.is_empty() { f64::NAN } else { f(&values) };
        let uncertainty = metrics::uncertainty(&m.aggregation, &values, options.bootstrap_iters);
        aggregated.insert(
            m.name,
            MetricResult { value, stderr: uncertainty.stderr, uncertainty, aggregation: m.aggregation, higher_is_better: m.higher_is_better },
        );
    }
    Ok(TaskResult { task: task.task.clone(), num_fewshot, samples, metrics: aggregated, config: task.clone(), n_docs: all_docs.len() })
}

/// One `generate_until` request: the generated text (cut before the first stop
/// string) and the tokens that went through the model.
async fn generate_until(model: &LanguageModel, context: &str, settings: &GenerationSettings, seed: i64) -> Result<(String, usize)> {
    let max_len = model.config.max_positions;
    if settings.max_gen_toks >= max_len {
        return Err(Error::Input(format!(
            "max_gen_toks {} must be less than the model's context of {max_len} tokens",
            settings.max_gen_toks
        )));
    }
    let mut tokens = model.tokenizer.encode(context)?;
    // HFLM.tok_batch_encode(left_truncate_len = max_length - max_gen_toks).
    let keep = max_len - settings.max_gen_toks;
    if tokens.len() > keep {
        tokens.drain(..tokens.len() - keep);
    }
    let mut stop = settings.until.clone();
    // lm-eval also stops at the decoded EOS token (handle_stop_sequences).
    if let Some(eos) = model.tokenizer.eos_token_id {
        let s = model.tokenizer.decode(&[eos])?;
        if !s.is_empty() && !stop.contains(&s) {
            stop.push(s);
        }
    }
    let config = GenerationConfig {
        max_new_tokens: settings.max_gen_toks,
        temperature: settings.temperature as f32,
        top_p: settings.top_p as f32,
        seed: seed as u64,
        stop,
    };
    let prompt_len = tokens.len();
    let mut generator = Generator::from_tokens(&model.decoder, &model.tokenizer, tokens, &config)?;
    while generator.next_token().await?.is_some() {}
    let generation = generator.finish();
    Ok((generation.text, prompt_len + generation.tokens.len()))
}

/// lm-eval's `count_words`: `len(re.split(r"\s+", text))`, i.e. the runs of
/// whitespace plus one (Python's `\s` is `str.isspace`: Unicode White_Space
/// and the separators U+001C..U+001F).
pub fn count_words(text: &str) -> usize {
    let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let mut runs = 0;
    let mut in_run = false;
    for c in text.chars() {
        let s = is_space(c);
        if s && !in_run {
            runs += 1;
        }
        in_run = s;
    }
    runs + 1
}

fn sample_metrics(
    task: &TaskConfig,
    task_metrics: &[TaskMetric],
    plan: &DocPlan,
    resps: &[Response],
) -> std::result::Result<BTreeMap<String, SampleValue>, String> {
    let mut out = BTreeMap::new();
    match task.output_type {
        OutputType::MultipleChoice => {
            let choices = plan.choices.as_deref().unwrap_or_default();
            let lls: Vec<f64> = resps.iter().filter_map(Response::logprob).collect();
            let greedy: Vec<bool> = resps.iter().map(|r| matches!(r, Response::Loglikelihood { is_greedy: true, .. })).collect();
            let pred = argmax(&lls);
            // acc_norm divides by the choice's length in characters (Python len()),
            // acc_bytes by its UTF-8 bytes; neither counts the target delimiter.
            let by_chars: Vec<f64> = lls.iter().zip(choices).map(|(l, c)| l / c.chars().count() as f64).collect();
            let by_bytes: Vec<f64> = lls.iter().zip(choices).map(|(l, c)| l / c.len() as f64).collect();
            let (pred_norm, pred_bytes) = (argmax(&by_chars), argmax(&by_bytes));
            let gold = plan.gold;
            let hit = |p: i64| if p == gold { 1.0 } else { 0.0 };
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "acc" => SampleValue::Score(hit(pred)),
                    "acc_norm" => SampleValue::Score(hit(pred_norm)),
                    "acc_bytes" => SampleValue::Score(hit(pred_bytes)),
                    "exact_match" => SampleValue::Score(if greedy[gold as usize] { 1.0 } else { 0.0 }),
                    "f1" | "mcc" => SampleValue::GoldPred(gold, pred),
                    other => return Err(format!("metric `{other}` does not apply to multiple_choice")),
                };
                out.insert(m.name.clone(), v);
            }
        }
        OutputType::Loglikelihood => {
            let (ll, greedy) = match resps.first() {
                Some(Response::Loglikelihood { logprob, is_greedy }) => (*logprob, *is_greedy),
                _ => return Err("no log-likelihood".into()),
            };
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "perplexity" => SampleValue::Score(ll),
                    "acc" => SampleValue::Score(greedy as u8 as f64),
                    other => return Err(format!("metric `{other}` does not apply to loglikelihood")),
                };
                out.insert(m.name.clone(), v);
            }
        }
        OutputType::LoglikelihoodRolling => {
            let ll = resps.first().and_then(Response::logprob).ok_or("no log-likelihood")?;
            let text = plan.target.as_str().unwrap_or_default();
            let (words, bytes) = (count_words(text) as f64, text.len() as f64);
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "word_perplexity" => SampleValue::Weighted(ll, words),
                    "byte_perplexity" | "bits_per_byte" => SampleValue::Weighted(ll, bytes),
                    other => return Err(format!("metric `{other}` does not apply to loglikelihood_rolling")),
                };
                out.insert(m.name.clone(), v);
            }
        }
        OutputType::GenerateUntil => {
            let generated = match resps.first() {
                Some(Response::Generated { text }) => text.as_str(),
                _ => return Err("no generation".into()),
            };
            // With doc_to_choice the target is an index into the choices.
            let gold = match (&plan.choices, &plan.target) {
                (Some(c), t) => c[gold_index(t, c)? as usize].clone(),
                (None, Value::String(s)) => s.clone(),
                (None, other) => return Err(format!("target {other} is not a string")),
            };
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "exact_match" => SampleValue::Score(metrics::exact_match(generated, &gold, &m.exact_match).map_err(|e| e.to_string())?),
                    other => return Err(format!("metric `{other}` does not apply to generate_until")),
                };
                out.insert(m.name.clone(), v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_python_re_split() {
        // len(re.split(r"\s+", s)) for each s
        assert_eq!(count_words("a b"), 2);
        assert_eq!(count_words(" a  b\n"), 4);
        assert_eq!(count_words(""), 1);
        assert_eq!(count_words("a\u{1f}b\u{a0}c"), 3);
    }
}
