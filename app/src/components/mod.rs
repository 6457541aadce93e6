//! The page's components. State lives in signals owned by [`App`]; the
//! components below only show it and send the user's actions back.

mod model_panel;
mod token_view;

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::{LanguageModel, TextScores};

use crate::backend::{self, Backend};
use crate::model_loading::{ModelSource, load_model};
use crate::scoring_run::{Outcome, Progress, score_text};
use model_panel::ModelPanel;
use token_view::TokenView;

#[derive(Clone)]
pub enum ModelState {
    Loading(String),
    Ready(Rc<LanguageModel>),
    Failed(String),
}

#[derive(Clone, PartialEq)]
pub enum RunState {
    Idle,
    Running(String),
    Done(String),
    Cancelled,
    Failed(String),
}

#[component]
pub fn App() -> impl IntoView {
    let backend = RwSignal::new_local(None::<Backend>);
    let model = RwSignal::new_local(ModelState::Loading("choosing a backend…".into()));
    let text = RwSignal::new("The little dog ran to the park. It was a sunny day.".to_string());
    let run = RwSignal::new(RunState::Idle);
    // Finished runs, so that a reader (or a test) can tell a new result from the last one.
    let finished_runs = RwSignal::new(0u32);
    let result = RwSignal::new(None::<TextScores>);
    let cancel = StoredValue::new_local(Rc::new(Cell::new(false)));

    // Loads `source` on the chosen backend; the previous model stays usable until the new one is in.
    let load = move |source: ModelSource| {
        spawn_local(async move {
            let Some(chosen) = backend.get_untracked() else { return };
            model.set(ModelState::Loading(format!("loading {}…", source.describe())));
            model.set(match load_model(&source, &chosen.device).await {
                Ok(m) => ModelState::Ready(Rc::new(m)),
                Err(e) => ModelState::Failed(e),
            });
        });
    };

    spawn_local(async move {
        backend.set(Some(backend::choose(backend::requested_backend().as_deref()).await));
        load(ModelSource::from_page_url());
    });

    let start = move |_| {
        let ModelState::Ready(m) = model.get() else { return };
        // Small steps on the CPU, which shares the page's thread; larger on the GPU.
        let segment_len = match backend.get_untracked().map(|b| b.short_name()) {
            Some("webgpu") => 128,
            _ => 32,
        };
        let flag = Rc::new(Cell::new(false));
        cancel.set_value(flag.clone());
        run.set(RunState::Running("starting…".into()));
        let input = text.get_untracked();
        spawn_local(async move {
            let on_progress = move |p: Progress| {
                let rate = if p.seconds > 0.0 { p.tokens_done as f64 / p.seconds } else { 0.0 };
                run.set(RunState::Running(format!(
                    "{}/{} tokens · {rate:.0} tokens/s",
                    p.tokens_done, p.tokens_total
                )));
            };
            let state = match score_text(&m, &input, segment_len, flag, on_progress).await {
                Ok(Outcome::Done(scores)) => {
                    let n = scores.tokens.len();
                    result.set(Some(scores));
                    RunState::Done(format!("scored {n} tokens"))
                }
                Ok(Outcome::Cancelled) => RunState::Cancelled,
                Err(e) => RunState::Failed(e),
            };
            run.set(state);
            finished_runs.update(|n| *n += 1);
        });
    };
    let stop = move |_| cancel.get_value().set(true);
    let running = move || matches!(run.get(), RunState::Running(_));
    let ready = move || matches!(model.get(), ModelState::Ready(_));

    view! {
        <header>
            <h1>"tinyeval"</h1>
            <p class="tagline">"How good is a tiny language model, and has it seen its test data? Computed in your browser."</p>
        </header>
        <main>
            <ModelPanel backend=backend model=model on_load=Callback::new(move |url: String| load(ModelSource::Url(url))) busy=Signal::derive(running) />
            <section class="card" aria-labelledby="score-title">
                <h2 id="score-title">"Token log-probabilities"</h2>
                <label for="text-input">"Text to score"</label>
                <textarea
                    id="text-input"
                    data-testid="text-input"
                    rows="4"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
                <div class="actions">
                    <button data-testid="score-button" on:click=start disabled=move || !ready() || running()>
                        "Score"
                    </button>
                    <button data-testid="cancel-button" on:click=stop disabled=move || !running()>
                        "Cancel"
                    </button>
                    <span data-testid="run-status" data-finished-runs=move || finished_runs.get().to_string() role="status" aria-live="polite">
                        {move || match run.get() {
                            RunState::Idle => String::new(),
                            RunState::Running(s) => format!("Running: {s}"),
                            RunState::Done(s) => format!("Done: {s}"),
                            RunState::Cancelled => "Cancelled".to_string(),
                            RunState::Failed(e) => format!("Error: {e}"),
                        }}
                    </span>
                </div>
                {move || result.get().map(|scores| view! { <TokenView scores=scores /> })}
            </section>
        </main>
    }
}
