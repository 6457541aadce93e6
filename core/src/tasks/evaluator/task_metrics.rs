//! Which metrics a task computes (its `metric_list`, or lm-eval's defaults for
//! its output type), and each sample's values of them: the doc's responses
//! turned into a [`Sample`] and handed to each metric's function in the
//! metric specification (`tasks::metrics`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::metrics::{self, AggregationSpec, ExactMatchOptions, MetricSpec, Sample, SampleValue};
use crate::tasks::records::Response;

use super::requests::{DocPlan, gold_index};

/// A task's metric: its specification, how it is aggregated, its direction,
/// and exact_match's options.
pub(super) struct TaskMetric {
    pub(super) name: String,
    pub(super) spec: &'static MetricSpec,
    pub(super) aggregation: &'static AggregationSpec,
    pub(super) higher_is_better: bool,
    pub(super) exact_match: ExactMatchOptions,
}

pub(super) fn task_metrics(config: &TaskConfig) -> Result<Vec<TaskMetric>> {
    let one = |name: &str, aggregation: Option<&str>, higher: Option<bool>, exact_match: ExactMatchOptions| -> Result<TaskMetric> {
        let spec = metrics::check_metric(name, aggregation, config.output_type).map_err(|e| Error::Input(format!("task {}: {e}", config.task)))?;
        let aggregation = aggregation.unwrap_or(spec.default_aggregation);
        let aggregation = metrics::aggregation(aggregation)
            .ok_or_else(|| Error::Input(format!("task {}: aggregation `{aggregation}` is not supported", config.task)))?;
        Ok(TaskMetric { name: name.to_string(), spec, aggregation, higher_is_better: higher.unwrap_or(spec.higher_is_better), exact_match })
    };
    match &config.metric_list {
        None => metrics::default_metrics(config.output_type).iter().map(|&n| one(n, None, None, ExactMatchOptions::default())).collect(),
        Some(list) => list
            .iter()
            .map(|mc| one(&mc.metric, mc.aggregation.as_deref(), mc.higher_is_better, mc.exact_match_options()))
            .collect(),
    }
}

pub(super) fn sample_metrics(
    task: &TaskConfig,
    task_metrics: &[TaskMetric],
    plan: &DocPlan,
    resps: &[Response],
) -> std::result::Result<BTreeMap<String, SampleValue>, String> {
    let logprobs: Vec<f64> = resps.iter().filter_map(Response::logprob).collect();
    let greedy: Vec<bool> = resps.iter().map(|r| matches!(r, Response::Loglikelihood { is_greedy: true, .. })).collect();
    let (mut text, mut gold_text) = (String::new(), String::new());
    match task.output_type {
        OutputType::MultipleChoice | OutputType::Loglikelihood => {}
        OutputType::LoglikelihoodRolling => text = plan.target.as_str().unwrap_or_default().to_string(),
        OutputType::GenerateUntil => {
            text = match resps.first() {
                Some(Response::Generated { text }) => text.clone(),
                _ => return Err("no generation".into()),
            };
            // With doc_to_choice the target is an index into the choices.
            gold_text = match (&plan.choices, &plan.target) {
                (Some(c), t) => c[gold_index(t, c)? as usize].clone(),
                (None, Value::String(s)) => s.clone(),
                (None, other) => return Err(format!("target {other} is not a string")),
            };
        }
    }
    if task.output_type != OutputType::GenerateUntil && logprobs.is_empty() {
        return Err("no log-likelihood".into());
    }
    let mut out = BTreeMap::new();
    for m in task_metrics {
        let sample = Sample {
            output_type: task.output_type,
            logprobs: &logprobs,
            greedy: &greedy,
            choices: plan.choices.as_deref().unwrap_or_default(),
            gold: plan.gold,
            text: &text,
            gold_text: &gold_text,
            exact_match: &m.exact_match,
        };
        out.insert(m.name.clone(), (m.spec.per_sample)(&sample)?);
    }
    Ok(out)
}
