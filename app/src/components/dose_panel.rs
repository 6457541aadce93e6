//! The dose response of a check whose items carry exposure counts: each
//! count's items against the held-out ones, every method's AUROC, as a table
//! and as a chart of AUROC against exposures.

use std::sync::Arc;

use leptos::prelude::*;
use tinyeval_core::membership::CheckReport;

use super::chart::Chart;
use crate::contamination::{dose_cells, dose_lines};
use crate::plots::lines::{XAxis, auroc_chart};

#[component]
pub fn DosePanel(report: Arc<CheckReport>) -> impl IntoView {
    let (counts, lines) = dose_lines(&report);
    let chart = auroc_chart("AUROC against exposures", "times each item was in the training data", &XAxis::Categories(counts), &lines);
    let methods: Vec<String> = lines.iter().map(|l| l.name.clone()).collect();
    let held_out = report.dose.first().map_or(0, |d| d.held_out);
    let cells = dose_cells(&report, &methods);
    view! {
        <section class="card" aria-labelledby="dose-title">
            <h2 id="dose-title">"Dose response: AUROC by number of exposures"</h2>
            <p>{format!("Each row: the items seen that many times against the {held_out} held-out items.")}</p>
            <div class="scroll">
                <table data-testid="dose-table">
                    <thead>
                        <tr>
                            <th scope="col">"exposures"</th>
                            <th scope="col">"items"</th>
                            {methods.iter().map(|m| view! { <th scope="col">{format!("{m} AUROC")}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {report.dose.iter().zip(cells).map(|(row, aurocs)| view! {
                            <tr data-testid="dose-row" data-count=row.count.to_string() data-members=row.members.to_string() data-held-out=row.held_out.to_string()>
                                <td>{format!("{}×", row.count)}</td>
                                <td>{row.members}</td>
                                {methods.iter().zip(aurocs).map(|(m, auroc)| {
                                    view! {
                                        <td data-testid="dose-cell" data-method=m.clone() data-auroc=auroc.map(|a| a.to_string()).unwrap_or_default()>
                                            {auroc.map_or("–".to_string(), |a| format!("{a:.4}"))}
                                        </td>
                                    }
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <Chart svg=Signal::derive(move || Some(chart.clone())) name="dose" />
        </section>
    }
}
