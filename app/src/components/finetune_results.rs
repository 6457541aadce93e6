//! Fine-tuning's results (`leaner_glue_finetune`): the chosen configuration's
//! GLUE metrics on each evaluation split, with bootstrap stderr and 95%
//! interval, beside the linear probe's and the zero-shot score of the same
//! model from runs already in Compare (the latest of each), so the three
//! protocols can be read side by side.

use leptos::prelude::*;

use tinyeval_core::finetune::{FinetuneRun, run_name};

use super::AppState;
use super::column_heads::ColumnHeads;
use crate::export::RunSummary;

/// The latest value (and stderr) of `task`'s `metric` for `model` among `runs`.
fn earlier_score(runs: &[RunSummary], model: &str, task: &str, metric: &str) -> Option<(f64, Option<f64>)> {
    runs.iter()
        .rev()
        .filter(|r| r.model == model)
        .find_map(|r| r.metrics.iter().find(|m| m.task == task && m.metric == metric))
        .map(|m| (m.value, m.stderr))
}

fn show(score: Option<(f64, Option<f64>)>) -> String {
    match score {
        Some((v, Some(se))) => format!("{v:.4} ± {se:.4}"),
        Some((v, None)) => format!("{v:.4}"),
        None => "—".into(),
    }
}

#[component]
pub fn FinetuneResults(results: RwSignal<Vec<FinetuneRun>>, model: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = move || {
        let runs = state.runs.get();
        let model = model.get();
        let mut rows = Vec::new();
        for r in results.get() {
            let chosen = r.chosen();
            let name = run_name(r.task);
            for s in &chosen.splits {
                for m in &s.metrics {
                    let metric = m.metric.name();
                    let probe = earlier_score(&runs, &model, &format!("{} {}", r.task.run_name(), s.split), metric);
                    // lm-eval's Leaner-GLUE tasks score their test split.
                    let zero_shot = (s.split == "test").then(|| earlier_score(&runs, &model, &format!("leaner_glue_{}", r.task.name), metric)).flatten();
                    rows.push(view! {
                        <tr
                            data-testid="finetune-row"
                            data-task=name.clone()
                            data-split=s.split.clone()
                            data-metric=metric
                            data-value=m.value.to_string()
                            data-stderr=m.stderr.map(|x| x.to_string()).unwrap_or_default()
                            data-ci-low=m.ci95.map(|i| i.low.to_string()).unwrap_or_default()
                            data-ci-high=m.ci95.map(|i| i.high.to_string()).unwrap_or_default()
                            data-probe=probe.map(|p| p.0.to_string()).unwrap_or_default()
                            data-zero-shot=zero_shot.map(|p| p.0.to_string()).unwrap_or_default()
                        >
                            <td>{name.clone()}</td>
                            <td>{s.split.clone()}</td>
                            <td>{metric}</td>
                            <td>{format!("{:.4}", m.value)}</td>
                            <td>{m.stderr.map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into())}</td>
                            <td>{m.ci95.map(|i| format!("[{:.3}, {:.3}]", i.low, i.high)).unwrap_or_else(|| "—".into())}</td>
                            <td>{format!("lr {}, seed {}", chosen.learning_rate, chosen.seed)}</td>
                            <td>{show(probe)}</td>
                            <td>{show(zero_shot)}</td>
                            <td>{format!("{} ({})", s.labels.len(), r.n_train)}</td>
                        </tr>
                    });
                }
            }
        }
        rows
    };
    view! {
        <div class="scroll">
            <table data-testid="finetune-table">
                <ColumnHeads names=&["task", "split", "metric", "fine-tuned", "± stderr", "95% CI", "chosen", "probe", "zero-shot", "items (train)"] />
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p><small>"Probe and zero-shot: the latest run of this model in Compare with that task (run the probe, or leaner_glue, from the tasks above to fill them). Zero-shot is lm-eval's likelihood protocol, which scores the test split."</small></p>
    }
}
