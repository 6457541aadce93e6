//! The n-gram overlap check as one run, from a task's docs and a corpus to
//! the report: what `tinyeval overlap` and the page's overlap panel both call.
//!
//! [`parse_corpus`] reads one corpus file (a JSONL line is one document, any
//! other file is one); [`overlap_report`] renders the task's items (or its
//! `doc_to_decontamination_query`), scans the corpus documents in order,
//! calling `after_step` every [`DOCUMENTS_PER_STEP`] documents (the page
//! yields there, and a cancel stops the run), and locates each item's shared
//! n-grams in its text for highlighting. [`OverlapReport::item_line`] and
//! [`OverlapReport::summary`] are the CLI's output files.

use std::future::Future;

use serde_json::{Value, json};

use super::{OverlapIndex, Segment, SharedNgram, highlight};
use crate::contamination::{BenchmarkItem, benchmark_items, decontamination_query};
use crate::error::{Error, Result};
use crate::leaner_eval::parse_pretrain_documents;
use crate::tasks::TaskConfig;

/// Corpus documents scanned between two calls of `after_step`.
pub const DOCUMENTS_PER_STEP: usize = 200;

/// One corpus file's documents: a JSONL line is one document (`text`; math
/// `problem` + `hints`; code `prompt` + `response`), any other file is one.
pub fn parse_corpus(file: &str, bytes: &[u8]) -> Result<Vec<String>> {
    let path = file.split(['?', '#']).next().unwrap_or(file);
    if path.ends_with(".jsonl") {
        parse_pretrain_documents(file, bytes)
    } else {
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| Error::bad_file(file, format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to())))?;
        Ok(vec![text])
    }
}

/// One item of the task and its overlap with the corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlapRow {
    pub item: BenchmarkItem,
    /// The text whose n-grams were matched.
    pub query: String,
    pub ngrams: usize,
    pub shared: Vec<SharedNgram>,
    pub fraction: f64,
    pub segments: Vec<Segment>,
}

/// A finished overlap check of one task.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlapReport {
    pub task: String,
    pub n: usize,
    pub documents: usize,
    pub rows: Vec<OverlapRow>,
}

impl OverlapReport {
    pub fn overlapping(&self) -> impl Iterator<Item = &OverlapRow> {
        self.rows.iter().filter(|r| !r.shared.is_empty())
    }

    /// Items too short to have an n-gram.
    pub fn too_short(&self) -> usize {
        self.rows.iter().filter(|r| r.ngrams == 0).count()
    }

    /// One line of `overlap_{task}.jsonl`.
    pub fn item_line(row: &OverlapRow) -> Value {
        let item = &row.item;
        json!({
            "task": item.task, "split": item.split, "doc_id": item.doc_id, "idx": item.idx,
            "ngrams": row.ngrams, "shared_ngrams": row.shared.len(), "fraction": row.fraction, "shared": row.shared,
        })
    }

    /// This task's entry of `overlap_summary.json`; `items` names its JSONL file.
    pub fn summary(&self, items: &str) -> Value {
        json!({ "n": self.rows.len(), "overlapping": self.overlapping().count(), "too_short": self.too_short(), "items": items })
    }
}

/// The overlap of `task`'s items (one per doc of `docs`) with `corpus`
/// (documents in order, across files), `n` words per n-gram; `after_step`
/// gets (documents scanned, documents).
pub async fn overlap_report<F, Fut>(task: &TaskConfig, docs: &[Value], corpus: &[String], n: usize, mut after_step: F) -> Result<OverlapReport>
where
    F: FnMut(usize, usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    if n == 0 {
        return Err(Error::Input("overlap: n must be at least 1".into()));
    }
    if corpus.is_empty() {
        return Err(Error::Input("overlap: the corpus has no documents".into()));
    }
    let items = benchmark_items(task, docs)?;
    let queries = docs.iter().zip(&items).map(|(d, i)| decontamination_query(task, d, i)).collect::<Result<Vec<_>>>()?;
    let mut index = OverlapIndex::new(&queries, n);
    for slice in corpus.chunks(DOCUMENTS_PER_STEP) {
        for d in slice {
            index.scan(d);
        }
        after_step(index.documents(), corpus.len()).await?;
    }
    let rows = index
        .report()
        .into_iter()
        .zip(items)
        .zip(queries)
        .map(|((o, item), query)| OverlapRow {
            segments: highlight(&query, n, &o.shared),
            fraction: o.fraction(),
            ngrams: o.ngrams,
            shared: o.shared,
            item,
            query,
        })
        .collect();
    Ok(OverlapReport { task: task.task.clone(), n, documents: index.documents(), rows })
}
