//! `tinyeval`: the command-line runner over tinyeval-core.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tinyeval_core::{Device, LanguageModel, ModelFiles};

#[derive(Parser)]
#[command(name = "tinyeval", version, about = "Evaluate tiny language models: scores, benchmarks, contamination checks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// burn's pure-Rust CPU backend (flex).
    Cpu,
    /// burn's wgpu backend (Vulkan, Metal, DX12 or a software adapter).
    Wgpu,
}

#[derive(Subcommand)]
enum Command {
    /// Per-token log-probabilities of each text of a JSONL file (`{"text": ...}` per line).
    Logprobs {
        /// A Hugging Face model folder (config.json, *.safetensors, tokenizer.json).
        #[arg(long)]
        model: PathBuf,
        /// JSONL input, one `{"text": ...}` object per line.
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum, default_value = "cpu")]
        backend: Backend,
        /// Context windows per forward pass.
        #[arg(long, default_value_t = 8)]
        batch_size: usize,
    },
}

fn device(backend: Backend) -> Result<Device> {
    Ok(match backend {
        Backend::Cpu => Device::flex(),
        Backend::Wgpu => Device::wgpu_options()
            .init()
            .map_err(|e| anyhow::anyhow!("no usable wgpu adapter: {e:?}"))?,
    })
}

/// The `text` field of every line of a JSONL file; errors name the file and line.
fn read_texts(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut texts = Vec::new();
    for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line.with_context(|| format!("{}: cannot read", path.display()))?;
        let where_ = || format!("{}:{}", path.display(), i + 1);
        let line = String::from_utf8(line).map_err(|_| anyhow::anyhow!("{}: not valid UTF-8", where_()))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("{}: not valid JSON: {e}", where_()))?;
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

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Logprobs { model, input, backend, batch_size } => {
            let texts = read_texts(&input)?;
            let device = device(backend)?;
            let model = LanguageModel::load(ModelFiles::from_dir(&model)?, &device)?;
            let scores = pollster::block_on(model.score_texts(&texts, batch_size))?;
            let mut out = std::io::stdout().lock();
            for s in scores {
                serde_json::to_writer(&mut out, &s)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}
