//! The linear probe's results (`leaner_glue_probe`): each probed task's GLUE
//! metrics on its evaluation splits, with bootstrap stderr and 95% interval.

use leptos::prelude::*;

use super::column_heads::ColumnHeads;

use tinyeval_core::probe::{ProbeOptions, ProbeRun};

#[component]
pub fn ProbeResults(results: RwSignal<Vec<ProbeRun>>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="probe-title">
            <h2 id="probe-title">"Linear probe (leaner_glue_probe)"</h2>
            <p>"A logistic (or ridge) regression fitted on the model's mean-pooled last hidden states of the training split, scored on the evaluation splits. "</p>
            <p>{format!("Stderr and interval from {} bootstrap resamples.", ProbeOptions::default().bootstrap)}</p>
            <div class="scroll">
                <table data-testid="probe-table">
                    <ColumnHeads names=&["task", "split", "metric", "value", "± stderr", "95% CI", "items (train)"] />
                    <tbody>
                        {move || {
                            results
                                .get()
                                .into_iter()
                                .flat_map(|r| {
                                    r.splits
                                        .into_iter()
                                        .flat_map(move |s| {
                                            let task = r.task.run_name();
                                            let n_train = r.n_train;
                                            s.metrics.into_iter().map(move |m| {
                                                view! {
                                                    <tr
                                                        data-testid="probe-row"
                                                        data-task=task.clone()
                                                        data-split=s.split.clone()
                                                        data-metric=m.metric.name()
                                                        data-value=m.value.to_string()
                                                        data-stderr=m.stderr.map(|x| x.to_string()).unwrap_or_default()
                                                        data-ci-low=m.ci95.map(|i| i.low.to_string()).unwrap_or_default()
                                                        data-ci-high=m.ci95.map(|i| i.high.to_string()).unwrap_or_default()
                                                        data-n=s.n.to_string()
                                                    >
                                                        <td>{task.clone()}</td>
                                                        <td>{s.split.clone()}</td>
                                                        <td>{m.metric.name()}</td>
                                                        <td>{format!("{:.4}", m.value)}</td>
                                                        <td>{m.stderr.map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into())}</td>
                                                        <td>{m.ci95.map(|i| format!("[{:.3}, {:.3}]", i.low, i.high)).unwrap_or_else(|| "—".into())}</td>
                                                        <td>{format!("{} ({n_train})", s.n)}</td>
                                                    </tr>
                                                }
                                            }).collect::<Vec<_>>()
                                        })
                                        .collect::<Vec<_>>()
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
