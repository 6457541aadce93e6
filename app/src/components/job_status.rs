//! A job's status line: "Running: …", "Done: …", "Cancelled" or "Error: …",
//! announced to screen readers, with the count of finished runs that the
//! end-to-end tests wait on.

use leptos::prelude::*;

use crate::job::{Job, Progress};

#[component]
pub fn JobStatusLine<P: Progress>(job: Job<P>, testid: &'static str) -> impl IntoView {
    view! {
        <span data-testid=testid data-finished-runs=move || job.finished.get().to_string() role="status" aria-live="polite">
            {move || job.status.get().text()}
        </span>
    }
}
