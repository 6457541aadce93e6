//! Models: the backend in use, and two slots (target and reference), each
//! loaded from a bundled model, a URL (downloaded with progress, cached), or
//! local files (picked, or dropped: a Hugging Face folder's files or a .gguf).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::{AppState, ModelSlot, ModelState};
use crate::backend::{Backend, BackendKind, webgpu_exists};
use crate::browser::fetch::clear_cache;
use crate::model_loading::{ChosenFile, Dropped, ModelSource, chosen_files};

#[component]
pub fn ModelsTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let backend_label = move || state.backend.get().map(|b| b.label()).unwrap_or_else(|| "choosing…".into());
    let backend_name = move || state.backend.get().map(|b| b.short_name()).unwrap_or("");
    let backend_note = move || match state.backend.get() {
        Some(Backend { measured: Some(m), .. }) => format!("({m})"),
        Some(Backend { kind: BackendKind::Cpu { reason }, .. }) => format!("({reason})"),
        _ => String::new(),
    };
    // Switching reloads the page with `?backend=`, which forces one.
    let switch = move || match state.backend.get().map(|b| b.kind) {
        Some(BackendKind::Cpu { .. }) if webgpu_exists() => Some(("?backend=webgpu", "use WebGPU instead")),
        Some(BackendKind::WebGpu { .. }) => Some(("?backend=cpu", "use the CPU instead")),
        _ => None,
    };
    let cache_note = RwSignal::new(String::new());
    let clear = move |_| {
        spawn_local(async move {
            cache_note.set(match clear_cache().await {
                Ok(()) => "The browser cache of downloaded models is empty.".into(),
                Err(e) => format!("Could not clear the cache: {e}"),
            })
        })
    };
    view! {
        <div class="card">
            <dl class="facts">
                <dt>"Backend"</dt>
                <dd>
                    <span data-testid="backend-label" data-backend=backend_name>{backend_label}</span>
                    " "
                    <small data-testid="backend-note">{backend_note}</small>
                    " "
                    {move || switch().map(|(href, text)| view! { <a href=href data-testid="backend-switch">{text}</a> })}
                </dd>
            </dl>
        </div>
        <div class="two-columns">
            <ModelSlotView model_slot=state.target title="Target model" />
            <ModelSlotView model_slot=state.reference title="Reference model (optional, for the ref method)" />
        </div>
        <div class="actions">
            <button class="secondary" data-testid="clear-cache" on:click=clear>"Clear the model cache"</button>
            <small role="status">{move || cache_note.get()}</small>
        </div>
    }
}

/// What a loaded model is: architecture, parameters, vocabulary, context and size.
fn describe(m: &tinyeval_core::LanguageModel) -> String {
    let c = &m.config;
    let params = c.num_parameters();
    format!(
        "{} · {:?} · {:.2}M parameters · vocabulary {} · context {} · {:.1} MB of weights · {:.1} MB in memory (f32)",
        m.name,
        c.architecture,
        params as f64 / 1e6,
        c.vocab_size,
        c.max_positions,
        m.file_bytes as f64 / 1e6,
        params as f64 * 4.0 / 1e6,
    )
}

#[component]
fn ModelSlotView(model_slot: ModelSlot, title: &'static str) -> impl IntoView {
    let slot = model_slot;
    let state = expect_context::<AppState>();
    let role = slot.role;
    let status_id = if role == "target" { "model-status" } else { "reference-model-status" };
    let url = RwSignal::new(String::new());
    let chosen = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);
    let local_error = RwSignal::new(None::<String>);
    let loading = move || matches!(slot.state.get(), ModelState::Loading(_));
    let blocked = move || loading() || state.busy.get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let u = url.get_untracked().trim().to_string();
        if !u.is_empty() {
            state.load(slot, ModelSource::Url(u));
        }
    };
    let load_builtin = move |_| {
        let name = chosen.get_untracked();
        let name = if name.is_empty() {
            state.builtin_models.get_untracked().first().map(|m| m.name.clone()).unwrap_or_default()
        } else {
            name
        };
        if !name.is_empty() {
            state.load(slot, ModelSource::Builtin(name));
        }
    };
    // Files are read when the model loads, after its memory need is checked.
    let load_files = move |files: Vec<ChosenFile>| {
        if files.is_empty() {
            return;
        }
        local_error.set(None);
        state.load(slot, ModelSource::Local(files));
    };
    // This try's error replaces the last load's: only one says what went wrong.
    let fail_to_read = move |e: String| {
        slot.error.set(None);
        local_error.set(Some(e));
    };
    let on_files = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        load_files(chosen_files(input.files().as_ref()));
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if blocked() {
            return;
        }
        let Some(dropped) = ev.data_transfer().map(|d| Dropped::take(&d)) else { return };
        spawn_local(async move {
            match dropped.files().await {
                Ok(f) => load_files(f),
                Err(e) => fail_to_read(e),
            }
        });
    };
    let unload = move |_| slot.state.set(ModelState::Empty);
    view! {
        <section class="card" aria-labelledby=format!("{role}-title") data-testid=format!("{role}-slot")>
            <h2 id=format!("{role}-title")>{title}</h2>
            <div data-testid=status_id class="model-status">
                {move || match slot.state.get() {
                    ModelState::Empty => view! { <span>"none loaded"</span> }.into_any(),
                    ModelState::Loading(s) => view! { <span>{s}</span> }.into_any(),
                    ModelState::Failed(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
                    ModelState::Ready(m) => view! { <span data-ready="true">{describe(&m)}</span> }.into_any(),
                }}
            </div>
            <small data-testid=format!("{role}-note")>{move || slot.note.get()}</small>
            {move || slot.need.get().map(|n| view! { <p class="memory-need" data-testid=format!("{role}-memory")><small>{n}</small></p> })}
            {move || slot.error.get().map(|e| view! {
                <p class="error" role="alert" data-testid=format!("{role}-error")>{format!("Could not load: {e} (the model above is still loaded)")}</p>
            })}
            {move || {
                slot.download.get().map(|p| {
                    let label = match p.total {
                        Some(t) => format!("{}: {:.1} of {:.1} MB", p.file, p.done as f64 / 1e6, t as f64 / 1e6),
                        None => format!("{}: {:.1} MB", p.file, p.done as f64 / 1e6),
                    };
                    view! {
                        <div class="download" data-testid=format!("{role}-download")>
                            <progress max=p.total.unwrap_or(0).to_string() value=p.done.to_string() aria-label=label.clone()></progress>
                            <small>{label}</small>
                        </div>
                    }
                })
            }}
            <div class="actions">
                <label class="inline" for=format!("{role}-builtin")>"Bundled"</label>
                <select
                    id=format!("{role}-builtin")
                    data-testid=format!("{role}-builtin")
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                >
                    {move || {
                        state
                            .builtin_models
                            .get()
                            .into_iter()
                            .map(|m| {
                                let title = m.description.clone();
                                view! { <option value=m.name.clone() title=title>{m.name.clone()}</option> }
                            })
                            .collect_view()
                    }}
                </select>
                <button data-testid=format!("{role}-load-builtin") on:click=load_builtin disabled=blocked>"Load"</button>
                {(role == "reference").then(|| view! { <button class="secondary" on:click=unload disabled=blocked>"Unload"</button> })}
            </div>
            <form class="load-form" on:submit=submit>
                <label for=format!("{role}-url")>"From a URL"</label>
                <div class="actions">
                    <input
                        id=format!("{role}-url")
                        data-testid=if role == "target" { "model-url".to_string() } else { format!("{role}-url") }
                        type="url"
                        placeholder="https://huggingface.co/<user>/<model>/resolve/main/ or a .gguf file"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                    />
                    <button type="submit" data-testid=if role == "target" { "load-button".to_string() } else { format!("{role}-load-url") } disabled=blocked>
                        "Download"
                    </button>
                </div>
                <small>"A Hugging Face model folder (config.json, tokenizer.json, model.safetensors) or a .gguf file (llama). Kept in the browser cache."</small>
            </form>
            <div
                class=move || if dragging.get() { "drop-zone dragging" } else { "drop-zone" }
                data-testid=format!("{role}-drop")
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>"Drop a model folder (config.json, tokenizer.json, model.safetensors), its files, or a .gguf file here, or choose:"</p>
                <div class="actions">
                    <label class="file-button">
                        "Files…"
                        <input type="file" multiple data-testid=format!("{role}-files") on:change=on_files disabled=blocked />
                    </label>
                    <label class="file-button">
                        "A folder…"
                        <input type="file" data-testid=format!("{role}-folder") on:change=on_files disabled=blocked node_ref=folder_input() />
                    </label>
                </div>
                {move || local_error.get().map(|e| view! { <p class="error" role="alert" data-testid=format!("{role}-read-error")>{e}</p> })}
            </div>
        </section>
    }
}

/// A file input that picks a whole folder (`webkitdirectory`, which Leptos has no attribute helper for).
fn folder_input() -> NodeRef<leptos::html::Input> {
    let node = NodeRef::<leptos::html::Input>::new();
    node.on_load(|input| {
        let element: &web_sys::Element = input.unchecked_ref();
        let _ = element.set_attribute("webkitdirectory", "");
    });
    node
}
