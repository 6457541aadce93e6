//! Benchmarks: pick tasks (bundled demo tasks, Leaner-GLUE and Leaner-Pretrain
//! from a URL base, whole suites, the linear probe, or an uploaded task), set
//! k-shot, limit, batch size and seed, run with progress and cancel; results as
//! a table and a bar chart, and the per-sample view. Fine-tuning has its own
//! panel below (`finetune_panel`), reading the same TinyHelen base URL.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::probe::{PROBE_SUITE, PROBE_TASKS, ProbeOptions, ProbeProgress};
use tinyeval_core::run_plan::RunPlan;
use tinyeval_core::tasks::{EvalOptions, TaskResult};

use super::bench_results::{ResultsTable, SamplesView};
use super::chart::Chart;
use super::finetune_panel::FinetunePanel;
use super::permalink::PermalinkButton;
use super::probe_results::ProbeResults;
use super::job_status::JobStatusLine;
use super::{AppState, Tab};
use crate::browser::files::{download, read_input_files};
use crate::export::{Permalink, RunSummary, Settings, results_csv, results_json};
use crate::job::{Job, JobStatus, Progress};
use crate::plots::{BarSeries, bar_chart};
use crate::probe_run::probe_in_page;
use crate::runs::{BenchProgress, run_benchmark};
use crate::job::Outcome;
use crate::suites::builtin_suites;
use crate::task_loading::{LoadedTask, TINYHELEN_BASE, TaskSource, builtin_tasks, load_from_url, load_task, load_uploaded};

impl Progress for BenchProgress {
    fn describe(&self) -> String {
        let task = format!("task {} of {} ({})", self.task_index + 1, self.task_count, self.task);
        if self.requests_total == 0 {
            return format!("{task} · preparing the requests…");
        }
        let left = self.eta_seconds.map(|s| format!(" · about {} left", format_seconds(s))).unwrap_or_default();
        format!("{task} · {}/{} requests · {:.0} tokens/s{left}", self.requests_done, self.requests_total, self.tokens_per_second)
    }
}

/// Seconds as `1 min 5 s` or `12 s`.
fn format_seconds(s: f64) -> String {
    if s >= 60.0 { format!("{} min {} s", (s / 60.0).floor(), (s % 60.0).round()) } else { format!("{s:.0} s") }
}

fn parse_opt(s: &str) -> Result<Option<usize>, String> {
    let s = s.trim();
    if s.is_empty() { Ok(None) } else { s.parse().map(Some).map_err(|_| format!("`{s}` is not a whole number")) }
}

#[component]
pub fn BenchmarksTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let all_tasks = builtin_tasks();
    let (demo, glue): (Vec<TaskSource>, Vec<TaskSource>) = all_tasks.iter().cloned().partition(|t| t.bundled);
    let suites = builtin_suites();
    let probe_names: Vec<String> = PROBE_TASKS.iter().map(|t| t.run_name()).collect();
    let selected = RwSignal::new(demo.iter().map(|t| t.name.clone()).collect::<Vec<_>>());
    let tinyhelen_base = RwSignal::new(TINYHELEN_BASE.to_string());
    // Uploaded tasks, one per name (an upload of the same name replaces it).
    let uploaded = RwSignal::new_local(Vec::<LoadedTask>::new());
    let upload_error = RwSignal::new(None::<String>);
    let fewshot = RwSignal::new(String::from("0"));
    let limit = RwSignal::new(String::from("100"));
    let batch_size = RwSignal::new(String::from("8"));
    let seed = RwSignal::new(String::from("1234"));
    let job = Job::<BenchProgress>::new(state.busy);
    let results = RwSignal::new(Vec::<TaskResult>::new());
    let probe_results = RwSignal::new(Vec::<tinyeval_core::probe::ProbeRun>::new());
    let settings_used = RwSignal::new(None::<Settings>);
    let link = RwSignal::new(String::new());
    let export_error = RwSignal::new(None::<String>);

    let toggle = move |name: String, on: bool| {
        selected.update(|s| {
            s.retain(|n| n != &name);
            if on {
                s.push(name);
            }
        })
    };
    // A task read from files or a URL joins the list, chosen (replacing one of the same name).
    let add_task = move |loaded: Result<LoadedTask, String>| match loaded {
        Ok(t) => {
            upload_error.set(None);
            let name = t.config.task.clone();
            uploaded.update(|ts| {
                ts.retain(|u| u.config.task != name);
                ts.push(t);
            });
            selected.update(|s| {
                if !s.contains(&name) {
                    s.push(name)
                }
            });
        }
        Err(e) => upload_error.set(Some(e)),
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        let base = tinyhelen_base.get_untracked();
        spawn_local(async move {
            add_task(match read_input_files(files).await {
                Ok(f) => load_uploaded(&f, &base).await,
                Err(e) => Err(e),
            });
            input.set_value("");
        });
    };
    let task_url = RwSignal::new(String::new());
    let loading_url = RwSignal::new(false);
    let load_url = move |_| {
        let (url, base) = (task_url.get_untracked(), tinyhelen_base.get_untracked());
        loading_url.set(true);
        spawn_local(async move {
            add_task(load_from_url(&url, &base).await);
            loading_url.set(false);
        });
    };

    let start = move |_| {
        let Some(model) = state.target.model_untracked() else { return };
        let settings = match (|| -> Result<Settings, String> {
            Ok(Settings {
                num_fewshot: parse_opt(&fewshot.get_untracked())?,
                limit: parse_opt(&limit.get_untracked())?,
                batch_size: parse_opt(&batch_size.get_untracked())?.unwrap_or(8).max(1),
                seed: seed.get_untracked().trim().parse().map_err(|_| "the seed must be a whole number".to_string())?,
                generation: None,
            })
        })() {
            Ok(s) => s,
            Err(e) => return job.fail(e),
        };
        let names = selected.get_untracked();
        // Core's plan says which names are task YAML and which the probe's.
        let plan = match RunPlan::from_names(names.iter().map(String::as_str)) {
            Ok(p) if p.benchmarks.is_empty() && p.probes.is_empty() => return job.fail("choose at least one task"),
            Ok(p) => p,
            Err(e) => return job.fail(e.to_string()),
        };
        let sources = all_tasks.clone();
        let upload = uploaded.get_untracked();
        let base = tinyhelen_base.get_untracked();
        let backend = state.backend.get_untracked().map(|b| b.short_name().to_string()).unwrap_or_default();
        results.set(Vec::new());
        probe_results.set(Vec::new());
        link.set(String::new());
        job.start(move |ctx| async move {
            let mut tasks = Vec::new();
            for name in &plan.benchmarks {
                if let Some(t) = upload.iter().find(|t| &t.config.task == name) {
                    tasks.push(t.clone());
                    continue;
                }
                let Some(source) = sources.iter().find(|s| s.name() == name) else { continue };
                ctx.preparing(format!("reading task {name}…"));
                tasks.push(load_task(source, &base).await?);
            }
            let options = EvalOptions {
                num_fewshot: settings.num_fewshot,
                limit: settings.limit,
                batch_size: settings.batch_size,
                seed: settings.seed,
                ..EvalOptions::default()
            };
            let on_task_done = |r| results.update(|rs| rs.push(r));
            if let Outcome::Cancelled = run_benchmark(&model, &tasks, options, ctx.cancel_flag(), |p| ctx.progress(p), on_task_done).await? {
                return Ok(Outcome::Cancelled);
            }
            // The probe takes a non-negative seed, as `tinyeval run` passes it on.
            let probe_seed = u64::try_from(settings.seed).map_err(|_| format!("the seed {} must not be negative for the probe", settings.seed));
            for &task in &plan.probes {
                let name = task.name;
                let on_progress = |p: ProbeProgress| ctx.preparing(format!("probe {name}: {}/{} texts", p.texts_done, p.texts_total));
                ctx.preparing(format!("probe {name}: reading Leaner-GLUE…"));
                let options = ProbeOptions { limit: settings.limit, batch_size: settings.batch_size, seed: probe_seed.clone()?, ..ProbeOptions::default() };
                match probe_in_page(&model, task, &base, &options, &ctx.cancel_flag(), on_progress).await? {
                    Outcome::Done(r) => probe_results.update(|rs| rs.push(r)),
                    Outcome::Cancelled => return Ok(Outcome::Cancelled),
                }
            }
            let done = results.get_untracked();
            let probed = probe_results.get_untracked();
            settings_used.set(Some(settings.clone()));
            let tasks: Vec<String> = done.iter().map(|r| r.task.clone()).chain(probed.iter().map(|r| r.task.run_name())).collect();
            let label = format!("{} · {}", model.name, tasks.join(", "));
            let mut summary = RunSummary::from_results(label, model.name.clone(), backend, settings, &done);
            summary.metrics.extend(RunSummary::probe_metrics(&probed));
            state.runs.update(|runs| runs.push(summary));
            let evaluated = if done.is_empty() { String::new() } else { format!("{} task(s) evaluated", done.len()) };
            let probed = if probed.is_empty() { String::new() } else { format!("{} task(s) probed", probed.len()) };
            let what = [evaluated, probed].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ");
            Ok(Outcome::Done(format!("{what}; added to Compare")))
        });
    };
    let running = move || job.running();
    let ready = move || state.target.model().is_some();

    let chart = Signal::derive(move || {
        // Read in place: the results hold every sample, and this reruns at each progress report.
        if !matches!(job.status.get(), JobStatus::Done(_)) || results.with(Vec::is_empty) {
            return None;
        }
        let mut categories = Vec::new();
        let mut values = Vec::new();
        results.with(|rs| {
            for r in rs {
                // Perplexities are unbounded: they would flatten every other bar.
                for (name, m) in r.metrics.iter().filter(|(name, _)| !name.ends_with("perplexity")) {
                    categories.push(format!("{} {name}", r.task));
                    values.push(Some((m.value, m.stderr)));
                }
            }
        });
        let model = state.target.model_untracked().map(|m| m.name.clone()).unwrap_or_default();
        if categories.is_empty() {
            return None;
        }
        Some(bar_chart(&format!("{model}: scores ± stderr"), "score", &categories, &[BarSeries { name: model, values }]))
    });

    let export = move |kind: &'static str| {
        let rs = results.get_untracked();
        let Some(settings) = settings_used.get_untracked() else { return };
        let model = state.target.model_untracked().map(|m| m.name.clone()).unwrap_or_default();
        let backend = state.backend.get_untracked().map(|b| b.short_name().to_string()).unwrap_or_default();
        let outcome = match kind {
            "json" => serde_json::to_vec_pretty(&results_json(&rs, &model, &backend, &settings))
                .map_err(|e| e.to_string())
                .and_then(|b| download("results.json", "application/json", &b)),
            _ => download("results.csv", "text/csv", results_csv(&rs).as_bytes()),
        };
        export_error.set(outcome.err());
    };

    view! {
        <section class="card" aria-labelledby="bench-title">
            <h2 id="bench-title">"Benchmark tasks"</h2>
            <fieldset>
                <legend>"Demo tasks (bundled, offline)"</legend>
                {demo
                    .iter()
                    .map(|t| {
                        let name = t.name().to_string();
                        view! { <TaskCheckbox name=name selected=selected toggle=toggle /> }
                    })
                    .collect_view()}
            </fieldset>
            <fieldset>
                <legend>"Leaner-GLUE and Leaner-Pretrain (TinyHelen's files, read from a URL)"</legend>
                <p class="suites">
                    "Whole suites: "
                    {suites
                        .iter()
                        .map(|g| view! { <SuiteCheckbox name=g.group.clone() tasks=g.task.clone() selected=selected /> })
                        .collect_view()}
                </p>
                {glue
                    .iter()
                    .map(|t| {
                        let name = t.name().to_string();
                        view! { <TaskCheckbox name=name selected=selected toggle=toggle /> }
                    })
                    .collect_view()}
                <label for="tinyhelen-base">"TinyHelen base URL"</label>
                <input
                    id="tinyhelen-base"
                    class="wide"
                    data-testid="tinyhelen-base"
                    type="url"
                    prop:value=move || tinyhelen_base.get()
                    on:input=move |ev| tinyhelen_base.set(event_target_value(&ev))
                />
                <small>"Files are read from here only when one of these tasks is run."</small>
            </fieldset>
            <fieldset>
                <legend>"Linear probe on Leaner-GLUE (leaner_glue_probe; the limit applies to every split)"</legend>
                <SuiteCheckbox name=PROBE_SUITE.to_string() tasks=probe_names.clone() selected=selected />
                {probe_names
                    .iter()
                    .map(|name| view! { <TaskCheckbox name=name.clone() selected=selected toggle=toggle /> })
                    .collect_view()}
            </fieldset>
            <fieldset>
                <legend>"Your own task"</legend>
                <label for="task-upload">"A task YAML (lm-eval-harness format) with its data files (JSONL, JSON or CSV); paths starting {tinyhelen}/ are read from the TinyHelen base URL"</label>
                <input id="task-upload" type="file" multiple accept=".yaml,.yml,.jsonl,.json,.csv" data-testid="task-upload" on:change=on_upload />
                <label for="task-url">"…or the task YAML's URL (its data paths are read relative to it)"</label>
                <div class="actions">
                    <input id="task-url" class="wide" type="url" placeholder="https://example.org/tasks/my_task.yaml" data-testid="task-url" prop:value=move || task_url.get() on:input=move |ev| task_url.set(event_target_value(&ev)) />
                    <button class="secondary" data-testid="task-url-load" on:click=load_url disabled=move || loading_url.get()>"Load"</button>
                </div>
                {move || uploaded.get().into_iter().map(|t| {
                    let name = t.config.task.clone();
                    view! {
                        <p data-testid="uploaded-task">{format!("Your task {name} ({}): ", serde_json::to_value(t.config.output_type).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())}</p>
                        <TaskCheckbox name=name selected=selected toggle=toggle />
                    }
                }).collect_view()}
                {move || upload_error.get().map(|e| view! { <p class="error" role="alert" data-testid="upload-error">{e}</p> })}
            </fieldset>
            <div class="options">
                <label>"Few-shot examples (k)" <input type="number" min="0" data-testid="opt-fewshot" prop:value=move || fewshot.get() on:input=move |ev| fewshot.set(event_target_value(&ev)) /></label>
                <label>"Limit (docs per task; empty = all)" <input type="number" min="1" data-testid="opt-limit" prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev)) /></label>
                <label>"Batch size" <input type="number" min="1" data-testid="opt-batch" prop:value=move || batch_size.get() on:input=move |ev| batch_size.set(event_target_value(&ev)) /></label>
                <label>"Few-shot seed" <input type="number" data-testid="opt-seed" prop:value=move || seed.get() on:input=move |ev| seed.set(event_target_value(&ev)) /></label>
            </div>
            <div class="actions">
                <button data-testid="bench-run" on:click=start disabled=move || !ready() || running() || state.busy.get()>"Run"</button>
                <button data-testid="bench-cancel" on:click=move |_| job.cancel() disabled=move || !running()>"Cancel"</button>
                <JobStatusLine job=job testid="bench-status" />
            </div>
            {move || match job.status.get() {
                JobStatus::Running(p) if p.requests_total > 0 => Some(view! {
                    <progress data-testid="bench-progress" max=p.requests_total.to_string() value=p.requests_done.to_string() aria-label="progress of the current task"></progress>
                }),
                _ => None,
            }}
        </section>
        <Show when=move || !probe_results.with(Vec::is_empty)>
            <ProbeResults results=probe_results />
        </Show>
        <Show when=move || !results.with(Vec::is_empty)>
            <section class="card" aria-labelledby="results-title">
                <h2 id="results-title">"Results"</h2>
                <ResultsTable results=results groups=suites.clone() />
                <Chart svg=chart name="benchmark" />
                <div class="actions">
                    <button class="secondary" data-testid="export-json" on:click=move |_| export("json") disabled=move || settings_used.get().is_none()>"Results JSON (lm-eval layout)"</button>
                    <button class="secondary" data-testid="export-csv" on:click=move |_| export("csv") disabled=move || settings_used.get().is_none()>"CSV"</button>
                    <button class="secondary" on:click=move |_| state.tab.set(Tab::Compare)>"Compare…"</button>
                </div>
                {move || export_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <PermalinkButton
                    make=move || Permalink::compare(state.runs.get_untracked().last().cloned().into_iter().collect(), &[])
                    link=link
                    disabled=Signal::derive(move || settings_used.get().is_none())
                    caption="Link to these results (settings and scores only, no texts)"
                    button_id="make-permalink"
                    link_id="permalink"
                />
            </section>
            <SamplesView results=results />
        </Show>
        <FinetunePanel tinyhelen_base=tinyhelen_base />
    }
}

#[component]
fn TaskCheckbox(name: String, selected: RwSignal<Vec<String>>, toggle: impl Fn(String, bool) + Copy + 'static) -> impl IntoView {
    let id = format!("task-{name}");
    let for_id = id.clone();
    let testid = id.clone();
    let n = name.clone();
    let n2 = name.clone();
    view! {
        <label class="check" for=for_id>
            <input
                type="checkbox"
                id=id
                data-testid=testid
                prop:checked=move || selected.get().contains(&n)
                on:change=move |ev| toggle(n2.clone(), event_target_checked(&ev))
            />
            {name}
        </label>
    }
}

/// Chooses or clears all of a suite's tasks at once; ticked when all are chosen.
#[component]
fn SuiteCheckbox(name: String, tasks: Vec<String>, selected: RwSignal<Vec<String>>) -> impl IntoView {
    let id = format!("suite-{name}");
    let (for_id, testid) = (id.clone(), id.clone());
    let all = tasks.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            s.retain(|n| !tasks.contains(n));
            if on {
                s.extend(tasks.iter().cloned());
            }
        })
    };
    view! {
        <label class="check" for=for_id>
            <input
                type="checkbox"
                id=id
                data-testid=testid
                prop:checked=move || { let s = selected.get(); all.iter().all(|t| s.contains(t)) }
                on:change=on_change
            />
            {name}
        </label>
    }
}
