//! Metrics and aggregations, in one specification, as lm-eval-harness defines
//! and computes them.
//!
//! [`METRICS`] says, for every metric tinyeval computes, which output types it
//! applies to, what one sample contributes (a function of the doc's responses,
//! in `per_sample`), its default aggregation and whether higher is better;
//! [`AGGREGATIONS`] says, for every aggregation, its function (in
//! `aggregations`) and whether its standard error is bootstrapped. A task
//! YAML is checked against both when it is parsed ([`check_metric`]); the
//! evaluator looks everything up here and knows nothing about any task.

use serde::Serialize;

use crate::tasks::output_type::OutputType;

mod aggregations;
mod per_sample;

pub use aggregations::{
    Aggregation, Uncertainty, bits_per_byte, bootstrap_replicates, f1, matthews_corrcoef, mean, perplexity, uncertainty, weighted_perplexity,
};
pub use per_sample::{ExactMatchOptions, count_words, exact_match};

/// What one sample contributes to a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SampleValue {
    Score(f64),
    /// `(gold, pred)`, for f1 and mcc.
    GoldPred(i64, i64),
    /// `(loglikelihood, words or bytes)`, for the rolling perplexities.
    Weighted(f64, f64),
}

/// What a doc's responses say, for the per-sample functions.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub output_type: OutputType,
    /// multiple_choice: each choice's log-likelihood; loglikelihood and
    /// loglikelihood_rolling: the one continuation's.
    pub logprobs: &'a [f64],
    /// Whether each continuation is the greedy one.
    pub greedy: &'a [bool],
    /// multiple_choice: the choices' texts.
    pub choices: &'a [String],
    /// multiple_choice: the gold choice's index.
    pub gold: i64,
    /// loglikelihood_rolling: the scored text; generate_until: the generation.
    pub text: &'a str,
    /// generate_until: the gold answer.
    pub gold_text: &'a str,
    pub exact_match: &'a ExactMatchOptions,
}

/// One metric (see the module's documentation).
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    pub name: &'static str,
    pub output_types: &'static [OutputType],
    pub per_sample: fn(&Sample) -> Result<SampleValue, String>,
    pub default_aggregation: &'static str,
    pub higher_is_better: bool,
}

/// One aggregation (see the module's documentation).
#[derive(Debug, Clone, Copy)]
pub struct AggregationSpec {
    pub name: &'static str,
    pub function: Aggregation,
    /// Standard error by lm-eval's bootstrap (else the mean's sd / √n, or none).
    pub bootstrapped: bool,
}

use OutputType::{GenerateUntil, Loglikelihood, LoglikelihoodRolling, MultipleChoice};

/// lm-eval's registered metrics that tinyeval computes (`lm_eval/api/metrics.py`).
pub const METRICS: &[MetricSpec] = &[
    MetricSpec { name: "acc", output_types: &[MultipleChoice, Loglikelihood], per_sample: per_sample::acc, default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "acc_norm", output_types: &[MultipleChoice], per_sample: per_sample::acc_norm, default_aggregation: "mean", higher_is_better: true },
    MetricSpec { name: "acc_bytes", output_types: &[MultipleChoice], per_sample: per_sample::acc_bytes, default_aggregation: "mean", higher_is_better: true },
    MetricSpec {
        name: "exact_match",
        output_types: &[MultipleChoice, GenerateUntil],
        per_sample: per_sample::exact_match_sample,
        default_aggregation: "mean",
        higher_is_better: true,
    },
    MetricSpec { name: "mcc", output_types: &[MultipleChoice], per_sample: per_sample::gold_pred, default_aggregation: "matthews_corrcoef", higher_is_better: true },
    MetricSpec { name: "f1", output_types: &[MultipleChoice], per_sample: per_sample::gold_pred, default_aggregation: "f1", higher_is_better: true },
    MetricSpec { name: "perplexity", output_types: &[Loglikelihood], per_sample: per_sample::loglikelihood, default_aggregation: "perplexity", higher_is_better: false },
    MetricSpec {
        name: "word_perplexity",
        output_types: &[LoglikelihoodRolling],
        per_sample: per_sample::per_word,
        default_aggregation: "weighted_perplexity",
        higher_is_better: false,
    },
    MetricSpec {
        name: "byte_perplexity",
        output_types: &[LoglikelihoodRolling],
        per_sample: per_sample::per_byte,
        default_aggregation: "weighted_perplexity",
        higher_is_better: false,
    },
    MetricSpec {
        name: "bits_per_byte",
        output_types: &[LoglikelihoodRolling],
        per_sample: per_sample::per_byte,
        default_aggregation: "bits_per_byte",
        higher_is_better: false,
    },
];

/// lm-eval's aggregations. lm-eval bootstraps `matthews_corrcoef`, `f1` and
/// `perplexity` (`stderr_for_metric`) and reports "N/A" for
/// `weighted_perplexity` and `bits_per_byte`; tinyeval bootstraps those two
/// the same way, so that every perplexity has an error bar.
pub const AGGREGATIONS: &[AggregationSpec] = &[
    AggregationSpec { name: "mean", function: mean, bootstrapped: false },
    AggregationSpec { name: "matthews_corrcoef", function: matthews_corrcoef, bootstrapped: true },
    AggregationSpec { name: "f1", function: f1, bootstrapped: true },
    AggregationSpec { name: "perplexity", function: perplexity, bootstrapped: true },
    AggregationSpec { name: "weighted_perplexity", function: weighted_perplexity, bootstrapped: true },
    AggregationSpec { name: "bits_per_byte", function: bits_per_byte, bootstrapped: true },
];

/// The metric named `name`, if supported.
pub fn metric(name: &str) -> Option<&'static MetricSpec> {
    METRICS.iter().find(|m| m.name == name)
}

/// The aggregation named `name`, if supported.
pub fn aggregation(name: &str) -> Option<&'static AggregationSpec> {
    AGGREGATIONS.iter().find(|a| a.name == name)
}

/// lm-eval's default metrics of an output type when `metric_list` is absent
/// (`DEFAULT_METRIC_REGISTRY`).
pub fn default_metrics(output_type: OutputType) -> &'static [&'static str] {
    match output_type {
        MultipleChoice => &["acc", "acc_norm"],
        Loglikelihood => &["perplexity", "acc"],
        LoglikelihoodRolling => &["word_perplexity", "byte_perplexity", "bits_per_byte"],
        GenerateUntil => &["exact_match"],
    }
}

/// Why `metric` (aggregated by `aggregation`, or its default) cannot serve a
/// task of `output_type`, if it cannot.
pub fn check_metric(metric_name: &str, aggregation_name: Option<&str>, output_type: OutputType) -> Result<&'static MetricSpec, String> {
    let m = metric(metric_name).ok_or_else(|| {
        let known: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        format!("metric `{metric_name}` is not supported (supported: {})", known.join(", "))
    })?;
    if !m.output_types.contains(&output_type) {
        let types: Vec<String> = m.output_types.iter().map(|t| format!("{t:?}")).collect();
        return Err(format!("metric `{metric_name}` does not apply to output_type {output_type:?} (only to {})", types.join(", ")));
    }
    if let Some(a) = aggregation_name
        && aggregation(a).is_none()
    {
        let known: Vec<&str> = AGGREGATIONS.iter().map(|a| a.name).collect();
        return Err(format!("aggregation `{a}` is not supported (supported: {})", known.join(", ")));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_metric_and_aggregation_is_specified() {
        for t in [MultipleChoice, Loglikelihood, LoglikelihoodRolling, GenerateUntil] {
            for name in default_metrics(t) {
                let m = check_metric(name, None, t).unwrap();
                assert!(aggregation(m.default_aggregation).is_some(), "{name}");
            }
        }
        let err = check_metric("perplexity", None, MultipleChoice).unwrap_err();
        assert!(err.contains("does not apply to output_type MultipleChoice"), "{err}");
        assert!(check_metric("acc", Some("median"), MultipleChoice).unwrap_err().contains("aggregation `median`"));
    }
}
