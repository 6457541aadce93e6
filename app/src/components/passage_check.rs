//! Contamination's "Check a passage": one text scored step by step (the page
//! stays responsive), its detection scores and its tokens' heat map.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::TextScores;

use super::AppState;
use super::column_heads::ColumnHeads;
use super::run_state::RunState;
use super::token_view::TokenView;
use crate::contamination::passage_scores;
use crate::runs::{Outcome, TextProgress, score_text};

#[component]
pub fn PassageCheck() -> impl IntoView {
    let state = expect_context::<AppState>();
    let text = RwSignal::new("The little dog ran to the park. It was a sunny day.".to_string());
    let k = RwSignal::new(String::from("0.2"));
    let run = RwSignal::new(RunState::Idle);
    let finished_runs = RwSignal::new(0u32);
    let result = RwSignal::new(None::<TextScores>);
    let cancel = StoredValue::new_local(Rc::new(Cell::new(false)));
    let k_value = move || k.get().trim().parse::<f64>().ok().filter(|v| *v > 0.0 && *v <= 1.0).unwrap_or(0.2);

    let start = move |_| {
        let Some(m) = state.target.model_untracked() else { return };
        // Small steps on the CPU, which shares the page's thread; larger on the GPU.
        let segment_len = match state.backend.get_untracked().map(|b| b.short_name()) {
            Some("webgpu") => 128,
            _ => 32,
        };
        let flag = Rc::new(Cell::new(false));
        cancel.set_value(flag.clone());
        run.set(RunState::Running("starting…".into()));
        state.busy.set(true);
        let input = text.get_untracked();
        spawn_local(async move {
            let on_progress = move |p: TextProgress| {
                let rate = if p.seconds > 0.0 { p.tokens_done as f64 / p.seconds } else { 0.0 };
                run.set(RunState::Running(format!("{}/{} tokens · {rate:.0} tokens/s", p.tokens_done, p.tokens_total)));
            };
            let state_after = match score_text(&m, &input, segment_len, flag, on_progress).await {
                Ok(Outcome::Done(scores)) => {
                    let n = scores.tokens.len();
                    result.set(Some(scores));
                    RunState::Done(format!("scored {n} tokens"))
                }
                Ok(Outcome::Cancelled) => RunState::Cancelled,
                Err(e) => RunState::Failed(e),
            };
            run.set(state_after);
            state.busy.set(false);
            finished_runs.update(|n| *n += 1);
        });
    };
    let stop = move |_| cancel.get_value().set(true);
    let running = move || matches!(run.get(), RunState::Running(_));
    view! {
        <section class="card" aria-labelledby="score-title">
            <h2 id="score-title">"Check a passage"</h2>
            <label for="text-input">"Text to score"</label>
            <textarea
                id="text-input"
                data-testid="text-input"
                rows="4"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <div class="actions">
                <label class="inline">"k" <input type="number" step="0.05" min="0.05" max="1" data-testid="passage-k" prop:value=move || k.get() on:input=move |ev| k.set(event_target_value(&ev)) /></label>
                <button data-testid="score-button" on:click=start disabled=move || state.target.model().is_none() || running() || state.busy.get()>
                    "Score"
                </button>
                <button data-testid="cancel-button" on:click=stop disabled=move || !running()>
                    "Cancel"
                </button>
                <span data-testid="run-status" data-finished-runs=move || finished_runs.get().to_string() role="status" aria-live="polite">
                    {move || run.get().text()}
                </span>
            </div>
            {move || result.get().map(|scores| {
                let kv = k_value();
                let detection = passage_scores(&scores.text, &scores, kv);
                view! {
                    <table data-testid="passage-scores">
                        <ColumnHeads names=&["method", "score (higher = more likely seen)"] />
                        <tbody>
                            {detection.into_iter().map(|(m, s)| view! {
                                <tr data-method=m.name() data-score=s.as_ref().map(|x| x.to_string()).unwrap_or_default()>
                                    <td>{m.name()}</td>
                                    <td>{match &s { Ok(x) => format!("{x:.4}"), Err(e) => e.clone() }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <TokenView scores=scores k=kv table=true />
                }
            })}
        </section>
    }
}
