//! The per-sample view's rows for every output type: what the model was asked
//! (prompt, or the whole text of a rolling task), what it answered (each
//! choice's log-likelihood, the continuation's, the text's, or the generated
//! text), the target, and whether it was right (acc; exact_match for
//! generations; none for perplexities).

use tinyeval_core::tasks::TaskResult;
use tinyeval_core::tasks::evaluator::{Request, Response, SampleRecord};
use tinyeval_core::tasks::metrics::SampleValue;

/// One of the model's answers to a sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub text: String,
    /// Its log-likelihood, for scored requests.
    pub logprob: Option<f64>,
    /// The choice the model picked (multiple choice) or a greedy continuation.
    pub picked: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SampleRow {
    pub doc_id: usize,
    pub prompt: String,
    pub answers: Vec<Answer>,
    pub target: String,
    pub correct: Option<bool>,
}

impl SampleRow {
    pub fn logprobs(&self) -> Vec<f64> {
        self.answers.iter().filter_map(|a| a.logprob).collect()
    }

    /// The generated text of a generate_until sample.
    pub fn generated(&self) -> Option<&str> {
        match self.answers.as_slice() {
            [a] if a.logprob.is_none() => Some(&a.text),
            _ => None,
        }
    }
}

/// Which samples to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleFilter {
    All,
    Right,
    Wrong,
}

impl SampleFilter {
    pub fn from_id(id: &str) -> Self {
        match id {
            "correct" => SampleFilter::Right,
            "wrong" => SampleFilter::Wrong,
            _ => SampleFilter::All,
        }
    }
}

fn score_is_one(v: Option<&SampleValue>) -> Option<bool> {
    v.map(|v| matches!(v, SampleValue::Score(x) if *x == 1.0))
}

fn sample_row(s: &SampleRecord) -> SampleRow {
    let prompt = match s.arguments.first() {
        Some(Request::Loglikelihood { context, .. } | Request::Generate { context, .. }) => context.clone(),
        Some(Request::Rolling { text }) => text.clone(),
        None => String::new(),
    };
    let lls: Vec<f64> = s.resps.iter().filter_map(Response::logprob).collect();
    let best = lls.iter().enumerate().fold(0, |b, (i, &x)| if x > lls[b] { i } else { b });
    let several = s.arguments.len() > 1;
    let answers = s
        .arguments
        .iter()
        .zip(&s.resps)
        .enumerate()
        .map(|(i, (request, response))| match (request, response) {
            (Request::Loglikelihood { continuation, .. }, Response::Loglikelihood { logprob, is_greedy }) => Answer {
                text: continuation.clone(),
                logprob: Some(*logprob),
                picked: if several { i == best } else { *is_greedy },
            },
            (_, Response::Rolling { logprob }) => Answer { text: "the whole text".into(), logprob: Some(*logprob), picked: false },
            (_, Response::Generated { text }) => Answer { text: text.clone(), logprob: None, picked: false },
            (_, r) => Answer { text: String::new(), logprob: r.logprob(), picked: false },
        })
        .collect();
    let target = match &s.target {
        serde_json::Value::String(t) => t.clone(),
        other => other.to_string(),
    };
    // A rolling task's target is the text itself: not worth repeating.
    let rolling = matches!(s.arguments.first(), Some(Request::Rolling { .. }));
    let correct = score_is_one(s.metrics.get("acc")).or_else(|| score_is_one(s.metrics.get("exact_match")));
    SampleRow { doc_id: s.doc_id, prompt, answers, target: if rolling { "—".into() } else { target }, correct }
}

/// The samples of `result` that pass `filter` and whose prompt contains `needle` (any case).
pub fn sample_rows(result: &TaskResult, filter: SampleFilter, needle: &str) -> Vec<SampleRow> {
    let needle = needle.to_lowercase();
    result
        .samples
        .iter()
        .map(sample_row)
        .filter(|r| match filter {
            SampleFilter::All => true,
            SampleFilter::Right => r.correct == Some(true),
            SampleFilter::Wrong => r.correct == Some(false),
        })
        .filter(|r| needle.is_empty() || r.prompt.to_lowercase().contains(&needle))
        .collect()
}
