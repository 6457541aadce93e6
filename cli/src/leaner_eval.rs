//! `tinyeval leaner-eval`: the model answers Leaner-Eval's questions after
//! TinyHelen's prompt; each response gets the judge-free metrics of
//! `tinyeval_core::leaner_eval` and, with `--judge_url`, an LLM judge's 0–5
//! scores for grammar, coherence and specificity (`tinyeval_core::judge`;
//! this file only does the HTTP).
//!
//! Writes `DIR/results.json` (lm-eval-harness's layout: `results` →
//! `leaner_eval` → `"distinct_1,none"`, `"distinct_1_stderr,none"`, …) and
//! `DIR/samples_leaner_eval.jsonl` (per question: `doc_id`, `doc`,
//! `arguments`, `resps`, `filtered_resps`, the metrics, the judge's scores).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::Value;
use tinyeval_core::GenerationConfig;
use tinyeval_core::judge::{self, JudgeScores};
use tinyeval_core::leaner_eval::{self, AnswerEvent, LeanerEvalRecord, Vocabulary};

use crate::locations::tinyhelen_dir;
use crate::{Backend, SamplingArgs, device};

#[derive(Args)]
pub struct LeanerEvalArgs {
    /// A Hugging Face model folder or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// The TinyHelen folder [default: $TINYHELEN_DIR, else ../shared/data/tinyhelen beside the repository].
    #[arg(long = "tinyhelen_dir", alias = "tinyhelen-dir")]
    tinyhelen_dir: Option<PathBuf>,
    /// Questions (JSONL with `question`) [default: data/leaner/eval/all.jsonl of the TinyHelen folder;
    /// its similarity splits are data/leaner/eval/split-*.jsonl].
    #[arg(long)]
    split: Option<PathBuf>,
    /// Only the first N questions.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long = "max_new_tokens", alias = "max-new-tokens", default_value_t = leaner_eval::DEFAULT_MAX_NEW_TOKENS)]
    max_new_tokens: usize,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// Stop strings (the response is cut before them) [default: "\n###", the next section header].
    #[arg(long)]
    stop: Vec<String>,
    /// Base URL of an OpenAI-compatible endpoint (POST {URL}/chat/completions), e.g. http://127.0.0.1:8080/v1.
    #[arg(long = "judge_url", alias = "judge-url")]
    judge_url: Option<String>,
    /// The judge's model name, as the endpoint knows it.
    #[arg(long = "judge_model", alias = "judge-model")]
    judge_model: Option<String>,
    /// Name of the environment variable holding the endpoint's API key (sent as a Bearer token).
    #[arg(long = "judge_key_env", alias = "judge-key-env")]
    judge_key_env: Option<String>,
    /// The judge prompt [default: TinyHelen's prompts/simplification/eval/instruction_following_generation_comparison.txt].
    #[arg(long = "judge_prompt", alias = "judge-prompt")]
    judge_prompt: Option<PathBuf>,
    #[arg(long = "judge_max_tokens", alias = "judge-max-tokens")]
    judge_max_tokens: Option<u32>,
    /// Folder for results.json and samples_leaner_eval.jsonl (created if missing).
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
}

/// An OpenAI-compatible chat endpoint used as a judge.
pub struct Judge {
    url: String,
    model: String,
    key: Option<String>,
    template: String,
    max_tokens: Option<u32>,
    agent: ureq::Agent,
}

impl Judge {
    fn from_args(args: &LeanerEvalArgs, tinyhelen: &Path) -> Result<Option<Self>> {
        let Some(base) = &args.judge_url else {
            if args.judge_model.is_some() || args.judge_key_env.is_some() {
                bail!("--judge_model and --judge_key_env need --judge_url");
            }
            return Ok(None);
        };
        let model = args.judge_model.clone().ok_or_else(|| anyhow!("--judge_url needs --judge_model"))?;
        let key = match &args.judge_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| anyhow!("--judge_key_env: the environment variable {var} is not set"))?),
            None => None,
        };
        let prompt_path = args.judge_prompt.clone().unwrap_or_else(|| tinyhelen.join(judge::TINYHELEN_PROMPT_PATH));
        let template = tinyeval_core::files::read_data_text(&prompt_path)
            .with_context(|| format!("{}: cannot read the judge prompt (give one with --judge_prompt)", prompt_path.display()))?;
        judge::judge_prompt(&template, "", "").map_err(|e| anyhow!("{}: {e}", prompt_path.display()))?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(300)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Some(Self { url: judge::chat_completions_url(base), model, key, template, max_tokens: args.judge_max_tokens, agent }))
    }

    /// POSTs one request. Transport failures and HTTP errors are errors (the
    /// endpoint is unusable: stop); the reply's text is returned as it is.
    fn post(&self, body: &Value) -> Result<String> {
        let mut request = self.agent.post(&self.url).header("Content-Type", "application/json");
        if let Some(key) = &self.key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let mut response = request
            .send(serde_json::to_vec(body)?.as_slice())
            .map_err(|e| anyhow!("judge: POST {}: {e}", self.url))?;
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| anyhow!("judge: POST {}: cannot read the reply: {e}", self.url))?;
        if !status.is_success() {
            let detail = match judge::parse_chat_response(&text) {
                Err(e) => e.to_string(),
                Ok(_) => text.chars().take(200).collect(),
            };
            bail!("judge: POST {}: HTTP {status}: {detail}", self.url);
        }
        Ok(text)
    }

    /// The scores of one response, or why the reply could not be read.
    fn score(&self, question: &str, response: &str) -> Result<Result<JudgeScores, String>> {
        let prompt = judge::judge_prompt(&self.template, question, response)?;
        let body = judge::chat_request(&self.model, &prompt, self.max_tokens);
        let reply = self.post(&body)?;
        Ok(judge::parse_chat_response(&reply)
            .and_then(|content| judge::parse_judge_scores(&content))
            .map_err(|e| e.to_string()))
    }
}

pub fn run(args: LeanerEvalArgs) -> Result<()> {
    let tinyhelen = tinyhelen_dir(args.tinyhelen_dir.as_deref());
    let judge = Judge::from_args(&args, &tinyhelen)?;
    let stop = if args.stop.is_empty() { vec![leaner_eval::DEFAULT_STOP.to_string()] } else { args.stop.clone() };
    let job = LeanerEvalJob {
        model: args.model,
        split: args.split,
        limit: args.limit,
        generation: args.sampling.config(args.max_new_tokens, stop),
        judge,
        backend: args.backend,
        output: args.output_path,
    };
    leaner_eval_run(job, &tinyhelen)
}

/// One Leaner-Eval run, as `tinyeval leaner-eval` and `tinyeval run --tasks leaner_eval` make it.
pub struct LeanerEvalJob {
    pub model: PathBuf,
    /// The questions file [default: the TinyHelen folder's data/leaner/eval/all.jsonl].
    pub split: Option<PathBuf>,
    pub limit: Option<usize>,
    pub generation: GenerationConfig,
    pub judge: Option<Judge>,
    pub backend: Backend,
    /// The folder for results.json and samples_leaner_eval.jsonl.
    pub output: PathBuf,
}

/// Runs core's Leaner-Eval on `job` and writes its files.
pub fn leaner_eval_run(job: LeanerEvalJob, tinyhelen: &Path) -> Result<()> {
    let LeanerEvalJob { model: model_path, split, limit, generation: config, judge, backend, output } = job;
    let split = split.unwrap_or_else(|| tinyhelen.join("data/leaner/eval/all.jsonl"));
    let bytes = tinyeval_core::files::read_data_file(&split).context("cannot read the questions")?;
    let mut questions = leaner_eval::parse_questions(&split.display().to_string(), &bytes)?;
    questions.truncate(limit.unwrap_or(usize::MAX));
    config.validate()?;

    let device = device(backend)?;
    let model = crate::load_model(&model_path, &device)?;
    let train = tinyhelen.join("data/leaner/10M/train");
    let vocabulary = Vocabulary::from_dir(&train, Some(&model.tokenizer))
        .with_context(|| "the Leaner vocabulary comes from the Leaner-Pretrain train files (give the TinyHelen folder with --tinyhelen_dir)")?;
    std::fs::create_dir_all(&output).with_context(|| format!("{}: cannot create", output.display()))?;

    let total = questions.len();
    let mut rows = pollster::block_on(leaner_eval::answer_questions(&model, &questions, &config, &vocabulary, |p| {
        if let AnswerEvent::Started { question } = p.event {
            eprint!("\r[leaner-eval] {}/{total}", question + 1);
        }
        std::future::ready(Ok(()))
    }))?;
    eprintln!();
    if let Some(judge) = &judge {
        for (i, row) in rows.iter_mut().enumerate() {
            eprint!("\r[leaner-eval] judging {}/{total}", i + 1);
            let scores = judge.score(&row.question.question, &row.response.text)?;
            if let Err(e) = &scores {
                eprintln!("\n[leaner-eval] {}:{}: {e}", split.display(), row.question.line);
            }
            row.judge = Some(scores);
        }
        eprintln!();
    }

    let samples_path = output.join("samples_leaner_eval.jsonl");
    let mut samples = std::io::BufWriter::new(
        std::fs::File::create(&samples_path).with_context(|| format!("{}: cannot create", samples_path.display()))?,
    );
    for row in &rows {
        serde_json::to_writer(&mut samples, &leaner_eval::sample_line(row, &config))?;
        samples.write_all(b"\n")?;
    }
    samples.flush()?;

    let record = LeanerEvalRecord {
        model: model_path.display().to_string(),
        device: backend.name().to_string(),
        questions: split.display().to_string(),
        limit,
        generation: config.clone(),
        vocabulary_source: train.display().to_string(),
        vocabulary_words: vocabulary.words.len(),
        vocabulary_token_ids: vocabulary.tokens.len(),
        judge: judge.as_ref().map(|j| (j.url.clone(), j.model.clone())),
    };
    let mut err = std::io::stderr().lock();
    writeln!(err, "{:<20} {:>10} {:>10} {:>6}", "metric", "mean", "stderr", "n")?;
    for (name, a) in leaner_eval::aggregates(&rows) {
        let stderr = a.stderr.map_or("-".to_string(), |s| format!("{s:.4}"));
        writeln!(err, "{name:<20} {:>10.4} {stderr:>10} {:>6}", a.mean, a.n)?;
    }
    let results_path = output.join("results.json");
    let output = leaner_eval::results_json(&rows, &record);
    std::fs::write(&results_path, serde_json::to_string_pretty(&output)? + "\n")
        .with_context(|| format!("{}: cannot write", results_path.display()))?;
    writeln!(err, "[wrote {} and {}]", results_path.display(), samples_path.display())?;
    Ok(())
}
