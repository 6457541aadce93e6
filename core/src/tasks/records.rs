//! What an evaluation gives back: each doc's requests and the model's responses
//! ([`SampleRecord`]), and the task's aggregated metrics ([`TaskResult`]).
//! [`crate::tasks::evaluator`] fills them in; [`crate::tasks::results`] writes
//! them in lm-eval's layouts.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeSeq;
use serde_json::{Value, json};

use crate::tasks::config::TaskConfig;
use crate::tasks::metrics::{SampleValue, Uncertainty};

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
