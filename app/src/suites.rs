//! Built-in groups offered as one choice in Benchmarks (`leaner_glue`,
//! `leaner_pretrain_ppl`): choosing one chooses its tasks, and once all of
//! them have run, the group's aggregate is computed as `tinyeval run` computes
//! it (core's lm-eval results layout).

use serde_json::Value;
use tinyeval_core::tasks::results::results_json;
use tinyeval_core::tasks::{BUILTIN_TASKS, GroupConfig, TaskOrGroup, TaskResult};

/// Core's built-in groups.
pub fn builtin_suites() -> Vec<GroupConfig> {
    BUILTIN_TASKS
        .iter()
        .filter_map(|(_, file, yaml)| match TaskOrGroup::from_yaml(file, yaml) {
            Ok(TaskOrGroup::Group(g)) => Some(g),
            _ => None,
        })
        .collect()
}

/// One aggregate metric of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub group: String,
    pub metric: String,
    pub value: f64,
    pub stderr: Option<f64>,
}

/// The built-in groups all of whose tasks are among `results`.
pub fn complete_groups(results: &[TaskResult]) -> Vec<GroupConfig> {
    complete(results, &builtin_suites())
}

fn complete(results: &[TaskResult], groups: &[GroupConfig]) -> Vec<GroupConfig> {
    groups.iter().filter(|g| g.task.iter().all(|t| results.iter().any(|r| &r.task == t))).cloned().collect()
}

/// The aggregates of the groups whose tasks all ran.
pub fn group_rows(results: &[TaskResult], groups: &[GroupConfig]) -> Vec<GroupRow> {
    let complete = complete(results, groups);
    if complete.is_empty() {
        return Vec::new();
    }
    let json = results_json(results, &complete);
    let Some(Value::Object(entries)) = json.get("groups") else { return Vec::new() };
    let mut rows = Vec::new();
    for (group, entry) in entries {
        let Value::Object(fields) = entry else { continue };
        for (key, value) in fields {
            let Some(metric) = key.strip_suffix(",none").filter(|m| !m.ends_with("_stderr")) else { continue };
            let Some(value) = value.as_f64() else { continue };
            let stderr = fields.get(&format!("{metric}_stderr,none")).and_then(Value::as_f64);
            rows.push(GroupRow { group: group.clone(), metric: metric.to_string(), value, stderr });
        }
    }
    rows
}
