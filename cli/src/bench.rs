//! `tinyeval bench`: scoring throughput of one model on one backend.
//!
//! Times `score_batch` on [`tinyeval_core::benchmark::requests`]: `batch_size`
//! seeded sequences of `seq_len` token ids, the same ids `scripts/bench.py`
//! gives PyTorch and the page's `?bench` mode scores in the browser.
//! `warmup` untimed runs (default 1), then `repeats` timed runs; prints one JSON object.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;
use tinyeval_core::benchmark;
use tinyeval_core::scoring::score_batch;

use crate::{Backend, device};

#[derive(Args)]
pub struct BenchArgs {
    /// A Hugging Face model folder (config.json, *.safetensors, tokenizer.json) or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Sequences per forward pass.
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = 8)]
    batch_size: usize,
    /// Tokens per sequence (the first `seq_len - 1` are the model's input, the last `seq_len - 1` are scored).
    #[arg(long = "seq_len", alias = "seq-len", default_value_t = 256)]
    seq_len: usize,
    /// Timed runs after the warm-up.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Untimed runs first (0 times the first run, with its one-off costs such as shader compilation).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Seed of the token ids.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: BenchArgs) -> Result<()> {
    if args.seq_len < 2 || args.batch_size == 0 || args.repeats == 0 {
        bail!("need --seq_len >= 2, --batch_size >= 1 and --repeats >= 1");
    }
    let started = Instant::now();
    let device = device(args.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let load_s = started.elapsed().as_secs_f64();
    let config = &model.config;
    if args.seq_len - 1 > config.max_positions {
        bail!("--seq_len {} needs a context of {} but the model's is {}", args.seq_len, args.seq_len - 1, config.max_positions);
    }
    let requests = benchmark::requests(args.seed, args.batch_size, args.seq_len, config.vocab_size);

    let timed = || -> Result<(f64, Vec<tinyeval_core::scoring::TokenScores>)> {
        let t = Instant::now();
        let scores = pollster::block_on(score_batch(&model.decoder, &requests))?;
        Ok((t.elapsed().as_secs_f64(), scores))
    };
    let mut warmup_s = Vec::with_capacity(args.warmup);
    let mut scores = Vec::new();
    for _ in 0..args.warmup {
        let (t, s) = timed()?;
        warmup_s.push(t);
        scores = s;
    }
    let mut times = Vec::with_capacity(args.repeats);
    for _ in 0..args.repeats {
        let (t, s) = timed()?;
        times.push(t);
        scores = s;
    }
    let mut out = benchmark::report(args.batch_size, args.seq_len, &warmup_s, &times, &scores);
    out.as_object_mut().expect("an object").extend([
        ("model".to_string(), json!(model.name)),
        ("architecture".to_string(), json!(format!("{:?}", config.architecture))),
        (
            "backend".to_string(),
            json!(match args.backend {
                Backend::Cpu => "cpu",
                Backend::Wgpu => "wgpu",
                #[cfg(feature = "ndarray")]
                Backend::Ndarray => "ndarray",
            }),
        ),
        // The CPU backend's threads (rayon's pool: RAYON_NUM_THREADS, else every core).
        (
            "threads".to_string(),
            json!(std::env::var("RAYON_NUM_THREADS").ok().and_then(|n| n.parse::<usize>().ok()).filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))),
        ),
        ("seed".to_string(), json!(args.seed)),
        ("load_s".to_string(), json!(load_s)),
    ]);
    println!("{out}");
    Ok(())
}
