//! n-gram overlap in the page: core's [`overlap_report`] (what `tinyeval
//! overlap` calls) on a loaded task and the corpus documents, the browser
//! given its event loop back (and the cancel flag read) between slices of the
//! corpus.

use std::cell::Cell;

use tinyeval_core::Error;
use tinyeval_core::overlap::{OverlapReport, overlap_report};

use crate::job::{Outcome, yield_now};
use crate::task_loading::LoadedTask;

/// The overlap of `task`'s first `limit` items of its evaluation split with
/// `corpus`; `on_progress(documents scanned, documents)`.
pub async fn overlap_in_page(
    task: &LoadedTask,
    limit: Option<usize>,
    corpus: &[String],
    n: usize,
    cancel: &Cell<bool>,
    on_progress: impl Fn(usize, usize),
) -> Result<Outcome<OverlapReport>, String> {
    let config = &task.config;
    let split = config.eval_split();
    let docs = task.docs.get(split).ok_or_else(|| format!("task {}: no data for the split `{split}`", config.task))?;
    let docs = &docs[..docs.len().min(limit.unwrap_or(usize::MAX))];
    let result = overlap_report(config, docs, corpus, n, |done, total| {
        on_progress(done, total);
        yield_now(cancel)
    })
    .await;
    match result {
        Ok(report) => Ok(Outcome::Done(report)),
        Err(Error::Cancelled) => Ok(Outcome::Cancelled),
        Err(e) => Err(e.to_string()),
    }
}
