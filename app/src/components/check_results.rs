//! A finished membership check: each method's metrics beside the model-free
//! blind baseline (and its warning), the ROC curves, Min-K%'s AUROC against k,
//! the dose response, the score histograms and the permalink.

use std::sync::Arc;

use leptos::prelude::*;
use tinyeval_core::membership::{CheckReport, MethodSummary};

use super::chart::Chart;
use super::check_items::ItemsTable;
use super::column_heads::ColumnHeads;
use super::dose_panel::DosePanel;
use super::permalink::PermalinkButton;
use crate::contamination::{k_sweep_lines, member_groups, prefix_note, roc_curves, scored_methods};
use crate::export::Permalink;
use crate::plots::lines::{XAxis, auroc_chart};
use crate::plots::{histogram_chart, roc_chart};
use crate::runs::DetectionRun;

#[component]
pub fn CheckResults(
    report: Arc<CheckReport>,
    /// The method of the histogram and the ranking.
    shown_method: RwSignal<String>,
    selected_item: RwSignal<Option<usize>>,
    /// The check as its permalink carries it.
    shared: StoredValue<Option<DetectionRun>>,
    link: RwSignal<String>,
) -> impl IntoView {
    let roc = roc_chart("ROC curves: members vs non-members", &roc_curves(&report));
    let k_sweep = (!report.k_sweep.is_empty())
        .then(|| auroc_chart("AUROC against k", "k (fraction of the lowest tokens averaged)", &XAxis::Numbers { lo: 0.0, hi: 1.0 }, &k_sweep_lines(&report)));
    let for_histogram = report.clone();
    let histogram = Signal::derive(move || {
        let method = shown_method.get();
        let (members, others) = member_groups(&for_histogram, &method)?;
        Some(histogram_chart(&format!("{method} scores (higher = more likely seen)"), &format!("{method} score"), &[("members", &members), ("non-members", &others)], 20))
    });
    let methods = scored_methods(&report);
    let has_dose = !report.dose.is_empty();
    view! {
        <section class="card" aria-labelledby="detection-title">
            <h2 id="detection-title">"How well each method tells members from non-members"</h2>
            {report.warning.clone().map(|w| view! { <p class="warning" role="alert" data-testid="blind-warning">{format!("Warning: {w}")}</p> })}
            {prefix_note(&report).map(|n| view! { <p data-testid="recall-prefix-info" data-count=report.prefix_items.len().to_string()>{n}</p> })}
            <DetectionTable report=report.clone() />
            <Chart svg=Signal::derive(move || Some(roc.clone())) name="roc" />
            {k_sweep.map(|svg| view! { <Chart svg=Signal::derive(move || Some(svg.clone())) name="k-sweep" /> })}
            <PermalinkButton
                make=move || Permalink::compare(Vec::new(), &shared.get_value().into_iter().collect::<Vec<_>>())
                link=link
                disabled=Signal::derive(|| false)
                caption="Link to this check: each method's AUROC, TPR and ROC curve (no texts); it opens in Compare"
                button_id="mia-permalink"
                link_id="mia-link"
            />
            <label>
                "Method for the histogram and the ranking"
                <select data-testid="shown-method" on:change=move |ev| shown_method.set(event_target_value(&ev))>
                    {methods.into_iter().map(|m| {
                        let n = m.name();
                        view! { <option value=n selected=shown_method.get_untracked() == n>{n}</option> }
                    }).collect_view()}
                </select>
            </label>
            <Chart svg=histogram name="histogram" />
        </section>
        {has_dose.then(|| view! { <DosePanel report=report.clone() /> })}
        <section class="card" aria-labelledby="items-title">
            <h2 id="items-title">"Items ranked by score"</h2>
            <ItemsTable report=report method=shown_method selected=selected_item />
        </section>
    }
}

fn metric_cells(s: &MethodSummary) -> impl IntoView + use<> {
    let m = &s.metrics;
    let ci = s.auroc_ci95.map_or("–".to_string(), |c| format!("{:.3} – {:.3}", c.low, c.high));
    view! {
        <td>{format!("{:.4}", m.auroc)}</td>
        <td>{ci}</td>
        <td>{format!("{:.4}", m.tpr_at_1_fpr)}</td>
        <td>{format!("{:.4}", m.tpr_at_5_fpr)}</td>
        <td>{format!("{:.4}", m.best_accuracy)}</td>
        <td>{m.n}</td>
    }
}

#[component]
fn DetectionTable(report: Arc<CheckReport>) -> impl IntoView {
    let blind = report.blind.clone().map(|b| match b {
        Ok((_, s)) => view! {
            <tr data-testid="blind-row" data-auroc=s.metrics.auroc.to_string() data-tpr1=s.metrics.tpr_at_1_fpr.to_string() data-tpr5=s.metrics.tpr_at_5_fpr.to_string()>
                <td title="bag of words and logistic regression, cross-validated: it never sees the model">"blind baseline (no model)"</td>
                {metric_cells(&s)}
            </tr>
        }
        .into_any(),
        Err(e) => view! {
            <tr data-testid="blind-row">
                <td>"blind baseline (no model)"</td>
                <td colspan="6" class="error">{e}</td>
            </tr>
        }
        .into_any(),
    });
    view! {
        <div class="scroll">
            <table data-testid="detection-table">
                <ColumnHeads names=&["method", "AUROC", "AUROC 95% CI", "TPR @ 1% FPR", "TPR @ 5% FPR", "best accuracy", "texts"] />
                <tbody>
                    {report.metrics.iter().map(|(method, r)| match r {
                        Ok(s) => view! {
                            <tr data-testid="detection-row" data-method=method.name() data-auroc=s.metrics.auroc.to_string() data-tpr1=s.metrics.tpr_at_1_fpr.to_string() data-tpr5=s.metrics.tpr_at_5_fpr.to_string()>
                                <td>{method.name()}</td>
                                {metric_cells(s)}
                            </tr>
                        }.into_any(),
                        Err(e) => view! {
                            <tr data-testid="detection-row" data-method=method.name()>
                                <td>{method.name()}</td>
                                <td colspan="6" class="error">{e.clone()}</td>
                            </tr>
                        }.into_any(),
                    }).collect_view()}
                    {blind}
                </tbody>
            </table>
        </div>
    }
}
