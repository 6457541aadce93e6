//! Benchmark contamination report: a multiple-choice task's items as the text a
//! model would have seen had the benchmark leaked into its training data (the
//! zero-shot prompt, the target delimiter and the gold choice), for the
//! detection scores of [`crate::detection`], and membership manifests that say
//! which items really were in the training data (JSONL `{"task", "split",
//! "idx", "member"}`), for AUROC / TPR@FPR through [`crate::statistics`].

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::fewshot::fewshot_context;
use crate::tasks::template::{answer_text, doc_to_choice, doc_to_target, render};

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
    if task.output_type != OutputType::MultipleChoice {
        return Err(Error::Input(format!(
            "task {}: the contamination report needs a multiple_choice task (this one is {:?})",
            task.task, task.output_type
        )));
    }
    docs.iter()
        .enumerate()
        .map(|(doc_id, doc)| {
            let context = fewshot_context(task, doc, &[])?;
            let choices = doc_to_choice(task, doc)?;
            let gold = answer_text(Some(&choices), &doc_to_target(task, doc)?)
                .map_err(|e| Error::Input(format!("task {}: doc {doc_id}: {e}", task.task)))?;
            Ok(BenchmarkItem {
                task: task.task.clone(),
                split: task.eval_split().to_string(),
                doc_id,
                idx: doc.get("idx").and_then(Value::as_i64).unwrap_or(doc_id as i64),
                text: format!("{context}{}{gold}", task.target_delimiter),
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

/// Which items were training members: `(task, split, idx)` → member.
#[derive(Debug, Clone, Default)]
pub struct MembershipManifest {
    members: HashMap<(String, String, i64), bool>,
}

impl MembershipManifest {
    /// JSONL, one `{"task", "split", "idx", "member": 0|1}` a line; errors name the file and line.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::bad_file(file, format!("not valid UTF-8 ({e})")))?;
        let mut members = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |p: String| Error::bad_file(file, format!("line {}: {p}", i + 1));
            let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("not valid JSON: {e}")))?;
            let string = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| bad(format!("no string `{k}`")));
            let idx = v.get("idx").and_then(Value::as_i64).ok_or_else(|| bad("no integer `idx`".into()))?;
            let member = match v.get("member") {
                Some(Value::Bool(b)) => *b,
                Some(m) if m.as_u64() == Some(1) => true,
                Some(m) if m.as_u64() == Some(0) => false,
                other => return Err(bad(format!("`member` is {}, expected 0 or 1", other.map_or("missing".into(), Value::to_string)))),
            };
            members.insert((string("task")?, string("split")?, idx), member);
        }
        if members.is_empty() {
            return Err(Error::bad_file(file, "no rows (the file is empty)"));
        }
        Ok(Self { members })
    }

    pub fn member(&self, item: &BenchmarkItem) -> Option<bool> {
        self.members.get(&(item.task.clone(), item.split.clone(), item.idx)).copied()
    }
}
