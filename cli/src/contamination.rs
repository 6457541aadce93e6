//! `tinyeval contamination`: per-item detection scores of a multiple-choice
//! task's items (zero-shot prompt + target delimiter + gold choice), most
//! suspicious first, and with a membership manifest the AUROC and TPR at 1%
//! and 5% FPR of each method. `tinyeval overlap`: the model-free 13-gram
//! overlap of the same items with a corpus.
//!
//! Every score is oriented so that higher means "more likely seen in
//! training"; see `tinyeval_core::detection`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};
use tinyeval_core::LanguageModel;
use tinyeval_core::contamination::{BenchmarkItem, MembershipManifest, benchmark_items, decontamination_query};
use tinyeval_core::detection::{self, DetectionInput, Method, ScoredTokens};
use tinyeval_core::leaner_eval::parse_pretrain_documents;
use tinyeval_core::overlap::{DEFAULT_N, OverlapIndex};
use tinyeval_core::tasks::TaskConfig;
use tinyeval_core::tasks::data::load_task_docs;

use crate::{Backend, device};

#[derive(Args)]
pub struct ContaminationArgs {
    /// The target model: a Hugging Face model folder or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// A reference model for the `ref` method.
    #[arg(long = "ref_model", alias = "ref-model")]
    ref_model: Option<PathBuf>,
    /// Comma-separated multiple_choice tasks (built-in or from --include_path).
    #[arg(long)]
    tasks: String,
    #[arg(long = "include_path", alias = "include-path")]
    include_path: Option<PathBuf>,
    /// JSONL `{"task", "split", "idx", "member": 0|1}`: which items were in the training data.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Fraction of tokens that mink and minkpp average, in (0, 1].
    #[arg(long, default_value_t = 0.2)]
    k: f64,
    /// The method that orders the report (most suspicious first).
    #[arg(long = "sort_by", alias = "sort-by", default_value = "minkpp")]
    sort_by: String,
    /// Only the first N items of each task.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = 8)]
    batch_size: usize,
    /// Bootstrap resamples for the AUROC's 95% interval (0: none).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Folder for contamination_{task}.jsonl and contamination_summary.json.
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
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

fn finite_or_null(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

pub fn run(args: ContaminationArgs) -> Result<()> {
    let sort_by = Method::parse(&args.sort_by).map_err(|e| anyhow!("--sort_by: {e}"))?;
    detection::k_count(1, args.k).map_err(|e| anyhow!("--k: {e}"))?;
    let mut methods = vec![Method::Loss, Method::Zlib, Method::Lowercase, Method::MinK, Method::MinKPlusPlus];
    if args.ref_model.is_some() {
        methods.push(Method::Reference);
    }
    if !methods.contains(&sort_by) {
        bail!("--sort_by {}: not computed (`ref` needs --ref_model)", sort_by.name());
    }
    let manifest = match &args.manifest {
        Some(p) => Some(MembershipManifest::parse(
            &p.display().to_string(),
            &tinyeval_core::files::read_data_file(p)?,
        )?),
        None => None,
    };
    let tasks = load_items(&args.tasks, args.include_path.as_deref(), args.limit)?;
    let device = device(args.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let reference = args.ref_model.as_ref().map(|p| crate::load_model(p, &device)).transpose()?;
    let score = |m: &LanguageModel, texts: &[String]| -> Result<Vec<ScoredTokens>> {
        Ok(pollster::block_on(m.score_texts(texts, args.batch_size))?.iter().map(ScoredTokens::from_text_scores).collect())
    };
    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let mut summary = serde_json::Map::new();
    let mut err = std::io::stderr().lock();
    for (task, _docs, items) in &tasks {
        eprintln!("[contamination] {}: scoring {} items", task.task, items.len());
        let texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
        let target = score(&model, &texts)?;
        let lower = score(&model, &texts.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>())?;
        let refs = reference.as_ref().map(|r| score(r, &texts)).transpose()?;
        // scores[m][i]
        let mut scores = vec![Vec::with_capacity(items.len()); methods.len()];
        for (i, item) in items.iter().enumerate() {
            let input = DetectionInput { text: &item.text, target: &target[i], lowercase: Some(&lower[i]), reference: refs.as_ref().map(|r| &r[i]) };
            for (m, &method) in methods.iter().enumerate() {
                scores[m].push(detection::score(method, &input, args.k).map_err(|e| anyhow!("task {}: doc {}: {e}", task.task, item.doc_id))?);
            }
        }
        let members: Vec<Option<bool>> = items.iter().map(|i| manifest.as_ref().and_then(|m| m.member(i))).collect();
        let primary = methods.iter().position(|&m| m == sort_by).unwrap();
        let mut order: Vec<usize> = (0..items.len()).collect();
        // Most suspicious first; NaN last.
        order.sort_by(|&a, &b| {
            let (x, y) = (scores[primary][a], scores[primary][b]);
            y.is_nan().cmp(&x.is_nan()).reverse().then(y.total_cmp(&x))
        });
        let path = args.output_path.join(format!("contamination_{}.jsonl", task.task));
        let mut out = create(&path)?;
        for (rank, &i) in order.iter().enumerate() {
            let item = &items[i];
            let by_method: serde_json::Map<String, Value> =
                methods.iter().enumerate().map(|(m, method)| (method.name().to_string(), finite_or_null(scores[m][i]))).collect();
            let row = json!({
                "rank": rank + 1, "task": item.task, "split": item.split, "doc_id": item.doc_id, "idx": item.idx,
                "member": members[i].map(u8::from), "n_tokens": target[i].logprobs.len() + 1,
                "text": item.text, "scores": by_method,
            });
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;

        let mut entry = json!({ "n": items.len(), "sort_by": sort_by.name(), "items": path.display().to_string() });
        let labelled: Vec<usize> = (0..items.len()).filter(|&i| members[i].is_some()).collect();
        if manifest.is_some() && labelled.is_empty() {
            entry["n_in_manifest"] = json!(0);
            writeln!(err, "{}: no item is in the manifest", task.task)?;
        } else if manifest.is_some() {
            entry["n_in_manifest"] = json!(labelled.len());
            let labels: Vec<bool> = labelled.iter().map(|&i| members[i].unwrap()).collect();
            let mut per_method = serde_json::Map::new();
            writeln!(err, "{}: {} items in the manifest, {} members", task.task, labels.len(), labels.iter().filter(|&&l| l).count())?;
            writeln!(err, "  {}", crate::detect::metrics_header())?;
            for (m, method) in methods.iter().enumerate() {
                let s: Vec<f64> = labelled.iter().map(|&i| scores[m][i]).collect();
                let v = crate::detect::method_metrics(&mut err, "  ", method, &s, &labels, args.bootstrap, args.seed)?;
                per_method.insert(method.name().to_string(), v);
            }
            entry["methods"] = Value::Object(per_method);
        }
        summary.insert(task.task.clone(), entry);
    }
    let summary = json!({
        "model": args.model.display().to_string(),
        "ref_model": args.ref_model.as_ref().map(|p| p.display().to_string()),
        "manifest": args.manifest.as_ref().map(|p| p.display().to_string()),
        "k": args.k,
        "bootstrap": { "resamples": args.bootstrap, "seed": args.seed },
        "orientation": "higher score = more likely a member (seen in training)",
        "item_text": "zero-shot prompt + target_delimiter + gold choice",
        "tasks": summary,
    });
    let path = args.output_path.join("contamination_summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    writeln!(err, "[wrote {}]", path.display())?;
    Ok(())
}

/// Corpus files: the given files, and the *.jsonl / *.txt files of given folders (sorted).
fn corpus_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot read", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "jsonl" || x == "txt"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

pub fn overlap(args: OverlapArgs) -> Result<()> {
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    let tasks = load_items(&args.tasks, args.include_path.as_deref(), args.limit)?;
    let files = corpus_files(&args.corpus)?;
    if files.is_empty() {
        bail!("--corpus: no corpus files");
    }
    let mut indexes = Vec::new();
    for (task, docs, items) in &tasks {
        let queries = docs.iter().zip(items).map(|(d, i)| decontamination_query(task, d, i)).collect::<tinyeval_core::Result<Vec<_>>>()?;
        indexes.push(OverlapIndex::new(&queries, args.n));
    }
    // Corpus document numbers run across files, in this order.
    let mut documents: Vec<Value> = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        let bytes = tinyeval_core::files::read_data_file(f)?;
        let docs = if f.extension().is_some_and(|x| x == "jsonl") {
            parse_pretrain_documents(&name, &bytes)?
        } else {
            vec![String::from_utf8(bytes).map_err(|_| anyhow!("{name}: not valid UTF-8"))?]
        };
        documents.push(json!({ "file": name, "first_document": indexes[0].documents(), "documents": docs.len() }));
        for d in &docs {
            for index in &mut indexes {
                index.scan(d);
            }
        }
    }
    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let mut summary = serde_json::Map::new();
    let mut err = std::io::stderr().lock();
    for ((task, _, items), index) in tasks.iter().zip(&indexes) {
        let report = index.report();
        let path = args.output_path.join(format!("overlap_{}.jsonl", task.task));
        let mut out = create(&path)?;
        let mut overlapping = 0;
        for (o, item) in report.iter().zip(items) {
            if !o.shared.is_empty() {
                overlapping += 1;
            }
            let row = json!({
                "task": item.task, "split": item.split, "doc_id": item.doc_id, "idx": item.idx,
                "ngrams": o.ngrams, "shared_ngrams": o.shared.len(), "fraction": o.fraction(), "shared": o.shared,
            });
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        let too_short = report.iter().filter(|o| o.ngrams == 0).count();
        writeln!(err, "{}: {overlapping} of {} items share a {}-gram with the corpus ({too_short} too short to have one)", task.task, items.len(), args.n)?;
        summary.insert(task.task.clone(), json!({ "n": items.len(), "overlapping": overlapping, "too_short": too_short, "items": path.display().to_string() }));
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
