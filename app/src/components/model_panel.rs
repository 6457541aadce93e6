//! What is loaded, and where it runs.

use leptos::prelude::*;

use super::ModelState;
use crate::backend::{Backend, BackendKind};

#[component]
pub fn ModelPanel(
    backend: RwSignal<Option<Backend>, LocalStorage>,
    model: RwSignal<ModelState, LocalStorage>,
    /// Called with a model URL the user wants loaded.
    on_load: Callback<String>,
    /// A run is in progress: loading another model waits.
    busy: Signal<bool>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let loading = move || matches!(model.get(), ModelState::Loading(_));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let u = url.get_untracked().trim().to_string();
        if !u.is_empty() {
            on_load.run(u);
        }
    };
    let backend_label = move || backend.get().map(|b| b.label()).unwrap_or_else(|| "choosing…".into());
    let backend_name = move || backend.get().map(|b| b.short_name()).unwrap_or("");
    let backend_note = move || match backend.get().map(|b| b.kind) {
        Some(BackendKind::Cpu { reason }) => format!("({reason})"),
        _ => String::new(),
    };
    view! {
        <section class="card" aria-labelledby="model-title">
            <h2 id="model-title">"Model"</h2>
            <dl class="facts">
                <dt>"Backend"</dt>
                <dd>
                    <span data-testid="backend-label" data-backend=backend_name>{backend_label}</span>
                    " "
                    <small>{backend_note}</small>
                </dd>
                <dt>"Model"</dt>
                <dd data-testid="model-status">
                    {move || match model.get() {
                        ModelState::Loading(s) => view! { <span>{s}</span> }.into_any(),
                        ModelState::Failed(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
                        ModelState::Ready(m) => {
                            let c = &m.config;
                            let summary = format!(
                                "{} · {:?} · {:.2}M parameters · vocabulary {} · context {} · {:.1} MB",
                                m.name,
                                c.architecture,
                                c.num_parameters() as f64 / 1e6,
                                c.vocab_size,
                                c.max_positions,
                                m.file_bytes as f64 / 1e6,
                            );
                            view! { <span data-ready="true">{summary}</span> }.into_any()
                        }
                    }}
                </dd>
            </dl>
            <form class="load-form" on:submit=submit>
                <label for="model-url">"Load a model from a URL"</label>
                <div class="actions">
                    <input
                        id="model-url"
                        data-testid="model-url"
                        type="url"
                        placeholder="https://huggingface.co/<user>/<model>/resolve/main/ or a .gguf file"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                    />
                    <button type="submit" data-testid="load-button" disabled=move || loading() || busy.get()>
                        "Load"
                    </button>
                </div>
                <small>"A Hugging Face model folder (config.json, tokenizer.json, model.safetensors) or a .gguf file (llama)."</small>
            </form>
        </section>
    }
}
