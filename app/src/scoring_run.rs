//! Scoring a text in the browser without freezing the page: one context
//! window per step, yielding to the event loop between steps.

use std::cell::Cell;
use std::rc::Rc;

use tinyeval_core::scoring::score_batch;
use tinyeval_core::{LanguageModel, TextScores};

pub struct Progress {
    pub windows_done: usize,
    pub windows_total: usize,
    pub tokens_done: usize,
    pub seconds: f64,
}

pub enum Outcome {
    Done(TextScores),
    Cancelled,
}

fn now_seconds() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() / 1000.0)
        .unwrap_or(0.0)
}

/// Scores `text`, calling `on_progress` after each window; stops early once `cancel` is set.
pub async fn score_text(
    model: &LanguageModel,
    text: &str,
    cancel: Rc<Cell<bool>>,
    mut on_progress: impl FnMut(Progress),
) -> Result<Outcome, String> {
    let started = now_seconds();
    let plan = model.plan_text(text).map_err(|e| e.to_string())?;
    let total = plan.requests.len();
    let mut scores = Vec::with_capacity(total);
    let mut tokens_done = 0;
    for (i, request) in plan.requests.iter().enumerate() {
        // Let the browser handle input and paint before the next window.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if cancel.get() {
            return Ok(Outcome::Cancelled);
        }
        let mut s = score_batch(&model.decoder, std::slice::from_ref(request))
            .await
            .map_err(|e| e.to_string())?;
        tokens_done += request.continuation.len();
        scores.push(s.remove(0));
        on_progress(Progress {
            windows_done: i + 1,
            windows_total: total,
            tokens_done,
            seconds: now_seconds() - started,
        });
    }
    Ok(Outcome::Done(model.finish_text(plan, scores)))
}
