//! `tinyeval finetune` (`leaner_glue_finetune`): Leaner-GLUE as TinyHelen
//! measures it, by fine-tuning the whole model with a classification (or, for
//! STS-B, regression) head on each task, over a small grid of learning rates ×
//! seeds; the configuration with the best validation score is reported on
//! validation and test (see `tinyeval_core::finetune` for the protocol, which
//! `scripts/make_finetune_goldens.py` replays in PyTorch).
//!
//! Writes into `--output_path`: `results.json` in lm-eval-harness's layout
//! (`results` → `leaner_glue_finetune_{task}` → `"{metric},{split}"`,
//! `"{metric}_stderr,{split}"`, `"{metric}_ci95,{split}"`; `configs` → the
//! protocol and every grid point's scores), `losses.jsonl` (one line per
//! optimiser step of every grid point: task, learning_rate, seed, step, epoch,
//! loss, lr) and `predictions.jsonl` (the chosen configuration's prediction
//! for every evaluated item: task, split, idx, label, prediction).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use tinyeval_core::finetune::{FinetuneOptions, FinetuneRun, finetune_results_json, run_finetune};
use tinyeval_core::probe::{MetricEstimate, ProbeTask, probe_task};

use crate::probe::read_glue_splits;
use crate::{Backend, device};

/// The tasks Leaner-GLUE has train files for.
pub const DEFAULT_TASKS: &[&str] = &["cola", "mrpc", "rte", "stsb", "wnli"];

#[derive(Args)]
pub struct FinetuneArgs {
    #[arg(long)]
    model: PathBuf,
    /// Comma-separated among cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli [default: cola,mrpc,rte,stsb,wnli,
    /// the tasks with a train split; the others train on validation and report test].
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// The TinyHelen folder [default: $TINYHELEN_DIR, else ../shared/data/tinyhelen beside the repository].
    #[arg(long = "tinyhelen_dir", alias = "tinyhelen-dir")]
    tinyhelen_dir: Option<PathBuf>,
    /// The grid's learning rates (peak, after warm-up).
    #[arg(long = "learning_rates", alias = "learning-rates", value_delimiter = ',', default_values_t = FinetuneOptions::default().learning_rates)]
    learning_rates: Vec<f64>,
    /// The grid's seeds (head initialisation and shuffling).
    #[arg(long, value_delimiter = ',', default_values_t = FinetuneOptions::default().seeds)]
    seeds: Vec<u64>,
    #[arg(long, default_value_t = FinetuneOptions::default().epochs)]
    epochs: usize,
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = FinetuneOptions::default().batch_size)]
    batch_size: usize,
    /// Tokens kept of each text (its first ones).
    #[arg(long = "max_length", alias = "max-length", default_value_t = FinetuneOptions::default().max_length)]
    max_length: usize,
    #[arg(long = "weight_decay", alias = "weight-decay", default_value_t = FinetuneOptions::default().weight_decay)]
    weight_decay: f64,
    /// Warm-up steps as a fraction of all steps (rounded up).
    #[arg(long = "warmup_ratio", alias = "warmup-ratio", default_value_t = FinetuneOptions::default().warmup_ratio)]
    warmup_ratio: f64,
    #[arg(long = "max_grad_norm", alias = "max-grad-norm", default_value_t = FinetuneOptions::default().max_grad_norm)]
    max_grad_norm: f64,
    /// Only N items of every split, evenly spaced (every k-th, k = len / N).
    #[arg(long)]
    limit: Option<usize>,
    /// Bootstrap resamples for each metric's standard error and interval (0: none).
    #[arg(long, default_value_t = FinetuneOptions::default().bootstrap)]
    bootstrap: usize,
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
}

pub fn run(args: FinetuneArgs) -> Result<()> {
    let names: Vec<&str> = if args.tasks.is_empty() { DEFAULT_TASKS.to_vec() } else { args.tasks.iter().map(|t| t.trim()).collect() };
    let tasks = names.iter().map(|t| probe_task(t).map_err(|e| anyhow!("--tasks: {e}"))).collect::<Result<Vec<_>>>()?;
    let options = FinetuneOptions {
        learning_rates: args.learning_rates,
        seeds: args.seeds,
        epochs: args.epochs,
        batch_size: args.batch_size,
        max_length: args.max_length,
        weight_decay: args.weight_decay,
        warmup_ratio: args.warmup_ratio,
        max_grad_norm: args.max_grad_norm,
        limit: args.limit,
        bootstrap: args.bootstrap,
        ..FinetuneOptions::default()
    };
    finetune(&args.model, &tasks, args.tinyhelen_dir.as_deref(), &options, args.backend, &args.output_path)
}

fn write_jsonl(path: &Path, lines: impl IntoIterator<Item = Value>) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("{}: cannot write", path.display()))?);
    for line in lines {
        serde_json::to_writer(&mut f, &line)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok(())
}

/// Fine-tunes `tasks` on the model at `model_path` and writes `output/results.json`,
/// `losses.jsonl` and `predictions.jsonl` (`tinyeval finetune`, and `tinyeval run`
/// for `leaner_glue_finetune*`).
pub fn finetune(
    model_path: &Path,
    tasks: &[&'static ProbeTask],
    tinyhelen: Option<&Path>,
    options: &FinetuneOptions,
    backend: Backend,
    output: &Path,
) -> Result<()> {
    // Every split's file is read before the model loads: a missing file is told at once.
    let (glue, files) = read_glue_splits(tasks, tinyhelen)?;
    let device = device(backend)?;
    let model = crate::load_model(model_path, &device)?;
    std::fs::create_dir_all(output).with_context(|| format!("{}: cannot create", output.display()))?;

    let mut runs: Vec<FinetuneRun> = Vec::new();
    for (&task, splits) in tasks.iter().zip(&files) {
        let pb = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} steps, {per_sec}, {msg}, {elapsed} elapsed, ~{eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(task.name.to_string());
        let run = pollster::block_on(run_finetune(&model, task, splits, options, |p| {
            pb.set_length((p.steps * p.configs) as u64);
            pb.set_position((p.config * p.steps + p.step) as u64);
            pb.set_message(format!("grid {}/{}, loss {:.4}", p.config + 1, p.configs, p.loss));
            std::future::ready(Ok(()))
        }))?;
        pb.finish_and_clear();
        let chosen = run.chosen();
        eprintln!("{}: chosen learning rate {}, seed {} ({} on {}: {:.4})", task.name, chosen.learning_rate, chosen.seed,
            task.metrics[0].name(), run.selection_split, chosen.selection_score);
        runs.push(run);
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "{:<8} {:<18} {:<9} {:>8} {:>8} {:>17}", "task", "split", "metric", "value", "stderr", "95% CI")?;
    for run in &runs {
        for s in &run.chosen().splits {
            for MetricEstimate { metric, value, stderr, ci95 } in &s.metrics {
                let ci = ci95.map_or("-".to_string(), |c| format!("[{:.3}, {:.3}]", c.low, c.high));
                let se = stderr.map_or("-".to_string(), |s| format!("{s:.4}"));
                writeln!(err, "{:<8} {:<18} {:<9} {value:>8.4} {se:>8} {ci:>17}", run.task.name, s.split, metric.name())?;
            }
        }
    }
    let results = finetune_results_json(&runs, &glue.display().to_string(), &model_path.display().to_string());
    let path = output.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    write_jsonl(&output.join("losses.jsonl"), runs.iter().flat_map(FinetuneRun::loss_log))?;
    write_jsonl(&output.join("predictions.jsonl"), runs.iter().flat_map(FinetuneRun::predictions))?;
    writeln!(err, "[wrote {}, losses.jsonl and predictions.jsonl]", path.display())?;
    Ok(())
}
