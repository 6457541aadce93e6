//! What a benchmark results file records about the run besides the numbers:
//! lm-eval-harness's `config` block, the model's names and tinyeval's version.
//! `tinyeval run` and the page's results export both write it through
//! [`benchmark_results_json`], so their files have the same keys.

use serde_json::{Value, json};

use crate::tasks::config::GroupConfig;
use crate::tasks::records::TaskResult;
use crate::tasks::results::results_json;

/// How a benchmark run was made.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The model as the user named it (a path, a URL or a bundled model's name).
    pub model: String,
    /// The backend: `cpu`, `wgpu`, `webgpu`.
    pub device: String,
    pub batch_size: usize,
    /// As given: N docs, or a fraction of them below 1 (lm-eval's `--limit`).
    pub limit: Option<f64>,
    /// Few-shot examples for every task (`None`: each task's own).
    pub num_fewshot: Option<usize>,
    pub fewshot_seed: i64,
    pub bootstrap_iters: usize,
    /// Seconds since the Unix epoch, when the front end has a clock.
    pub date: Option<f64>,
}

/// lm-eval's results JSON for `tasks` and `groups` ([`results_json`]) with the
/// run's `config` block, `model_name`, `model_name_sanitized`, `date` and
/// `tinyeval_version`.
pub fn benchmark_results_json(tasks: &[TaskResult], groups: &[GroupConfig], run: &RunRecord) -> Value {
    let mut json = results_json(tasks, groups);
    if let Value::Object(o) = &mut json {
        o.insert(
            "config".into(),
            json!({
                "model": "tinyeval",
                "model_args": format!("pretrained={}", run.model),
                "batch_size": run.batch_size,
                "device": run.device,
                "limit": run.limit,
                "num_fewshot": run.num_fewshot,
                "bootstrap_iters": run.bootstrap_iters,
                "fewshot_seed": run.fewshot_seed,
            }),
        );
        o.insert("model_name".into(), json!(run.model));
        o.insert("model_name_sanitized".into(), json!(sanitize_model_name(&run.model)));
        o.insert("tinyeval_version".into(), json!(env!("CARGO_PKG_VERSION")));
        if let Some(date) = run.date {
            o.insert("date".into(), json!(date));
        }
    }
    json
}

/// lm-eval's `sanitize_model_name`: each run of `"<>:/|\?*[]` becomes `__`.
pub fn sanitize_model_name(name: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in name.chars() {
        if "\"<>:/|\\?*[]".contains(c) {
            if !in_run {
                out.push_str("__");
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_sanitized_as_lm_eval_does() {
        // lm_eval.utils.sanitize_model_name: re.sub(r'[\"<>:/|\\?*\[\]]+', '__', name)
        assert_eq!(sanitize_model_name("EleutherAI/pythia-14m"), "EleutherAI__pythia-14m");
        assert_eq!(sanitize_model_name("a//b:c"), "a__b__c");
        assert_eq!(sanitize_model_name("plain"), "plain");
    }
}
