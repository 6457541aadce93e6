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

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};
use tinyeval_core::judge::{self, JudgeScores};
use tinyeval_core::leaner_eval::{self, Vocabulary};
use tinyeval_core::generate;

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
    #[arg(long = "max_new_tokens", alias = "max-new-tokens", default_value_t = 128)]
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

/// The TinyHelen folder: the option, else `$TINYHELEN_DIR`, else
/// `../shared/data/tinyhelen` beside the repository (as `run` resolves `{tinyhelen}`).
pub fn tinyhelen_dir(option: Option<&Path>) -> PathBuf {
    option.map(Path::to_path_buf).unwrap_or_else(crate::run::default_tinyhelen_dir)
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

fn metric_value(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!(v))
}

pub fn run(args: LeanerEvalArgs) -> Result<()> {
    let tinyhelen = tinyhelen_dir(args.tinyhelen_dir.as_deref());
    let split = args.split.clone().unwrap_or_else(|| tinyhelen.join("data/leaner/eval/all.jsonl"));
    let bytes = tinyeval_core::files::read_data_file(&split).context("cannot read the questions")?;
    let mut questions = leaner_eval::parse_questions(&split.display().to_string(), &bytes)?;
    questions.truncate(args.limit.unwrap_or(usize::MAX));
    let judge = Judge::from_args(&args, &tinyhelen)?;
    let stop = if args.stop.is_empty() { vec![leaner_eval::DEFAULT_STOP.to_string()] } else { args.stop.clone() };
    let config = args.sampling.config(args.max_new_tokens, stop);
    config.validate()?;

    let device = device(args.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let train = tinyhelen.join("data/leaner/10M/train");
    let vocabulary = Vocabulary::from_dir(&train, Some(&model.tokenizer))
        .with_context(|| "the Leaner vocabulary comes from the Leaner-Pretrain train files (give the TinyHelen folder with --tinyhelen_dir)")?;

    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let samples_path = args.output_path.join("samples_leaner_eval.jsonl");
    let mut samples = std::io::BufWriter::new(
        std::fs::File::create(&samples_path).with_context(|| format!("{}: cannot create", samples_path.display()))?,
    );
    let mut columns: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let mut judge_failures = 0usize;
    let total = questions.len();
    for (doc_id, q) in questions.iter().enumerate() {
        eprint!("\r[leaner-eval] {}/{total}", doc_id + 1);
        let prompt = leaner_eval::prompt(&q.question);
        let generation = pollster::block_on(generate(&model, &prompt, &config, |_| {}))?;
        let tokens = model.tokenizer.encode_plain(&generation.text, false)?;
        let metrics = leaner_eval::response_metrics(&generation.text, &tokens, &vocabulary);
        let mut per_sample = serde_json::Map::new();
        for (name, value) in metrics.named() {
            columns.entry(name.to_string()).or_default().push(value);
            per_sample.insert(name.to_string(), metric_value(value));
        }
        let mut judged = Value::Null;
        if let Some(judge) = &judge {
            let scores = judge.score(&q.question, &generation.text)?;
            let triple = match &scores {
                Ok(s) => [Some(s.grammar), Some(s.coherence), Some(s.specificity)],
                Err(_) => [None; 3],
            };
            for (name, value) in ["judge_grammar", "judge_coherence", "judge_specificity"].into_iter().zip(triple) {
                columns.entry(name.to_string()).or_default().push(value);
                per_sample.insert(name.to_string(), metric_value(value));
            }
            judged = match scores {
                Ok(s) => serde_json::to_value(s)?,
                Err(e) => {
                    judge_failures += 1;
                    eprintln!("\n[leaner-eval] {}:{}: {e}", split.display(), q.line);
                    json!({ "error": e })
                }
            };
        }
        let row = json!({
            "doc_id": doc_id,
            "doc": { "question": q.question, "source": q.source, "hash": q.hash, "line": q.line },
            "target": "",
            "arguments": [[prompt, serde_json::to_value(&config)?]],
            "resps": [[generation.text]],
            "filtered_resps": [generation.text],
            "stop_reason": generation.stop_reason.to_string(),
            "metrics": per_sample,
            "judge": judged,
        });
        serde_json::to_writer(&mut samples, &row)?;
        samples.write_all(b"\n")?;
    }
    eprintln!();
    samples.flush()?;

    let aggregates = leaner_eval::aggregate(&columns);
    let mut results = serde_json::Map::new();
    results.insert("alias".into(), json!("leaner_eval"));
    let mut higher = serde_json::Map::new();
    let mut err = std::io::stderr().lock();
    writeln!(err, "{:<20} {:>10} {:>10} {:>6}", "metric", "mean", "stderr", "n")?;
    for (name, a) in &aggregates {
        results.insert(format!("{name},none"), json!(a.mean));
        results.insert(format!("{name}_stderr,none"), a.stderr.map_or(json!("N/A"), |s| json!(s)));
        // Longer or more repetitive is not better; the judge's scores, distinctness and Leaner shares are.
        let hib = !matches!(name.as_str(), "n_tokens" | "n_words" | "repetition_4");
        higher.insert(name.clone(), json!(hib));
        let stderr = a.stderr.map_or("-".to_string(), |s| format!("{s:.4}"));
        writeln!(err, "{name:<20} {:>10.4} {stderr:>10} {:>6}", a.mean, a.n)?;
    }
    let output = json!({
        "results": { "leaner_eval": results },
        "n-shot": { "leaner_eval": 0 },
        "versions": { "leaner_eval": 1 },
        "higher_is_better": { "leaner_eval": higher },
        "n-samples": { "leaner_eval": { "original": total, "effective": total } },
        "configs": { "leaner_eval": {
            "task": "leaner_eval",
            "output_type": "generate_until",
            "data": split.display().to_string(),
            "prompt": leaner_eval::prompt("{question}"),
            "generation_kwargs": config,
            "vocabulary": { "source": train.display().to_string(), "words": vocabulary.words.len(), "token_ids": vocabulary.tokens.len() },
            "judge": judge.as_ref().map(|j| json!({ "url": j.url, "model": j.model, "failures": judge_failures })),
        } },
        "model_name": args.model.display().to_string(),
    });
    let results_path = args.output_path.join("results.json");
    std::fs::write(&results_path, serde_json::to_string_pretty(&output)? + "\n")
        .with_context(|| format!("{}: cannot write", results_path.display()))?;
    writeln!(err, "[wrote {} and {}]", results_path.display(), samples_path.display())?;
    Ok(())
}
