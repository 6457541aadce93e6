//! The inputs of a membership check, one parser each, used by the CLI and the page alike:
//!
//! - a **labelled set** in WikiMIA's layout: JSON Lines (or one JSON array) of
//!   `{"input": text, "label": 0|1}` (`text` is accepted for `input`; `label`
//!   may be `true`/`false`; 1 = member). Labels are all there or all absent:
//!   an unlabelled set is scored but has no ROC;
//! - a **membership manifest**: JSON Lines of `{"task", "split", "idx",
//!   "member": 0|1}` with an optional `"count"` (how many times the item was
//!   in the training data; the dose-response view groups by it). `idx` is the
//!   doc's own `idx` field, else its position in the split;
//! - a **task plus manifest**: the manifest's items of one task, each rendered
//!   as the model would have seen a leaked item (the zero-shot prompt, the
//!   target delimiter and the gold choice).
//!
//! Errors name the file and the line.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::fewshot::fewshot_context;
use crate::tasks::template::{answer_text, doc_to_choice, doc_to_target};

/// One text to check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckItem {
    /// How outputs name the item: the line of a labelled set, `split/idx` of a task's doc.
    pub id: String,
    pub text: String,
    /// Whether it was in the training data, when known.
    pub member: Option<bool>,
    /// How many times it was, when the manifest says.
    pub count: Option<u32>,
}

/// `(line, value)` of each non-blank line of JSON Lines, or of each element of a JSON array.
fn json_rows(file: &str, bytes: &[u8]) -> Result<Vec<(usize, Value)>> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::bad_file(file, format!("not valid UTF-8 ({e})")))?;
    if text.trim_start().starts_with('[') {
        let rows: Vec<Value> =
            serde_json::from_str(text).map_err(|e| Error::bad_file(file, format!("not a valid JSON array: {e}")))?;
        return Ok(rows.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect());
    }
    crate::jsonl::jsonl_rows(file, bytes)
}

/// A 0/1 (or boolean) flag; `None` when the key is absent or null.
fn flag(file: &str, line: usize, row: &Value, key: &str) -> Result<Option<bool>> {
    match row.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) if v.as_f64() == Some(1.0) => Ok(Some(true)),
        Some(v) if v.as_f64() == Some(0.0) => Ok(Some(false)),
        Some(v) => Err(Error::bad_file(file, format!("line {line}: `{key}` is {v}, expected 0 or 1"))),
    }
}

/// A WikiMIA-style labelled set (see the module's documentation).
pub fn parse_labelled_set(file: &str, bytes: &[u8]) -> Result<Vec<CheckItem>> {
    let mut items = Vec::new();
    for (line, row) in json_rows(file, bytes)? {
        let text = match row.get("input").or_else(|| row.get("text")) {
            Some(Value::String(t)) => t.clone(),
            Some(_) => return Err(Error::bad_file(file, format!("line {line}: `input` is not a string"))),
            None => return Err(Error::bad_file(file, format!("line {line}: no `input` (or `text`) field"))),
        };
        let member = flag(file, line, &row, "label")?;
        items.push(CheckItem { id: line.to_string(), text, member, count: None });
    }
    if items.is_empty() {
        return Err(Error::bad_file(file, "no items (the file is empty)"));
    }
    if items.iter().any(|i| i.member.is_some()) {
        if let Some(item) = items.iter().find(|i| i.member.is_none()) {
            return Err(Error::bad_file(
                file,
                format!("line {}: no `label`, while other lines have one (label all lines or none)", item.id),
            ));
        }
    }
    Ok(items)
}

/// One row of a membership manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestRow {
    pub task: String,
    pub split: String,
    pub idx: i64,
    pub member: bool,
    pub count: Option<u32>,
}

/// Which items of which tasks were training members (see the module's documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipManifest {
    pub file: String,
    pub rows: Vec<ManifestRow>,
}

impl MembershipManifest {
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self> {
        let mut rows = Vec::new();
        let mut seen = HashMap::new();
        for (line, row) in json_rows(file, bytes)? {
            let bad = |p: String| Error::bad_file(file, format!("line {line}: {p}"));
            let string = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| bad(format!("no string `{k}`")));
            let idx = row.get("idx").and_then(Value::as_i64).ok_or_else(|| bad("no integer `idx`".into()))?;
            let member = flag(file, line, &row, "member")?.ok_or_else(|| bad("no `member` (0 or 1)".into()))?;
            let count = match row.get("count") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().and_then(|c| u32::try_from(c).ok()).ok_or_else(|| bad(format!("`count` is {v}, expected a whole number")))?),
            };
            if count.is_some_and(|c| (c > 0) != member) {
                return Err(bad(format!("`count` {} contradicts `member` {}", count.unwrap(), u8::from(member))));
            }
            let (task, split) = (string("task")?, string("split")?);
            if let Some(first) = seen.insert((task.clone(), split.clone(), idx), line) {
                return Err(bad(format!("{task} {split} {idx} is listed twice (first on line {first})")));
            }
            rows.push(ManifestRow { task, split, idx, member, count });
        }
        if rows.is_empty() {
            return Err(Error::bad_file(file, "no rows (the file is empty)"));
        }
        Ok(Self { file: file.to_string(), rows })
    }

    /// The tasks the manifest names, sorted.
    pub fn tasks(&self) -> Vec<&str> {
        self.rows.iter().map(|r| r.task.as_str()).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// The manifest's row for a doc, if it lists the doc.
    pub fn row(&self, task: &str, split: &str, idx: i64) -> Option<&ManifestRow> {
        self.rows.iter().find(|r| r.task == task && r.split == split && r.idx == idx)
    }
}

/// A doc's `idx` field, else its position.
fn doc_idx(doc: &Value, position: usize) -> i64 {
    doc.get("idx").and_then(Value::as_i64).unwrap_or(position as i64)
}

/// A multiple-choice doc as a leaked item reads: zero-shot prompt, target delimiter, gold choice.
pub fn leaked_text(task: &TaskConfig, doc: &Value) -> Result<String> {
    if task.output_type != OutputType::MultipleChoice {
        return Err(Error::Input(format!(
            "task {}: a contamination check needs a multiple_choice task (this one is {:?})",
            task.task, task.output_type
        )));
    }
    let context = fewshot_context(task, doc, &[])?;
    let choices = doc_to_choice(task, doc)?;
    let gold = answer_text(Some(&choices), &doc_to_target(task, doc)?).map_err(|e| Error::Input(format!("task {}: {e}", task.task)))?;
    Ok(format!("{context}{}{gold}", task.target_delimiter))
}

/// The items of `task` to check: with a manifest, the docs it lists for the
/// task (any split it names), labelled and counted; without one, every doc of
/// the evaluation split, unlabelled. `limit` keeps the first items.
pub fn task_items(
    task: &TaskConfig,
    docs: &BTreeMap<String, Vec<Value>>,
    manifest: Option<&MembershipManifest>,
    limit: Option<usize>,
) -> Result<Vec<CheckItem>> {
    let name = &task.task;
    let mut items = Vec::new();
    match manifest {
        None => {
            let split = task.eval_split();
            let split_docs = docs.get(split).ok_or_else(|| Error::Input(format!("task {name}: no data for the split `{split}`")))?;
            for (i, doc) in split_docs.iter().enumerate().take(limit.unwrap_or(usize::MAX)) {
                let text = leaked_text(task, doc).map_err(|e| Error::Input(format!("{e} (doc {i})")))?;
                items.push(CheckItem { id: format!("{split}/{}", doc_idx(doc, i)), text, member: None, count: None });
            }
        }
        Some(m) => {
            let rows: Vec<&ManifestRow> = m.rows.iter().filter(|r| &r.task == name).take(limit.unwrap_or(usize::MAX)).collect();
            if rows.is_empty() {
                return Err(Error::bad_file(&m.file, format!("no rows for task {name} (it lists: {})", m.tasks().join(", "))));
            }
            let mut by_split: HashMap<&str, HashMap<i64, &Value>> = HashMap::new();
            for r in &rows {
                if !by_split.contains_key(r.split.as_str()) {
                    let split_docs = docs.get(&r.split).ok_or_else(|| Error::bad_file(&m.file, format!("task {name} has no split `{}`", r.split)))?;
                    by_split.insert(&r.split, split_docs.iter().enumerate().map(|(i, d)| (doc_idx(d, i), d)).collect());
                }
                let doc = by_split[r.split.as_str()]
                    .get(&r.idx)
                    .ok_or_else(|| Error::bad_file(&m.file, format!("task {name}: split {} has no doc with idx {}", r.split, r.idx)))?;
                let text = leaked_text(task, doc).map_err(|e| Error::Input(format!("{e} (doc {})", r.idx)))?;
                items.push(CheckItem { id: format!("{}/{}", r.split, r.idx), text, member: Some(r.member), count: r.count });
            }
        }
    }
    if items.is_empty() {
        return Err(Error::Input(format!("task {name}: no items to check")));
    }
    Ok(items)
}
