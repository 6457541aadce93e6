//! `tinyeval detect`: pretraining-data detection scores of each text of a
//! WikiMIA-style JSONL file (`{"input": ..., "label": 0|1}` per line, 1 =
//! member, label optional), and their AUROC, TPR at 1% and 5% FPR, best
//! accuracy and ROC points when every text is labelled.
//!
//! Every score is oriented so that higher means "more likely seen in
//! training"; see `tinyeval_core::detection` for the definitions.
//!
//! Writes `DIR/scores.jsonl` (per text: `index` among the texts, `line` in the
//! file, `label`, `n_tokens`, and `scores` by method; a NaN or infinite score
//! is written as null) and, with labels, `DIR/summary.json`; prints a table to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};
use tinyeval_core::LanguageModel;
use tinyeval_core::detection::{self, DetectionInput, Method, ScoredTokens};
use tinyeval_core::statistics::{self, detection_metrics};

use crate::{Backend, device};

#[derive(Args)]
pub struct DetectArgs {
    /// The target model: a Hugging Face model folder or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// The reference model of the `ref` method (its loss minus the target's).
    #[arg(long = "ref_model", alias = "ref-model")]
    ref_model: Option<PathBuf>,
    /// JSONL input, one `{"input": ..., "label": 0|1}` object per line (label optional).
    #[arg(long)]
    data: PathBuf,
    /// Comma-separated methods among loss, ppl, zlib, lowercase, mink, minkpp, ref
    /// [default: all but ref, and ref too with --ref_model].
    #[arg(long, value_delimiter = ',')]
    methods: Vec<String>,
    /// Fraction of the lowest-scoring tokens that mink and minkpp average, in (0, 1].
    #[arg(long, default_value_t = 0.2)]
    k: f64,
    /// Folder for scores.jsonl and summary.json (created if missing).
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
    /// Context windows per forward pass.
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = 8)]
    batch_size: usize,
    /// Bootstrap resamples for the AUROC's 95% confidence interval (0: none).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

struct Item {
    line: usize,
    input: String,
    label: Option<bool>,
}

/// The items of a WikiMIA-style JSONL file; errors name the file and line.
fn read_items(path: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for (line, value) in crate::read_jsonl(path)? {
        let where_ = || format!("{}:{line}", path.display());
        let input = match value.get("input") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => bail!("{}: field `input` is not a string", where_()),
            None => bail!("{}: no `input` field", where_()),
        };
        let label = match value.get("label") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) if v.as_u64() == Some(1) || v.as_f64() == Some(1.0) => Some(true),
            Some(v) if v.as_u64() == Some(0) || v.as_f64() == Some(0.0) => Some(false),
            Some(v) => bail!("{}: `label` is {v}, expected 0 or 1", where_()),
        };
        items.push(Item { line, input, label });
    }
    if items.is_empty() {
        bail!("{}: no items (the file is empty)", path.display());
    }
    Ok(items)
}

fn methods(args: &DetectArgs) -> Result<Vec<Method>> {
    let mut methods = if args.methods.is_empty() {
        let mut m = vec![Method::Loss, Method::Perplexity, Method::Zlib, Method::Lowercase, Method::MinK, Method::MinKPlusPlus];
        if args.ref_model.is_some() {
            m.push(Method::Reference);
        }
        m
    } else {
        args.methods
            .iter()
            .map(|name| Method::parse(name.trim()).map_err(|e| anyhow!("--methods: {e}")))
            .collect::<Result<Vec<_>>>()?
    };
    methods.dedup();
    if methods.contains(&Method::Reference) && args.ref_model.is_none() {
        bail!("--methods: `ref` needs --ref_model");
    }
    Ok(methods)
}

/// The header of the rows `method_metrics` prints.
pub(crate) fn metrics_header() -> String {
    format!("{:<10} {:>7} {:>17} {:>9} {:>9} {:>9}", "method", "AUROC", "95% CI", "TPR@1%", "TPR@5%", "best acc")
}

/// AUROC (with a bootstrap 95% interval when `bootstrap` > 0), TPR at 1% and
/// 5% FPR and best accuracy of one method's scores: printed as a row under
/// `metrics_header` (after `indent`) and returned as JSON; a method whose
/// metrics cannot be computed gets `{"error": ...}`.
pub(crate) fn method_metrics(
    err: &mut impl Write,
    indent: &str,
    method: &Method,
    scores: &[f64],
    labels: &[bool],
    bootstrap: usize,
    seed: u64,
) -> Result<Value> {
    match detection_metrics(scores, labels) {
        Ok(d) => {
            let ci = if bootstrap > 0 { statistics::auroc_interval(scores, labels, bootstrap, seed, 0.95)? } else { None };
            let ci_str = ci.map_or("-".to_string(), |c| format!("[{:.3}, {:.3}]", c.low, c.high));
            writeln!(
                err,
                "{indent}{:<10} {:>7.4} {ci_str:>17} {:>9.4} {:>9.4} {:>9.4}",
                method.name(),
                d.auroc,
                d.tpr_at_1_fpr,
                d.tpr_at_5_fpr,
                d.best_accuracy
            )?;
            let mut v = serde_json::to_value(&d)?;
            v["auroc_ci95"] = serde_json::to_value(ci)?;
            Ok(v)
        }
        Err(e) => {
            writeln!(err, "{indent}{:<10} {e}", method.name())?;
            Ok(json!({ "error": e.to_string() }))
        }
    }
}

fn finite_or_null(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

pub fn run(args: DetectArgs) -> Result<()> {
    let methods = methods(&args)?;
    detection::k_count(1, args.k).map_err(|e| anyhow!("--k: {e}"))?;
    let items = read_items(&args.data)?;
    let labels: Vec<Option<bool>> = items.iter().map(|i| i.label).collect();
    let labelled = labels.iter().all(Option::is_some);
    if !labelled && labels.iter().any(Option::is_some) {
        let item = items.iter().find(|i| i.label.is_none()).unwrap();
        bail!("{}:{}: no `label`, while other lines have one (label all lines or none)", args.data.display(), item.line);
    }

    let device = device(args.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let texts: Vec<String> = items.iter().map(|i| i.input.clone()).collect();
    let score = |model: &LanguageModel, texts: &[String]| -> Result<Vec<ScoredTokens>> {
        Ok(pollster::block_on(model.score_texts(texts, args.batch_size))?
            .iter()
            .map(ScoredTokens::from_text_scores)
            .collect())
    };
    let target = score(&model, &texts)?;
    let lowercase = if methods.contains(&Method::Lowercase) {
        let lower: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
        Some(score(&model, &lower)?)
    } else {
        None
    };
    drop(model);
    let reference = match (&args.ref_model, methods.contains(&Method::Reference)) {
        (Some(path), true) => Some(score(&crate::load_model(path, &device)?, &texts)?),
        _ => None,
    };

    // scores[m][i]: method m's score of item i.
    let mut scores = vec![Vec::with_capacity(items.len()); methods.len()];
    std::fs::create_dir_all(&args.output_path)
        .with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let scores_path = args.output_path.join("scores.jsonl");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&scores_path).with_context(|| format!("{}: cannot create", scores_path.display()))?,
    );
    for (i, item) in items.iter().enumerate() {
        let input = DetectionInput {
            text: &item.input,
            target: &target[i],
            lowercase: lowercase.as_ref().map(|l| &l[i]),
            reference: reference.as_ref().map(|r| &r[i]),
        };
        let mut by_method = serde_json::Map::new();
        for (m, &method) in methods.iter().enumerate() {
            let s = detection::score(method, &input, args.k)
                .map_err(|e| anyhow!("{}:{}: {e}", args.data.display(), item.line))?;
            scores[m].push(s);
            by_method.insert(method.name().to_string(), finite_or_null(s));
        }
        let row = json!({
            "index": i,
            "line": item.line,
            "label": item.label.map(u8::from),
            "n_tokens": target[i].logprobs.len() + 1,
            "scores": by_method,
        });
        serde_json::to_writer(&mut out, &row)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;

    let mut err = std::io::stderr().lock();
    if !labelled {
        writeln!(err, "{:<10} {:>14} {:>12}", "method", "mean", "stderr")?;
        for (m, method) in methods.iter().enumerate() {
            let ms = statistics::mean_stderr(&scores[m])?;
            writeln!(err, "{:<10} {:>14.6} {:>12.6}", method.name(), ms.mean, ms.stderr)?;
        }
        writeln!(err, "[no labels: wrote {}]", scores_path.display())?;
        return Ok(());
    }

    let labels: Vec<bool> = labels.into_iter().map(Option::unwrap).collect();
    let mut summary = serde_json::Map::new();
    writeln!(err, "{}", metrics_header())?;
    for (m, method) in methods.iter().enumerate() {
        let entry = method_metrics(&mut err, "", method, &scores[m], &labels, args.bootstrap, args.seed)?;
        summary.insert(method.name().to_string(), entry);
    }
    let summary = json!({
        "model": args.model.display().to_string(),
        "ref_model": args.ref_model.as_ref().map(|p| p.display().to_string()),
        "data": args.data.display().to_string(),
        "k": args.k,
        "n": items.len(),
        "positives": labels.iter().filter(|&&l| l).count(),
        "bootstrap": { "resamples": args.bootstrap, "seed": args.seed },
        "orientation": "higher score = more likely a member (seen in training)",
        "methods": summary,
    });
    let summary_path = args.output_path.join("summary.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("{}: cannot write", summary_path.display()))?;
    writeln!(err, "[wrote {} and {}]", scores_path.display(), summary_path.display())?;
    Ok(())
}
