//! Results in lm-eval-harness 0.4.13's layouts: the results JSON (tasks and
//! groups), the per-sample lines of `--log_samples`, and task YAML for lm-eval
//! (`tinyeval export-lm-eval`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::tasks::config::GroupConfig;
use crate::tasks::records::{SampleRecord, TaskResult};

/// lm-eval's `pooled_sample_stderr`: the stderr of a size-weighted mean of subtasks.
fn pooled_sample_stderr(stderrs: &[f64], sizes: &[f64]) -> f64 {
    let total: f64 = sizes.iter().sum();
    let var = stderrs.iter().zip(sizes).map(|(se, n)| (n - 1.0) * se * se * n).sum::<f64>() / (total - sizes.len() as f64);
    (var / total).sqrt()
}

/// lm-eval's `unweighted_mean_stderr`.
fn unweighted_mean_stderr(stderrs: &[f64]) -> f64 {
    stderrs.iter().map(|s| s * s).sum::<f64>().sqrt() / stderrs.len() as f64
}

/// The results entry of one task: `name`, `alias`, `sample_len`, then
/// `"<metric>,none"` and `"<metric>_stderr,none"` ("N/A" without a stderr).
fn task_entry(r: &TaskResult) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("name".into(), json!(r.task));
    e.insert("alias".into(), json!(r.task));
    e.insert("sample_len".into(), json!(r.samples.len()));
    for (name, m) in &r.metrics {
        e.insert(format!("{name},none"), float(m.value));
        e.insert(format!("{name}_stderr,none"), m.stderr.map(float).unwrap_or(json!("N/A")));
    }
    e
}

/// A float as JSON; NaN and infinities (which JSON lacks) as strings, as
/// Python's json module would write `NaN`, which strict JSON readers refuse.
fn float(x: f64) -> Value {
    serde_json::Number::from_f64(x).map(Value::Number).unwrap_or_else(|| json!(x.to_string()))
}

/// The leaf tasks of a group, through nested groups.
fn leaf_tasks<'a>(group: &'a GroupConfig, groups: &'a [GroupConfig], out: &mut Vec<&'a str>) {
    for child in &group.task {
        match groups.iter().find(|g| &g.group == child) {
            Some(sub) if sub.group != group.group => leaf_tasks(sub, groups, out),
            _ => out.push(child),
        }
    }
}

/// A group's entry, as lm-eval's `Group.aggregate`.
fn group_entry(group: &GroupConfig, groups: &[GroupConfig], entries: &Map<String, Value>) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("alias".into(), json!(group.group_alias.clone().unwrap_or_else(|| group.group.clone())));
    e.insert("name".into(), json!(group.group));
    let Some(list) = group.aggregate_metric_list.as_ref().filter(|l| !l.is_empty()) else { return e };
    let mut leaves = Vec::new();
    leaf_tasks(group, groups, &mut leaves);
    let size_of = |t: &str| entries.get(t).and_then(|v| v.get("sample_len")).and_then(Value::as_f64).unwrap_or(0.0);
    e.insert("sample_len".into(), json!(leaves.iter().map(|t| size_of(t)).sum::<f64>() as u64));
    let mut sample_count = Map::new();
    for agg in list {
        let key = format!("{},none", agg.metric);
        let stderr_key = format!("{}_stderr,none", agg.metric);
        let (mut values, mut sizes, mut stderrs) = (Vec::new(), Vec::new(), Vec::new());
        let mut all_stderrs = true;
        for t in &leaves {
            if let Some(v) = entries.get(*t).and_then(|x| x.get(&key)).and_then(Value::as_f64) {
                values.push(v);
                sizes.push(size_of(t));
                match entries[*t].get(&stderr_key).and_then(Value::as_f64) {
                    Some(s) => stderrs.push(s),
                    None => all_stderrs = false,
                }
            }
        }
        if values.is_empty() {
            continue;
        }
        let weights: Vec<f64> = if agg.weight_by_size { sizes.clone() } else { vec![1.0; sizes.len()] };
        let value = values.iter().zip(&weights).map(|(v, w)| v * w).sum::<f64>() / weights.iter().sum::<f64>();
        e.insert(key.clone(), float(value));
        sample_count.insert(key, json!(sizes.iter().sum::<f64>() as u64));
        let stderr = if all_stderrs {
            float(if agg.weight_by_size { pooled_sample_stderr(&stderrs, &sizes) } else { unweighted_mean_stderr(&stderrs) })
        } else {
            json!("N/A")
        };
        e.insert(stderr_key, stderr);
    }
    if !sample_count.is_empty() {
        e.insert("sample_count".into(), Value::Object(sample_count));
    }
    e
}

impl TaskResult {
    /// lm-eval's results layout for this task alone; see [`results_json`] for
    /// several tasks and groups.
    pub fn results_json(&self) -> Value {
        results_json(std::slice::from_ref(self), &[])
    }
}

/// lm-eval's results JSON for tasks and the groups they belong to:
/// `results` (tasks and groups), `groups` (groups with an
/// `aggregate_metric_list`), `group_subtasks`, `configs`, `versions`, `n-shot`,
/// `higher_is_better`, `n-samples`; plus tinyeval's `confidence_intervals`
/// (task → `"<metric>,none"` → `{low, high, level, method}`), which lm-eval
/// has not and its readers ignore.
pub fn results_json(tasks: &[TaskResult], groups: &[GroupConfig]) -> Value {
    let mut results = Map::new();
    let mut configs = BTreeMap::new();
    let mut versions = BTreeMap::new();
    let mut n_shot = BTreeMap::new();
    let mut higher_is_better: BTreeMap<String, Value> = BTreeMap::new();
    let mut n_samples = Map::new();
    let mut intervals = Map::new();
    for r in tasks {
        results.insert(r.task.clone(), Value::Object(task_entry(r)));
        let mut config = serde_json::to_value(&r.config).unwrap_or(Value::Null);
        if let Some(o) = config.as_object_mut() {
            o.insert("num_fewshot".into(), json!(r.num_fewshot));
        }
        configs.insert(r.task.clone(), config);
        versions.insert(r.task.clone(), r.config.version());
        n_shot.insert(r.task.clone(), json!(r.num_fewshot));
        higher_is_better.insert(
            r.task.clone(),
            Value::Object(r.metrics.iter().map(|(n, m)| (n.clone(), json!(m.higher_is_better))).collect()),
        );
        n_samples.insert(r.task.clone(), json!({ "original": r.n_docs, "effective": r.samples.len() }));
        let ci: Map<String, Value> = r
            .metrics
            .iter()
            .filter_map(|(n, m)| {
                let i = m.uncertainty.interval?;
                Some((
                    format!("{n},none"),
                    json!({ "low": float(i.low), "high": float(i.high), "level": i.level, "method": m.uncertainty.interval_method }),
                ))
            })
            .collect();
        intervals.insert(r.task.clone(), Value::Object(ci));
    }
    // Groups bottom-up (children first), as lm-eval aggregates them.
    let mut done: Vec<&str> = Vec::new();
    let mut group_results = Map::new();
    let mut group_subtasks = Map::new();
    while done.len() < groups.len() {
        let before = done.len();
        for g in groups {
            if done.contains(&g.group.as_str()) {
                continue;
            }
            let children_ready = g
                .task
                .iter()
                .all(|c| !groups.iter().any(|o| &o.group == c) || done.contains(&c.as_str()) || c == &g.group);
            if !children_ready {
                continue;
            }
            let entry = group_entry(g, groups, &results);
            if g.aggregate_metric_list.as_ref().is_some_and(|l| !l.is_empty()) {
                group_results.insert(g.group.clone(), Value::Object(entry.clone()));
            }
            results.insert(g.group.clone(), Value::Object(entry));
            group_subtasks.insert(g.group.clone(), json!(g.task));
            versions.insert(g.group.clone(), json!(g.version().as_f64().map(|v| format!("{v:?}")).or_else(|| g.version().as_str().map(str::to_string)).unwrap_or_else(|| "N/A".into())));
            let shots: Vec<&Value> = g.task.iter().filter_map(|c| n_shot.get(c)).collect();
            if let Some(first) = shots.first() {
                if shots.iter().all(|s| s == first) {
                    let first = (*first).clone();
                    n_shot.insert(g.group.clone(), first);
                }
            }
            let mut hib = Map::new();
            for c in &g.task {
                if let Some(Value::Object(m)) = higher_is_better.get(c) {
                    for (k, v) in m {
                        match hib.get(k) {
                            None => {
                                hib.insert(k.clone(), v.clone());
                            }
                            Some(old) if !old.is_null() && old != v => {
                                hib.insert(k.clone(), Value::Null);
                            }
                            _ => {}
                        }
                    }
                }
            }
            if !hib.is_empty() {
                higher_is_better.insert(g.group.clone(), Value::Object(hib));
            }
            done.push(&g.group);
        }
        if done.len() == before {
            break; // a cycle; lm-eval assumes there is none
        }
    }
    let mut out = Map::new();
    out.insert("results".into(), Value::Object(results));
    if !group_results.is_empty() {
        out.insert("groups".into(), Value::Object(group_results));
    }
    out.insert("group_subtasks".into(), Value::Object(group_subtasks));
    out.insert("configs".into(), json!(configs));
    out.insert("versions".into(), json!(versions));
    out.insert("n-shot".into(), json!(n_shot));
    out.insert("higher_is_better".into(), json!(higher_is_better));
    out.insert("n-samples".into(), Value::Object(n_samples));
    out.insert("confidence_intervals".into(), Value::Object(intervals));
    Value::Object(out)
}

/// lm-eval's `hash_string`: SHA-256 of the UTF-8 bytes, in hex.
pub fn hash_string(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Python's `str()` of a JSON value as lm-eval's targets hold it.
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => format!("{f:?}"),
            _ => n.to_string(),
        },
        Value::String(s) => {
            // Python quotes with ' unless the string holds ' and no ".
            let q = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
            let mut out = String::from(q);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        }
        Value::Array(a) => format!("[{}]", a.iter().map(python_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter().map(|(k, v)| format!("{}: {}", python_repr(&json!(k)), python_repr(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Python's `json.dumps(doc, indent=2, ensure_ascii=False)` for lm-eval's
/// `doc_hash` (serde_json's pretty printer writes the same text for JSON docs;
/// keys keep the file's order).
fn python_json_indent2(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// One line of lm-eval's `samples_<task>_<date>.jsonl`: `doc_id`, `doc`,
/// `target` (as `str()`), `arguments` (`{"gen_args_i": {"arg_j": ...}}`),
/// `resps`, `filtered_resps`, `filter`, `metrics` (names), `doc_hash`,
/// `prompt_hash`, `target_hash`, then each metric's per-sample value.
pub fn sample_line(s: &SampleRecord) -> Value {
    let mut arguments = Map::new();
    for (i, r) in s.arguments.iter().enumerate() {
        let args: Map<String, Value> = r.arguments().into_iter().enumerate().map(|(j, a)| (format!("arg_{j}"), a)).collect();
        arguments.insert(format!("gen_args_{i}"), Value::Object(args));
    }
    let resps: Vec<Value> = s.resps.iter().map(|r| json!([r])).collect();
    let filtered: Vec<Value> = s.resps.iter().map(|r| json!(r)).collect();
    let target = python_str(&s.target);
    let first_arg = s.arguments.first().map(|r| r.arguments()).and_then(|a| a.into_iter().next());
    let prompt = match first_arg {
        Some(Value::String(p)) => p,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut line = Map::new();
    line.insert("doc_id".into(), json!(s.doc_id));
    line.insert("doc".into(), s.doc.clone());
    line.insert("target".into(), json!(target));
    line.insert("arguments".into(), Value::Object(arguments));
    line.insert("resps".into(), json!(resps));
    line.insert("filtered_resps".into(), json!(filtered));
    line.insert("filter".into(), json!("none"));
    line.insert("metrics".into(), json!(s.metrics.keys().collect::<Vec<_>>()));
    line.insert("doc_hash".into(), json!(hash_string(&python_json_indent2(&s.doc))));
    line.insert("prompt_hash".into(), json!(hash_string(&prompt)));
    line.insert("target_hash".into(), json!(hash_string(&target)));
    for (name, v) in &s.metrics {
        line.insert(name.clone(), json!(v));
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs_and_hashes() {
        assert_eq!(python_str(&json!(1)), "1");
        assert_eq!(python_str(&json!(5.0)), "5.0");
        assert_eq!(python_str(&json!(["a", "b'c"])), "['a', \"b'c\"]");
        // hashlib.sha256(b"abc").hexdigest()
        assert_eq!(hash_string("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn pooled_stderr_as_lm_eval() {
        // np.sqrt(((10-1)*0.1**2*10 + (30-1)*0.2**2*30) / (40 - 2) / 40)
        let want = (((9.0 * 0.01 * 10.0) + (29.0 * 0.04 * 30.0)) / 38.0 / 40.0f64).sqrt();
        assert!((pooled_sample_stderr(&[0.1, 0.2], &[10.0, 30.0]) - want).abs() < 1e-15);
        assert!((unweighted_mean_stderr(&[0.3, 0.4]) - 0.25).abs() < 1e-15);
    }
}
