//! Leaner-Eval as one run, from the questions to the results JSON: what
//! `tinyeval leaner-eval` and the page's Leaner-Eval tab both call.
//!
//! [`answer_questions`] generates every response token by token, calling
//! `after_token` after each (the page yields there and a cancel stops the run;
//! it also shows each settled piece of text), and scores each response with the
//! judge-free metrics. The judge (an HTTP endpoint, which each front end
//! reaches its own way) and people's ratings are attached to the
//! [`ScoredResponse`]s afterwards. [`results_json`] and [`sample_line`] write
//! lm-eval-harness's layout: `results` → `leaner_eval` → `"distinct_1,none"`,
//! `"distinct_1_stderr,none"`, …, and one samples line per question.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Aggregate, Question, ResponseMetrics, Vocabulary, aggregate, prompt, response_metrics};
use crate::error::{Error, Result};
use crate::generation::{GenerationConfig, Generator};
use crate::judge::JudgeScores;
use crate::language_model::LanguageModel;

/// The three criteria, TinyHelen's, in the judge's order.
pub const CRITERIA: [&str; 3] = ["grammar", "coherence", "specificity"];
pub const JUDGE_COLUMNS: [&str; 3] = ["judge_grammar", "judge_coherence", "judge_specificity"];
pub const HUMAN_COLUMNS: [&str; 3] = ["human_grammar", "human_coherence", "human_specificity"];

/// One response with its judge-free metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub text: String,
    pub stop_reason: String,
    pub metrics: ResponseMetrics,
}

/// A person's 0–5 scores of one response (`None` = not rated yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanRating {
    pub grammar: Option<u8>,
    pub coherence: Option<u8>,
    pub specificity: Option<u8>,
}

impl HumanRating {
    pub fn get(&self, criterion: &str) -> Option<u8> {
        match criterion {
            "grammar" => self.grammar,
            "coherence" => self.coherence,
            _ => self.specificity,
        }
    }

    pub fn set(&mut self, criterion: &str, score: Option<u8>) {
        let slot = match criterion {
            "grammar" => &mut self.grammar,
            "coherence" => &mut self.coherence,
            _ => &mut self.specificity,
        };
        *slot = score.filter(|s| *s <= 5);
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn scores(&self) -> [Option<f64>; 3] {
        CRITERIA.map(|c| self.get(c).map(f64::from))
    }
}

/// A question with its response and every score it has.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredResponse {
    pub doc_id: usize,
    pub question: Question,
    pub response: Response,
    /// The judge's scores, or why its reply could not be read; `None`: not judged.
    pub judge: Option<std::result::Result<JudgeScores, String>>,
    pub human: HumanRating,
}

impl ScoredResponse {
    pub fn judge_scores(&self) -> [Option<f64>; 3] {
        match &self.judge {
            Some(Ok(s)) => [Some(s.grammar), Some(s.coherence), Some(s.specificity)],
            _ => [None; 3],
        }
    }

    pub fn human_scores(&self) -> [Option<f64>; 3] {
        self.human.scores()
    }
}

/// A question's id: its `hash` when the file has one, else its line.
pub fn question_id(q: &Question) -> String {
    q.hash.clone().unwrap_or_else(|| format!("line-{}", q.line))
}

/// What happened last in [`answer_questions`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AnswerEvent<'a> {
    /// Question `question` (0-based) is about to be answered.
    Started { question: usize },
    /// A piece of question `question`'s response settled (`text` may be empty).
    Token { question: usize, text: &'a str },
    /// Question `question`'s response is finished.
    Answered { question: usize, response: &'a Response },
}

/// Where a run is when `after_token` is called.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnswerProgress<'a> {
    pub event: AnswerEvent<'a>,
    pub questions: usize,
    /// New tokens generated so far, over every question.
    pub tokens: usize,
}

/// Answers `questions` one after the other (see the module's documentation).
pub async fn answer_questions<F, Fut>(
    model: &LanguageModel,
    questions: &[Question],
    config: &GenerationConfig,
    vocabulary: &Vocabulary,
    mut after_token: F,
) -> Result<Vec<ScoredResponse>>
where
    F: for<'a> FnMut(AnswerProgress<'a>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    config.validate()?;
    let mut tokens = 0;
    let mut out = Vec::with_capacity(questions.len());
    let at_line = |q: &Question, e: Error| match e {
        Error::Cancelled => Error::Cancelled,
        e => Error::Input(format!("question at line {}: {e}", q.line)),
    };
    for (i, q) in questions.iter().enumerate() {
        let mut generator = Generator::new(model, &prompt(&q.question), config).map_err(|e| at_line(q, e))?;
        after_token(AnswerProgress { event: AnswerEvent::Started { question: i }, questions: questions.len(), tokens }).await?;
        while let Some(token) = generator.next_token().await.map_err(|e| at_line(q, e))? {
            tokens += 1;
            let event = AnswerEvent::Token { question: i, text: &token.text };
            after_token(AnswerProgress { event, questions: questions.len(), tokens }).await?;
        }
        let generation = generator.finish();
        // The metrics count the tokens of the response's text (cut before the stop string).
        let ids = model.tokenizer.encode_plain(&generation.text, false)?;
        let metrics = response_metrics(&generation.text, &ids, vocabulary);
        let response = Response { text: generation.text, stop_reason: generation.stop_reason.to_string(), metrics };
        let event = AnswerEvent::Answered { question: i, response: &response };
        after_token(AnswerProgress { event, questions: questions.len(), tokens }).await?;
        out.push(ScoredResponse { doc_id: i, question: q.clone(), response, judge: None, human: HumanRating::default() });
    }
    Ok(out)
}

/// Every metric's per-response values: the judge-free ones, the judge's when
/// any response was judged, the people's when any was rated.
pub fn columns(rows: &[ScoredResponse]) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut columns: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let judged = rows.iter().any(|r| r.judge.is_some());
    let rated = rows.iter().any(|r| !r.human.is_empty());
    for r in rows {
        let mut push = |name: &str, value| columns.entry(name.to_string()).or_default().push(value);
        for (name, value) in r.response.metrics.named() {
            push(name, value);
        }
        if judged {
            JUDGE_COLUMNS.into_iter().zip(r.judge_scores()).for_each(|(n, v)| push(n, v));
        }
        if rated {
            HUMAN_COLUMNS.into_iter().zip(r.human_scores()).for_each(|(n, v)| push(n, v));
        }
    }
    columns
}

/// The means (with standard errors) of every metric over the responses.
pub fn aggregates(rows: &[ScoredResponse]) -> BTreeMap<String, Aggregate> {
    aggregate(&columns(rows))
}

/// Whether a higher value of the metric is better: longer or more repetitive
/// is not; the scores, distinctness and Leaner shares are.
pub fn higher_is_better(metric: &str) -> bool {
    !matches!(metric, "n_tokens" | "n_words" | "repetition_4")
}

/// What a results file records about the run besides the numbers.
#[derive(Clone, Debug)]
pub struct LeanerEvalRecord {
    pub model: String,
    /// The backend it ran on (`cpu`, `wgpu`, `webgpu`).
    pub device: String,
    /// Where the questions came from.
    pub questions: String,
    pub limit: Option<usize>,
    pub generation: GenerationConfig,
    /// Where the Leaner vocabulary came from, and its size.
    pub vocabulary_source: String,
    pub vocabulary_words: usize,
    pub vocabulary_token_ids: usize,
    /// The judge's chat-completions URL and model, when one scored the responses.
    pub judge: Option<(String, String)>,
}

fn number(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!(v))
}

/// The results file (see the module's documentation).
pub fn results_json(rows: &[ScoredResponse], run: &LeanerEvalRecord) -> Value {
    let mut results = serde_json::Map::new();
    results.insert("alias".into(), json!("leaner_eval"));
    let mut higher = serde_json::Map::new();
    for (name, a) in &aggregates(rows) {
        results.insert(format!("{name},none"), json!(a.mean));
        results.insert(format!("{name}_stderr,none"), a.stderr.map_or(json!("N/A"), |s| json!(s)));
        higher.insert(name.clone(), json!(higher_is_better(name)));
    }
    let failures = rows.iter().filter(|r| matches!(r.judge, Some(Err(_)))).count();
    json!({
        "results": { "leaner_eval": results },
        "n-shot": { "leaner_eval": 0 },
        "versions": { "leaner_eval": 1 },
        "higher_is_better": { "leaner_eval": higher },
        "n-samples": { "leaner_eval": { "original": rows.len(), "effective": rows.len() } },
        "configs": { "leaner_eval": {
            "task": "leaner_eval",
            "output_type": "generate_until",
            "data": run.questions,
            "prompt": prompt("{question}"),
            "generation_kwargs": run.generation,
            "limit": run.limit,
            "vocabulary": { "source": run.vocabulary_source, "words": run.vocabulary_words, "token_ids": run.vocabulary_token_ids },
            "judge": run.judge.as_ref().map(|(url, model)| json!({ "url": url, "model": model, "failures": failures })),
        } },
        "config": { "model": "tinyeval", "model_args": run.model, "device": run.device },
        "model_name": run.model,
        "tinyeval_version": env!("CARGO_PKG_VERSION"),
    })
}

/// One line of `samples_leaner_eval.jsonl`, as lm-eval-harness writes samples.
pub fn sample_line(row: &ScoredResponse, generation: &GenerationConfig) -> Value {
    let q = &row.question;
    let mut metrics: serde_json::Map<String, Value> = row.response.metrics.named().into_iter().map(|(n, v)| (n.to_string(), number(v))).collect();
    if row.judge.is_some() {
        metrics.extend(JUDGE_COLUMNS.into_iter().zip(row.judge_scores()).map(|(n, v)| (n.to_string(), number(v))));
    }
    let judge = match &row.judge {
        None => Value::Null,
        Some(Ok(s)) => json!(s),
        Some(Err(e)) => json!({ "error": e }),
    };
    json!({
        "doc_id": row.doc_id,
        "doc": { "question": q.question, "source": q.source, "hash": q.hash, "line": q.line },
        "target": "",
        "arguments": [[prompt(&q.question), generation]],
        "resps": [[row.response.text]],
        "filtered_resps": [row.response.text],
        "stop_reason": row.response.stop_reason,
        "metrics": metrics,
        "judge": judge,
        "human": if row.human.is_empty() { Value::Null } else { json!(row.human) },
    })
}
