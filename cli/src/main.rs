//! `tinyeval`: the command-line runner over tinyeval-core.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tinyeval_core::{Device, GenerationConfig, LanguageModel, generate};

mod bench;
mod detect;
mod contamination;
mod finetune;
mod probe;
mod leaner_eval;
mod locations;
mod membership_args;
mod run;

#[derive(Parser)]
#[command(name = "tinyeval", version, about = "Evaluate tiny language models: scores, benchmarks, contamination checks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Backend {
    /// burn's pure-Rust CPU backend (flex).
    Cpu,
    /// burn's wgpu backend (Vulkan, Metal, DX12 or a software adapter).
    Wgpu,
    /// burn's ndarray CPU backend (deprecated by burn; built with `--features ndarray`, for comparison).
    #[cfg(feature = "ndarray")]
    Ndarray,
}

impl Backend {
    /// The name results files record as the `device`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
            #[cfg(feature = "ndarray")]
            Backend::Ndarray => "ndarray",
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Per-token log-probabilities of each text of a JSONL file (`{"text": ...}` per line).
    Logprobs {
        /// A Hugging Face model folder (config.json, *.safetensors, tokenizer.json) or a .gguf file.
        #[arg(long)]
        model: PathBuf,
        /// JSONL input, one `{"text": ...}` object per line.
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum, default_value = "cpu")]
        backend: Backend,
        /// Context windows per forward pass.
        #[arg(long = "batch_size", alias = "batch-size", default_value_t = 8)]
        batch_size: usize,
    },
    /// Generates text after a prompt, printing it as it comes (greedy unless --temperature > 0).
    Generate {
        /// A Hugging Face model folder (config.json, *.safetensors, tokenizer.json) or a .gguf file.
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        prompt: String,
        #[arg(long = "max_new_tokens", alias = "max-new-tokens", default_value_t = GenerationConfig::default().max_new_tokens)]
        max_new_tokens: usize,
        #[command(flatten)]
        sampling: SamplingArgs,
        /// Stop when the new text contains this (may be repeated); it is not printed.
        #[arg(long)]
        stop: Vec<String>,
        #[arg(long, value_enum, default_value = "cpu")]
        backend: Backend,
    },
    /// Lists the models bundled with the site (public/models); `--model NAME` accepts their names.
    Models,
    /// What loading a model needs in memory (its file and its weights as f32), from its config.json or GGUF header alone; prints JSON.
    Memory {
        /// A Hugging Face model folder, a .gguf file, or a bundled model's name.
        #[arg(long)]
        model: PathBuf,
    },
    /// Scoring throughput (tokens/s) of `batch_size` seeded random sequences of `seq_len` tokens; prints JSON.
    Bench(bench::BenchArgs),
    /// Evaluates a model on tasks and groups (lm-eval-harness's `run`, same flags and output files).
    Run(run::RunArgs),
    /// Writes task and group configs as lm-eval-harness YAML (data paths made absolute).
    #[command(name = "export-lm-eval")]
    ExportLmEval(run::ExportArgs),
    /// Pretraining-data detection (loss, zlib, lowercase, Min-K%, Min-K%++, reference model) on a WikiMIA-style JSONL file.
    Detect(detect::DetectArgs),
    /// 13-gram overlap (lm-eval's decontamination normalisation) between a task's items and a corpus.
    Overlap(contamination::OverlapArgs),
    /// Benchmark contamination report: detection scores of a multiple-choice task's items, most suspicious first; AUROC with a membership manifest.
    Contamination(contamination::ContaminationArgs),
    /// leaner_glue_probe: a linear probe (logistic / ridge regression) on frozen mean-pooled hidden states, with GLUE's metrics.
    Probe(probe::ProbeArgs),
    /// Leaner-Eval: answers to TinyHelen's instruction questions, judge-free metrics, and an optional LLM judge (OpenAI-compatible endpoint).
    LeanerEval(leaner_eval::LeanerEvalArgs),
    /// leaner_glue_finetune: fine-tunes the whole model with a classification (regression for STS-B) head on Leaner-GLUE tasks, a grid of learning rates × seeds chosen on validation.
    Finetune(finetune::FinetuneArgs),
}

/// How `generate` and `leaner-eval` pick each next token.
#[derive(Args, Clone, Copy)]
pub(crate) struct SamplingArgs {
    /// 0 is greedy; otherwise the logits are divided by it and a token is sampled.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Nucleus sampling: sample among the most likely tokens whose probabilities add up to this.
    #[arg(long = "top_p", alias = "top-p", default_value_t = 1.0)]
    top_p: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl SamplingArgs {
    pub(crate) fn config(self, max_new_tokens: usize, stop: Vec<String>) -> GenerationConfig {
        GenerationConfig { max_new_tokens, temperature: self.temperature, top_p: self.top_p, seed: self.seed, stop }
    }
}

pub(crate) fn device(backend: Backend) -> Result<Device> {
    Ok(match backend {
        Backend::Cpu => Device::flex(),
        Backend::Wgpu => Device::wgpu_options()
            .init()
            .map_err(|e| anyhow::anyhow!("no usable wgpu adapter: {e:?}"))?,
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        Backend::Ndarray => Device::ndarray(),
    })
}

/// Where the bundled models are: $TINYEVAL_MODELS_DIR, else the repository's public/models.
fn builtin_models_dir() -> PathBuf {
    std::env::var_os("TINYEVAL_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/models");
            dir.canonicalize().unwrap_or(dir)
        })
}

/// Loads `--model`: a model folder or .gguf path, or the name of a bundled
/// model (`tinyhelen-1m`) when no such path exists.
pub(crate) fn load_model(path: &Path, device: &Device) -> Result<LanguageModel> {
    Ok(LanguageModel::load_path(&model_path(path), device)?)
}

/// `--model`'s path: as given, or a bundled model's folder for its name.
fn model_path(path: &Path) -> PathBuf {
    let bundled = builtin_models_dir().join(path);
    if !path.exists() && path.components().count() == 1 && bundled.join("config.json").exists() {
        bundled
    } else {
        path.to_path_buf()
    }
}

/// `tinyeval memory`: core's [`MemoryNeed`](tinyeval_core::memory::MemoryNeed) as JSON.
fn print_memory_need(path: &Path) -> Result<()> {
    let need = tinyeval_core::memory::MemoryNeed::of_path(&model_path(path))?;
    let out = serde_json::json!({
        "model": path.display().to_string(),
        "file_bytes": need.file_bytes,
        "weight_bytes": need.weight_bytes,
        "total_bytes": need.total(),
        "description": need.describe(),
    });
    println!("{out}");
    Ok(())
}

fn list_builtin_models() -> Result<()> {
    let index_path = builtin_models_dir().join("index.json");
    let text = std::fs::read_to_string(&index_path).with_context(|| format!("{}: cannot read", index_path.display()))?;
    let index: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", index_path.display()))?;
    for model in index["models"].as_array().into_iter().flatten() {
        println!("{}\t{}", model["name"].as_str().unwrap_or_default(), model["description"].as_str().unwrap_or_default());
    }
    Ok(())
}

/// The JSON value of every non-blank line of a JSONL file (at most
/// `files::MAX_DATA_FILE_BYTES`), with its 1-based line number; errors name the
/// file and line.
pub(crate) fn read_jsonl(path: &Path) -> Result<Vec<(usize, serde_json::Value)>> {
    let bytes = tinyeval_core::files::read_data_file(path)?;
    let mut values = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let where_ = || format!("{}:{}", path.display(), i + 1);
        let line = std::str::from_utf8(line).map_err(|_| anyhow::anyhow!("{}: not valid UTF-8", where_()))?;
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line).map_err(|e| anyhow::anyhow!("{}: not valid JSON: {e}", where_()))?;
        values.push((i + 1, value));
    }
    Ok(values)
}

/// The `text` field of every line of a JSONL file; errors name the file and line.
fn read_texts(path: &Path) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for (line, value) in read_jsonl(path)? {
        let where_ = || format!("{}:{line}", path.display());
        match value.get("text") {
            Some(serde_json::Value::String(t)) => texts.push(t.clone()),
            Some(_) => bail!("{}: field `text` is not a string", where_()),
            None => bail!("{}: no `text` field", where_()),
        }
    }
    if texts.is_empty() {
        bail!("{}: no texts (the file is empty)", path.display());
    }
    Ok(texts)
}

/// glibc gives freed blocks above its mmap threshold back to the system, so the
/// large tensors burn's CPU backend allocates for every op were faulted in page
/// by page again (about 20% of a SmolLM2-135M scoring batch). Keep freed memory.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; no thread has started yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

fn main() -> Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    keep_freed_memory();
    match Cli::parse().command {
        Command::Logprobs { model, input, backend, batch_size } => {
            let texts = read_texts(&input)?;
            let device = device(backend)?;
            let model = crate::load_model(&model, &device)?;
            let scores = pollster::block_on(model.score_texts(&texts, batch_size))?;
            let mut out = std::io::stdout().lock();
            for s in scores {
                serde_json::to_writer(&mut out, &s)?;
                out.write_all(b"\n")?;
            }
        }
        Command::Generate { model, prompt, max_new_tokens, sampling, stop, backend } => {
            let config = sampling.config(max_new_tokens, stop);
            let device = device(backend)?;
            let model = crate::load_model(&model, &device)?;
            let mut out = std::io::stdout().lock();
            let mut written = Ok(());
            let generation = pollster::block_on(generate(&model, &prompt, &config, |piece| {
                if written.is_ok() {
                    written = out.write_all(piece.as_bytes()).and_then(|()| out.flush());
                }
            }))?;
            written?;
            writeln!(out)?;
            if generation.prompt_tokens_dropped > 0 {
                eprintln!("[the prompt's first {} tokens did not fit the context]", generation.prompt_tokens_dropped);
            }
            eprintln!("[{} new tokens; stopped: {}]", generation.tokens.len(), generation.stop_reason);
        }
        Command::Models => list_builtin_models()?,
        Command::Memory { model } => print_memory_need(&model)?,
        Command::Bench(args) => bench::run(args)?,
        Command::Detect(args) => detect::run(args)?,
        Command::Overlap(args) => contamination::overlap(args)?,
        Command::Contamination(args) => contamination::run(args)?,
        Command::Probe(args) => probe::run(args)?,
        Command::LeanerEval(args) => leaner_eval::run(args)?,
        Command::Finetune(args) => finetune::run(args)?,
        Command::Run(args) => run::run(args)?,
        Command::ExportLmEval(args) => run::export(args)?,
    }
    Ok(())
}
