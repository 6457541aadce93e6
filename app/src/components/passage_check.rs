//! Contamination's "Check a passage": one text scored step by step (the page
//! stays responsive), its detection scores and its tokens' heat map.

use leptos::prelude::*;
use tinyeval_core::TextScores;

use super::AppState;
use super::column_heads::ColumnHeads;
use super::job_status::JobStatusLine;
use super::token_view::TokenView;
use crate::contamination::passage_scores;
use crate::job::Job;
use crate::runs::{TextProgress, score_text};
use crate::job::Outcome;

#[component]
pub fn PassageCheck() -> impl IntoView {
    let state = expect_context::<AppState>();
    let text = RwSignal::new("The little dog ran to the park. It was a sunny day.".to_string());
    let k = RwSignal::new(String::from("0.2"));
    let job = Job::<String>::new(state.busy);
    let result = RwSignal::new(None::<TextScores>);
    let k_value = move || k.get().trim().parse::<f64>().ok().filter(|v| *v > 0.0 && *v <= 1.0).unwrap_or(0.2);

    let start = move |_| {
        let Some(m) = state.target.model_untracked() else { return };
        // Small steps on the CPU, which shares the page's thread; larger on the GPU.
        let segment_len = match state.backend.get_untracked().map(|b| b.short_name()) {
            Some("webgpu") => 128,
            _ => 32,
        };
        let input = text.get_untracked();
        job.start(move |ctx| async move {
            let on_progress = |p: TextProgress| {
                let rate = if p.seconds > 0.0 { p.tokens_done as f64 / p.seconds } else { 0.0 };
                ctx.progress(format!("{}/{} tokens · {rate:.0} tokens/s", p.tokens_done, p.tokens_total));
            };
            let Outcome::Done(scores) = score_text(&m, &input, segment_len, ctx.cancel_flag(), on_progress).await? else {
                return Ok(Outcome::Cancelled);
            };
            let n = scores.tokens.len();
            result.set(Some(scores));
            Ok(Outcome::Done(format!("scored {n} tokens")))
        });
    };
    let running = move || job.running();
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
                <button data-testid="cancel-button" on:click=move |_| job.cancel() disabled=move || !running()>
                    "Cancel"
                </button>
                <JobStatusLine job=job testid="run-status" />
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
