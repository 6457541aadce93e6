//! n-gram overlap in the page: the same steps as `tinyeval overlap` (core's
//! `overlap`): a multiple-choice task's items rendered as the contamination
//! report renders them (or the task's `doc_to_decontamination_query`), a
//! corpus of JSONL documents or text files scanned one document at a time (the
//! browser gets its event loop back between slices), and each item's shared
//! n-grams located in its text for highlighting.

use std::cell::Cell;

use serde_json::Value;
use tinyeval_core::contamination::{BenchmarkItem, benchmark_items, decontamination_query};
use tinyeval_core::leaner_eval::parse_pretrain_documents;
use tinyeval_core::overlap::{OverlapIndex, Segment, SharedNgram, highlight};

use crate::job::{Outcome, yield_now};
use crate::task_loading::LoadedTask;

/// Corpus documents scanned between two yields to the browser.
const DOCUMENTS_PER_STEP: usize = 200;

/// One corpus file's documents: a JSONL line is one document (`text`; math
/// `problem` + `hints`; code `prompt` + `response`), any other file is one.
pub fn parse_corpus(file: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let path = file.split(['?', '#']).next().unwrap_or(file);
    if path.ends_with(".jsonl") {
        parse_pretrain_documents(file, bytes).map_err(|e| e.to_string())
    } else {
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| format!("{file}: not valid UTF-8"))?;
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

/// A finished overlap check.
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
}

/// The task's first `limit` docs of its evaluation split, their items and queries.
fn task_queries(task: &LoadedTask, limit: Option<usize>) -> Result<(Vec<BenchmarkItem>, Vec<String>), String> {
    let config = &task.config;
    let split = config.eval_split();
    let docs: Vec<Value> = task.docs.get(split).cloned().ok_or_else(|| format!("task {}: no data for the split `{split}`", config.task))?;
    let docs = &docs[..docs.len().min(limit.unwrap_or(usize::MAX))];
    let items = benchmark_items(config, docs).map_err(|e| e.to_string())?;
    let queries = docs
        .iter()
        .zip(&items)
        .map(|(d, i)| decontamination_query(config, d, i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok((items, queries))
}

/// The overlap of `task`'s items with `corpus` (documents in order, across
/// files), `n` words per n-gram; `on_progress(documents scanned, documents)`.
pub async fn overlap_report(
    task: &LoadedTask,
    limit: Option<usize>,
    corpus: &[String],
    n: usize,
    cancel: &Cell<bool>,
    on_progress: impl Fn(usize, usize),
) -> Result<Outcome<OverlapReport>, String> {
    if n == 0 {
        return Err("n must be at least 1".into());
    }
    if corpus.is_empty() {
        return Err("the corpus has no documents".into());
    }
    let (items, queries) = task_queries(task, limit)?;
    let mut index = OverlapIndex::new(&queries, n);
    for slice in corpus.chunks(DOCUMENTS_PER_STEP) {
        for d in slice {
            index.scan(d);
        }
        on_progress(index.documents(), corpus.len());
        if yield_now(cancel).await.is_err() {
            return Ok(Outcome::Cancelled);
        }
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
    Ok(Outcome::Done(OverlapReport { task: task.config.task.clone(), n, documents: index.documents(), rows }))
}
