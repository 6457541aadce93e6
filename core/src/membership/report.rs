//! What a membership check found, and how it is written: per-item rows
//! (`scores.jsonl`) and a summary (`summary.json`), the same for the CLI and the page.

use serde::Serialize;
use serde_json::{Value, json};

use super::{BLIND_FLOOR, BLIND_MARGIN, BlindBaseline, CheckItem, CheckOptions, RECALL_SEPARATOR};
use crate::detection::Method;
use crate::error::Result;
use crate::language_model::TextScores;
use crate::statistics::{self, DetectionMetrics, Interval, detection_metrics};

/// One method's score of every item, or why it could not be scored.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodOutcome {
    pub method: Method,
    pub scores: std::result::Result<Vec<f64>, String>,
}

/// A method's (or the blind baseline's) ROC metrics on the labelled items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    pub name: String,
    #[serde(flatten)]
    pub metrics: DetectionMetrics,
    pub auroc_ci95: Option<Interval>,
}

/// AUROC against `k`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KSweep {
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    pub ks: Vec<f64>,
    /// NaN where the AUROC cannot be computed.
    pub aurocs: Vec<f64>,
}

fn method_name<S: serde::Serializer>(m: &Method, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(m.name())
}

/// One exposure count of the dose response: its items against the held-out ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoseRow {
    pub count: u32,
    pub members: usize,
    pub held_out: usize,
    /// `(method name, AUROC)` for every method that could be scored.
    pub aurocs: Vec<(String, f64)>,
}

#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The checked items (without ReCaLL's shots).
    pub items: Vec<CheckItem>,
    pub n_tokens: Vec<usize>,
    /// The target model's per-token scores of each item (the page's heat map).
    pub target: Vec<TextScores>,
    /// The non-members taken as ReCaLL's prefix and left out of the check.
    pub prefix_items: Vec<CheckItem>,
    pub outcomes: Vec<MethodOutcome>,
    /// Each scored method's metrics (labelled sets only), or why there are none.
    pub metrics: Vec<(Method, std::result::Result<MethodSummary, String>)>,
    pub k_sweep: Vec<KSweep>,
    pub blind: Option<std::result::Result<(BlindBaseline, MethodSummary), String>>,
    /// Set when the blind baseline does about as well as the best method.
    pub warning: Option<String>,
    pub dose: Vec<DoseRow>,
    pub k: f64,
    pub bootstrap: usize,
    pub seed: u64,
    pub dc_pdd_cap: Option<f64>,
}

/// The AUROC of `scores` on the items' labels; NaN when it cannot be computed.
pub(super) fn auroc_of(scores: &[f64], items: &[CheckItem]) -> f64 {
    let labels: Vec<bool> = items.iter().map(|i| i.member == Some(true)).collect();
    statistics::auroc(scores, &labels).unwrap_or(f64::NAN)
}

fn summarize(name: &str, scores: &[f64], labels: &[bool], o: &CheckOptions) -> std::result::Result<MethodSummary, String> {
    let metrics = detection_metrics(scores, labels).map_err(|e| e.to_string())?;
    let auroc_ci95 = if o.bootstrap > 0 {
        statistics::auroc_interval(scores, labels, o.bootstrap, o.seed, 0.95).map_err(|e| e.to_string())?
    } else {
        None
    };
    Ok(MethodSummary { name: name.to_string(), metrics, auroc_ci95 })
}

/// Each exposure count's items against the held-out items (`member` 0), per method.
fn dose_response(items: &[CheckItem], outcomes: &[MethodOutcome]) -> Vec<DoseRow> {
    let mut counts: Vec<u32> = items.iter().filter_map(|i| i.count).filter(|&c| c > 0).collect();
    counts.sort_unstable();
    counts.dedup();
    let held_out: Vec<usize> = (0..items.len()).filter(|&i| items[i].member == Some(false)).collect();
    counts
        .into_iter()
        .map(|count| {
            let group: Vec<usize> = (0..items.len()).filter(|&i| items[i].count == Some(count)).collect();
            let subset: Vec<usize> = group.iter().chain(&held_out).copied().collect();
            let labels: Vec<bool> = subset.iter().map(|&i| items[i].count == Some(count)).collect();
            let aurocs = outcomes
                .iter()
                .filter_map(|o| {
                    let scores = o.scores.as_ref().ok()?;
                    let s: Vec<f64> = subset.iter().map(|&i| scores[i]).collect();
                    Some((o.method.name().to_string(), statistics::auroc(&s, &labels).ok()?))
                })
                .collect();
            DoseRow { count, members: group.len(), held_out: held_out.len(), aurocs }
        })
        .collect()
}

pub(super) fn assemble(
    items: Vec<CheckItem>,
    target: Vec<TextScores>,
    prefix_items: Vec<CheckItem>,
    outcomes: Vec<MethodOutcome>,
    k_sweep: Vec<KSweep>,
    blind: Option<std::result::Result<BlindBaseline, String>>,
    o: &CheckOptions,
) -> Result<CheckReport> {
    let labelled = items.iter().all(|i| i.member.is_some());
    let labels: Vec<bool> = items.iter().map(|i| i.member == Some(true)).collect();
    let metrics = if labelled {
        outcomes
            .iter()
            .map(|out| (out.method, out.scores.clone().and_then(|s| summarize(out.method.name(), &s, &labels, o))))
            .collect()
    } else {
        Vec::new()
    };
    let blind = blind.map(|b| b.and_then(|b| Ok((b.clone(), summarize("blind", &b.scores, &labels, o)?))));
    let best = metrics.iter().filter_map(|(_, m)| m.as_ref().ok()).map(|m| m.metrics.auroc).fold(f64::NAN, f64::max);
    let warning = match &blind {
        Some(Ok((_, b))) if b.metrics.auroc >= BLIND_FLOOR && !(b.metrics.auroc < best - BLIND_MARGIN) => Some(format!(
            "the blind baseline, which never sees the model, reaches AUROC {:.3} against the best method's {:.3}: \
             members and non-members may differ in their words alone, so the methods' AUROC may not measure the model",
            b.metrics.auroc, best
        )),
        _ => None,
    };
    let dose = if labelled { dose_response(&items, &outcomes) } else { Vec::new() };
    let n_tokens = target.iter().map(|t| t.tokens.len()).collect();
    Ok(CheckReport {
        items,
        n_tokens,
        target,
        prefix_items,
        outcomes,
        metrics,
        k_sweep,
        blind,
        warning,
        dose,
        k: o.k,
        bootstrap: o.bootstrap,
        seed: o.seed,
        dc_pdd_cap: o.frequencies.as_ref().map(|_| o.dc_pdd_cap),
    })
}

fn finite_or_null(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

impl CheckReport {
    pub fn labelled(&self) -> bool {
        self.items.iter().all(|i| i.member.is_some())
    }

    /// The scores of the method `method`, if it was scored.
    pub fn scores(&self, method: Method) -> Option<&[f64]> {
        self.outcomes.iter().find(|o| o.method == method)?.scores.as_ref().ok().map(Vec::as_slice)
    }

    /// One JSON object per item: `index`, `id`, `member`, `count`, `n_tokens`,
    /// `scores` by method (NaN or infinite as null) and `blind` (the baseline's score).
    pub fn item_rows(&self) -> Vec<Value> {
        let blind = self.blind.as_ref().and_then(|b| b.as_ref().ok()).map(|(b, _)| &b.scores);
        (0..self.items.len())
            .map(|i| {
                let item = &self.items[i];
                let scores: serde_json::Map<String, Value> = self
                    .outcomes
                    .iter()
                    .filter_map(|o| Some((o.method.name().to_string(), finite_or_null(*o.scores.as_ref().ok()?.get(i)?))))
                    .collect();
                json!({
                    "index": i, "id": item.id, "member": item.member.map(u8::from), "count": item.count,
                    "n_tokens": self.n_tokens[i], "scores": scores, "blind": blind.map(|b| finite_or_null(b[i])),
                })
            })
            .collect()
    }

    /// The summary: options, every method's metrics (or error), the k sweep,
    /// the blind baseline and its warning, ReCaLL's prefix items and the dose response.
    pub fn summary(&self) -> Value {
        let methods: serde_json::Map<String, Value> = self
            .metrics
            .iter()
            .map(|(m, r)| {
                let v = match r {
                    Ok(s) => serde_json::to_value(s).unwrap_or(Value::Null),
                    Err(e) => json!({ "error": e }),
                };
                (m.name().to_string(), v)
            })
            .collect();
        let failed: serde_json::Map<String, Value> = self
            .outcomes
            .iter()
            .filter_map(|o| Some((o.method.name().to_string(), json!(o.scores.as_ref().err()?))))
            .collect();
        let blind = self.blind.as_ref().map(|b| match b {
            Ok((b, s)) => json!({
                "features": "bag of words (CountVectorizer defaults)", "classifier": "LogisticRegression(C=1)",
                "folds": b.folds, "seed": b.seed, "metrics": s,
            }),
            Err(e) => json!({ "error": e }),
        });
        let members = self.items.iter().filter(|i| i.member == Some(true)).count();
        json!({
            "n": self.items.len(),
            "positives": self.labelled().then_some(members),
            "k": self.k,
            "bootstrap": { "resamples": self.bootstrap, "seed": self.seed },
            "orientation": "higher score = more likely a member (seen in training)",
            "methods": methods,
            "errors": failed,
            "k_sweep": self.k_sweep.iter().map(|s| json!({
                "method": s.method.name(), "k": s.ks, "auroc": s.aurocs.iter().map(|&a| finite_or_null(a)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "blind_baseline": blind,
            "warning": self.warning,
            "recall_prefix": (!self.prefix_items.is_empty()).then(|| json!({
                "items": self.prefix_items.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
                "separator": RECALL_SEPARATOR,
            })),
            "dc_pdd_cap": self.dc_pdd_cap,
            "dose_response": self.dose,
        })
    }
}
