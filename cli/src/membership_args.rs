//! What `detect` and `contamination` share: the options of a membership check
//! (turned into core's `CheckOptions`), the reading of DC-PDD's reference
//! corpus, and the table printed from a `CheckReport`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use tinyeval_core::LanguageModel;
use tinyeval_core::detection::{self, Method, TokenFrequencies};
use tinyeval_core::leaner_eval::parse_pretrain_documents;
use tinyeval_core::membership::{self, CheckItem, CheckOptions, CheckReport, RecallPrefix};

use crate::Backend;

/// ReCaLL's shots from the set when none are given.
const DEFAULT_RECALL_SHOTS: usize = 4;

#[derive(Args)]
pub struct CheckArgs {
    /// A reference model for the `ref` method (its loss minus the target's).
    #[arg(long = "ref_model", alias = "ref-model")]
    pub ref_model: Option<PathBuf>,
    /// Comma-separated methods among loss, ppl, zlib, lowercase, mink, minkpp, ref, recall, dcpdd
    /// [default: every method the inputs allow].
    #[arg(long, value_delimiter = ',')]
    methods: Vec<String>,
    /// Fraction of the lowest-scoring tokens that mink and minkpp average, in (0, 1].
    #[arg(long, default_value_t = 0.2)]
    k: f64,
    /// ReCaLL: how many of the set's non-members (the first, in order) make its prefix;
    /// they are left out of the check, so ReCaLL runs only when asked for (this
    /// option, --recall_prefix, or `recall` in --methods) [default: 4].
    #[arg(long = "recall_shots", alias = "recall-shots")]
    recall_shots: Option<usize>,
    /// ReCaLL: a file of prefix texts (JSON Lines or a JSON array of `input` or `text`)
    /// instead of shots from the set.
    #[arg(long = "recall_prefix", alias = "recall-prefix")]
    recall_prefix: Option<PathBuf>,
    /// DC-PDD's reference corpus: files or folders of documents (JSONL `text`; math
    /// `problem` + `hints`; *.txt whole), or a JSON token-count table `{"counts": [...]}`.
    /// DC-PDD runs when this is given or `dcpdd` is in --methods (counting a corpus
    /// takes seconds) [default: the Leaner-Pretrain 10M train files of the TinyHelen folder].
    #[arg(long, value_delimiter = ',')]
    frequencies: Vec<PathBuf>,
    /// DC-PDD's cap `a` on each token's contribution.
    #[arg(long = "dc_pdd_cap", alias = "dc-pdd-cap", default_value_t = detection::DC_PDD_CAP)]
    dc_pdd_cap: f64,
    /// Folds of the blind (model-free) baseline; 0: none.
    #[arg(long = "blind_folds", alias = "blind-folds", default_value_t = membership::DEFAULT_FOLDS)]
    blind_folds: usize,
    /// Bootstrap resamples for each AUROC's 95% confidence interval (0: none).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap and of the blind baseline's folds.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Context windows per forward pass.
    #[arg(long = "batch_size", alias = "batch-size", default_value_t = 8)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: Backend,
}

/// Corpus files: the given files, and the *.jsonl / *.txt files of given folders (sorted).
pub fn corpus_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
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

/// The documents of corpus files (see `--frequencies`).
pub fn corpus_documents(files: &[PathBuf]) -> Result<Vec<String>> {
    let mut docs = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let bytes = tinyeval_core::files::read_data_file(f)?;
        if f.extension().is_some_and(|x| x == "jsonl") {
            docs.extend(parse_pretrain_documents(&name, &bytes)?);
        } else {
            docs.push(String::from_utf8(bytes).map_err(|_| anyhow!("{name}: not valid UTF-8"))?);
        }
    }
    Ok(docs)
}

fn default_frequency_corpus() -> PathBuf {
    crate::locations::default_tinyhelen_dir().join("data/leaner/10M/train")
}

/// DC-PDD's token frequencies: a count table, or a corpus counted with the model's tokenizer.
fn read_frequencies(paths: &[PathBuf], model: &LanguageModel) -> Result<TokenFrequencies> {
    if let [table] = paths
        && table.extension().is_some_and(|x| x == "json")
    {
        let name = table.display().to_string();
        return Ok(TokenFrequencies::parse_table(&name, &tinyeval_core::files::read_data_file(table)?)?);
    }
    let files = corpus_files(paths)?;
    if files.is_empty() {
        bail!("--frequencies: no corpus files in {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    Ok(membership::count_tokens(model, &corpus_documents(&files)?)?)
}

impl CheckArgs {
    /// Core's options for `items`: the methods asked for, else every method the
    /// inputs allow (notes on stderr say which were left out and why).
    pub fn options(&self, model: &LanguageModel, base: &[Method]) -> Result<CheckOptions> {
        detection::k_count(1, self.k).map_err(|e| anyhow!("--k: {e}"))?;
        let corpus = if self.frequencies.is_empty() { vec![default_frequency_corpus()] } else { self.frequencies.clone() };
        let mut methods: Vec<Method> = if self.methods.is_empty() {
            let mut m = base.to_vec();
            if self.ref_model.is_some() {
                m.push(Method::Reference);
            }
            if self.recall_prefix.is_some() || self.recall_shots.is_some() {
                m.push(Method::Recall);
            }
            if !self.frequencies.is_empty() {
                m.push(Method::DcPdd);
            }
            m
        } else {
            self.methods.iter().map(|n| Method::parse(n.trim()).map_err(|e| anyhow!("--methods: {e}"))).collect::<Result<_>>()?
        };
        methods.dedup();
        if methods.contains(&Method::Reference) && self.ref_model.is_none() {
            bail!("--methods: `ref` needs --ref_model");
        }
        let recall = if !methods.contains(&Method::Recall) {
            None
        } else if let Some(p) = &self.recall_prefix {
            let name = p.display().to_string();
            let texts = membership::parse_labelled_set(&name, &tinyeval_core::files::read_data_file(p)?)?;
            Some(RecallPrefix::Texts(texts.into_iter().map(|i| i.text).collect()))
        } else {
            Some(RecallPrefix::NonMembers { shots: self.recall_shots.unwrap_or(DEFAULT_RECALL_SHOTS) })
        };
        let frequencies = if methods.contains(&Method::DcPdd) {
            if let Some(missing) = corpus.iter().find(|p| !p.exists()) {
                bail!("--methods: `dcpdd` needs a reference corpus: {} does not exist (give --frequencies)", missing.display());
            }
            Some(read_frequencies(&corpus, model)?)
        } else {
            None
        };
        Ok(CheckOptions {
            methods,
            k: self.k,
            recall,
            frequencies,
            dc_pdd_cap: self.dc_pdd_cap,
            blind_folds: self.blind_folds,
            seed: self.seed,
            bootstrap: self.bootstrap,
            batch_size: self.batch_size,
        })
    }
}

/// Runs core's check with a progress line on stderr.
pub fn run_check(model: &LanguageModel, reference: Option<&LanguageModel>, items: Vec<CheckItem>, options: &CheckOptions) -> Result<CheckReport> {
    let report = pollster::block_on(membership::run_check(model, reference, items, options, |p| {
        if p.done == p.total {
            eprintln!("[{}: {} requests]", p.stage.label(), p.total);
        }
        std::future::ready(Ok(()))
    }))?;
    Ok(report)
}

fn metrics_row(err: &mut impl Write, indent: &str, name: &str, m: &Result<membership::MethodSummary, String>) -> Result<()> {
    match m {
        Ok(s) => {
            let ci = s.auroc_ci95.map_or("-".to_string(), |c| format!("[{:.3}, {:.3}]", c.low, c.high));
            let d = &s.metrics;
            writeln!(err, "{indent}{name:<10} {:>7.4} {ci:>17} {:>9.4} {:>9.4} {:>9.4}", d.auroc, d.tpr_at_1_fpr, d.tpr_at_5_fpr, d.best_accuracy)?;
        }
        Err(e) => writeln!(err, "{indent}{name:<10} {e}")?,
    }
    Ok(())
}

/// The report as a table: each method's metrics and the blind baseline's (or
/// each method's mean and stderr without labels), the warning, and the dose response.
pub fn print_report(err: &mut impl Write, indent: &str, report: &CheckReport) -> Result<()> {
    if !report.labelled() {
        writeln!(err, "{indent}{:<10} {:>14} {:>12}", "method", "mean", "stderr")?;
        for o in &report.outcomes {
            match &o.scores {
                Ok(s) => {
                    let ms = tinyeval_core::statistics::mean_stderr(s)?;
                    writeln!(err, "{indent}{:<10} {:>14.6} {:>12.6}", o.method.name(), ms.mean, ms.stderr)?;
                }
                Err(e) => writeln!(err, "{indent}{:<10} {e}", o.method.name())?,
            }
        }
        return Ok(());
    }
    writeln!(err, "{indent}{:<10} {:>7} {:>17} {:>9} {:>9} {:>9}", "method", "AUROC", "95% CI", "TPR@1%", "TPR@5%", "best acc")?;
    for (m, s) in &report.metrics {
        metrics_row(err, indent, m.name(), s)?;
    }
    if let Some(b) = &report.blind {
        metrics_row(err, indent, "blind", &b.clone().map(|(_, s)| s))?;
    }
    if let Some(w) = &report.warning {
        writeln!(err, "{indent}warning: {w}")?;
    }
    if !report.dose.is_empty() {
        writeln!(err, "{indent}AUROC per exposure count (each group against the {} held-out items):", report.dose[0].held_out)?;
        for row in &report.dose {
            let cells: Vec<String> = row.aurocs.iter().map(|(m, a)| format!("{m} {a:.3}")).collect();
            writeln!(err, "{indent}  {:>3}x ({} items): {}", row.count, row.members, cells.join(", "))?;
        }
    }
    Ok(())
}

/// Writes JSON Lines rows.
pub fn write_jsonl(path: &Path, rows: &[serde_json::Value]) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for r in rows {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
