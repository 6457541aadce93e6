//! `leaner_glue_finetune` in the page: Leaner-GLUE's split files fetched from
//! the TinyHelen base URL, then core's [`run_finetune`] (the function
//! `tinyeval finetune` calls) with the browser's event loop given back and the
//! cancel flag read after every optimiser step. Each step's loss goes to the
//! caller as it comes (the live loss curves), with the pace so far.

use std::cell::Cell;

use tinyeval_core::finetune::{FinetuneOptions, FinetuneProgress, FinetuneRun, run_finetune};
use tinyeval_core::probe::ProbeTask;
use tinyeval_core::{Error, LanguageModel};

use crate::job::{Outcome, Progress, now_seconds, yield_now};
use crate::probe_run::fetch_splits;

/// Where a fine-tuning run is, with its pace.
#[derive(Clone, Debug, PartialEq)]
pub struct FinetuneStatus {
    pub step: FinetuneProgress,
    /// The grid point's learning rate and seed.
    pub learning_rate: f64,
    pub seed: u64,
    pub steps_per_second: f64,
    /// Seconds left for this task's whole grid, from this grid point's pace.
    pub eta_seconds: f64,
}

impl Progress for FinetuneStatus {
    fn describe(&self) -> String {
        let p = &self.step;
        format!(
            "fine-tuning {} · configuration {} of {} (lr {}, seed {}) · step {}/{} · loss {:.4} · {:.1} steps/s · about {} left",
            p.task,
            p.config + 1,
            p.configs,
            self.learning_rate,
            self.seed,
            p.step,
            p.steps,
            p.loss,
            self.steps_per_second,
            format_seconds(self.eta_seconds)
        )
    }
}

/// Seconds as `1 min 5 s` or `12 s`.
pub fn format_seconds(s: f64) -> String {
    if s >= 60.0 { format!("{} min {} s", (s / 60.0).floor(), (s % 60.0).round()) } else { format!("{s:.0} s") }
}

/// The grid point `config` of `options` (learning rates outer, seeds inner, as core trains them).
pub fn grid_point(options: &FinetuneOptions, config: usize) -> (f64, u64) {
    let seeds = options.seeds.len().max(1);
    (options.learning_rates[config / seeds], options.seeds[config % seeds])
}

/// Fine-tunes `task` on `model` over the options' grid; `on_step` gets every step.
pub async fn finetune_in_page(
    model: &LanguageModel,
    task: &'static ProbeTask,
    tinyhelen_base: &str,
    options: &FinetuneOptions,
    cancel: &Cell<bool>,
    on_step: impl Fn(FinetuneStatus),
) -> Result<Outcome<(FinetuneRun, f64)>, String> {
    let files = fetch_splits(task, tinyhelen_base).await?;
    let started = now_seconds();
    // The grid point being trained, when its first step ended, and the last pace seen.
    let clock = Cell::new((usize::MAX, started, 0.0f64));
    let result = run_finetune(model, task, &files, options, |p: FinetuneProgress| {
        let now = now_seconds();
        let (config, first_step_at, last_pace) = clock.get();
        let steps_per_second = if config != p.config {
            // A grid point's first step includes reading and encoding: the previous pace, if any, is the better guess.
            clock.set((p.config, now, last_pace));
            if last_pace > 0.0 { last_pace } else { 1.0 / (now - started).max(1e-9) }
        } else {
            let pace = (p.step - 1) as f64 / (now - first_step_at).max(1e-9);
            clock.set((config, first_step_at, pace));
            pace
        };
        let left = (p.steps - p.step) + (p.configs - p.config - 1) * p.steps;
        let (learning_rate, seed) = grid_point(options, p.config);
        on_step(FinetuneStatus { step: p, learning_rate, seed, steps_per_second, eta_seconds: left as f64 / steps_per_second });
        yield_now(cancel)
    })
    .await;
    match result {
        Ok(run) => Ok(Outcome::Done((run, now_seconds() - started))),
        Err(Error::Cancelled) => Ok(Outcome::Cancelled),
        Err(e) => Err(e.to_string()),
    }
}
