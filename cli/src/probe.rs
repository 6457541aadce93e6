//! `tinyeval probe` (`leaner_glue_probe`): a linear probe on frozen mean-pooled
//! last hidden states for Leaner-GLUE tasks, reported with each task's GLUE
//! metric on its evaluation splits (see `tinyeval_core::probe` for the
//! features, the fit and which split trains which task). Each metric comes with
//! a seeded bootstrap standard error and 95% percentile interval.
//!
//! Writes `DIR/results.json` in lm-eval-harness's layout: `results` →
//! `leaner_glue_probe_{task}` → `"{metric},{split}"` and
//! `"{metric}_stderr,{split}"` (the split where lm-eval puts its filter name),
//! written by core's `probe_results_json`; the run itself is core's `run_probe`,
//! which the page calls too.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Args;
use tinyeval_core::probe::{MetricEstimate, PROBE_TASKS, ProbeOptions, ProbeTask, SplitFile, probe_results_json, probe_task, run_probe};

use crate::locations::tinyhelen_dir;
use crate::{Backend, device};

#[derive(Args)]
pub struct ProbeArgs {
    #[arg(long)]
    model: PathBuf,
    /// Comma-separated among cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli [default: all].
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// The TinyHelen folder [default: $TINYHELEN_DIR, else ../shared/data/tinyhelen beside the repository].
    #[arg(long = "tinyhelen_dir", alias = "tinyhelen-dir")]
    tinyhelen_dir: Option<PathBuf>,
    /// Only N items of every split, evenly spaced (every k-th, k = len / N).
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = ProbeOptions::default().batch_size)]
    batch_size: usize,
    /// Bootstrap resamples for each metric's standard error and interval (0: none).
    #[arg(long, default_value_t = ProbeOptions::default().bootstrap)]
    bootstrap: usize,
    #[arg(long, default_value_t = ProbeOptions::default().seed)]
    seed: u64,
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
}

pub fn run(args: ProbeArgs) -> Result<()> {
    let tasks = if args.tasks.is_empty() {
        PROBE_TASKS.iter().collect()
    } else {
        args.tasks.iter().map(|t| probe_task(t.trim()).map_err(|e| anyhow!("--tasks: {e}"))).collect::<Result<Vec<_>>>()?
    };
    let options = ProbeOptions { limit: args.limit, batch_size: args.batch_size, bootstrap: args.bootstrap, seed: args.seed };
    probe(&args.model, &tasks, args.tinyhelen_dir.as_deref(), &options, args.backend, &args.output_path)
}

/// Probes `tasks` on the model at `model_path` and writes `output/results.json`
/// (`tinyeval probe`, and `tinyeval run` for `leaner_glue_probe*`).
pub fn probe(
    model_path: &Path,
    tasks: &[&'static ProbeTask],
    tinyhelen: Option<&Path>,
    options: &ProbeOptions,
    backend: Backend,
    output: &Path,
) -> Result<()> {
    // Every split's file is read before the model loads: a missing file is told at once.
    let (glue, files) = read_glue_splits(tasks, tinyhelen)?;
    let device = device(backend)?;
    let model = crate::load_model(model_path, &device)?;

    let mut err = std::io::stderr().lock();
    writeln!(err, "{:<8} {:<18} {:<9} {:>8} {:>8} {:>17}", "task", "split", "metric", "value", "stderr", "95% CI")?;
    let mut runs = Vec::new();
    for (&task, splits) in tasks.iter().zip(&files) {
        let run = pollster::block_on(run_probe(&model, task, splits, options, |_| std::future::ready(Ok(()))))?;
        for s in &run.splits {
            for MetricEstimate { metric, value, stderr, ci95 } in &s.metrics {
                let ci = ci95.map_or("-".to_string(), |c| format!("[{:.3}, {:.3}]", c.low, c.high));
                let se = stderr.map_or("-".to_string(), |s| format!("{s:.4}"));
                writeln!(err, "{:<8} {:<18} {:<9} {value:>8.4} {se:>8} {ci:>17}", task.name, s.split, metric.name())?;
            }
        }
        runs.push(run);
    }
    let results = probe_results_json(&runs, &glue.display().to_string(), &model_path.display().to_string());
    std::fs::create_dir_all(&output).with_context(|| format!("{}: cannot create", output.display()))?;
    let path = output.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    writeln!(err, "[wrote {}]", path.display())?;
    Ok(())
}

/// Every split file of `tasks` from the Leaner-GLUE folder of the TinyHelen
/// folder (`tinyeval probe` and `tinyeval finetune` read the same files).
pub(crate) fn read_glue_splits(tasks: &[&'static ProbeTask], tinyhelen: Option<&Path>) -> Result<(PathBuf, Vec<BTreeMap<String, SplitFile>>)> {
    let glue = tinyhelen_dir(tinyhelen).join("data/leaner/glue");
    let mut files = Vec::new();
    for task in tasks {
        let mut splits = BTreeMap::new();
        for split in task.splits() {
            let path = glue.join(task.file_name(split));
            let bytes = tinyeval_core::files::read_data_file(&path)?;
            splits.insert(split.to_string(), SplitFile { name: path.display().to_string(), bytes });
        }
        files.push(splits);
    }
    Ok((glue, files))
}
