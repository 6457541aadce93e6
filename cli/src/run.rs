//! `tinyeval run` (lm-eval-harness's `lm_eval run`, same flag names and output
//! files) and `tinyeval export-lm-eval` (our task configs as lm-eval YAML).
//!
//! `run` also takes the suites that are not task YAML (core's `RunPlan` sorts
//! the names): `leaner_eval` and `leaner_glue_probe[_TASK]`, run by the same
//! functions as `tinyeval leaner-eval` and `tinyeval probe`, with --model,
//! --limit, --seed, --batch_size (probe) and --backend; they write into
//! `<output_path>/<model>/leaner_eval/` and `.../leaner_glue_probe/`, beside
//! the YAML tasks' results. `leaner_glue_finetune[_TASK]` runs `tinyeval
//! finetune`'s defaults with run's --limit and --seed (one grid seed) into
//! `.../leaner_glue_finetune/` (run's --batch_size is the scoring batch, not
//! the training one).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use tinyeval_core::probe::{PROBE_SUITE, ProbeOptions};
use tinyeval_core::GenerationConfig;
use tinyeval_core::leaner_eval::{DEFAULT_MAX_NEW_TOKENS, DEFAULT_STOP};
use tinyeval_core::finetune::FinetuneOptions;
use tinyeval_core::run_plan::{FINETUNE_SUITE, LEANER_EVAL_SUITE, RunPlan};
use tinyeval_core::tasks::data::load_task_docs_with_origins;
use tinyeval_core::tasks::evaluator::{DEFAULT_BOOTSTRAP_ITERS, check_docs};
use tinyeval_core::tasks::results::sample_line;
use tinyeval_core::tasks::run_record::{RunRecord, benchmark_results_json, sanitize_model_name};
use tinyeval_core::tasks::{EvalOptions, TaskRegistry, TaskSelection, evaluate_task_stepwise, export_lm_eval};

use crate::leaner_eval::LeanerEvalJob;
use crate::locations::{default_tinyhelen_dir, env_or, repo_root};
use crate::{Backend, finetune, leaner_eval, probe};

#[derive(Args)]
pub struct RunArgs {
    /// A Hugging Face model folder (config.json, *.safetensors, tokenizer.json) or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// Comma-separated task or group names (built-in, or from --include_path).
    #[arg(long)]
    tasks: String,
    /// A folder of task/group YAML files (searched recursively) to add to the built-ins.
    #[arg(long = "include_path", alias = "include-path")]
    include_path: Option<PathBuf>,
    /// Few-shot examples per prompt, for every task (default: each task's num_fewshot, else 0).
    #[arg(long = "num_fewshot", alias = "num-fewshot")]
    num_fewshot: Option<usize>,
    /// The first N docs of each task; a number below 1 is a fraction of the docs (as lm-eval).
    #[arg(long)]
    limit: Option<f64>,
    /// Requests (or context windows) per forward pass.
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = 8)]
    batch_size: usize,
    /// Where to write results_<date>.json (and samples_<task>_<date>.jsonl), in a
    /// folder named after the model, as lm-eval; a path ending in .json names the results file.
    #[arg(long = "output_path", alias = "output-path")]
    output_path: Option<PathBuf>,
    /// Also write every doc's requests, responses and metrics (needs --output_path).
    #[arg(long = "log_samples", alias = "log-samples")]
    log_samples: bool,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Seed of the few-shot sampler and of sampling in generation: one integer,
    /// or lm-eval's four (python,numpy,torch,fewshot; the last is used).
    #[arg(long, default_value = "1234")]
    seed: String,
    /// Bootstrap replicates for the standard errors of mcc, f1 and perplexities (0: no standard errors).
    #[arg(long = "bootstrap_iters", alias = "bootstrap-iters", default_value_t = DEFAULT_BOOTSTRAP_ITERS)]
    bootstrap_iters: usize,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Comma-separated task or group names.
    #[arg(long)]
    tasks: String,
    #[arg(long = "include_path", alias = "include-path")]
    include_path: Option<PathBuf>,
    /// The folder to write one YAML per task and group into (lm-eval's --include_path).
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
}

/// The roots data paths may start with: `{tinyhelen}` (`default_tinyhelen_dir`)
/// and `{demo}` ($TINYEVAL_DEMO_DIR, else the repository's public/tasks/demo);
/// absolute.
fn data_roots() -> Vec<(&'static str, String)> {
    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p).display().to_string();
    vec![
        ("tinyhelen", absolute(default_tinyhelen_dir())),
        ("demo", absolute(env_or("TINYEVAL_DEMO_DIR", repo_root().join("public/tasks/demo")))),
    ]
}

pub(crate) fn registry(include_path: Option<&Path>) -> Result<TaskRegistry> {
    let mut r = TaskRegistry::builtin()?;
    if let Some(dir) = include_path {
        r.include_path(dir)?;
    }
    Ok(r)
}

/// The selected tasks with their data roots resolved and relative data paths
/// made absolute (from the current folder, as lm-eval's loaders take them).
pub(crate) fn select(registry: &TaskRegistry, tasks: &str) -> Result<TaskSelection> {
    let names: Vec<&str> = tasks.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.is_empty() {
        bail!("--tasks names no task");
    }
    let mut sel = registry.select(&names)?;
    let roots = data_roots();
    let roots: Vec<(&str, &str)> = roots.iter().map(|(n, p)| (*n, p.as_str())).collect();
    let cwd = std::env::current_dir()?;
    for t in &mut sel.tasks {
        t.resolve_data_roots(&roots);
        t.map_data_files(|f| if Path::new(f).is_absolute() { f.to_string() } else { cwd.join(f).display().to_string() });
    }
    Ok(sel)
}

/// lm-eval's `--seed`: one integer for all seeds, or four comma-separated
/// (python, numpy, torch, fewshot).
fn parse_seed(seed: &str) -> Result<i64> {
    let parts: Vec<&str> = seed.split(',').map(str::trim).collect();
    let pick = match parts.len() {
        1 => parts[0],
        4 => parts[3],
        _ => bail!("--seed {seed:?}: give one integer or four comma-separated ones"),
    };
    pick.parse().with_context(|| format!("--seed {seed:?}: `{pick}` is not an integer"))
}

fn bar(len: usize, task: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len as u64), indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} requests, {elapsed} elapsed, ~{eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(task.to_string());
    pb
}

/// The folder results go to: `--output_path`'s parent when it names a .json
/// file, else `<output_path>/<sanitized model name>` (as lm-eval).
fn output_dir(out: &Path, model_name: &str) -> PathBuf {
    if out.extension().is_some_and(|e| e == "json") {
        out.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        out.join(sanitize_model_name(model_name))
    }
}


pub fn run(args: RunArgs) -> Result<()> {
    if args.log_samples && args.output_path.is_none() {
        bail!("--log_samples needs --output_path");
    }
    let seed = parse_seed(&args.seed)?;
    // Split off the suites that are not task YAML (core's RunPlan knows them).
    let plan = RunPlan::from_names(args.tasks.split(','))?;
    if !plan.has_suites() {
        return run_tasks(&args, &plan.benchmarks.join(","), seed);
    }
    let Some(out) = &args.output_path else {
        bail!("leaner_eval and leaner_glue_probe write their results to files: give --output_path");
    };
    let dir = output_dir(out, &args.model.display().to_string());
    let seed = u64::try_from(seed).map_err(|_| anyhow::anyhow!("--seed {seed}: leaner_eval and leaner_glue_probe take a non-negative seed"))?;
    let limit = match args.limit {
        None => None,
        Some(l) if l >= 1.0 && l.is_finite() => Some(l as usize),
        Some(l) => bail!("--limit {l}: leaner_eval and leaner_glue_probe take a whole number of items (1 or more)"),
    };
    if !plan.benchmarks.is_empty() {
        run_tasks(&args, &plan.benchmarks.join(","), seed as i64)?;
    }
    if plan.leaner_eval {
        // Leaner-Eval's own defaults (greedy, its stop string and budget), with run's seed.
        let generation = GenerationConfig {
            max_new_tokens: DEFAULT_MAX_NEW_TOKENS,
            seed,
            stop: vec![DEFAULT_STOP.to_string()],
            ..GenerationConfig::default()
        };
        let job = LeanerEvalJob {
            model: args.model.clone(),
            split: None,
            limit,
            generation,
            judge: None,
            backend: args.backend,
            output: dir.join(LEANER_EVAL_SUITE),
        };
        leaner_eval::leaner_eval_run(job, &default_tinyhelen_dir())?;
    }
    if !plan.probes.is_empty() {
        let options = ProbeOptions { limit, batch_size: args.batch_size, seed, ..ProbeOptions::default() };
        probe::probe(&args.model, &plan.probes, None, &options, args.backend, &dir.join(PROBE_SUITE))?;
    }
    if !plan.finetunes.is_empty() {
        let options = FinetuneOptions { limit, seeds: vec![seed], ..FinetuneOptions::default() };
        finetune::finetune(&args.model, &plan.finetunes, None, &options, args.backend, &dir.join(FINETUNE_SUITE))?;
    }
    Ok(())
}

/// The task-YAML part of `run`: evaluates `tasks` and writes lm-eval's files.
fn run_tasks(args: &RunArgs, tasks: &str, seed: i64) -> Result<()> {
    let registry = registry(args.include_path.as_deref())?;
    let selection = select(&registry, tasks)?;
    // Read and check every task's data before loading the model.
    let mut loaded = Vec::new();
    for task in &selection.tasks {
        let (docs, origins) = load_task_docs_with_origins(task, Path::new("."))?;
        check_docs(task, &docs, &origins)?;
        loaded.push((task, docs));
    }
    let device = crate::device(args.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let mut results = Vec::new();
    for (task, docs) in &loaded {
        let n = docs.get(task.eval_split()).map_or(0, Vec::len);
        let limit = match args.limit {
            None => None,
            Some(l) if l < 0.0 || !l.is_finite() => bail!("--limit {l}: must be a non-negative number"),
            Some(l) if l < 1.0 => Some((n as f64 * l).ceil() as usize),
            Some(l) => Some(l as usize),
        };
        let options = EvalOptions { num_fewshot: args.num_fewshot, limit, batch_size: args.batch_size, seed, bootstrap_iters: args.bootstrap_iters };
        let pb = bar(0, &task.task);
        let result = pollster::block_on(evaluate_task_stepwise(&model, task, docs, options, |p| {
            pb.set_length(p.requests_total as u64);
            pb.set_position(p.requests_done as u64);
            std::future::ready(Ok(()))
        }))
        .with_context(|| format!("{}: task {}", registry.file_of(&task.task).unwrap_or("(built-in task)"), task.task))?;
        pb.finish_and_clear();
        results.push(result);
    }
    let model_name = args.model.display().to_string();
    let record = RunRecord {
        model: model_name.clone(),
        device: args.backend.name().into(),
        batch_size: args.batch_size,
        limit: args.limit,
        num_fewshot: args.num_fewshot,
        fewshot_seed: seed,
        bootstrap_iters: args.bootstrap_iters,
        date: Some(chrono::Utc::now().timestamp_millis() as f64 / 1000.0),
    };
    let json = benchmark_results_json(&results, &selection.groups, &record);
    print_table(&json);
    if let Some(out) = &args.output_path {
        // lm-eval: `datetime.now().isoformat().replace(":", "-")`.
        let date_id = chrono::Utc::now().format("%Y-%m-%dT%H-%M-%S%.6f").to_string();
        let dir = output_dir(out, &model_name);
        let results_file = if out.extension().is_some_and(|e| e == "json") { out.clone() } else { dir.join(format!("results_{date_id}.json")) };
        std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create the folder", dir.display()))?;
        std::fs::write(&results_file, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("{}: cannot write", results_file.display()))?;
        eprintln!("results: {}", results_file.display());
        if args.log_samples {
            for r in &results {
                let path = dir.join(format!("samples_{}_{date_id}.jsonl", r.task));
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(&path).with_context(|| format!("{}: cannot write", path.display()))?,
                );
                for s in &r.samples {
                    serde_json::to_writer(&mut f, &sample_line(s))?;
                    f.write_all(b"\n")?;
                }
                f.flush()?;
                eprintln!("samples: {}", path.display());
            }
        }
    }
    Ok(())
}

/// A table of the results on stdout, as lm-eval prints one.
fn print_table(json: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "| Tasks | n-shot | Metric | Value | Stderr |");
    let _ = writeln!(out, "|---|---:|---|---:|---:|");
    let Some(results) = json["results"].as_object() else { return };
    for (name, entry) in results {
        let Some(entry) = entry.as_object() else { continue };
        for (key, v) in entry {
            let Some((metric, _filter)) = key.split_once(',') else { continue };
            if metric.ends_with("_stderr") {
                continue;
            }
            let Some(v) = v.as_f64() else { continue };
            let se = entry.get(&key.replacen(metric, &format!("{metric}_stderr"), 1));
            let se = se.and_then(Value::as_f64).map(|s| format!("{s:.4}")).unwrap_or_else(|| "N/A".into());
            let _ = writeln!(out, "| {name} | {} | {metric} | {v:.4} | ± {se} |", json["n-shot"][name]);
        }
    }
}

pub fn export(args: ExportArgs) -> Result<()> {
    let registry = registry(args.include_path.as_deref())?;
    let selection = select(&registry, &args.tasks)?;
    std::fs::create_dir_all(&args.output_path)
        .with_context(|| format!("{}: cannot create the folder", args.output_path.display()))?;
    for (file, yaml) in export_lm_eval(&selection)? {
        let path = args.output_path.join(&file);
        std::fs::write(&path, yaml).with_context(|| format!("{}: cannot write", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
