//! Which metrics a task computes (its `metric_list`, or lm-eval's defaults for
//! its output type), and each sample's values of them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::metrics::{self, ExactMatchOptions, SampleValue};
use crate::tasks::records::Response;

use super::requests::{DocPlan, gold_index};

/// A task's metric: name, aggregation, direction, and exact_match's options.
pub(super) struct TaskMetric {
    pub(super) name: String,
    pub(super) aggregation: String,
    pub(super) higher_is_better: bool,
    pub(super) exact_match: ExactMatchOptions,
}

/// lm-eval's default metrics of an output type when `metric_list` is absent
/// (`DEFAULT_METRIC_REGISTRY`).
pub fn default_metrics(output_type: OutputType) -> &'static [&'static str] {
    use OutputType::*;
    match output_type {
        MultipleChoice => &["acc", "acc_norm"],
        Loglikelihood => &["perplexity", "acc"],
        LoglikelihoodRolling => &["word_perplexity", "byte_perplexity", "bits_per_byte"],
        GenerateUntil => &["exact_match"],
    }
}

pub(super) fn task_metrics(config: &TaskConfig) -> Result<Vec<TaskMetric>> {
    let unsupported = |name: &str| Error::Input(format!("task {}: metric `{name}` is not supported", config.task));
    let applies = |name: &str| -> Result<()> {
        let ok = match config.output_type {
            OutputType::MultipleChoice => matches!(name, "acc" | "acc_norm" | "acc_bytes" | "exact_match" | "f1" | "mcc"),
            OutputType::Loglikelihood => matches!(name, "acc" | "perplexity"),
            OutputType::LoglikelihoodRolling => matches!(name, "word_perplexity" | "byte_perplexity" | "bits_per_byte"),
            OutputType::GenerateUntil => name == "exact_match",
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Input(format!(
                "task {}: metric `{name}` does not apply to output_type {:?}",
                config.task, config.output_type
            )))
        }
    };
    match &config.metric_list {
        None => default_metrics(config.output_type)
            .iter()
            .map(|&n| {
                let m = metrics::metric(n).ok_or_else(|| unsupported(n))?;
                Ok(TaskMetric {
                    name: n.to_string(),
                    aggregation: m.default_aggregation.to_string(),
                    higher_is_better: m.higher_is_better,
                    exact_match: ExactMatchOptions::default(),
                })
            })
            .collect(),
        Some(list) => list
            .iter()
            .map(|mc| {
                let m = metrics::metric(&mc.metric).ok_or_else(|| unsupported(&mc.metric))?;
                applies(&mc.metric)?;
                Ok(TaskMetric {
                    name: mc.metric.clone(),
                    aggregation: mc.aggregation.clone().unwrap_or_else(|| m.default_aggregation.to_string()),
                    higher_is_better: mc.higher_is_better.unwrap_or(m.higher_is_better),
                    exact_match: mc.exact_match_options(),
                })
            })
            .collect(),
    }
}

fn argmax(xs: &[f64]) -> i64 {
    // numpy's argmax: the first maximum.
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best as i64
}

/// lm-eval's `count_words`: `len(re.split(r"\s+", text))`, i.e. the runs of
/// whitespace plus one (Python's `\s` is `str.isspace`: Unicode White_Space
/// and the separators U+001C..U+001F).
pub fn count_words(text: &str) -> usize {
    let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let mut runs = 0;
    let mut in_run = false;
    for c in text.chars() {
        let s = is_space(c);
        if s && !in_run {
            runs += 1;
        }
        in_run = s;
    }
    runs + 1
}

pub(super) fn sample_metrics(
    task: &TaskConfig,
    task_metrics: &[TaskMetric],
    plan: &DocPlan,
    resps: &[Response],
) -> std::result::Result<BTreeMap<String, SampleValue>, String> {
    let mut out = BTreeMap::new();
    match task.output_type {
        OutputType::MultipleChoice => {
            let choices = plan.choices.as_deref().unwrap_or_default();
            let lls: Vec<f64> = resps.iter().filter_map(Response::logprob).collect();
            let greedy: Vec<bool> = resps.iter().map(|r| matches!(r, Response::Loglikelihood { is_greedy: true, .. })).collect();
            let pred = argmax(&lls);
            // acc_norm divides by the choice's length in characters (Python len()),
            // acc_bytes by its UTF-8 bytes; neither counts the target delimiter.
            let by_chars: Vec<f64> = lls.iter().zip(choices).map(|(l, c)| l / c.chars().count() as f64).collect();
            let by_bytes: Vec<f64> = lls.iter().zip(choices).map(|(l, c)| l / c.len() as f64).collect();
            let (pred_norm, pred_bytes) = (argmax(&by_chars), argmax(&by_bytes));
            let gold = plan.gold;
            let hit = |p: i64| if p == gold { 1.0 } else { 0.0 };
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "acc" => SampleValue::Score(hit(pred)),
                    "acc_norm" => SampleValue::Score(hit(pred_norm)),
                    "acc_bytes" => SampleValue::Score(hit(pred_bytes)),
                    "exact_match" => SampleValue::Score(if greedy[gold as usize] { 1.0 } else { 0.0 }),
                    "f1" | "mcc" => SampleValue::GoldPred(gold, pred),
                    other => return Err(format!("metric `{other}` does not apply to multiple_choice")),
                };
                out.insert(m.name.clone(), v);
            }
        }
        OutputType::Loglikelihood => {
            let (ll, greedy) = match resps.first() {
                Some(Response::Loglikelihood { logprob, is_greedy }) => (*logprob, *is_greedy),
                _ => return Err("no log-likelihood".into()),
            };
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "perplexity" => SampleValue::Score(ll),
                    "acc" => SampleValue::Score(greedy as u8 as f64),
                    other => return Err(format!("metric `{other}` does not apply to loglikelihood")),
                };
                out.insert(m.name.clone(), v);
            }
        }
        OutputType::LoglikelihoodRolling => {
            let ll = resps.first().and_then(Response::logprob).ok_or("no log-likelihood")?;
            let text = plan.target.as_str().unwrap_or_default();
            let (words, bytes) = (count_words(text) as f64, text.len() as f64);
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "word_perplexity" => SampleValue::Weighted(ll, words),
                    "byte_perplexity" | "bits_per_byte" => SampleValue::Weighted(ll, bytes),
                    other => return Err(format!("metric `{other}` does not apply to loglikelihood_rolling")),
                };
                out.insert(m.name.clone(), v);
            }
        }
        OutputType::GenerateUntil => {
            let generated = match resps.first() {
                Some(Response::Generated { text }) => text.as_str(),
                _ => return Err("no generation".into()),
            };
            // With doc_to_choice the target is an index into the choices.
            let gold = match (&plan.choices, &plan.target) {
                (Some(c), t) => c[gold_index(t, c)? as usize].clone(),
                (None, Value::String(s)) => s.clone(),
                (None, other) => return Err(format!("target {other} is not a string")),
            };
            for m in task_metrics {
                let v = match m.name.as_str() {
                    "exact_match" => SampleValue::Score(metrics::exact_match(generated, &gold, &m.exact_match).map_err(|e| e.to_string())?),
                    other => return Err(format!("metric `{other}` does not apply to generate_until")),
                };
                out.insert(m.name.clone(), v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_python_re_split() {
        // len(re.split(r"\s+", s)) for each s
        assert_eq!(count_words("a b"), 2);
        assert_eq!(count_words(" a  b\n"), 4);
        assert_eq!(count_words(""), 1);
        assert_eq!(count_words("a\u{1f}b\u{a0}c"), 3);
    }
}
