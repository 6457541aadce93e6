//! The methods of a membership check and their settings: which methods, k,
//! the batch size, ReCaLL's shots and DC-PDD's reference corpus.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::detection::{Method, TokenFrequencies};

use super::AppState;
use crate::browser::files::read_input_files;
use crate::contamination::{dcpdd_note, fetch_default_frequencies};
use crate::model_loading::LocalFile;

/// The form's values, read when a check starts.
#[derive(Clone, Copy)]
pub struct MethodForm {
    pub methods: RwSignal<Vec<Method>>,
    pub k: RwSignal<String>,
    pub batch_size: RwSignal<String>,
    pub recall_shots: RwSignal<String>,
    /// DC-PDD's corpus of the user's (files, or one counts table).
    pub corpus: RwSignal<Vec<LocalFile>, LocalStorage>,
    /// The bundled token counts, once read.
    pub bundled_counts: RwSignal<Option<Result<TokenFrequencies, String>>>,
}

impl MethodForm {
    pub fn new() -> Self {
        Self {
            // ReCaLL and DC-PDD are opt-in.
            methods: RwSignal::new(vec![Method::Loss, Method::Zlib, Method::MinK, Method::MinKPlusPlus]),
            k: RwSignal::new("0.2".into()),
            batch_size: RwSignal::new("8".into()),
            recall_shots: RwSignal::new("4".into()),
            corpus: RwSignal::new_local(Vec::new()),
            bundled_counts: RwSignal::new(None),
        }
    }
}

fn needs(m: Method) -> Option<&'static str> {
    match m {
        Method::Reference => Some(" (needs a reference model)"),
        Method::Recall => Some(" (ReCaLL: non-member prefix)"),
        Method::DcPdd => Some(" (DC-PDD: token frequencies)"),
        _ => None,
    }
}

#[component]
pub fn MethodOptions(form: MethodForm) -> impl IntoView {
    let state = expect_context::<AppState>();
    let methods = form.methods;
    let asked = StoredValue::new(false);
    // The bundled counts are read the first time DC-PDD is chosen.
    Effect::new(move |_| {
        if methods.get().contains(&Method::DcPdd) && !asked.get_value() {
            asked.set_value(true);
            spawn_local(async move { form.bundled_counts.set(Some(fetch_default_frequencies().await)) });
        }
    });
    let on_corpus = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            if let Ok(f) = read_input_files(files).await {
                form.corpus.set(f);
            }
        });
    };
    let note = move || {
        let names: Vec<String> = form.corpus.get().iter().map(|f| f.path.clone()).collect();
        let vocab = state.target.model().map(|m| m.config.vocab_size);
        dcpdd_note(vocab, &names, form.bundled_counts.get().as_ref())
    };
    let shows = move |m: Method| move || !methods.get().contains(&m);
    view! {
        <fieldset>
            <legend>"Methods"</legend>
            {Method::ALL.into_iter().map(|m| {
                view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            data-testid=format!("method-{}", m.name())
                            prop:checked=move || methods.get().contains(&m)
                            disabled=move || m == Method::Reference && state.reference.model().is_none()
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                methods.update(|ms| {
                                    ms.retain(|x| *x != m);
                                    if on { ms.push(m); ms.sort(); }
                                });
                            }
                        />
                        {m.name()}
                        {needs(m)}
                    </label>
                }
            }).collect_view()}
            <div class="options">
                <label>"k (fraction of tokens for Min-K% and Min-K%++)" <input type="number" step="0.05" min="0.05" max="1" data-testid="mia-k" prop:value=move || form.k.get() on:input=move |ev| form.k.set(event_target_value(&ev)) /></label>
                <label>"Batch size" <input type="number" min="1" data-testid="mia-batch" prop:value=move || form.batch_size.get() on:input=move |ev| form.batch_size.set(event_target_value(&ev)) /></label>
                <label hidden=shows(Method::Recall)>
                    "ReCaLL shots (non-members)"
                    <input type="number" min="1" data-testid="recall-shots" prop:value=move || form.recall_shots.get() on:input=move |ev| form.recall_shots.set(event_target_value(&ev)) />
                </label>
            </div>
            <p hidden=shows(Method::Recall) data-testid="recall-note">
                {move || format!(
                    "ReCaLL reads each text after a prefix of non-members: the set's first {} non-members, which are then left out of the check for every method.",
                    form.recall_shots.get().trim()
                )}
            </p>
            <div hidden=shows(Method::DcPdd)>
                {move || {
                    let (text, problem) = note();
                    view! { <p data-testid="dcpdd-note" class=if problem { "warning" } else { "" }>{text}</p> }
                }}
                <label>
                    "DC-PDD's reference corpus of your own (JSONL or text files, or a counts table .json)"
                    <input type="file" multiple accept=".json,.jsonl,.txt" data-testid="dcpdd-corpus" on:change=on_corpus />
                </label>
            </div>
        </fieldset>
    }
}
