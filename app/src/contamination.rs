//! Contamination checks: a labelled member/non-member set (WikiMIA's JSONL
//! `{"input", "label"}`, 1 = member), or a benchmark task with a membership
//! manifest (JSONL `{"task", "split", "idx", "member"}`); every method's score
//! per item (core's `detection`) and its ROC metrics (core's `statistics`).

use serde::Deserialize;
use serde_json::Value;
use tinyeval_core::TextScores;
use tinyeval_core::detection::{self, DetectionInput, Method, ScoredTokens};
use tinyeval_core::statistics::{DetectionMetrics, detection_metrics};
use tinyeval_core::tasks::fewshot::fewshot_context;
use tinyeval_core::tasks::template::{answer_text, doc_to_choice, doc_to_target};

use crate::task_loading::LoadedTask;

/// One text to check, and whether it was in the training data.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: String,
    pub text: String,
    pub member: bool,
}

fn lines(file: &str, bytes: &[u8]) -> Result<Vec<(usize, Value)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{file}: not UTF-8 ({e})"))?;
    if text.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(text).map_err(|e| format!("{file}: invalid JSON: {e}"))?;
        return Ok(items.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect());
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map(|v| (i + 1, v))
                .map_err(|e| format!("{file}: line {}: invalid JSON: {e}", i + 1))
        })
        .collect()
}

fn member_flag(file: &str, line: usize, v: Option<&Value>, key: &str) -> Result<bool, String> {
    match v.and_then(|v| v.as_i64().or_else(|| v.as_bool().map(i64::from))) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(format!("{file}: line {line}: `{key}` must be 0 or 1")),
    }
}

/// A WikiMIA-format set: JSONL (or a JSON array) of `{"input": text, "label": 0|1}`.
pub fn parse_labelled_set(file: &str, bytes: &[u8]) -> Result<Vec<Item>, String> {
    let rows = lines(file, bytes)?;
    let items = rows
        .into_iter()
        .map(|(line, v)| {
            let text = v
                .get("input")
                .or_else(|| v.get("text"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{file}: line {line}: no `input` text"))?;
            Ok(Item { id: format!("{line}"), text: text.to_string(), member: member_flag(file, line, v.get("label"), "label")? })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if items.is_empty() {
        return Err(format!("{file}: no items"));
    }
    Ok(items)
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ManifestRow {
    pub task: String,
    pub split: String,
    pub idx: usize,
    pub member: u8,
}

pub fn parse_manifest(file: &str, bytes: &[u8]) -> Result<Vec<ManifestRow>, String> {
    let rows = lines(file, bytes)?
        .into_iter()
        .map(|(line, v)| {
            let row: ManifestRow =
                serde_json::from_value(v).map_err(|e| format!("{file}: line {line}: not a manifest row ({e})"))?;
            member_flag(file, line, Some(&Value::from(row.member)), "member")?;
            Ok(row)
        })
        .collect::<Result<Vec<_>, String>>()?;
    if rows.is_empty() {
        return Err(format!("{file}: no rows (the file is empty)"));
    }
    Ok(rows)
}

/// The manifest's items of `task`, each rendered as the zero-shot prompt, the
/// target delimiter and the gold answer (how the contaminated model saw them).
pub fn items_from_task(task: &LoadedTask, manifest: &[ManifestRow]) -> Result<Vec<Item>, String> {
    let name = &task.config.task;
    let rows: Vec<&ManifestRow> = manifest.iter().filter(|r| &r.task == name).collect();
    if rows.is_empty() {
        let known: std::collections::BTreeSet<&str> = manifest.iter().map(|r| r.task.as_str()).collect();
        return Err(format!(
            "no items of task {name} (the manifest lists: {})",
            known.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    rows.into_iter()
        .map(|r| {
            let docs = task.docs.get(&r.split).ok_or_else(|| format!("task {name}: no split `{}`", r.split))?;
            // Docs carry their index in `idx` (Leaner-GLUE, the demo tasks); else the line.
            let doc = docs
                .iter()
                .find(|d| d.get("idx").and_then(Value::as_u64) == Some(r.idx as u64))
                .or_else(|| docs.get(r.idx))
                .ok_or_else(|| format!("task {name}: split {} has no doc {}", r.split, r.idx))?;
            let context = fewshot_context(&task.config, doc, &[]).map_err(|e| e.to_string())?;
            let choices = doc_to_choice(&task.config, doc).map_err(|e| e.to_string())?;
            let target = doc_to_target(&task.config, doc).map_err(|e| e.to_string())?;
            let answer = answer_text(Some(choices.as_slice()), &target).map_err(|e| e.to_string())?;
            Ok(Item {
                id: format!("{}/{}", r.split, r.idx),
                text: format!("{context}{}{answer}", task.config.target_delimiter),
                member: r.member == 1,
            })
        })
        .collect()
}

/// One method's scores of every item, and its ROC metrics (or why there are none).
#[derive(Clone, Debug, PartialEq)]
pub struct MethodResult {
    pub method: Method,
    pub scores: Vec<f64>,
    pub metrics: Result<DetectionMetrics, String>,
}

/// Scores every item with every method; `lowercase` and `reference` are the
/// scores of the lowercased texts and the reference model's, where those methods are asked for.
pub fn detect(
    items: &[Item],
    target: &[TextScores],
    lowercase: Option<&[TextScores]>,
    reference: Option<&[TextScores]>,
    methods: &[Method],
    k: f64,
) -> Vec<MethodResult> {
    let tokens = |s: &[TextScores]| s.iter().map(ScoredTokens::from_text_scores).collect::<Vec<_>>();
    let target = tokens(target);
    let lowercase = lowercase.map(tokens);
    let reference = reference.map(tokens);
    let labels: Vec<bool> = items.iter().map(|i| i.member).collect();
    methods
        .iter()
        .map(|&method| {
            let scores: Result<Vec<f64>, String> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let input = DetectionInput {
                        text: &item.text,
                        target: &target[i],
                        lowercase: lowercase.as_ref().map(|l| &l[i]),
                        reference: reference.as_ref().map(|r| &r[i]),
                    };
                    detection::score(method, &input, k).map_err(|e| format!("item {}: {e}", item.id))
                })
                .collect();
            match scores {
                Ok(scores) => {
                    let metrics = detection_metrics(&scores, &labels).map_err(|e| e.to_string());
                    MethodResult { method, scores, metrics }
                }
                Err(e) => MethodResult { method, scores: Vec::new(), metrics: Err(e) },
            }
        })
        .collect()
}

/// The scores of one passage (no labels): the methods that need only the passage itself.
pub fn passage_scores(text: &str, scores: &TextScores, k: f64) -> Vec<(Method, Result<f64, String>)> {
    let target = ScoredTokens::from_text_scores(scores);
    let input = DetectionInput { text, target: &target, lowercase: None, reference: None };
    [Method::Loss, Method::Perplexity, Method::Zlib, Method::MinK, Method::MinKPlusPlus]
        .into_iter()
        .map(|m| (m, detection::score(m, &input, k).map_err(|e| e.to_string())))
        .collect()
}
