//! Compare: runs side by side (this session's benchmark, probe and Leaner-Eval
//! runs, imported lm-eval-harness results JSON, or those a permalink carries),
//! as a table and grouped bars; and the membership checks (Contamination's, or
//! a permalink's, one per model and texts) as a table and overlaid ROC curves,
//! one per chosen check and method.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chart::Chart;
use super::column_heads::ColumnHeads;
use super::permalink::PermalinkButton;
use super::AppState;
use crate::browser::files::read_input_files;
use crate::export::{Permalink, RunSummary};
use crate::plots::{BarSeries, Curve, CurveLook, bar_chart, roc_chart_with_looks};
use crate::runs::DetectionRun;

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

/// The rows whose values all lie in [−1, 1] (accuracies, F1, MCC, shares):
/// perplexities, lengths and 0–5 ratings would flatten every other bar.
fn charted(runs: &[RunSummary]) -> Vec<(String, String)> {
    keys(runs)
        .into_iter()
        .filter(|(t, m)| runs.iter().filter_map(|r| cell(r, t, m)).all(|(v, _)| (-1.0..=1.0).contains(&v)))
        .collect()
}

fn cell(run: &RunSummary, task: &str, metric: &str) -> Option<(f64, Option<f64>)> {
    run.metrics.iter().find(|m| m.task == task && m.metric == metric).map(|m| (m.value, m.stderr))
}

#[component]
pub fn CompareTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let import_error = RwSignal::new(None::<String>);
    let link = RwSignal::new(String::new());
    // A link made before a run was added or removed would not carry it.
    Effect::new(move |_| {
        state.runs.track();
        state.detections.track();
        link.set(String::new());
    });
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
    let chart = Signal::derive(move || {
        let runs = state.runs.get();
        if runs.is_empty() {
            return None;
        }
        let rows = charted(&runs);
        if rows.is_empty() {
            return Some(Err("no metric on a common scale to chart: the table has them all".to_string()));
        }
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
            <p>"Every finished run is added here: benchmarks, the linear probe, fine-tuning and Leaner-Eval. Import lm-eval-harness results (results_*.json) to compare with runs made elsewhere."</p>
            <div class="actions">
                <label class="file-button">
                    "Import lm-eval results JSON…"
                    <input type="file" multiple accept=".json" data-testid="import-lm-eval" on:change=on_import />
                </label>
                <button class="secondary" data-testid="compare-clear" on:click=move |_| { state.runs.set(Vec::new()); state.detections.set(Vec::new()); } disabled=move || state.runs.get().is_empty() && state.detections.get().is_empty()>"Clear"</button>
            </div>
            {move || import_error.get().map(|e| view! { <p class="error" role="alert" data-testid="import-error">{e}</p> })}
            <PermalinkButton
                make=move || Permalink::compare(state.runs.get_untracked(), &state.detections.get_untracked())
                link=link
                disabled=Signal::derive(move || state.runs.get().is_empty() && state.detections.get().is_empty())
                caption="Link to this comparison: benchmark runs and membership checks (settings and scores only, no texts)"
                button_id="compare-permalink"
                link_id="compare-link"
            />
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
                                            Some(s) => format!("{} · {} · {}", r.model, r.backend, s.describe()),
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
            {move || {
                let runs = state.runs.get();
                let left_out = keys(&runs).len() - charted(&runs).len();
                (left_out > 0).then(|| view! { <p><small data-testid="compare-left-out">{format!("{left_out} row(s) outside [−1, 1] (perplexities, lengths, 0–5 ratings) are in the table only.")}</small></p> })
            }}
        </section>
        {move || (!state.detections.get().is_empty()).then(|| view! { <DetectionCompare /> })}
    }
}

/// The methods of `runs`, in first-seen order.
fn detection_methods(runs: &[DetectionRun]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in runs.iter().flat_map(|r| &r.methods) {
        if !out.contains(&m.method) {
            out.push(m.method.clone());
        }
    }
    out
}

/// A checkbox that keeps `key` out of `hidden` while it is ticked.
#[component]
fn ShowToggle<K: Clone + PartialEq + Send + Sync + 'static>(hidden: RwSignal<Vec<K>>, key: K, label: String, testid: String) -> impl IntoView {
    let k = key.clone();
    view! {
        <label class="check">
            <input
                type="checkbox"
                data-testid=testid
                prop:checked=move || !hidden.get().contains(&k)
                on:change=move |ev| {
                    let shown = event_target_checked(&ev);
                    hidden.update(|h| {
                        h.retain(|x| *x != key);
                        if !shown { h.push(key.clone()); }
                    });
                }
            />
            {label}
        </label>
    }
}

/// Membership checks side by side: each check's AUROC and TPR at low FPR per
/// method, and the ROC curves of the checks and methods chosen, overlaid (a
/// method keeps its colour across checks; every other check is dashed).
#[component]
fn DetectionCompare() -> impl IntoView {
    let state = expect_context::<AppState>();
    let hidden_runs = RwSignal::new(Vec::<usize>::new());
    let hidden_methods = RwSignal::new(Vec::<String>::new());
    let chart = Signal::derive(move || {
        let runs = state.detections.get();
        let methods = detection_methods(&runs);
        let (hidden_r, hidden_m) = (hidden_runs.get(), hidden_methods.get());
        let mut curves = Vec::new();
        let mut looks = Vec::new();
        for (r, run) in runs.iter().enumerate().filter(|(r, _)| !hidden_r.contains(r)) {
            for m in run.methods.iter().filter(|m| !hidden_m.contains(&m.method)) {
                curves.push(Curve { name: format!("{} · {} (AUROC {:.3})", run.label(), m.method, m.auroc), fpr: m.fpr.clone(), tpr: m.tpr.clone() });
                looks.push(CurveLook { colour: methods.iter().position(|x| *x == m.method).unwrap_or(0), dashed: r % 2 == 1 });
            }
        }
        if curves.is_empty() {
            return Some(Err("no check and method chosen: tick at least one of each".to_string()));
        }
        Some(roc_chart_with_looks("ROC curves of the membership checks", &curves, &looks))
    });
    view! {
        <section class="card" aria-labelledby="compare-detection-title" data-testid="compare-detections">
            <h2 id="compare-detection-title">"Compare membership checks"</h2>
            <p>"Every finished check in Contamination is added here: run one per model (say a model and its contaminated twin) on the same texts to see which has seen them."</p>
            {move || {
                let runs = state.detections.get();
                view! {
                    <div class="scroll">
                        <table data-testid="compare-detection-table">
                            <ColumnHeads names=&["check", "method", "AUROC", "TPR @ 1% FPR", "TPR @ 5% FPR"] />
                            <tbody>
                                {runs.iter().enumerate().flat_map(|(r, run)| run.methods.iter().map(move |m| view! {
                                    <tr data-testid="compare-detection-row" data-run=r.to_string() data-model=run.model.clone() data-method=m.method.clone() data-auroc=m.auroc.to_string()>
                                        <td title=format!("k = {} · {} members, {} non-members", run.k, run.members, run.non_members)>{run.label()}</td>
                                        <td>{m.method.clone()}</td>
                                        <td>{format!("{:.4}", m.auroc)}</td>
                                        <td>{format!("{:.4}", m.tpr_at_1_fpr)}</td>
                                        <td>{format!("{:.4}", m.tpr_at_5_fpr)}</td>
                                    </tr>
                                })).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <fieldset>
                        <legend>"Curves to overlay"</legend>
                        {runs.iter().enumerate().map(|(r, run)| view! {
                            <ShowToggle hidden=hidden_runs key=r label=run.label() testid=format!("compare-show-run-{r}") />
                        }).collect_view()}
                        {detection_methods(&runs).into_iter().map(|m| view! {
                            <ShowToggle hidden=hidden_methods key=m.clone() label=m.clone() testid=format!("compare-show-method-{m}") />
                        }).collect_view()}
                    </fieldset>
                }
            }}
            <Chart svg=chart name="compare-roc" />
        </section>
    }
}
