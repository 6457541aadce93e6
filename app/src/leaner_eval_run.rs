//! Leaner-Eval in the page, as `tinyeval leaner-eval` does it natively: the
//! model answers TinyHelen's instruction questions after core's
//! [`leaner_eval::prompt`], token by token (the page gets its event loop back
//! between tokens); each response gets core's judge-free metrics against the
//! Leaner vocabulary; an optional OpenAI-compatible judge scores it through the
//! browser's `fetch`; people rate responses by hand, kept in `localStorage`.
//! Exports: the CLI's results JSON layout, and the responses with their
//! metrics, judge scores and ratings as JSONL or CSV.

use std::cell::Cell;

use serde_json::{Value, json};
use tinyeval_core::judge::{self, JudgeScores};
use tinyeval_core::leaner_eval::{self, AnswerEvent, HUMAN_COLUMNS, JUDGE_COLUMNS, Question, Response, ScoredResponse, Vocabulary, answer_questions, question_id};
use tinyeval_core::tokenizer::TextTokenizer;
use tinyeval_core::{Error, GenerationConfig, LanguageModel};

use crate::export::{MetricSummary, RunSummary, Sampling, Settings, csv_field};
use crate::browser::fetch::{fetch_bytes, post_json};
use crate::model_loading::LocalFile;
use crate::job::{Outcome, now_seconds, yield_now};

/// Where Leaner-Eval's questions lie inside the TinyHelen folder (or dataset).
pub const QUESTIONS_PATH: &str = "data/leaner/eval";

/// The question files TinyHelen publishes: all 1,594 questions, and the same
/// split by similarity to the training data.
pub const QUESTION_FILES: [&str; 5] = ["all.jsonl", "split-0-7.jsonl", "split-7-8.jsonl", "split-8-9.jsonl", "split-9-10.jsonl"];

/// The Leaner-Pretrain train folder, whose text is the Leaner vocabulary (as the
/// CLI's `Vocabulary::from_dir` reads it).
pub const TRAIN_PATH: &str = "data/leaner/10M/train";

/// The files of [`TRAIN_PATH`] (a URL cannot be listed as the CLI lists the
/// folder): one per genre of the 10M configuration's train split.
pub const TRAIN_FILES: [&str; 5] = ["book0000.jsonl", "conversation0000.jsonl", "math0000.jsonl", "textbook0000.jsonl", "wiki0000.jsonl"];

/// `{base}/{path}/{file}` with one slash between the parts.
pub fn tinyhelen_url(base: &str, path: &str, file: &str) -> String {
    format!("{}/{path}/{file}", base.trim().trim_end_matches('/'))
}

/// Leaner-Eval questions and where they came from (a URL or a file name).
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionSet {
    pub source: String,
    pub questions: Vec<Question>,
}

pub async fn questions_from_url(url: &str) -> Result<QuestionSet, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("give the URL of a Leaner-Eval JSONL file, or choose the file".into());
    }
    let bytes = fetch_bytes(url).await?;
    let questions = leaner_eval::parse_questions(url, &bytes).map_err(|e| e.to_string())?;
    Ok(QuestionSet { source: url.to_string(), questions })
}

pub fn questions_from_file(file: &LocalFile) -> Result<QuestionSet, String> {
    let questions = leaner_eval::parse_questions(&file.path, &file.bytes).map_err(|e| e.to_string())?;
    Ok(QuestionSet { source: file.path.clone(), questions })
}

/// The run's settings, as typed into the page.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSettings {
    pub limit: Option<usize>,
    pub generation: GenerationConfig,
}

/// Reads the options' texts; `temperature` 0 is greedy. Stops at
/// [`leaner_eval::DEFAULT_STOP`], as the CLI does by default.
pub fn parse_settings(limit: &str, max_new_tokens: &str, temperature: &str, top_p: &str, seed: &str) -> Result<RunSettings, String> {
    let whole = |name: &str, s: &str| s.trim().parse::<u64>().map_err(|_| format!("{name}: `{}` is not a whole number", s.trim()));
    let number = |name: &str, s: &str| s.trim().parse::<f32>().map_err(|_| format!("{name}: `{}` is not a number", s.trim()));
    let limit = match limit.trim() {
        "" => None,
        s => match whole("limit", s)? {
            0 => return Err("limit: at least 1 (or empty for all questions)".into()),
            n => Some(n as usize),
        },
    };
    let generation = GenerationConfig {
        max_new_tokens: whole("max new tokens", max_new_tokens)? as usize,
        temperature: number("temperature", temperature)?,
        top_p: number("top-p", top_p)?,
        seed: whole("seed", seed)?,
        stop: vec![leaner_eval::DEFAULT_STOP.to_string()],
    };
    generation.validate().map_err(|e| e.to_string())?;
    Ok(RunSettings { limit, generation })
}

/// The Leaner-Pretrain train files, read from `{base}/data/leaner/10M/train/`.
pub async fn fetch_train_files(base: &str, on_file: impl Fn(&str)) -> Result<Vec<LocalFile>, String> {
    let mut files = Vec::new();
    for name in TRAIN_FILES {
        let url = tinyhelen_url(base, TRAIN_PATH, name);
        on_file(&url);
        files.push(LocalFile { path: url.clone(), bytes: std::rc::Rc::new(fetch_bytes(&url).await?) });
    }
    Ok(files)
}

/// How long the vocabulary's computation holds the page at most (a frame or two).
pub const PAUSE_EVERY_SECONDS: f64 = 0.03;

/// The Leaner vocabulary of `files` (each a Leaner-Pretrain JSONL file) for
/// `tokenizer`, one document at a time, giving the page its event loop back
/// between documents every [`PAUSE_EVERY_SECONDS`] (a yield costs the browser's
/// 4-ms timer clamp, and there are thousands of short documents beside a few
/// long books); `on_progress(documents done, documents)`.
pub async fn build_vocabulary(
    files: &[LocalFile],
    tokenizer: &TextTokenizer,
    cancel: &Cell<bool>,
    on_progress: impl Fn(usize, usize),
) -> Result<Outcome<Vocabulary>, String> {
    if files.is_empty() {
        return Err("no Leaner-Pretrain train files (the Leaner vocabulary comes from them)".into());
    }
    let mut documents = Vec::new();
    for f in files {
        documents.extend(leaner_eval::parse_pretrain_documents(&f.path, &f.bytes).map_err(|e| e.to_string())?);
    }
    // The union of each document's vocabulary is the vocabulary of all of them.
    let mut vocabulary = Vocabulary::default();
    let mut paused = now_seconds();
    for (i, doc) in documents.iter().enumerate() {
        let one = Vocabulary::from_documents([doc.as_str()], Some(tokenizer)).map_err(|e| e.to_string())?;
        vocabulary.words.extend(one.words);
        vocabulary.tokens.extend(one.tokens);
        if now_seconds() - paused >= PAUSE_EVERY_SECONDS {
            on_progress(i + 1, documents.len());
            if yield_now(cancel).await.is_err() {
                return Ok(Outcome::Cancelled);
            }
            paused = now_seconds();
        }
    }
    Ok(Outcome::Done(vocabulary))
}

/// Where a generation run is.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerationProgress {
    /// 0-based index of the question being answered.
    pub question: usize,
    pub questions: usize,
    pub tokens: usize,
    pub tokens_per_second: f64,
}

/// Answers `questions` through core's [`answer_questions`] (what `tinyeval
/// leaner-eval` calls), giving the page its event loop back after every token.
/// `on_piece(i, text)` gets each settled piece of question `i`'s response,
/// `on_done(i, response)` the finished response with its metrics.
pub async fn generate_responses(
    model: &LanguageModel,
    questions: &[Question],
    config: &GenerationConfig,
    vocabulary: &Vocabulary,
    cancel: &Cell<bool>,
    on_progress: impl Fn(GenerationProgress),
    on_piece: impl Fn(usize, &str),
    on_done: impl Fn(usize, Response),
) -> Result<Outcome<Vec<ScoredResponse>>, String> {
    let started = now_seconds();
    let result = answer_questions(model, questions, config, vocabulary, |p| {
        let question = match p.event {
            AnswerEvent::Started { question } => question,
            AnswerEvent::Token { question, text } => {
                if !text.is_empty() {
                    on_piece(question, text);
                }
                question
            }
            AnswerEvent::Answered { question, response } => {
                on_done(question, response.clone());
                question
            }
        };
        let tokens_per_second = p.tokens as f64 / (now_seconds() - started).max(1e-9);
        on_progress(GenerationProgress { question, questions: p.questions, tokens: p.tokens, tokens_per_second });
        yield_now(cancel)
    })
    .await;
    match result {
        Ok(rows) => Ok(Outcome::Done(rows)),
        Err(Error::Cancelled) => Ok(Outcome::Cancelled),
        Err(e) => Err(e.to_string()),
    }
}

/// An OpenAI-compatible chat endpoint used as a judge.
#[derive(Clone, Debug, PartialEq)]
pub struct JudgeEndpoint {
    /// The base URL (`…/v1`); requests go to `{base}/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// Sent as a Bearer token when not empty.
    pub key: String,
}

/// TinyHelen's judge prompt, from `{base}/prompts/…` ([`judge::TINYHELEN_PROMPT_PATH`]).
pub async fn fetch_judge_prompt(base: &str) -> Result<String, String> {
    let url = format!("{}/{}", base.trim().trim_end_matches('/'), judge::TINYHELEN_PROMPT_PATH);
    let bytes = fetch_bytes(&url).await?;
    let template = String::from_utf8(bytes).map_err(|e| format!("{url}: not UTF-8 ({e})"))?;
    judge::judge_prompt(&template, "", "").map_err(|e| format!("{url}: {e}"))?;
    Ok(template)
}

/// The judge's scores of one response, or what went wrong (the endpoint's own
/// message when it sent one).
pub async fn judge_response(endpoint: &JudgeEndpoint, template: &str, question: &str, response: &str) -> Result<JudgeScores, String> {
    let url = judge::chat_completions_url(endpoint.base_url.trim());
    let prompt = judge::judge_prompt(template, question, response).map_err(|e| e.to_string())?;
    let body = judge::chat_request(endpoint.model.trim(), &prompt, None).to_string();
    let (status, reply) = post_json(&url, &body, endpoint.key.trim()).await?;
    if !(200..300).contains(&status) {
        // The endpoint's own message when the reply carries one (core's error reads "judge: …").
        let detail = match judge::parse_chat_response(&reply) {
            Err(e) => e.to_string().trim_start_matches("judge: ").to_string(),
            Ok(_) => reply.chars().take(200).collect(),
        };
        return Err(format!("judge: POST {url}: HTTP {status}: {detail}"));
    }
    judge::parse_chat_response(&reply)
        .and_then(|content| judge::parse_judge_scores(&content))
        .map_err(|e| e.to_string())
}

/// The run as Compare shows it and a permalink carries it: every metric's
/// mean (task `leaner_eval`), with the sampling settings.
pub fn run_summary(model: &str, backend: &str, settings: &RunSettings, rows: &[ScoredResponse]) -> RunSummary {
    let g = &settings.generation;
    let metrics = leaner_eval::aggregates(rows)
        .into_iter()
        .map(|(metric, a)| MetricSummary { task: "leaner_eval".into(), metric, value: a.mean, stderr: a.stderr })
        .collect();
    RunSummary {
        label: format!("{model} · leaner_eval"),
        model: model.to_string(),
        backend: backend.to_string(),
        settings: Some(Settings {
            num_fewshot: Some(0),
            limit: settings.limit,
            batch_size: 1,
            seed: i64::try_from(g.seed).unwrap_or(i64::MAX),
            generation: Some(Sampling { max_new_tokens: g.max_new_tokens, temperature: g.temperature, top_p: g.top_p }),
        }),
        metrics,
    }
}

fn number(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!(v))
}

/// One JSON object per response: the question, the response, the judge-free
/// metrics, the judge's scores (or its error) and the person's ratings.
pub fn responses_jsonl(model: &str, rows: &[ScoredResponse]) -> String {
    let mut out = String::new();
    for r in rows {
        let metrics: serde_json::Map<String, Value> =
            r.response.metrics.named().into_iter().map(|(name, v)| (name.to_string(), number(v))).collect();
        let judge = match &r.judge {
            None => Value::Null,
            Some(Ok(s)) => json!(s),
            Some(Err(e)) => json!({ "error": e }),
        };
        let row = json!({
            "model": model,
            "doc_id": r.doc_id,
            "question_id": question_id(&r.question),
            "doc": { "question": r.question.question, "source": r.question.source, "hash": r.question.hash, "line": r.question.line },
            "response": r.response.text,
            "stop_reason": r.response.stop_reason,
            "metrics": metrics,
            "judge": judge,
            "human": r.human,
        });
        out += &row.to_string();
        out.push('\n');
    }
    out
}

/// The same as a table: one row per response, a column per metric and score.
pub fn responses_csv(model: &str, rows: &[ScoredResponse]) -> String {
    // The metrics' names, in `named()`'s order (from any response's metrics).
    let metric_names: Vec<&str> =
        leaner_eval::response_metrics("", &[], &Vocabulary::default()).named().into_iter().map(|(name, _)| name).collect();
    let mut header = vec!["model", "doc_id", "question_id", "question", "response", "stop_reason"];
    header.extend(&metric_names);
    header.extend(JUDGE_COLUMNS);
    header.push("judge_error");
    header.extend(HUMAN_COLUMNS);
    let mut out = header.join(",") + "\n";
    let cell = |x: Option<f64>| x.filter(|v| v.is_finite()).map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        let mut fields = vec![
            csv_field(model),
            r.doc_id.to_string(),
            csv_field(&question_id(&r.question)),
            csv_field(&r.question.question),
            csv_field(&r.response.text),
            csv_field(&r.response.stop_reason),
        ];
        fields.extend(r.response.metrics.named().into_iter().map(|(_, v)| cell(v)));
        fields.extend(r.judge_scores().map(cell));
        fields.push(match &r.judge {
            Some(Err(e)) => csv_field(e),
            _ => String::new(),
        });
        fields.extend(r.human_scores().map(cell));
        out += &fields.join(",");
        out.push('\n');
    }
    out
}
