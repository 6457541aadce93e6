//! A check's items ranked by one method's score, and the tokens of the one chosen.

use std::sync::Arc;

use leptos::prelude::*;
use tinyeval_core::membership::CheckReport;

use super::column_heads::ColumnHeads;
use super::token_view::TokenView;
use crate::contamination::{member_label, ranking};

const MAX_ITEMS: usize = 100;

#[component]
pub fn ItemsTable(report: Arc<CheckReport>, method: RwSignal<String>, selected: RwSignal<Option<usize>>) -> impl IntoView {
    let ranked = report.clone();
    let order = move || ranking(&ranked, &method.get());
    let rows = report.clone();
    view! {
        <p>{format!("Highest score first (the likeliest members); the first {MAX_ITEMS} shown. Choose one to see its tokens.")}</p>
        <div class="scroll tall">
            <table data-testid="items-table">
                <ColumnHeads names=&["rank", "score", "member?", "text"] />
                <tbody>
                    {move || order().into_iter().take(MAX_ITEMS).enumerate().map(|(rank, (i, s))| {
                        let item = &rows.items[i];
                        let text: String = item.text.chars().take(140).collect();
                        view! {
                            <tr data-testid="item-row" data-score=s.to_string() data-member=(item.member == Some(true)).to_string() class=move || if selected.get() == Some(i) { "selected" } else { "" }>
                                <td>{rank + 1}</td>
                                <td>{format!("{s:.4}")}</td>
                                <td>{member_label(item)}</td>
                                <td><button class="link" data-testid="item-open" on:click=move |_| selected.set(Some(i))>{text}</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || selected.get().filter(|&i| i < report.items.len()).map(|i| view! {
            <h3>{format!("Tokens of item {} ({})", report.items[i].id, member_label(&report.items[i]))}</h3>
            <TokenView scores=report.target[i].clone() k=report.k />
        })}
    }
}
