//! `tinyeval contamination`: per-item detection scores of a multiple-choice
//! task's items (zero-shot prompt + target delimiter + gold choice), most
//! suspicious first, and with a membership manifest (its rows of the task
//! are the items) core's membership check: each method's AUROC and TPR at 1%
//! and 5% FPR, the blind baseline, and with exposure counts the dose response. `tinyeval overlap`: the model-free 13-gram
//! overlap of the same items with a corpus.
//!
//! Every score is oriented so that higher means "more likely seen in
//! training"; see `tinyeval_core::detection`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};
use tinyeval_core::contamination::{BenchmarkItem, benchmark_items};
use tinyeval_core::detection::Method;
use tinyeval_core::membership::{MembershipManifest, task_items};
use tinyeval_core::overlap::{DEFAULT_N, OverlapReport, overlap_report, parse_corpus};
use tinyeval_core::tasks::TaskConfig;
use tinyeval_core::tasks::data::load_task_docs;

use crate::device;
use crate::membership_args::{CheckArgs, print_report, run_check, write_jsonl};

#[derive(Args)]
pub struct ContaminationArgs {
    /// The target model: a Hugging Face model folder or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// Comma-separated multiple_choice tasks (built-in or from --include_path).
    #[arg(long)]
    tasks: String,
    #[arg(long = "include_path", alias = "include-path")]
    include_path: Option<PathBuf>,
    /// JSONL `{"task", "split", "idx", "member": 0|1, "count"?}`: which items were in the
    /// training data (and how many times); its rows of each task are the items checked.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// The method that orders the report (most suspicious first).
    #[arg(long = "sort_by", alias = "sort-by", default_value = "minkpp")]
    sort_by: String,
    /// Only the first N items of each task.
    #[arg(long)]
    limit: Option<usize>,
    /// Folder for contamination_{task}.jsonl and contamination_summary.json.
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Args)]
pub struct OverlapArgs {
    /// Comma-separated multiple_choice tasks (built-in or from --include_path).
    #[arg(long)]
    tasks: String,
    #[arg(long = "include_path", alias = "include-path")]
    include_path: Option<PathBuf>,
    /// Corpus files or folders (their *.jsonl and *.txt files): a JSONL line is one
    /// document (`text`; math `problem` + `hints`; code `prompt` + `response`), a
    /// text file is one document.
    #[arg(long, value_delimiter = ',', required = true)]
    corpus: Vec<PathBuf>,
    /// Words per n-gram (lm-eval's decontamination uses 13).
    #[arg(long, default_value_t = DEFAULT_N)]
    n: usize,
    #[arg(long)]
    limit: Option<usize>,
    /// Folder for overlap_{task}.jsonl and overlap_summary.json.
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
}

/// Each task's config, its eval docs (the first `limit`) and their rendered items.
fn load_items(tasks: &str, include_path: Option<&Path>, limit: Option<usize>) -> Result<Vec<(TaskConfig, Vec<Value>, Vec<BenchmarkItem>)>> {
    let registry = crate::run::registry(include_path)?;
    let selection = crate::run::select(&registry, tasks)?;
    let cwd = std::env::current_dir()?;
    selection
        .tasks
        .into_iter()
        .map(|task| {
            let docs = load_task_docs(&task, &cwd)?;
            let split = task.eval_split();
            let mut docs = docs.get(split).cloned().ok_or_else(|| anyhow!("task {}: no data for the split `{split}`", task.task))?;
            docs.truncate(limit.unwrap_or(usize::MAX));
            let items = benchmark_items(&task, &docs)?;
            Ok((task, docs, items))
        })
        .collect()
}

fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>> {
    Ok(std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?))
}

/// A doc's position in its split, from an item id `split/idx` (a doc's `idx` field, else its position).
fn doc_position(docs: &std::collections::BTreeMap<String, Vec<Value>>, id: &str) -> Option<usize> {
    let (split, idx) = id.rsplit_once('/')?;
    let idx: i64 = idx.parse().ok()?;
    let split_docs = docs.get(split)?;
    split_docs.iter().position(|d| d.get("idx").and_then(Value::as_i64) == Some(idx)).or_else(|| usize::try_from(idx).ok().filter(|&i| i < split_docs.len()))
}

pub fn run(args: ContaminationArgs) -> Result<()> {
    let sort_by = Method::parse(&args.sort_by).map_err(|e| anyhow!("--sort_by: {e}"))?;
    let manifest = match &args.manifest {
        Some(p) => Some(MembershipManifest::parse(&p.display().to_string(), &tinyeval_core::files::read_data_file(p)?)?),
        None => None,
    };
    let registry = crate::run::registry(args.include_path.as_deref())?;
    let selection = crate::run::select(&registry, &args.tasks)?;
    let cwd = std::env::current_dir()?;
    let mut tasks = Vec::new();
    for task in selection.tasks {
        let docs = load_task_docs(&task, &cwd)?;
        // A manifest without rows for this task: its items are checked unlabelled.
        let listed = manifest.as_ref().filter(|m| m.rows.iter().any(|r| r.task == task.task));
        let items = task_items(&task, &docs, listed, args.limit)?;
        tasks.push((task, docs, items, manifest.is_some() && listed.is_none()));
    }
    let device = device(args.check.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let reference = args.check.ref_model.as_ref().map(|p| crate::load_model(p, &device)).transpose()?;
    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let base = [Method::Loss, Method::Zlib, Method::Lowercase, Method::MinK, Method::MinKPlusPlus];
    let mut summary = serde_json::Map::new();
    let mut err = std::io::stderr().lock();
    for (task, docs, items, unlisted) in tasks {
        let options = args.check.options(&model, &base)?;
        if !options.methods.contains(&sort_by) {
            bail!("--sort_by {}: not computed (`ref` needs --ref_model; see --methods)", sort_by.name());
        }
        eprintln!("[contamination] {}: scoring {} items", task.task, items.len());
        let report = run_check(&model, reference.as_ref(), items, &options).map_err(|e| anyhow!("task {}: {e}", task.task))?;
        let primary = report.scores(sort_by).map(<[f64]>::to_vec).unwrap_or_default();
        let mut order: Vec<usize> = (0..report.items.len()).collect();
        // Most suspicious first; NaN last.
        order.sort_by(|&a, &b| {
            let (x, y) = (primary.get(a).copied().unwrap_or(f64::NAN), primary.get(b).copied().unwrap_or(f64::NAN));
            y.is_nan().cmp(&x.is_nan()).reverse().then(y.total_cmp(&x))
        });
        let rows = report.item_rows();
        let ranked: Vec<Value> = order
            .iter()
            .enumerate()
            .map(|(rank, &i)| {
                let item = &report.items[i];
                let (split, idx) = item.id.rsplit_once('/').unwrap_or(("", ""));
                let mut row = rows[i].clone();
                row["rank"] = json!(rank + 1);
                row["task"] = json!(task.task);
                row["split"] = json!(split);
                row["idx"] = json!(idx.parse::<i64>().ok());
                row["doc_id"] = json!(doc_position(&docs, &item.id));
                row["text"] = json!(item.text);
                row
            })
            .collect();
        let path = args.output_path.join(format!("contamination_{}.jsonl", task.task));
        write_jsonl(&path, &ranked)?;
        let mut entry = json!({ "n": report.items.len(), "sort_by": sort_by.name(), "items": path.display().to_string() });
        if unlisted {
            entry["n_in_manifest"] = json!(0);
            writeln!(err, "{}: no item is in the manifest", task.task)?;
        } else if report.labelled() {
            let members = report.items.iter().filter(|i| i.member == Some(true)).count();
            writeln!(err, "{}: {} items in the manifest, {members} members", task.task, report.items.len())?;
            let check = report.summary();
            entry["n_in_manifest"] = json!(report.items.len());
            for key in ["methods", "errors", "k_sweep", "blind_baseline", "warning", "recall_prefix", "dc_pdd_cap", "dose_response"] {
                entry[key] = check[key].clone();
            }
        }
        print_report(&mut err, "  ", &report)?;
        summary.insert(task.task.clone(), entry);
    }
    let summary = json!({
        "model": args.model.display().to_string(),
        "ref_model": args.check.ref_model.as_ref().map(|p| p.display().to_string()),
        "manifest": args.manifest.as_ref().map(|p| p.display().to_string()),
        "bootstrap": { "resamples": args.check.bootstrap, "seed": args.check.seed },
        "orientation": "higher score = more likely a member (seen in training)",
        "item_text": "zero-shot prompt + target_delimiter + gold choice",
        "tasks": summary,
    });
    let path = args.output_path.join("contamination_summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    writeln!(err, "[wrote {}]", path.display())?;
    Ok(())
}

pub fn overlap(args: OverlapArgs) -> Result<()> {
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    let tasks = load_items(&args.tasks, args.include_path.as_deref(), args.limit)?;
    let files = crate::membership_args::corpus_files(&args.corpus)?;
    if files.is_empty() {
        bail!("--corpus: no corpus files");
    }
    // Corpus document numbers run across files, in this order.
    let (mut corpus, mut documents) = (Vec::new(), Vec::new());
    for f in &files {
        let name = f.display().to_string();
        let docs = parse_corpus(&name, &tinyeval_core::files::read_data_file(f)?)?;
        documents.push(json!({ "file": name, "first_document": corpus.len(), "documents": docs.len() }));
        corpus.extend(docs);
    }
    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let mut summary = serde_json::Map::new();
    let mut err = std::io::stderr().lock();
    for (task, docs, _) in &tasks {
        let report = pollster::block_on(overlap_report(task, docs, &corpus, args.n, |_, _| std::future::ready(Ok(()))))?;
        let path = args.output_path.join(format!("overlap_{}.jsonl", task.task));
        let mut out = create(&path)?;
        for row in &report.rows {
            serde_json::to_writer(&mut out, &OverlapReport::item_line(row))?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        let (overlapping, too_short) = (report.overlapping().count(), report.too_short());
        writeln!(err, "{}: {overlapping} of {} items share a {}-gram with the corpus ({too_short} too short to have one)", task.task, report.rows.len(), args.n)?;
        summary.insert(task.task.clone(), report.summary(&path.display().to_string()));
    }
    let summary = json!({
        "n": args.n,
        "normalisation": "lm-eval-harness decontamination: ASCII lowercase, string.punctuation deleted, str.split()",
        "corpus": documents,
        "tasks": summary,
    });
    let path = args.output_path.join("overlap_summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    writeln!(err, "[wrote {}]", path.display())?;
    Ok(())
}
