//! The page's components. State lives in signals (the [`AppState`] in context,
//! and each tab's own); computation lives in the plain modules next to this one.

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
mod job_status;
mod leaner_eval_responses;
mod leaner_eval_tab;
mod models_tab;
mod overlap_panel;
mod passage_check;
mod permalink;
mod probe_results;
mod token_view;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::LanguageModel;

use crate::backend::{self, Backend, BackendKind};
use crate::backend_probe;
use crate::export::{RunSummary, permalink_from_page};
use crate::model_loading::{BuiltinModel, DownloadProgress, Loaded, ModelSource, builtin_models, default_model, load_model};
use benchmarks_tab::BenchmarksTab;
use compare_tab::CompareTab;
use contamination_tab::ContaminationTab;
use leaner_eval_tab::LeanerEvalTab;
use models_tab::ModelsTab;

#[derive(Clone)]
pub enum ModelState {
    Empty,
    Loading(String),
    Ready(Rc<LanguageModel>),
    Failed(String),
}

/// One model slot: the target model, or the reference model (for the `ref` method).
#[derive(Clone, Copy)]
pub struct ModelSlot {
    pub role: &'static str,
    pub state: RwSignal<ModelState, LocalStorage>,
    pub download: RwSignal<Option<DownloadProgress>>,
    /// Where the loaded model came from (e.g. the browser cache).
    pub note: RwSignal<String>,
    /// Why the last load failed, while the model loaded before it stays in use.
    pub error: RwSignal<Option<String>>,
}

impl ModelSlot {
    fn new(role: &'static str, state: ModelState) -> Self {
        Self {
            role,
            state: RwSignal::new_local(state),
            download: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            error: RwSignal::new(None),
        }
    }

    pub fn model(&self) -> Option<Rc<LanguageModel>> {
        match self.state.get() {
            ModelState::Ready(m) => Some(m),
            _ => None,
        }
    }

    pub fn model_untracked(&self) -> Option<Rc<LanguageModel>> {
        match self.state.get_untracked() {
            ModelState::Ready(m) => Some(m),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Models,
    Benchmarks,
    LeanerEval,
    Contamination,
    Compare,
}

impl Tab {
    const ALL: [Tab; 5] = [Tab::Models, Tab::Benchmarks, Tab::LeanerEval, Tab::Contamination, Tab::Compare];

    fn id(self) -> &'static str {
        match self {
            Tab::Models => "models",
            Tab::Benchmarks => "benchmarks",
            Tab::LeanerEval => "leaner-eval",
            Tab::Contamination => "contamination",
            Tab::Compare => "compare",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Models => "Models",
            Tab::Benchmarks => "Benchmarks",
            Tab::LeanerEval => "Instruction following",
            Tab::Contamination => "Contamination",
            Tab::Compare => "Compare",
        }
    }

    pub fn from_id(id: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.id() == id)
    }
}

/// State shared by the tabs, provided as context.
#[derive(Clone, Copy)]
pub struct AppState {
    pub backend: RwSignal<Option<Backend>, LocalStorage>,
    pub target: ModelSlot,
    pub reference: ModelSlot,
    pub builtin_models: RwSignal<Vec<BuiltinModel>>,
    pub tab: RwSignal<Tab>,
    /// A run (benchmark, contamination or passage) is in progress: models stay put.
    pub busy: RwSignal<bool>,
    /// Runs shown side by side in Compare.
    pub runs: RwSignal<Vec<RunSummary>>,
    /// Finished membership checks, whose ROC curves Compare overlays.
    pub detections: RwSignal<Vec<crate::runs::DetectionRun>>,
    /// A problem with a shared link, shown in Compare.
    pub link_error: RwSignal<Option<String>>,
    /// The next model loaded is timed on WebGPU and on the CPU, and the faster becomes the backend.
    pub measure_backend: RwSignal<bool>,
}

impl AppState {
    /// Loads `source` into `slot`; the slot's previous model stays usable until the new one is in.
    pub fn load(self, slot: ModelSlot, source: ModelSource) {
        spawn_local(async move {
            let Some(chosen) = self.backend.get_untracked() else { return };
            let previous = slot.state.get_untracked();
            slot.state.set(ModelState::Loading(format!("loading {}…", source.describe())));
            slot.note.set(String::new());
            slot.error.set(None);
            let on_progress = move |p: DownloadProgress| slot.download.set(Some(p));
            let loaded = load_model(&source, &chosen.device, &on_progress).await;
            slot.download.set(None);
            let loaded = match loaded {
                Ok(l) if self.measure_backend.get_untracked() => {
                    self.measure_backend.set(false);
                    slot.state.set(ModelState::Loading("measuring which backend is faster for this model…".into()));
                    Ok(self.keep_faster_backend(&source, chosen, l).await)
                }
                other => other,
            };
            match loaded {
                Ok(l) => {
                    slot.note.set(match (&source, l.from_cache) {
                        (ModelSource::Url(_), true) => "loaded from the browser cache, without downloading".into(),
                        (ModelSource::Url(_), false) => "downloaded, and kept in the browser cache for the next visit".into(),
                        (ModelSource::Local(_), _) => "read from your files; nothing was uploaded".into(),
                        (ModelSource::Builtin(_), _) => "bundled with the site".into(),
                    });
                    slot.state.set(ModelState::Ready(Rc::new(l.model)));
                }
                // A model that was loaded stays loaded; the error names what failed.
                Err(e) => match previous {
                    ModelState::Ready(m) => {
                        slot.state.set(ModelState::Ready(m));
                        slot.error.set(Some(e));
                    }
                    _ => slot.state.set(ModelState::Failed(e)),
                },
            }
        });
    }
}

impl AppState {
    /// Loads `source` on the CPU too, times the probe on both devices, makes
    /// the faster the page's backend and returns the model loaded there. If the
    /// CPU copy cannot be made or timed, WebGPU stays, saying why.
    async fn keep_faster_backend(self, source: &ModelSource, gpu: Backend, on_gpu: Loaded) -> Loaded {
        let BackendKind::WebGpu { adapter } = gpu.kind.clone() else { return on_gpu };
        let cpu = Backend::cpu(String::new());
        let measured = async {
            let on_cpu = load_model(source, &cpu.device, &|_| {}).await?;
            let gpu_rate = backend_probe::tokens_per_second(&on_gpu.model).await?;
            let cpu_rate = backend_probe::tokens_per_second(&on_cpu.model).await?;
            Ok::<_, String>((on_cpu, cpu_rate, gpu_rate))
        };
        match measured.await {
            Ok((on_cpu, cpu_rate, gpu_rate)) => {
                let verdict = backend_probe::verdict(cpu_rate, gpu_rate, &adapter);
                if cpu_rate >= gpu_rate {
                    self.backend.set(Some(Backend { kind: BackendKind::Cpu { reason: "faster here".into() }, measured: Some(verdict), ..cpu }));
                    on_cpu
                } else {
                    self.backend.set(Some(Backend { measured: Some(verdict), ..gpu }));
                    on_gpu
                }
            }
            Err(e) => {
                self.backend.set(Some(Backend { measured: Some(format!("the CPU could not be measured ({e}): using WebGPU")), ..gpu }));
                on_gpu
            }
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let state = AppState {
        backend: RwSignal::new_local(None),
        target: ModelSlot::new("target", ModelState::Loading("choosing a backend…".into())),
        reference: ModelSlot::new("reference", ModelState::Empty),
        builtin_models: RwSignal::new(Vec::new()),
        tab: RwSignal::new(Tab::Models),
        busy: RwSignal::new(false),
        runs: RwSignal::new(Vec::new()),
        detections: RwSignal::new(Vec::new()),
        link_error: RwSignal::new(None),
        measure_backend: RwSignal::new(false),
    };
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
