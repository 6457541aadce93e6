//! Leaner-Eval in the page, as `tinyeval leaner-eval` does it natively: the
//! model answers TinyHelen's instruction questions after core's
//! [`leaner_eval::prompt`], token by token (the page gets its event loop back
//! between tokens); each response gets core's judge-free metrics against the
//! Leaner vocabulary; an optional OpenAI-compatible judge scores it through the
//! browser's `fetch`; people rate responses by hand, kept in `localStorage`.
//! Exports: the CLI's results JSON layout, and the responses with their
//! metrics, judge scores and ratings as JSONL or CSV.

use std::cell::Cell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tinyeval_core::judge::{self, JudgeScores};
use tinyeval_core::leaner_eval::{self, Aggregate, Question, ResponseMetrics, Vocabulary};
use tinyeval_core::tokenizer::TextTokenizer;
use tinyeval_core::{Error, GenerationConfig, Generator, LanguageModel};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::export::{MetricSummary, RunSummary, Sampling, Settings, csv_field};
use crate::fetch::{fetch_bytes, js_error};
use crate::model_loading::LocalFile;
use crate::runs::{Outcome, now_seconds, yield_now};

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

/// One answered question.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub text: String,
    pub stop_reason: String,
    pub metrics: ResponseMetrics,
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

/// Answers `questions` one after the other. `on_piece(i, text)` gets each
/// piece of question `i`'s response as it settles, `on_done(i, response)` the
/// finished response with its metrics. Stops before the next token once
/// `cancel` is set.
pub async fn generate_responses(
    model: &LanguageModel,
    questions: &[Question],
    config: &GenerationConfig,
    vocabulary: &Vocabulary,
    cancel: &Cell<bool>,
    on_progress: impl Fn(GenerationProgress),
    on_piece: impl Fn(usize, &str),
    on_done: impl Fn(usize, Response),
) -> Result<Outcome<()>, String> {
    let started = now_seconds();
    let mut tokens = 0;
    let progress = |question: usize, tokens: usize| GenerationProgress {
        question,
        questions: questions.len(),
        tokens,
        tokens_per_second: tokens as f64 / (now_seconds() - started).max(1e-9),
    };
    for (i, q) in questions.iter().enumerate() {
        let prompt = leaner_eval::prompt(&q.question);
        let mut generator = Generator::new(model, &prompt, config).map_err(|e| format!("question {}: {e}", q.line))?;
        on_progress(progress(i, tokens));
        loop {
            if yield_now(cancel).await.is_err() {
                return Ok(Outcome::Cancelled);
            }
            match generator.next_token().await {
                Ok(Some(token)) => {
                    tokens += 1;
                    if !token.text.is_empty() {
                        on_piece(i, &token.text);
                    }
                    on_progress(progress(i, tokens));
                }
                Ok(None) => break,
                Err(Error::Cancelled) => return Ok(Outcome::Cancelled),
                Err(e) => return Err(format!("question {}: {e}", q.line)),
            }
        }
        let generation = generator.finish();
        // As the CLI: the metrics count the tokens of the response's text (cut before the stop string).
        let ids = model.tokenizer.encode_plain(&generation.text, false).map_err(|e| e.to_string())?;
        let metrics = leaner_eval::response_metrics(&generation.text, &ids, vocabulary);
        on_done(i, Response { text: generation.text, stop_reason: generation.stop_reason.to_string(), metrics });
    }
    Ok(Outcome::Done(()))
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

/// POSTs a JSON body; the HTTP status and the reply's text.
async fn post_json(url: &str, body: &str, key: &str) -> Result<(u16, String), String> {
    let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
    headers.set("Content-Type", "application/json").map_err(|e| js_error(&e))?;
    if !key.is_empty() {
        headers.set("Authorization", &format!("Bearer {key}")).map_err(|e| format!("the key cannot be sent as a header ({})", js_error(&e)))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| {
            format!(
                "judge: POST {url}: request failed ({}); is the endpoint running, and does it allow requests from this page (CORS)?",
                js_error(&e)
            )
        })?
        .dyn_into()
        .map_err(|_| format!("POST {url}: not an HTTP response"))?;
    let text = JsFuture::from(response.text().map_err(|e| js_error(&e))?)
        .await
        .map_err(|e| format!("POST {url}: cannot read the reply ({})", js_error(&e)))?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
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

/// A person's 0–5 scores of one response (`None` = not rated yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanRating {
    pub grammar: Option<u8>,
    pub coherence: Option<u8>,
    pub specificity: Option<u8>,
}

/// The three criteria, TinyHelen's, in the judge's order.
pub const CRITERIA: [&str; 3] = ["grammar", "coherence", "specificity"];

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
}

/// A question's id: its `hash` when the file has one, else its line.
pub fn question_id(q: &Question) -> String {
    q.hash.clone().unwrap_or_else(|| format!("line-{}", q.line))
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The `localStorage` key of a rating: per model and question, so that a
/// reload (or another run of the same model) finds it again.
fn rating_key(model: &str, question: &Question) -> String {
    format!("tinyeval.leaner-eval.rating\u{1f}{model}\u{1f}{}", question_id(question))
}

pub fn stored_rating(model: &str, question: &Question) -> HumanRating {
    local_storage()
        .and_then(|s| s.get_item(&rating_key(model, question)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Keeps a rating on this device (an empty one is removed).
pub fn store_rating(model: &str, question: &Question, rating: &HumanRating) -> Result<(), String> {
    let storage = local_storage().ok_or("this browser keeps no localStorage; ratings last until the page is closed")?;
    let key = rating_key(model, question);
    let stored = if rating.is_empty() {
        storage.remove_item(&key)
    } else {
        storage.set_item(&key, &serde_json::to_string(rating).map_err(|e| e.to_string())?)
    };
    stored.map_err(|e| format!("the rating could not be kept on this device ({})", js_error(&e)))
}

/// Where the judge's key is kept when the user asks for it to be remembered.
const KEY_STORAGE: &str = "tinyeval.leaner-eval.judge-key";

/// The judge's key remembered on this device, if any.
pub fn remembered_key() -> Option<String> {
    local_storage()?.get_item(KEY_STORAGE).ok().flatten()
}

/// Remembers the key on this device (`Some`), or forgets it (`None`).
pub fn remember_key(key: Option<&str>) -> Result<(), String> {
    let storage = local_storage().ok_or("this browser keeps no localStorage")?;
    match key {
        Some(k) => storage.set_item(KEY_STORAGE, k),
        None => storage.remove_item(KEY_STORAGE),
    }
    .map_err(|e| js_error(&e))
}

/// One row of the exports: a question with its response and every score it has.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredResponse {
    pub doc_id: usize,
    pub question: Question,
    pub response: Response,
    pub judge: Option<Result<JudgeScores, String>>,
    pub human: HumanRating,
}

const JUDGE_COLUMNS: [&str; 3] = ["judge_grammar", "judge_coherence", "judge_specificity"];
const HUMAN_COLUMNS: [&str; 3] = ["human_grammar", "human_coherence", "human_specificity"];

fn judge_triple(judge: &Option<Result<JudgeScores, String>>) -> [Option<f64>; 3] {
    match judge {
        Some(Ok(s)) => [Some(s.grammar), Some(s.coherence), Some(s.specificity)],
        _ => [None; 3],
    }
}

fn human_triple(h: &HumanRating) -> [Option<f64>; 3] {
    CRITERIA.map(|c| h.get(c).map(f64::from))
}

/// Every metric's per-response values: the judge-free ones, the judge's when
/// any response was judged, the people's when any was rated.
fn columns(rows: &[ScoredResponse]) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut columns: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let judged = rows.iter().any(|r| r.judge.is_some());
    let rated = rows.iter().any(|r| !r.human.is_empty());
    for r in rows {
        for (name, value) in r.response.metrics.named() {
            columns.entry(name.to_string()).or_default().push(value);
        }
        if judged {
            for (name, value) in JUDGE_COLUMNS.into_iter().zip(judge_triple(&r.judge)) {
                columns.entry(name.to_string()).or_default().push(value);
            }
        }
        if rated {
            for (name, value) in HUMAN_COLUMNS.into_iter().zip(human_triple(&r.human)) {
                columns.entry(name.to_string()).or_default().push(value);
            }
        }
    }
    columns
}

/// The means (with standard errors) of every metric over the responses.
pub fn aggregates(rows: &[ScoredResponse]) -> BTreeMap<String, Aggregate> {
    leaner_eval::aggregate(&columns(rows))
}

/// Whether a higher value of the metric is better (as the CLI records it):
/// longer or more repetitive is not; the scores, distinctness and Leaner shares are.
pub fn higher_is_better(metric: &str) -> bool {
    !matches!(metric, "n_tokens" | "n_words" | "repetition_4")
}

/// The run as Compare shows it and a permalink carries it: every metric's
/// mean (task `leaner_eval`), with the sampling settings.
pub fn run_summary(model: &str, backend: &str, settings: &RunSettings, rows: &[ScoredResponse]) -> RunSummary {
    let g = &settings.generation;
    let metrics = aggregates(rows)
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

/// What a results file records about the run besides the numbers.
pub struct RunRecord<'a> {
    pub model: &'a str,
    pub backend: &'a str,
    pub questions: &'a str,
    pub vocabulary: &'a str,
    pub settings: &'a RunSettings,
    pub judge: Option<&'a JudgeEndpoint>,
}

/// The CLI's `results.json` layout (lm-eval-harness's: `results` →
/// `leaner_eval` → `"distinct_1,none"`, `"distinct_1_stderr,none"`, …).
pub fn results_json(rows: &[ScoredResponse], run: &RunRecord) -> Value {
    let aggregates = aggregates(rows);
    let mut results = serde_json::Map::new();
    results.insert("alias".into(), json!("leaner_eval"));
    let mut higher = serde_json::Map::new();
    for (name, a) in &aggregates {
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
            "prompt": leaner_eval::prompt("{question}"),
            "generation_kwargs": run.settings.generation,
            "limit": run.settings.limit,
            "vocabulary": { "source": run.vocabulary },
            "judge": run.judge.map(|j| json!({ "url": judge::chat_completions_url(j.base_url.trim()), "model": j.model, "failures": failures })),
        } },
        "config": { "model": "tinyeval", "model_args": run.model, "device": run.backend },
        "model_name": run.model,
    })
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
        fields.extend(judge_triple(&r.judge).map(cell));
        fields.push(match &r.judge {
            Some(Err(e)) => csv_field(e),
            _ => String::new(),
        });
        fields.extend(human_triple(&r.human).map(cell));
        out += &fields.join(",");
        out.push('\n');
    }
    out
}
