//! The page's shared state, provided as context to every tab: the backend,
//! the target and reference models, the open tab, the runs Compare shows, and
//! whether a run is under way; with loading a model into a slot (and, the
//! first time, measuring which backend is faster for it).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::LanguageModel;

use crate::backend::{Backend, BackendKind};
use crate::backend_probe;
use crate::export::RunSummary;
use crate::model_loading::{BuiltinModel, DownloadProgress, Keep, LoadEvent, Loaded, ModelSource, load_model};
use crate::pool;

/// The largest model (its f32 weights) loaded on the CPU as well as on
/// WebGPU to time which is faster: a second copy of a larger one would double
/// what the page holds (SmolLM2-135M's 513 MiB is timed; a 0.5B model's 1.8 GiB is not).
const MEASURE_AT_MOST_BYTES: u64 = 1 << 30;

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
    /// What the last model asked for needs in memory, shown before its weights are read.
    pub need: RwSignal<Option<String>>,
}

impl ModelSlot {
    pub fn new(role: &'static str, state: ModelState) -> Self {
        Self {
            role,
            state: RwSignal::new_local(state),
            download: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            error: RwSignal::new(None),
            need: RwSignal::new(None),
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
    pub const ALL: [Tab; 5] = [Tab::Models, Tab::Benchmarks, Tab::LeanerEval, Tab::Contamination, Tab::Compare];

    pub fn id(self) -> &'static str {
        match self {
            Tab::Models => "models",
            Tab::Benchmarks => "benchmarks",
            Tab::LeanerEval => "leaner-eval",
            Tab::Contamination => "contamination",
            Tab::Compare => "compare",
        }
    }

    pub fn title(self) -> &'static str {
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
    /// The page's state when it opens: no model yet, the Models tab.
    pub fn new() -> Self {
        Self {
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
        }
    }

    /// Loads `source` into `slot`; the slot's previous model stays usable until the new one is in.
    pub fn load(self, slot: ModelSlot, source: ModelSource) {
        spawn_local(async move {
            let Some(chosen) = self.backend.get_untracked() else { return };
            let previous = slot.state.get_untracked();
            slot.state.set(ModelState::Loading(format!("loading {}…", source.describe())));
            slot.note.set(String::new());
            slot.error.set(None);
            slot.need.set(None);
            let on_event = move |e: LoadEvent| match e {
                LoadEvent::Download(p) => slot.download.set(Some(p)),
                LoadEvent::Need(n) => slot.need.set(Some(n)),
            };
            let keep = if chosen.short_name() == "cpu" { Keep::ForWorkers } else { Keep::Nothing };
            let loaded = load_model(&source, &chosen.device, keep, &on_event).await;
            slot.download.set(None);
            let loaded = match loaded {
                Ok(l) if self.measure_backend.get_untracked() => {
                    self.measure_backend.set(false);
                    slot.state.set(ModelState::Loading("measuring which backend is faster for this model…".into()));
                    Ok(self.keep_faster_backend(&source, chosen, l).await)
                }
                Ok(l) if l.for_workers.is_some() => {
                    slot.state.set(ModelState::Loading("starting the Web Workers…".into()));
                    Ok(with_workers(l).await)
                }
                Ok(l) => Ok(Pooled { loaded: l, workers: None }),
                Err(e) => Err(e),
            };
            match loaded {
                Ok(Pooled { loaded: l, workers }) => {
                    let origin = match (&source, l.from_cache) {
                        (ModelSource::Url(_), true) => "loaded from the browser cache, without downloading",
                        (ModelSource::Url(_), false) => "downloaded, and kept in the browser cache for the next visit",
                        (ModelSource::Local(_), _) => "read from your files; nothing was uploaded",
                        (ModelSource::Builtin(_), _) => "bundled with the site",
                    };
                    slot.note.set(match workers {
                        Some(w) => format!("{origin}; {w}"),
                        None => origin.to_string(),
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

/// A loaded model, and what the page says of its workers (if on the CPU).
pub struct Pooled {
    pub loaded: Loaded,
    pub workers: Option<String>,
}

/// The model, scoring in a pool of Web Workers (as many as
/// [`pool::workers_for`] says) when loading kept its files for them; on the
/// page's main thread if none is wanted or none can start.
pub async fn with_workers(mut loaded: Loaded) -> Pooled {
    let Some(message) = loaded.for_workers.take() else { return Pooled { loaded, workers: None } };
    let need = tinyeval_core::memory::MemoryNeed::of_config(&loaded.model.config, loaded.model.file_bytes as u64);
    let count = pool::workers_for(&need);
    if count == 0 {
        return Pooled { loaded, workers: Some("scoring on the page's main thread (?workers=0)".into()) };
    }
    match pool::pool_for(&message, count).await {
        Ok(p) => {
            let text = pool::describe(&p);
            Pooled { loaded: Loaded { model: loaded.model.with_scorer(p), ..loaded }, workers: Some(text) }
        }
        Err(e) => Pooled { loaded, workers: Some(e) },
    }
}

impl AppState {
    /// Loads `source` on the CPU too, times the probe on both devices, makes
    /// the faster the page's backend and returns the model loaded there. If the
    /// CPU copy cannot be made or timed, WebGPU stays, saying why; so it does
    /// for a large model, which is not loaded a second time just to be timed.
    async fn keep_faster_backend(self, source: &ModelSource, gpu: Backend, on_gpu: Loaded) -> Pooled {
        let on_gpu = Pooled { loaded: on_gpu, workers: None };
        let BackendKind::WebGpu { adapter } = gpu.kind.clone() else { return on_gpu };
        let weights = tinyeval_core::memory::MemoryNeed::of_config(&on_gpu.loaded.model.config, 0).weight_bytes;
        if weights > MEASURE_AT_MOST_BYTES {
            let note = format!(
                "not timed against the CPU: its weights take {} as f32, too much to hold a second copy for that; ?backend=cpu uses the CPU",
                tinyeval_core::memory::format_bytes(weights)
            );
            self.backend.set(Some(Backend { measured: Some(note), ..gpu }));
            return on_gpu;
        }
        let cpu = Backend::cpu(String::new());
        let measured = async {
            let on_cpu = with_workers(load_model(source, &cpu.device, Keep::ForWorkers, &|_| {}).await?).await;
            let gpu_rate = backend_probe::tokens_per_second(&on_gpu.loaded.model).await?;
            let cpu_rate = backend_probe::tokens_per_second(&on_cpu.loaded.model).await?;
            Ok::<_, String>((on_cpu, cpu_rate, gpu_rate))
        };
        match measured.await {
            Ok((on_cpu, cpu_rate, gpu_rate)) => {
                let verdict = backend_probe::verdict(cpu_rate, on_cpu.loaded.model.scorer().parallelism(), gpu_rate, &adapter);
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
