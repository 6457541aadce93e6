//! Scoring a text in the browser without freezing the page: the model runs a
//! few dozen tokens at a time (through its key/value cache), and the page gets
//! the event loop back between steps to handle clicks and paint.

use std::cell::Cell;
use std::rc::Rc;

use tinyeval_core::scoring::score_segmented;
use tinyeval_core::{Error, LanguageModel, TextScores};

pub struct Progress {
    pub tokens_done: usize,
    pub tokens_total: usize,
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

/// Scores `text`, `segment_len` tokens per step, calling `on_progress` after each
/// step; stops at the next step once `cancel` is set.
pub async fn score_text(
    model: &LanguageModel,
    text: &str,
    segment_len: usize,
    cancel: Rc<Cell<bool>>,
    on_progress: impl Fn(Progress),
) -> Result<Outcome, String> {
    let started = now_seconds();
    let plan = model.plan_text(text).map_err(|e| e.to_string())?;
    let tokens_total = plan.tokens.len().saturating_sub(1);
    let done = Cell::new(0usize);
    let mut scores = Vec::with_capacity(plan.requests.len());
    for request in &plan.requests {
        let pause = || {
            let cancel = cancel.clone();
            async move {
                // A zero-delay timeout yields to the browser's event loop.
                gloo_timers::future::TimeoutFuture::new(0).await;
                if cancel.get() { Err(Error::Cancelled) } else { Ok(()) }
            }
        };
        match score_segmented(&model.decoder, request, segment_len, pause).await {
            Ok(s) => {
                done.set(done.get() + s.logprobs.len());
                scores.push(s);
            }
            Err(Error::Cancelled) => return Ok(Outcome::Cancelled),
            Err(e) => return Err(e.to_string()),
        }
        on_progress(Progress {
            tokens_done: done.get(),
            tokens_total,
            seconds: now_seconds() - started,
        });
    }
    Ok(Outcome::Done(model.finish_text(plan, scores)))
}
