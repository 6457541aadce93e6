//! The page's components. State lives in signals (the [`AppState`] of
//! `crate::state` in context, and each tab's own); long runs are
//! `crate::job` jobs; computation lives in core and the plain modules next to
//! this one.

mod bench_results;
mod benchmarks_tab;
mod chart;
mod check_items;
mod check_methods;
mod check_results;
mod column_heads;
mod compare_tab;
mod contamination_tab;
mod dose_panel;
mod finetune_panel;
mod finetune_results;
mod job_status;
mod leaner_eval_responses;
mod leaner_eval_tab;
mod models_tab;
mod overlap_panel;
mod passage_check;
mod permalink;
mod probe_results;
mod token_view;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend;
use crate::export::permalink_from_page;
use crate::model_loading::{ModelSource, builtin_models, default_model};
pub use crate::state::{AppState, ModelSlot, ModelState, Tab};
use benchmarks_tab::BenchmarksTab;
use compare_tab::CompareTab;
use contamination_tab::ContaminationTab;
use leaner_eval_tab::LeanerEvalTab;
use models_tab::ModelsTab;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);

    match permalink_from_page() {
        Some(Ok(link)) => {
            state.runs.set(link.runs);
            state.detections.set(link.detections);
            state.tab.set(Tab::from_id(&link.view).unwrap_or(Tab::Compare));
        }
        Some(Err(e)) => {
            state.link_error.set(Some(e));
            state.tab.set(Tab::Compare);
        }
        None => {}
    }

    spawn_local(async move {
        let requested = backend::requested_backend();
        let chosen = backend::choose(requested.as_deref()).await;
        state.measure_backend.set(chosen.worth_measuring(requested.as_deref()));
        state.backend.set(Some(chosen));
        let models = builtin_models().await;
        let source = match (&models, ModelSource::from_page_url()) {
            (_, Some(from_url)) => Some(from_url),
            (Ok(list), None) => default_model(list).map(|m| ModelSource::Builtin(m.name.clone())),
            (Err(_), None) => None,
        };
        match models {
            Ok(list) => state.builtin_models.set(list),
            Err(e) => state.target.state.set(ModelState::Failed(format!("cannot list the bundled models: {e}"))),
        }
        if let Some(source) = source {
            state.load(state.target, source);
        }
    });

    let select = move |t: Tab| {
        state.tab.set(t);
        if let Some(el) = document().get_element_by_id(&format!("tab-{}", t.id())) {
            use wasm_bindgen::JsCast;
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    };
    // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let i = Tab::ALL.iter().position(|&t| t == state.tab.get_untracked()).unwrap_or(0);
        let n = Tab::ALL.len();
        let next = match ev.key().as_str() {
            "ArrowRight" => (i + 1) % n,
            "ArrowLeft" => (i + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        ev.prevent_default();
        select(Tab::ALL[next]);
    };

    view! {
        <header>
            <h1>"tinyeval"</h1>
            <p class="tagline">"How good is a tiny language model, and has it seen its test data? Computed in your browser."</p>
        </header>
        <nav class="tabs" role="tablist" aria-label="Views" on:keydown=on_key>
            {Tab::ALL
                .into_iter()
                .map(|t| {
                    view! {
                        <button
                            role="tab"
                            id=format!("tab-{}", t.id())
                            data-testid=format!("tab-{}", t.id())
                            aria-controls=format!("panel-{}", t.id())
                            aria-selected=move || (state.tab.get() == t).to_string()
                            tabindex=move || if state.tab.get() == t { "0" } else { "-1" }
                            on:click=move |_| select(t)
                        >
                            {t.title()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            <section role="tabpanel" id="panel-models" aria-labelledby="tab-models" hidden=move || state.tab.get() != Tab::Models>
                <ModelsTab />
            </section>
            <section role="tabpanel" id="panel-benchmarks" aria-labelledby="tab-benchmarks" hidden=move || state.tab.get() != Tab::Benchmarks>
                <BenchmarksTab />
            </section>
            <section role="tabpanel" id="panel-leaner-eval" aria-labelledby="tab-leaner-eval" hidden=move || state.tab.get() != Tab::LeanerEval>
                <LeanerEvalTab />
            </section>
            <section role="tabpanel" id="panel-contamination" aria-labelledby="tab-contamination" hidden=move || state.tab.get() != Tab::Contamination>
                <ContaminationTab />
            </section>
            <section role="tabpanel" id="panel-compare" aria-labelledby="tab-compare" hidden=move || state.tab.get() != Tab::Compare>
                <CompareTab />
            </section>
        </main>
    }
}
