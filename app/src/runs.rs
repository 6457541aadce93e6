//! Long computations that keep the page responsive: benchmark tasks through
//! core's stepwise evaluator, and membership checks through core's `run_check`. Between
//! steps the browser gets its event loop back (clicks, painting) and a cancel
//! flag is checked.

use std::cell::Cell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use tinyeval_core::membership::{CheckItem, CheckOptions, CheckProgress, CheckReport, run_check};
use tinyeval_core::statistics::thin_curve;
use tinyeval_core::tasks::{EvalOptions, EvalProgress, TaskResult, evaluate_task_stepwise};
use tinyeval_core::{Error, LanguageModel, TextScores};

use crate::job::{Outcome, now_seconds, yield_now};
use crate::task_loading::LoadedTask;

/// Where a benchmark run is.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchProgress {
    pub task: String,
    /// 0-based index of the task being run, and how many there are.
    pub task_index: usize,
    pub task_count: usize,
    pub requests_done: usize,
    pub requests_total: usize,
    pub tokens_per_second: f64,
    /// Seconds left for this task, from its pace so far.
    pub eta_seconds: Option<f64>,
}


/// Runs `tasks` one after the other; `on_task_done` gets each result as it comes.
pub async fn run_benchmark(
    model: &LanguageModel,
    tasks: &[LoadedTask],
    options: EvalOptions,
    cancel: Rc<Cell<bool>>,
    on_progress: impl Fn(BenchProgress),
    on_task_done: impl Fn(TaskResult),
) -> Result<Outcome<()>, String> {
    for (task_index, task) in tasks.iter().enumerate() {
        let started = now_seconds();
        let name = task.config.task.clone();
        let report = |p: EvalProgress| {
            let seconds = (now_seconds() - started).max(1e-9);
            let pace = p.requests_done as f64 / seconds;
            on_progress(BenchProgress {
                task: name.clone(),
                task_index,
                task_count: tasks.len(),
                requests_done: p.requests_done,
                requests_total: p.requests_total,
                tokens_per_second: p.tokens_done as f64 / seconds,
                eta_seconds: (pace > 0.0).then(|| (p.requests_total - p.requests_done) as f64 / pace),
            });
        };
        on_progress(BenchProgress {
            task: name.clone(),
            task_index,
            task_count: tasks.len(),
            requests_done: 0,
            requests_total: 0,
            tokens_per_second: 0.0,
            eta_seconds: None,
        });
        if yield_now(&cancel).await.is_err() {
            return Ok(Outcome::Cancelled);
        }
        let cancel = cancel.clone();
        let result = evaluate_task_stepwise(model, &task.config, &task.docs, options, |p| {
            report(p);
            let cancel = cancel.clone();
            async move { yield_now(&cancel).await }
        })
        .await;
        match result {
            Ok(r) => on_task_done(r),
            Err(Error::Cancelled) => return Ok(Outcome::Cancelled),
            Err(e) => return Err(format!("task {name}: {e}")),
        }
    }
    Ok(Outcome::Done(()))
}

/// Runs core's membership check, giving the page its event loop back after
/// every forward pass; `on_progress` sees each pass's requests done.
pub async fn run_membership_check(
    model: &LanguageModel,
    reference: Option<&LanguageModel>,
    items: Vec<CheckItem>,
    options: &CheckOptions,
    cancel: Rc<Cell<bool>>,
    on_progress: impl Fn(CheckProgress),
) -> Result<Outcome<CheckReport>, String> {
    let result = run_check(model, reference, items, options, |p| {
        on_progress(p);
        let cancel = cancel.clone();
        async move { yield_now(&cancel).await }
    })
    .await;
    match result {
        Ok(report) => Ok(Outcome::Done(report)),
        Err(Error::Cancelled) => Ok(Outcome::Cancelled),
        Err(e) => Err(e.to_string()),
    }
}

/// Where the scoring of one text is.
pub struct TextProgress {
    pub tokens_done: usize,
    pub tokens_total: usize,
    pub seconds: f64,
}

/// Scores one text, `segment_len` tokens per step through the key/value cache
/// (so that even one long text leaves the page responsive), calling
/// `on_progress` after each request; stops at the next step once `cancel` is set.
pub async fn score_text(
    model: &LanguageModel,
    text: &str,
    segment_len: usize,
    cancel: Rc<Cell<bool>>,
    on_progress: impl Fn(TextProgress),
) -> Result<Outcome<TextScores>, String> {
    let started = now_seconds();
    let plan = model.plan_text(text).map_err(|e| e.to_string())?;
    let tokens_total = plan.tokens.len().saturating_sub(1);
    let mut tokens_done = 0;
    let mut scores = Vec::with_capacity(plan.requests.len());
    for request in &plan.requests {
        let pause = || {
            let cancel = cancel.clone();
            async move { yield_now(&cancel).await }
        };
        match tinyeval_core::scoring::score_segmented(&model.decoder, request, segment_len, pause).await {
            Ok(s) => {
                tokens_done += s.logprobs.len();
                scores.push(s);
            }
            Err(Error::Cancelled) => return Ok(Outcome::Cancelled),
            Err(e) => return Err(e.to_string()),
        }
        on_progress(TextProgress { tokens_done, tokens_total, seconds: now_seconds() - started });
    }
    Ok(Outcome::Done(model.finish_text(plan, scores)))
}

/// One method's result in a finished membership check, as Compare overlays it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodRoc {
    pub method: String,
    pub auroc: f64,
    pub tpr_at_1_fpr: f64,
    pub tpr_at_5_fpr: f64,
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
}

/// How far apart (in FPR or TPR) the points of a ROC curve a link carries are
/// at least: the curve drawn from the link is off by less than this anywhere,
/// and a curve of any length takes at most a few hundred points.
const LINK_ROC_STEP: f64 = 0.01;

/// `x` rounded to 4 decimals (a link's ROC points: finer is invisible).
fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// A finished membership check (Contamination), kept for Compare and carried
/// by permalinks: which model checked which texts (by name, never the texts),
/// how many were members, and the ROC of each method that could be scored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectionRun {
    pub model: String,
    /// What was checked: a task's name, or a labelled set's file name.
    pub texts: String,
    pub k: f64,
    pub members: usize,
    pub non_members: usize,
    pub methods: Vec<MethodRoc>,
}

impl DetectionRun {
    /// A finished check's methods (not the blind baseline, which never sees the model).
    pub fn new(model: &str, texts: &str, report: &CheckReport) -> Self {
        let methods = report
            .metrics
            .iter()
            .filter_map(|(method, s)| {
                let m = &s.as_ref().ok()?.metrics;
                Some(MethodRoc {
                    method: method.name().to_string(),
                    auroc: m.auroc,
                    tpr_at_1_fpr: m.tpr_at_1_fpr,
                    tpr_at_5_fpr: m.tpr_at_5_fpr,
                    fpr: m.roc.fpr.clone(),
                    tpr: m.roc.tpr.clone(),
                })
            })
            .collect();
        let members = crate::contamination::members(&report.items);
        Self { model: model.to_string(), texts: texts.to_string(), k: report.k, members, non_members: report.items.len() - members, methods }
    }

    /// How the run is named in Compare's table and legend.
    pub fn label(&self) -> String {
        format!("{} on {}", self.model, self.texts)
    }

    /// The run as a link carries it: the numbers exact, each ROC curve thinned
    /// (a check of thousands of texts would otherwise make a link of megabytes).
    pub fn for_link(&self) -> Self {
        let methods = self
            .methods
            .iter()
            .map(|m| {
                let (fpr, tpr) = thin_curve(&m.fpr, &m.tpr, LINK_ROC_STEP);
                MethodRoc { fpr: fpr.into_iter().map(round4).collect(), tpr: tpr.into_iter().map(round4).collect(), ..m.clone() }
            })
            .collect();
        Self { methods, ..self.clone() }
    }
}
