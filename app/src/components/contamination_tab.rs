//! Contamination: has the model seen these texts? A labelled set, or a
//! benchmark task with a membership manifest, checked by core's
//! `membership::run_check` with the chosen methods (see [`super::check_results`]
//! for what is shown); a box to check any passage; and the model-free n-gram
//! overlap of a task with a corpus.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::detection::Method;
use tinyeval_core::membership::{CheckItem, CheckReport, MembershipManifest, task_items};

use super::check_methods::{MethodForm, MethodOptions};
use super::check_results::CheckResults;
use super::overlap_panel::OverlapPanel;
use super::passage_check::PassageCheck;
use super::job_status::JobStatusLine;
use super::AppState;
use crate::browser::files::read_input_files;
use crate::job::Job;
use crate::contamination::{CheckForm, check_frequencies, check_options, labelled_set, manifest_for, members, method_to_show, summary_text};
use crate::browser::fetch::fetch_bytes;
use crate::runs::{DetectionRun, run_membership_check};
use crate::job::Outcome;
use crate::task_loading::{TINYHELEN_BASE, TaskSource, builtin_tasks, load_task};

/// Where the texts of a check come from, as the form says when the check starts.
struct ItemSource {
    labelled: Option<(String, Vec<CheckItem>)>,
    task: Option<TaskSource>,
    tinyhelen_base: String,
    manifest_url: String,
    manifest_upload: Option<(String, Vec<u8>)>,
    limit: String,
}

impl ItemSource {
    /// What Compare calls the checked texts.
    fn name(&self) -> String {
        match (&self.labelled, &self.task) {
            (Some((file, _)), _) => file.clone(),
            (None, Some(t)) => t.name().to_string(),
            _ => String::new(),
        }
    }

    /// The items: the labelled set's, or the manifest's rows of the task (the first `limit`).
    async fn items(self) -> Result<Vec<CheckItem>, String> {
        if let Some((_, items)) = self.labelled {
            return Ok(items);
        }
        let source = self.task.ok_or("choose a task")?;
        let limit = match self.limit.trim() {
            "" => None,
            l => Some(l.parse::<usize>().ok().filter(|&n| n > 0).ok_or("the limit must be a whole number of items (empty: all)")?),
        };
        let task = load_task(&source, &self.tinyhelen_base).await?;
        let (file, bytes) = match self.manifest_upload {
            Some(u) => u,
            None if !self.manifest_url.trim().is_empty() => (self.manifest_url.clone(), fetch_bytes(self.manifest_url.trim()).await?),
            None => return Err("choose a membership manifest (JSONL with task, split, idx, member)".to_string()),
        };
        let manifest = MembershipManifest::parse(&file, &bytes).map_err(|e| e.to_string())?;
        task_items(&task.config, &task.docs, Some(&manifest), limit).map_err(|e| e.to_string())
    }
}

#[component]
pub fn ContaminationTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let source_kind = RwSignal::new(String::from("task"));
    let labelled = RwSignal::new(None::<(String, Vec<CheckItem>)>);
    let labelled_error = RwSignal::new(None::<String>);
    let tasks: Vec<TaskSource> = builtin_tasks().into_iter().filter(|t| t.multiple_choice).collect();
    let task_name = RwSignal::new(tasks.first().map(|t| t.name.clone()).unwrap_or_default());
    let tinyhelen_base = RwSignal::new(TINYHELEN_BASE.to_string());
    let manifest_url = RwSignal::new(String::new());
    let manifest_edited = RwSignal::new(false);
    let manifest_upload = RwSignal::new(None::<(String, Vec<u8>)>);
    let limit = RwSignal::new(String::new());
    let form = MethodForm::new();
    let job = Job::<String>::new(state.busy);
    let check = RwSignal::new(None::<Arc<CheckReport>>);
    let shown_method = RwSignal::new(String::from("mink"));
    let selected_item = RwSignal::new(None::<usize>);
    // The last check as a permalink carries it (AUROCs and ROC curves, no texts).
    let shared = StoredValue::new(None::<DetectionRun>);
    let link = RwSignal::new(String::new());

    // The manifest is the target model's own when it has one, else the first bundled model's.
    Effect::new(move |_| {
        let models = state.builtin_models.get();
        let target = state.target.model().map(|m| m.name.clone());
        if !manifest_edited.get_untracked()
            && let Some(url) = manifest_for(&models, target.as_deref(), &manifest_url.get_untracked())
        {
            manifest_url.set(url);
        }
    });

    let on_labelled = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            let parsed = read_input_files(files).await.and_then(|f| {
                let f = f.into_iter().next().ok_or("no file chosen")?;
                Ok((f.path.clone(), labelled_set(&f.path, &f.bytes)?))
            });
            match parsed {
                Ok(p) => {
                    labelled_error.set(None);
                    labelled.set(Some(p));
                }
                Err(e) => labelled_error.set(Some(e)),
            }
            input.set_value("");
        });
    };
    let on_manifest = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            if let Ok(Some(f)) = read_input_files(files).await.map(|f| f.into_iter().next()) {
                manifest_upload.set(Some((f.path.clone(), f.bytes.to_vec())));
            }
        });
    };

    let tasks_for_run = tasks.clone();
    let start = move |_| {
        let Some(model) = state.target.model_untracked() else { return };
        let reference = state.reference.model_untracked();
        let chosen = form.methods.get_untracked();
        let labelled_source = source_kind.get_untracked() == "labelled";
        let source = ItemSource {
            labelled: if labelled_source { Some(labelled.get_untracked().unwrap_or_default()) } else { None },
            task: tasks_for_run.iter().find(|t| t.name() == task_name.get_untracked()).cloned(),
            tinyhelen_base: tinyhelen_base.get_untracked(),
            manifest_url: manifest_url.get_untracked(),
            manifest_upload: manifest_upload.get_untracked(),
            limit: limit.get_untracked(),
        };
        let no_set = labelled_source && labelled.get_untracked().is_none();
        let form_values = (form.k.get_untracked(), form.batch_size.get_untracked(), form.recall_shots.get_untracked());
        let (corpus, bundled) = (form.corpus.get_untracked(), form.bundled_counts.get_untracked());
        selected_item.set(None);
        link.set(String::new());
        job.start(move |ctx| async move {
            ctx.preparing("reading the items…");
            if no_set {
                return Err("choose a labelled set (JSONL with input and label) first".into());
            }
            let frequencies = if chosen.contains(&Method::DcPdd) { Some(check_frequencies(&model, &corpus, bundled).await?) } else { None };
            let (k, batch_size, recall_shots) = form_values;
            let options = check_options(CheckForm { methods: chosen, k, batch_size, recall_shots, frequencies })?;
            let texts = source.name();
            let items = source.items().await?;
            let on_progress = |p: tinyeval_core::membership::CheckProgress| ctx.progress(format!("{}: {}/{} requests", p.stage.label(), p.done, p.total));
            let Outcome::Done(report) = run_membership_check(&model, reference.as_deref(), items, &options, ctx.cancel_flag(), on_progress).await? else {
                return Ok(Outcome::Cancelled);
            };
            let detection = DetectionRun::new(&model.name, &texts, &report);
            shared.set_value(Some(detection.clone()));
            state.detections.update(|d| d.push(detection));
            shown_method.set(method_to_show(&report, &shown_method.get_untracked()));
            let summary = summary_text(&report);
            check.set(Some(Arc::new(report)));
            Ok(Outcome::Done(summary))
        });
    };
    let running = move || job.running();

    view! {
        <section class="card" aria-labelledby="contamination-title">
            <h2 id="contamination-title">"Membership check"</h2>
            <fieldset>
                <legend>"Texts to check"</legend>
                <label class="check">
                    <input type="radio" name="mia-source" value="task" data-testid="source-task" prop:checked=move || source_kind.get() == "task" on:change=move |_| source_kind.set("task".into()) />
                    "A benchmark task and a membership manifest"
                </label>
                <label class="check">
                    <input type="radio" name="mia-source" value="labelled" data-testid="source-labelled" prop:checked=move || source_kind.get() == "labelled" on:change=move |_| source_kind.set("labelled".into()) />
                    "A labelled set (WikiMIA format: JSONL with input and label, 1 = member)"
                </label>
                <div hidden=move || source_kind.get() != "task">
                    <div class="options">
                        <label>
                            "Task"
                            <select data-testid="mia-task" on:change=move |ev| task_name.set(event_target_value(&ev))>
                                {tasks.iter().map(|t| {
                                    let n = t.name().to_string();
                                    view! { <option value=n.clone() selected=task_name.get_untracked() == n>{n.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>
                            "Limit (the manifest's first N items of the task; empty: all)"
                            <input type="number" min="1" data-testid="mia-limit" prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev)) />
                        </label>
                        <label>
                            "TinyHelen base URL (Leaner-GLUE tasks)"
                            <input type="url" class="wide" data-testid="mia-tinyhelen-base" prop:value=move || tinyhelen_base.get() on:input=move |ev| tinyhelen_base.set(event_target_value(&ev)) />
                        </label>
                    </div>
                    <label for="manifest-url">"Membership manifest (URL, or choose a file)"</label>
                    <input
                        id="manifest-url"
                        class="wide"
                        data-testid="manifest-url"
                        prop:value=move || manifest_url.get()
                        on:input=move |ev| {
                            manifest_edited.set(true);
                            manifest_url.set(event_target_value(&ev));
                        }
                    />
                    <input type="file" accept=".jsonl,.json" data-testid="manifest-upload" aria-label="membership manifest file" on:change=on_manifest />
                    {move || manifest_upload.get().map(|(f, _)| view! { <small>{format!("using {f}")}</small> })}
                </div>
                <div hidden=move || source_kind.get() != "labelled">
                    <input type="file" accept=".jsonl,.json" data-testid="labelled-upload" aria-label="labelled set file" on:change=on_labelled />
                    {move || labelled.get().map(|(f, items)| view! { <small data-testid="labelled-info">{format!("{f}: {} texts, {} members", items.len(), members(&items))}</small> })}
                    {move || labelled_error.get().map(|e| view! { <p class="error" role="alert" data-testid="labelled-error">{e}</p> })}
                </div>
            </fieldset>
            <MethodOptions form=form />
            <div class="actions">
                <button data-testid="mia-run" on:click=start disabled=move || state.target.model().is_none() || running() || state.busy.get()>"Check"</button>
                <button data-testid="mia-cancel" on:click=move |_| job.cancel() disabled=move || !running()>"Cancel"</button>
                <JobStatusLine job=job testid="mia-status" />
            </div>
        </section>
        {move || check.get().map(|report| view! {
            <CheckResults report=report shown_method=shown_method selected_item=selected_item shared=shared link=link />
        })}
        <PassageCheck />
        <OverlapPanel />
    }
}
