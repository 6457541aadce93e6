//! What leaves the page: results JSON in lm-eval-harness's layout, CSV, charts
//! as SVG and PNG, and permalinks. A run's summary (settings and aggregate
//! numbers, never the user's texts) is what Compare shows and a permalink carries.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tinyeval_core::tasks::TaskResult;
use tinyeval_core::tasks::run_record::{RunRecord, benchmark_results_json};
use wasm_bindgen::JsValue;

use crate::browser::fetch::js_error;
use tinyeval_core::finetune::{FinetuneRun, run_name};
use tinyeval_core::probe::{MetricEstimate, ProbeRun};
use crate::runs::DetectionRun;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub num_fewshot: Option<usize>,
    pub limit: Option<usize>,
    pub batch_size: usize,
    pub seed: i64,
    /// How responses were sampled (Leaner-Eval runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<Sampling>,
}

/// A generating run's sampling settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    pub max_new_tokens: usize,
    pub temperature: f32,
    pub top_p: f32,
}

impl Settings {
    /// One line for Compare's column heading.
    pub fn describe(&self) -> String {
        let shots = self.num_fewshot.map(|k| k.to_string()).unwrap_or("task default".into());
        let limit = self.limit.map(|l| l.to_string()).unwrap_or("none".into());
        let mut out = format!("k={shots} · limit {limit} · seed {}", self.seed);
        if let Some(g) = &self.generation {
            out += &format!(" · {} new tokens, temperature {}, top-p {}", g.max_new_tokens, g.temperature, g.top_p);
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    pub task: String,
    pub metric: String,
    pub value: f64,
    pub stderr: Option<f64>,
}

/// A benchmark run's aggregate results: what Compare shows and a permalink carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub label: String,
    pub model: String,
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub settings: Option<Settings>,
    pub metrics: Vec<MetricSummary>,
}

impl RunSummary {
    pub fn from_results(label: String, model: String, backend: String, settings: Settings, results: &[TaskResult]) -> Self {
        let metrics = results
            .iter()
            .flat_map(|r| {
                r.metrics.iter().map(|(name, m)| MetricSummary {
                    task: r.task.clone(),
                    metric: name.clone(),
                    value: m.value,
                    stderr: m.stderr,
                })
            })
            .collect();
        RunSummary { label, model, backend, settings: Some(settings), metrics }
    }

    /// The linear probe's metrics: one row per probed task, split and metric,
    /// the task named `{task} {split}` as an import of `tinyeval probe`'s
    /// results file names it.
    pub fn probe_metrics(results: &[ProbeRun]) -> Vec<MetricSummary> {
        results.iter().flat_map(|r| r.splits.iter().flat_map(move |s| split_metrics(&r.task.run_name(), &s.split, &s.metrics))).collect()
    }

    /// Fine-tuning's metrics (the chosen configuration's), named as the probe's are:
    /// `leaner_glue_finetune_{task} {split}`.
    pub fn finetune_metrics(results: &[FinetuneRun]) -> Vec<MetricSummary> {
        results.iter().flat_map(|r| r.chosen().splits.iter().flat_map(move |s| split_metrics(&run_name(r.task), &s.split, &s.metrics))).collect()
    }

    /// An lm-eval-harness results JSON (`results` → task → `"acc,none"`, `"acc_stderr,none"`…).
    pub fn from_lm_eval(file: &str, bytes: &[u8]) -> Result<Self, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("{file}: invalid JSON: {e}"))?;
        let results = v
            .get("results")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{file}: no `results` object (is it an lm-eval-harness results file?)"))?;
        let mut metrics = Vec::new();
        for (task, r) in results {
            let Some(r) = r.as_object() else { continue };
            for (key, value) in r {
                let Some((name, filter)) = key.split_once(',') else { continue };
                // `n` (the probe's item count) is not a metric.
                if name.ends_with("_stderr") || name == "n" {
                    continue;
                }
                let Some(value) = value.as_f64() else { continue };
                let stderr = r.get(&format!("{name}_stderr,{filter}")).and_then(Value::as_f64);
                // A filter other than `none` (the probe's split) tells rows of one task apart.
                let task = if filter == "none" { task.clone() } else { format!("{task} {filter}") };
                metrics.push(MetricSummary { task, metric: name.to_string(), value, stderr });
            }
        }
        if metrics.is_empty() {
            return Err(format!("{file}: `results` has no numeric metrics"));
        }
        let model = v
            .get("model_name")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/config/model_args").and_then(Value::as_str))
            .unwrap_or(file)
            .to_string();
        Ok(RunSummary { label: file.to_string(), model, backend: String::new(), settings: None, metrics })
    }
}

/// One split's metrics as Compare's rows (`{task} {split}`).
fn split_metrics(task: &str, split: &str, metrics: &[MetricEstimate]) -> Vec<MetricSummary> {
    let task = format!("{task} {split}");
    metrics.iter().map(|m| MetricSummary { task: task.clone(), metric: m.metric.name().to_string(), value: m.value, stderr: m.stderr }).collect()
}

/// lm-eval-harness's results layout for the tasks of a run and the built-in
/// groups all of whose tasks ran, with the run's `config` block: core's
/// [`benchmark_results_json`], which `tinyeval run` writes too.
pub fn results_json(results: &[TaskResult], model: &str, backend: &str, settings: &Settings) -> Value {
    let record = RunRecord {
        model: model.to_string(),
        device: backend.to_string(),
        batch_size: settings.batch_size,
        limit: settings.limit.map(|l| l as f64),
        num_fewshot: settings.num_fewshot,
        fewshot_seed: settings.seed,
        bootstrap_iters: tinyeval_core::tasks::evaluator::DEFAULT_BOOTSTRAP_ITERS,
        date: Some(js_sys::Date::now() / 1000.0),
    };
    benchmark_results_json(results, &crate::suites::complete_groups(results), &record)
}

/// A CSV field, quoted where it must be. A text a spreadsheet would take for a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return first, and not a
/// number) gets a leading `'`, so opening the export runs nothing (OWASP's
/// advice against CSV injection): task names and texts come from the user's files.
pub fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// `task,metric,value,stderr,n` rows.
pub fn results_csv(results: &[TaskResult]) -> String {
    let mut out = String::from("task,metric,value,stderr,n\n");
    for r in results {
        for (name, m) in &r.metrics {
            let stderr = m.stderr.map(|s| s.to_string()).unwrap_or_default();
            out += &format!("{},{},{},{stderr},{}\n", csv_field(&r.task), csv_field(name), m.value, r.samples.len());
        }
    }
    out
}

/// A chart's SVG as a standalone file: `currentColor` resolved to `ink`, on `paper`.
pub fn standalone_svg(svg: &str, ink: &str, paper: &str) -> String {
    let svg = svg.replace("currentColor", ink);
    let svg = svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"400\" ", 1);
    match svg.find("<title>") {
        Some(at) => format!("{}<rect width=\"100%\" height=\"100%\" fill=\"{paper}\"/>{}", &svg[..at], &svg[at..]),
        None => svg,
    }
}

/// What a permalink carries: the view, and the runs' settings and aggregate
/// results (benchmark runs; membership checks' AUROCs and ROC curves), never
/// a text or a key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Permalink {
    pub view: String,
    #[serde(default)]
    pub runs: Vec<RunSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detections: Vec<DetectionRun>,
}

impl Permalink {
    /// A link that opens Compare with `runs` and `detections`.
    pub fn compare(runs: Vec<RunSummary>, detections: &[DetectionRun]) -> Self {
        Permalink { view: "compare".into(), runs, detections: detections.iter().map(DetectionRun::for_link).collect() }
    }
}

/// The page's URL with `link` in its hash (so any static host serves it).
pub fn permalink_url(link: &Permalink) -> Result<String, String> {
    let location = web_sys::window().ok_or("no window")?.location();
    let href = location.href().map_err(|e| js_error(&e))?;
    let base = href.split('#').next().unwrap_or(&href).to_string();
    let json = serde_json::to_string(link).map_err(|e| e.to_string())?;
    Ok(format!("{base}#share={}", String::from(js_sys::encode_uri_component(&json))))
}

/// The permalink in the page's hash, if any.
pub fn permalink_from_page() -> Option<Result<Permalink, String>> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let encoded = hash.strip_prefix("#share=")?;
    let json = js_sys::decode_uri_component(encoded)
        .map(String::from)
        .map_err(|e: JsValue| format!("the link is damaged ({})", js_error(&e)));
    Some(json.and_then(|j| serde_json::from_str(&j).map_err(|e| format!("the link is damaged ({e})"))))
}
