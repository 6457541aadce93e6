//! A table's header row of column names.

use leptos::prelude::*;

#[component]
pub fn ColumnHeads(names: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead>
            <tr>{names.iter().map(|&n| view! { <th scope="col">{n}</th> }).collect_view()}</tr>
        </thead>
    }
}
