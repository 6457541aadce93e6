//! `tinyeval detect`: pretraining-data detection on a WikiMIA-style labelled
//! set (`{"input": ..., "label": 0|1}` per line, 1 = member, labels optional),
//! through core's membership check: every method's score of each text and,
//! with labels, each method's AUROC, TPR at 1% and 5% FPR, best accuracy and
//! ROC, Min-K%'s and Min-K%++'s AUROC against k, and the model-free blind
//! baseline with its warning.
//!
//! Every score is oriented so that higher means "more likely seen in
//! training"; see `tinyeval_core::detection` for the definitions.
//!
//! Writes `DIR/scores.jsonl` (per text: `index`, `line` in the file, `label`,
//! `n_tokens`, `scores` by method, NaN or infinite as null, and `blind`) and,
//! with labels, `DIR/summary.json`; prints a table to stderr.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use tinyeval_core::detection::Method;
use tinyeval_core::membership::parse_labelled_set;

use crate::device;
use crate::membership_args::{CheckArgs, print_report, run_check, write_jsonl};

#[derive(Args)]
pub struct DetectArgs {
    /// The target model: a Hugging Face model folder or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// JSONL input, one `{"input": ..., "label": 0|1}` object per line (label optional).
    #[arg(long)]
    data: PathBuf,
    /// Folder for scores.jsonl and summary.json (created if missing).
    #[arg(long = "output_path", alias = "output-path")]
    output_path: PathBuf,
    #[command(flatten)]
    check: CheckArgs,
}

pub fn run(args: DetectArgs) -> Result<()> {
    let data = args.data.display().to_string();
    let items = parse_labelled_set(&data, &tinyeval_core::files::read_data_file(&args.data)?)?;
    std::fs::create_dir_all(&args.output_path).with_context(|| format!("{}: cannot create", args.output_path.display()))?;
    let device = device(args.check.backend)?;
    let model = crate::load_model(&args.model, &device)?;
    let base = [Method::Loss, Method::Perplexity, Method::Zlib, Method::Lowercase, Method::MinK, Method::MinKPlusPlus];
    let options = args.check.options(&model, &base)?;
    let reference = args.check.ref_model.as_ref().map(|p| crate::load_model(p, &device)).transpose()?;
    let report = run_check(&model, reference.as_ref(), items, &options)?;

    let rows: Vec<_> = report
        .item_rows()
        .into_iter()
        .zip(&report.items)
        .map(|(mut row, item)| {
            row["line"] = json!(item.id.parse::<usize>().ok());
            row["label"] = row["member"].clone();
            row
        })
        .collect();
    let scores_path = args.output_path.join("scores.jsonl");
    write_jsonl(&scores_path, &rows)?;
    let mut err = std::io::stderr().lock();
    print_report(&mut err, "", &report)?;
    if !report.labelled() {
        eprintln!("[no labels: wrote {}]", scores_path.display());
        return Ok(());
    }
    let mut summary = report.summary();
    summary["model"] = json!(args.model.display().to_string());
    summary["ref_model"] = json!(args.check.ref_model.as_ref().map(|p| p.display().to_string()));
    summary["data"] = json!(data);
    let summary_path = args.output_path.join("summary.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("{}: cannot write", summary_path.display()))?;
    eprintln!("[wrote {} and {}]", scores_path.display(), summary_path.display());
    Ok(())
}
