//! `tinyeval probe` (`leaner_glue_probe`): a linear probe on frozen mean-pooled
//! last hidden states for Leaner-GLUE tasks, reported with each task's GLUE
//! metric on its evaluation splits (see `tinyeval_core::probe` for the
//! features, the fit and which split trains which task). Each metric comes with
//! a seeded bootstrap standard error and 95% percentile interval.
//!
//! Writes `DIR/results.json` in lm-eval-harness's layout: `results` →
//! `leaner_glue_probe_{task}` → `"{metric},{split}"` and
//! `"{metric}_stderr,{split}"` (the split where lm-eval puts its filter name).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use serde_json::json;
use tinyeval_core::probe::{MetricEstimate, PROBE_TASKS, Probe, ProbeItem, evaluate_split, probe_task, subsample};

use crate::leaner_eval::tinyhelen_dir;
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
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = 16)]
    batch_size: usize,
    /// Bootstrap resamples for each metric's standard error and interval (0: none).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
}

pub fn run(args: ProbeArgs) -> Result<()> {
    let names: Vec<String> = if args.tasks.is_empty() {
        PROBE_TASKS.iter().map(|t| t.name.to_string()).collect()
    } else {
        args.tasks.iter().map(|t| t.trim().trim_start_matches("leaner_glue_probe_").to_string()).collect()
    };
    let tasks = names.iter().map(|n| probe_task(n).map_err(|e| anyhow!("--tasks: {e}"))).collect::<Result<Vec<_>>>()?;
    let glue = tinyhelen_dir(args.tinyhelen_dir.as_deref()).join("data/leaner/glue");
    let read = |task: &tinyeval_core::probe::ProbeTask, split: &str| -> Result<Vec<ProbeItem>> {
        let path = glue.join(format!("{}_{split}.jsonl", task.name));
        let bytes = tinyeval_core::files::read_data_file(&path)?;
        Ok(subsample(task.parse_items(&path.display().to_string(), &bytes)?, args.limit))
    };
    let device = device(args.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let features = |items: &[ProbeItem]| -> Result<Vec<Vec<f64>>> {
        let texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
        Ok(pollster::block_on(tinyeval_core::probe::features(&model, &texts, args.batch_size))?)
    };

    let (mut results, mut configs, mut higher) = (serde_json::Map::new(), serde_json::Map::new(), serde_json::Map::new());
    let mut err = std::io::stderr().lock();
    writeln!(err, "{:<8} {:<18} {:<9} {:>8} {:>8} {:>17}", "task", "split", "metric", "value", "stderr", "95% CI")?;
    for task in tasks {
        let name = format!("leaner_glue_probe_{}", task.name);
        let train = read(task, task.train_split)?;
        let labels: Vec<f64> = train.iter().map(|i| i.label).collect();
        let probe = Probe::fit(task, &features(&train)?, &labels)?;
        let mut r = serde_json::Map::new();
        r.insert("alias".into(), json!(name));
        for split in task.eval_splits {
            let items = read(task, split)?;
            let pred = probe.predict(&features(&items)?);
            let gold: Vec<f64> = items.iter().map(|i| i.label).collect();
            for MetricEstimate { metric, value, stderr, ci95: ci } in evaluate_split(task, &gold, &pred, args.bootstrap, args.seed) {
                r.insert(format!("{},{split}", metric.name()), json!(value));
                r.insert(format!("{}_stderr,{split}", metric.name()), stderr.map_or(json!("N/A"), |s| json!(s)));
                r.insert(format!("{}_ci95,{split}", metric.name()), serde_json::to_value(ci)?);
                higher.entry(name.clone()).or_insert_with(|| json!({})).as_object_mut().unwrap().insert(metric.name().into(), json!(true));
                let ci_str = ci.map_or("-".to_string(), |c| format!("[{:.3}, {:.3}]", c.low, c.high));
                let se = stderr.map_or("-".to_string(), |s| format!("{s:.4}"));
                writeln!(err, "{:<8} {split:<18} {:<9} {value:>8.4} {se:>8} {ci_str:>17}", task.name, metric.name())?;
            }
            r.insert(format!("n,{split}"), json!(items.len()));
        }
        results.insert(name.clone(), serde_json::Value::Object(r));
        configs.insert(name.clone(), json!({
            "task": name,
            "data": glue.display().to_string(),
            "fields": task.fields,
            "train_split": task.train_split,
            "n_train": train.len(),
            "eval_splits": task.eval_splits,
            "features": "mean of the last hidden states (after the final norm), standardised on the training items",
            "model": if task.num_classes == 0 { "ridge regression, alpha = 1".to_string() } else { format!("L2 logistic regression, C = 1, {} classes, {} L-BFGS iterations", task.num_classes, probe.model.iterations) },
            "bootstrap": { "resamples": args.bootstrap, "seed": args.seed },
        }));
    }
    let output = json!({
        "results": results,
        "configs": configs,
        "higher_is_better": higher,
        "versions": configs.keys().map(|k| (k.clone(), json!(1))).collect::<serde_json::Map<_, _>>(),
        "model_name": args.model.display().to_string(),
    });
    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let path = args.output_path.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&output)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    writeln!(err, "[wrote {}]", path.display())?;
    Ok(())
}
