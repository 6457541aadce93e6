//! Compare: benchmark runs side by side (this session's, imported lm-eval-harness
//! results JSON, or those a permalink carries), as a table and grouped bars.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chart::Chart;
use super::{AppState, read_input_files};
use crate::export::{Permalink, RunSummary, permalink_url};
use crate::plots::{BarSeries, bar_chart};

/// `(task, metric)` rows, in first-seen order.
fn keys(runs: &[RunSummary]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for m in runs.iter().flat_map(|r| &r.metrics) {
        let k = (m.task.clone(), m.metric.clone());
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn cell(run: &RunSummary, task: &str, metric: &str) -> Option<(f64, Option<f64>)> {
    run.metrics.iter().find(|m| m.task == task && m.metric == metric).map(|m| (m.value, m.stderr))
}

#[component]
pub fn CompareTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let import_error = RwSignal::new(None::<String>);
    let link = RwSignal::new(String::new());
    let on_import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            let parsed = read_input_files(files)
                .await
                .and_then(|fs| fs.iter().map(|f| RunSummary::from_lm_eval(&f.path, &f.bytes)).collect::<Result<Vec<_>, _>>());
            match parsed {
                Ok(runs) => {
                    import_error.set(None);
                    state.runs.update(|r| r.extend(runs));
                }
                Err(e) => import_error.set(Some(e)),
            }
            input.set_value("");
        });
    };
    let share = move |_| {
        match permalink_url(&Permalink { view: "compare".into(), runs: state.runs.get_untracked() }) {
            Ok(url) => link.set(url),
            Err(e) => import_error.set(Some(e)),
        }
    };
    let chart = Signal::derive(move || {
        let runs = state.runs.get();
        if runs.is_empty() {
            return None;
        }
        let rows = keys(&runs);
        let categories: Vec<String> = rows.iter().map(|(t, m)| format!("{t} {m}")).collect();
        let series: Vec<BarSeries> = runs
            .iter()
            .map(|r| BarSeries { name: r.label.clone(), values: rows.iter().map(|(t, m)| cell(r, t, m)).collect() })
            .collect();
        Some(bar_chart("Runs side by side (± stderr)", "score", &categories, &series))
    });
    view! {
        <section class="card" aria-labelledby="compare-title">
            <h2 id="compare-title">"Compare runs"</h2>
            {move || state.link_error.get().map(|e| view! { <p class="error" role="alert" data-testid="link-error">{format!("Cannot open the shared link: {e}")}</p> })}
            <p>"Every finished benchmark run is added here. Import lm-eval-harness results (results_*.json) to compare with runs made elsewhere."</p>
            <div class="actions">
                <label class="file-button">
                    "Import lm-eval results JSON…"
                    <input type="file" multiple accept=".json" data-testid="import-lm-eval" on:change=on_import />
                </label>
                <button class="secondary" data-testid="compare-permalink" on:click=share disabled=move || state.runs.get().is_empty()>"Permalink"</button>
                <button class="secondary" data-testid="compare-clear" on:click=move |_| state.runs.set(Vec::new()) disabled=move || state.runs.get().is_empty()>"Clear"</button>
            </div>
            {move || import_error.get().map(|e| view! { <p class="error" role="alert" data-testid="import-error">{e}</p> })}
            {move || (!link.get().is_empty()).then(|| view! {
                <label for="compare-link">"Link to this comparison (settings and scores only)"</label>
                <input id="compare-link" class="wide" readonly data-testid="compare-link" prop:value=move || link.get() />
            })}
            {move || {
                let runs = state.runs.get();
                if runs.is_empty() {
                    return view! { <p data-testid="compare-empty">"No runs yet: run a benchmark, or import results."</p> }.into_any();
                }
                let rows = keys(&runs);
                view! {
                    <div class="scroll">
                        <table data-testid="compare-table">
                            <thead>
                                <tr>
                                    <th scope="col">"task"</th>
                                    <th scope="col">"metric"</th>
                                    {runs.iter().map(|r| {
                                        let detail = match &r.settings {
                                            Some(s) => format!("{} · {} · k={} · limit {} · seed {}", r.model, r.backend, s.num_fewshot.map(|k| k.to_string()).unwrap_or("task default".into()), s.limit.map(|l| l.to_string()).unwrap_or("none".into()), s.seed),
                                            None => r.model.clone(),
                                        };
                                        view! { <th scope="col" title=detail data-testid="compare-run">{r.label.clone()}</th> }
                                    }).collect_view()}
                                </tr>
                            </thead>
                            <tbody>
                                {rows.iter().map(|(t, m)| view! {
                                    <tr data-testid="compare-row" data-task=t.clone() data-metric=m.clone()>
                                        <td>{t.clone()}</td>
                                        <td>{m.clone()}</td>
                                        {runs.iter().map(|r| {
                                            let c = cell(r, t, m);
                                            let shown = match c {
                                                Some((v, Some(se))) => format!("{v:.4} ± {se:.4}"),
                                                Some((v, None)) => format!("{v:.4}"),
                                                None => "—".into(),
                                            };
                                            view! { <td data-value=c.map(|x| x.0.to_string()).unwrap_or_default()>{shown}</td> }
                                        }).collect_view()}
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            <Chart svg=chart name="compare" />
        </section>
    }
}
