//! Benchmark results: the table of every task's metrics (value, stderr, 95%
//! interval) with the groups whose tasks all ran, and the per-sample view for
//! every output type.

use leptos::prelude::*;
use tinyeval_core::tasks::{GroupConfig, TaskResult};

use super::column_heads::ColumnHeads;
use crate::sample_rows::{SampleFilter, sample_rows};
use crate::suites::group_rows;

/// A number as the table shows it; perplexities can be large.
fn shown(x: f64) -> String {
    if x.abs() >= 1000.0 { format!("{x:.1}") } else { format!("{x:.4}") }
}

#[component]
pub fn ResultsTable(results: RwSignal<Vec<TaskResult>>, groups: Vec<GroupConfig>) -> impl IntoView {
    let group_view = move || {
        results.with(|rs| group_rows(rs, &groups))
            .into_iter()
            .map(|g| {
                view! {
                    <tr data-testid="group-row" data-group=g.group.clone() data-metric=g.metric.clone() data-value=g.value.to_string() data-stderr=g.stderr.map(|s| s.to_string()).unwrap_or_default()>
                        <td><strong>{g.group.clone()}</strong>" (group)"</td>
                        <td></td>
                        <td>{g.metric.clone()}</td>
                        <td>{shown(g.value)}</td>
                        <td>{g.stderr.map(shown).unwrap_or_else(|| "—".into())}</td>
                        <td>"—"</td>
                        <td></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="scroll">
            <table data-testid="results-table">
                <ColumnHeads names=&["task", "k-shot", "metric", "value", "± stderr", "95% CI", "docs"] />
                <tbody>
                    {move || {
                        // Only the metrics are cloned, not the samples.
                        let metrics: Vec<_> = results.with(|rs| rs.iter().map(|r| (r.samples.len(), r.num_fewshot, r.task.clone(), r.metrics.clone())).collect());
                        metrics
                            .into_iter()
                            .flat_map(|(n, shots, task, metrics)| {
                                metrics
                                    .into_iter()
                                    .map(move |(name, m)| {
                                        let interval = m.uncertainty.interval;
                                        let metric_attr = name.clone();
                                        view! {
                                            <tr
                                                data-testid="result-row"
                                                data-task=task.clone()
                                                data-metric=metric_attr
                                                data-value=m.value.to_string()
                                                data-stderr=m.stderr.map(|s| s.to_string()).unwrap_or_default()
                                                data-ci-low=interval.map(|i| i.low.to_string()).unwrap_or_default()
                                                data-ci-high=interval.map(|i| i.high.to_string()).unwrap_or_default()
                                            >
                                                <td>{task.clone()}</td>
                                                <td>{shots}</td>
                                                <td>{name}</td>
                                                <td>{shown(m.value)}</td>
                                                <td>{m.stderr.map(shown).unwrap_or_else(|| "—".into())}</td>
                                                <td>{interval.map(|i| format!("[{}, {}]", shown(i.low), shown(i.high))).unwrap_or_else(|| "—".into())}</td>
                                                <td>{n}</td>
                                            </tr>
                                        }
                                    })
                                    .collect::<Vec<_>>()
                            })
                            .collect_view()
                    }}
                    {group_view}
                </tbody>
            </table>
        </div>
    }
}

/// Rows shown at most, so that the page stays quick on big tasks.
const MAX_ROWS: usize = 200;

#[component]
pub fn SamplesView(results: RwSignal<Vec<TaskResult>>) -> impl IntoView {
    let task = RwSignal::new(String::new());
    let filter = RwSignal::new(String::from("all"));
    let search = RwSignal::new(String::new());
    // Computed once a change (the count and the table both read it), and the
    // results read in place: they hold every sample.
    let rows = Memo::new(move |_| {
        let wanted = task.get();
        let (filter, needle) = (SampleFilter::from_id(&filter.get()), search.get());
        results.with(|rs| rs.iter().find(|r| r.task == wanted).or(rs.first()).map(|r| sample_rows(r, filter, &needle)).unwrap_or_default())
    });
    view! {
        <section class="card" aria-labelledby="samples-title">
            <h2 id="samples-title">"Per-sample view"</h2>
            <div class="options">
                <label>
                    "Task"
                    <select data-testid="samples-task" on:change=move |ev| task.set(event_target_value(&ev))>
                        {move || results.with(|rs| rs.iter().map(|r| view! { <option value=r.task.clone()>{r.task.clone()}</option> }).collect_view())}
                    </select>
                </label>
                <label>
                    "Show"
                    <select data-testid="samples-filter" on:change=move |ev| filter.set(event_target_value(&ev))>
                        <option value="all">"all"</option>
                        <option value="correct">"right only"</option>
                        <option value="wrong">"wrong only"</option>
                    </select>
                </label>
                <label>
                    "Prompt contains"
                    <input type="search" data-testid="samples-search" prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev)) />
                </label>
            </div>
            <p data-testid="samples-count">{move || {
                let n = rows.with(Vec::len);
                if n > MAX_ROWS { format!("{n} samples (the first {MAX_ROWS} shown)") } else { format!("{n} samples") }
            }}</p>
            <div class="scroll">
                <table data-testid="samples-table">
                    <ColumnHeads names=&["doc", "prompt", "model's answer: log-likelihood", "target", "right?"] />
                    <tbody>
                        {move || {
                            rows.get()
                                .into_iter()
                                .take(MAX_ROWS)
                                .map(|row| {
                                    let short: String = row.prompt.chars().rev().take(160).collect::<Vec<_>>().into_iter().rev().collect();
                                    let cut = short.len() < row.prompt.len();
                                    let lls_attr = serde_json::to_string(&row.logprobs()).unwrap_or_default();
                                    let generated = row.generated().map(str::to_string);
                                    view! {
                                        <tr data-testid="sample-row" data-doc-id=row.doc_id.to_string() data-lls=lls_attr data-generated=generated data-correct=row.correct.map(|c| c.to_string()).unwrap_or_default()>
                                            <td>{row.doc_id}</td>
                                            <td class="prompt" title=row.prompt.clone()>{if cut { format!("…{short}") } else { short }}</td>
                                            <td>
                                                <ul class="choices">
                                                    {row.answers
                                                        .into_iter()
                                                        .map(|a| {
                                                            let text = match a.logprob {
                                                                Some(ll) => format!("{:?}: {ll:.4}", a.text),
                                                                None => format!("{:?}", a.text),
                                                            };
                                                            view! { <li class=if a.picked { "picked" } else { "" }>{text}</li> }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            </td>
                                            <td>{row.target}</td>
                                            <td>{match row.correct { Some(true) => "✓ right", Some(false) => "✗ wrong", None => "—" }}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
