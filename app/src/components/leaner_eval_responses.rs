//! Leaner-Eval's results in the page: the means over the responses, and each
//! response as it streams in, with its metrics, the judge's scores and the
//! person's rating.

use leptos::prelude::*;
use tinyeval_core::judge::JudgeScores;
use tinyeval_core::leaner_eval::{CRITERIA, HumanRating, Question, Response, ScoredResponse, higher_is_better};

use super::column_heads::ColumnHeads;

#[derive(Clone, Debug, PartialEq)]
pub enum JudgeState {
    NotRun,
    Waiting,
    Scored(JudgeScores),
    Failed(String),
}

/// One question of the run, with what the page knows of its response so far.
#[derive(Clone)]
pub struct Row {
    /// Which run made the row (keys the list, so that a new run draws new rows).
    pub run: u32,
    pub doc_id: usize,
    pub question: Question,
    /// The response as it streams in.
    pub text: RwSignal<String>,
    /// Set once the response is finished, with its metrics.
    pub response: RwSignal<Option<Response>>,
    pub judge: RwSignal<JudgeState>,
    pub rating: RwSignal<HumanRating>,
}

/// The finished responses of `rows` with their scores (tracked).
pub fn scored(rows: &[Row]) -> Vec<ScoredResponse> {
    rows.iter()
        .filter_map(|r| {
            let response = r.response.get()?;
            let judge = match r.judge.get() {
                JudgeState::Scored(s) => Some(Ok(s)),
                JudgeState::Failed(e) => Some(Err(e)),
                JudgeState::NotRun | JudgeState::Waiting => None,
            };
            Some(ScoredResponse { doc_id: r.doc_id, question: r.question.clone(), response, judge, human: r.rating.get() })
        })
        .collect()
}

#[component]
pub fn MeansTable(means: Memo<std::collections::BTreeMap<String, tinyeval_core::leaner_eval::Aggregate>>) -> impl IntoView {
    view! {
        <div class="scroll">
            <table data-testid="le-means">
                <ColumnHeads names=&["metric", "mean", "± stderr", "responses", "better"] />
                <tbody>
                    {move || {
                        means
                            .get()
                            .into_iter()
                            .map(|(name, a)| {
                                let better = if higher_is_better(&name) { "higher" } else { "—" };
                                let metric = name.clone();
                                view! {
                                    <tr data-testid="le-mean-row" data-metric=metric data-mean=a.mean.to_string() data-stderr=a.stderr.map(|s| s.to_string()).unwrap_or_default() data-n=a.n.to_string()>
                                        <td>{name}</td>
                                        <td>{format!("{:.4}", a.mean)}</td>
                                        <td>{a.stderr.map(|s| format!("{s:.4}")).unwrap_or_else(|| "—".into())}</td>
                                        <td>{a.n}</td>
                                        <td>{better}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}

fn format_metric(x: Option<f64>) -> String {
    match x {
        None => "—".into(),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.3}"),
    }
}

#[component]
pub fn ResponseItem(row: Row, rate: impl Fn(Row, &'static str, String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let r = row.clone();
    let metrics_attr = move || {
        r.response.get().map(|resp| {
            let named: serde_json::Map<String, serde_json::Value> =
                resp.metrics.named().into_iter().map(|(n, v)| (n.to_string(), v.map_or(serde_json::Value::Null, serde_json::Value::from))).collect();
            serde_json::Value::Object(named).to_string()
        })
    };
    let response = row.response;
    let judge = row.judge;
    let rating = row.rating;
    let question = row.question.clone();
    view! {
        <li class="response-item" data-testid="le-response" data-doc-id=row.doc_id.to_string() data-question-line=question.line.to_string() data-done=move || response.get().is_some().to_string() data-metrics=metrics_attr>
            <p class="question"><strong>{question.question.clone()}</strong></p>
            <p class="response-text" data-testid="le-response-text">{move || row.text.get()}</p>
            {move || response.get().map(|resp| view! {
                <p class="legend">{format!("stopped: {}", resp.stop_reason)}</p>
                <ul class="metrics">
                    {resp.metrics.named().into_iter().map(|(name, v)| view! { <li><span class="legend">{name}</span>" "{format_metric(v)}</li> }).collect_view()}
                </ul>
            })}
            <div data-testid="le-judge" data-state=move || match judge.get() {
                JudgeState::NotRun => "none",
                JudgeState::Waiting => "waiting",
                JudgeState::Scored(_) => "scored",
                JudgeState::Failed(_) => "failed",
            }>
                {move || match judge.get() {
                    JudgeState::NotRun => None,
                    JudgeState::Waiting => Some(view! { <p class="legend">"judge: waiting…"</p> }.into_any()),
                    JudgeState::Scored(s) => Some(view! {
                        <p data-testid="le-judge-scores" data-grammar=s.grammar.to_string() data-coherence=s.coherence.to_string() data-specificity=s.specificity.to_string()>
                            {format!("judge: grammar {} · coherence {} · specificity {}", s.grammar, s.coherence, s.specificity)}
                        </p>
                    }.into_any()),
                    // The message names the judge ("judge: …"), as core's errors do.
                    JudgeState::Failed(e) => Some(view! { <p class="error" data-testid="le-judge-error">{e}</p> }.into_any()),
                }}
            </div>
            <div class="rating" role="group" aria-label="your rating">
                {CRITERIA
                    .into_iter()
                    .map(|criterion| {
                        let row = row.clone();
                        view! {
                            <label class="check">
                                {criterion}
                                <select
                                    data-testid=format!("le-rate-{criterion}")
                                    disabled=move || response.get().is_none()
                                    on:change=move |ev| rate(row.clone(), criterion, event_target_value(&ev))
                                >
                                    <option value="" prop:selected=move || rating.get().get(criterion).is_none()>"–"</option>
                                    {(0..=5u8)
                                        .map(|s| view! { <option value=s.to_string() prop:selected=move || rating.get().get(criterion) == Some(s)>{s}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </li>
    }
}
