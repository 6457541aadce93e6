//! Benchmark contamination report: a multiple-choice task's items as the text a
//! model would have seen had the benchmark leaked into its training data (the
//! zero-shot prompt, the target delimiter and the gold choice), for the
//! 13-gram overlap of [`crate::overlap`] (membership checks render items with
//! [`crate::membership::sets::leaked_text`]).

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::membership::sets::leaked_text;
use crate::tasks::config::TaskConfig;
use crate::tasks::template::render;

/// One item of a task, rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkItem {
    pub task: String,
    pub split: String,
    /// Position in the split.
    pub doc_id: usize,
    /// The doc's own `idx` field, else `doc_id` (what manifests name).
    pub idx: i64,
    /// Zero-shot prompt + target delimiter + gold choice.
    pub text: String,
}

/// The items of a multiple-choice task's evaluation split, rendered (see the module's documentation).
pub fn benchmark_items(task: &TaskConfig, docs: &[Value]) -> Result<Vec<BenchmarkItem>> {
    docs.iter()
        .enumerate()
        .map(|(doc_id, doc)| {
            Ok(BenchmarkItem {
                task: task.task.clone(),
                split: task.eval_split().to_string(),
                doc_id,
                idx: doc.get("idx").and_then(Value::as_i64).unwrap_or(doc_id as i64),
                text: leaked_text(task, doc).map_err(|e| Error::Input(format!("{e} (doc {doc_id})")))?,
            })
        })
        .collect()
}

/// The text the 13-gram overlap checks for an item: the task's
/// `doc_to_decontamination_query` rendered (as lm-eval decontaminates), else
/// the item's rendered text.
pub fn decontamination_query(task: &TaskConfig, doc: &Value, item: &BenchmarkItem) -> Result<String> {
    match &task.doc_to_decontamination_query {
        Some(template) => render(template, doc),
        None => Ok(item.text.clone()),
    }
}
