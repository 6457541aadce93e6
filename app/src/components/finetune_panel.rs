//! Benchmarks' "Fine-tune (TinyHelen's protocol)": choose Leaner-GLUE tasks
//! and the grid (learning rates × seeds, epochs, batch size, max length and
//! the optimiser's settings), run core's `run_finetune` on the loaded model
//! with progress (steps/s, time left) and cancel, watch a loss curve per grid
//! point as it trains, and read the chosen configuration's scores beside the
//! probe's and zero-shot's. Finished runs join Compare and the permalink;
//! results download in lm-eval's layout, with the per-step loss log.

use leptos::prelude::*;
use tinyeval_core::finetune::{FINETUNE_SUITE, FinetuneOptions, FinetuneRun, finetune_results_json, run_name};
use tinyeval_core::probe::PROBE_TASKS;

use super::AppState;
use super::chart::Chart;
use super::finetune_results::FinetuneResults;
use super::job_status::JobStatusLine;
use super::permalink::PermalinkButton;
use crate::browser::files::download;
use crate::export::{Permalink, RunSummary};
use crate::finetune_run::{FinetuneStatus, finetune_in_page, format_seconds};
use crate::job::{Job, JobStatus, Outcome};
use crate::plots::lines::{Line, loss_chart};

/// One grid point's losses so far, for the live chart.
#[derive(Clone, Debug, PartialEq)]
struct LossCurve {
    label: String,
    points: Vec<(f64, f64)>,
}

/// The form's text fields, read into core's options (a clear message for anything unreadable).
#[derive(Clone, Copy)]
struct Form {
    learning_rates: RwSignal<String>,
    seeds: RwSignal<String>,
    epochs: RwSignal<String>,
    batch_size: RwSignal<String>,
    max_length: RwSignal<String>,
    limit: RwSignal<String>,
    weight_decay: RwSignal<String>,
    warmup_ratio: RwSignal<String>,
    max_grad_norm: RwSignal<String>,
    head_init_std: RwSignal<String>,
}

fn list<T: std::str::FromStr>(what: &str, s: &str) -> Result<Vec<T>, String> {
    let values: Vec<T> = s
        .split([',', ' '])
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().parse().map_err(|_| format!("{what}: `{}` is not a number", v.trim())))
        .collect::<Result<_, _>>()?;
    if values.is_empty() { Err(format!("{what}: give at least one")) } else { Ok(values) }
}

fn one<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("{what}: `{}` is not a valid number", s.trim()))
}

impl Form {
    fn new() -> Self {
        let d = FinetuneOptions::default();
        let text = |v: String| RwSignal::new(v);
        Self {
            learning_rates: text(d.learning_rates.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")),
            seeds: text(d.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
            epochs: text(d.epochs.to_string()),
            batch_size: text(d.batch_size.to_string()),
            max_length: text(d.max_length.to_string()),
            limit: text(String::new()),
            weight_decay: text(d.weight_decay.to_string()),
            warmup_ratio: text(d.warmup_ratio.to_string()),
            max_grad_norm: text(d.max_grad_norm.to_string()),
            head_init_std: text(d.head_init_std.to_string()),
        }
    }

    fn options(&self) -> Result<FinetuneOptions, String> {
        let get = |s: RwSignal<String>| s.get_untracked();
        let positive = |what: &str, v: usize| if v == 0 { Err(format!("{what} must be at least 1")) } else { Ok(v) };
        let limit = get(self.limit);
        let options = FinetuneOptions {
            learning_rates: list("learning rates", &get(self.learning_rates))?,
            seeds: list("seeds", &get(self.seeds))?,
            epochs: positive("epochs", one("epochs", &get(self.epochs))?)?,
            batch_size: positive("batch size", one("batch size", &get(self.batch_size))?)?,
            max_length: positive("max length", one("max length", &get(self.max_length))?)?,
            limit: if limit.trim().is_empty() { None } else { Some(positive("limit", one("limit", &limit)?)?) },
            weight_decay: one("weight decay", &get(self.weight_decay))?,
            warmup_ratio: one("warm-up ratio", &get(self.warmup_ratio))?,
            max_grad_norm: one("gradient-norm clip", &get(self.max_grad_norm))?,
            head_init_std: one("head initialisation std", &get(self.head_init_std))?,
            ..FinetuneOptions::default()
        };
        if options.learning_rates.iter().any(|lr| !(lr.is_finite() && *lr > 0.0)) {
            return Err("learning rates must be positive".into());
        }
        if !(0.0..=1.0).contains(&options.warmup_ratio) {
            return Err("the warm-up ratio must be between 0 and 1".into());
        }
        Ok(options)
    }
}

#[component]
pub fn FinetunePanel(tinyhelen_base: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = Form::new();
    let selected = RwSignal::new(vec!["rte".to_string()]);
    let job = Job::<FinetuneStatus>::new(state.busy);
    let curves = RwSignal::new(Vec::<LossCurve>::new());
    let results = RwSignal::new(Vec::<FinetuneRun>::new());
    let model_name = RwSignal::new(String::new());
    let duration = RwSignal::new(None::<f64>);
    let link = RwSignal::new(String::new());
    let export_error = RwSignal::new(None::<String>);

    let start = move |_| {
        let Some(model) = state.target.model_untracked() else { return };
        let options = match form.options() {
            Ok(o) => o,
            Err(e) => return job.fail(e),
        };
        let names = selected.get_untracked();
        let tasks: Vec<_> = PROBE_TASKS.iter().filter(|t| names.iter().any(|n| n == t.name)).collect();
        if tasks.is_empty() {
            return job.fail("choose at least one task to fine-tune");
        }
        let base = tinyhelen_base.get_untracked();
        let backend = state.backend.get_untracked().map(|b| b.short_name().to_string()).unwrap_or_default();
        curves.set(Vec::new());
        results.set(Vec::new());
        duration.set(None);
        link.set(String::new());
        model_name.set(model.name.clone());
        job.start(move |ctx| async move {
            let mut seconds = 0.0;
            for &task in &tasks {
                ctx.preparing(format!("fine-tuning {}: reading Leaner-GLUE…", task.name));
                let on_step = |s: FinetuneStatus| {
                    let label = format!("{} lr {} seed {}", task.name, s.learning_rate, s.seed);
                    curves.update(|cs| {
                        if cs.last().is_none_or(|c| c.label != label) {
                            cs.push(LossCurve { label: label.clone(), points: Vec::new() });
                        }
                        cs.last_mut().expect("pushed").points.push((s.step.step as f64, s.step.loss));
                    });
                    ctx.progress(s);
                };
                match finetune_in_page(&model, task, &base, &options, &ctx.cancel_flag(), on_step).await? {
                    Outcome::Done((run, took)) => {
                        seconds += took;
                        results.update(|rs| rs.push(run));
                    }
                    Outcome::Cancelled => return Ok(Outcome::Cancelled),
                }
            }
            duration.set(Some(seconds));
            let runs = results.get_untracked();
            let grid = format!(
                "lr {} × seed {}, {} epoch(s)",
                options.learning_rates.iter().map(f64::to_string).collect::<Vec<_>>().join("/"),
                options.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join("/"),
                options.epochs
            );
            let label = format!("{} · fine-tuned {} ({grid})", model.name, runs.iter().map(|r| r.task.name).collect::<Vec<_>>().join(", "));
            let summary = RunSummary { label, model: model.name.clone(), backend, settings: None, metrics: RunSummary::finetune_metrics(&runs) };
            state.runs.update(|rs| rs.push(summary));
            Ok(Outcome::Done(format!("{} task(s) fine-tuned in {}; added to Compare", runs.len(), format_seconds(seconds))))
        });
    };

    let chart = Signal::derive(move || {
        let cs = curves.get();
        if cs.is_empty() {
            return None;
        }
        let lines: Vec<Line> = cs.into_iter().map(|c| Line { name: c.label, points: c.points }).collect();
        Some(loss_chart("Training loss per configuration", &lines))
    });
    let export = move |kind: &'static str| {
        let runs = results.get_untracked();
        let outcome = match kind {
            "json" => serde_json::to_vec_pretty(&finetune_results_json(&runs, tinyhelen_base.get_untracked().trim(), &model_name.get_untracked()))
                .map_err(|e| e.to_string())
                .and_then(|b| download("finetune_results.json", "application/json", &b)),
            _ => {
                let lines: Vec<String> = runs.iter().flat_map(FinetuneRun::loss_log).map(|v| v.to_string()).collect();
                download("finetune_loss.jsonl", "application/jsonl", (lines.join("\n") + "\n").as_bytes())
            }
        };
        export_error.set(outcome.err());
    };
    let running = move || job.running();
    let ready = move || state.target.model().is_some();
    let toggle = move |name: &'static str, on: bool| {
        selected.update(|s| {
            s.retain(|n| n != name);
            if on {
                s.push(name.to_string());
            }
        })
    };
    let field = move |label: &'static str, testid: &'static str, value: RwSignal<String>| {
        view! {
            <label>{label} <input type="text" inputmode="decimal" data-testid=testid prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
        }
    };

    view! {
        <section class="card" aria-labelledby="finetune-title">
            <h2 id="finetune-title">{format!("Fine-tune (TinyHelen's protocol, {FINETUNE_SUITE})")}</h2>
            <p>"Every weight of the model is trained with a linear head on the last token's final hidden state (transformers' sequence classification), AdamW with linear warm-up and decay and gradient clipping; each grid point is scored on validation and test, and the best on validation is reported. SST-2, QQP, QNLI and MNLI have no train split in Leaner-GLUE: they train on validation and report test, choosing on the training split's own score. Files are read from the TinyHelen base URL above."</p>
            <fieldset>
                <legend>"Tasks"</legend>
                {PROBE_TASKS
                    .iter()
                    .map(|t| {
                        let name = t.name;
                        let id = format!("finetune-task-{name}");
                        let note = if t.train_split == "train" { "" } else { " (trains on validation)" };
                        let (for_id, testid) = (id.clone(), id.clone());
                        view! {
                            <label class="check" for=for_id>
                                <input type="checkbox" id=id data-testid=testid prop:checked=move || selected.get().iter().any(|n| n == name) on:change=move |ev| toggle(name, event_target_checked(&ev)) />
                                {format!("{}{note}", run_name(t))}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <div class="options">
                {field("Learning rates", "ft-lrs", form.learning_rates)}
                {field("Seeds", "ft-seeds", form.seeds)}
                {field("Epochs", "ft-epochs", form.epochs)}
                {field("Batch size", "ft-batch", form.batch_size)}
                {field("Max length (tokens)", "ft-max-length", form.max_length)}
                {field("Limit (items per split; empty = all)", "ft-limit", form.limit)}
            </div>
            <details data-testid="ft-optimiser">
                <summary>"Optimiser"</summary>
                <div class="options">
                    {field("Weight decay", "ft-weight-decay", form.weight_decay)}
                    {field("Warm-up ratio", "ft-warmup", form.warmup_ratio)}
                    {field("Gradient-norm clip", "ft-clip", form.max_grad_norm)}
                    {field("Head initialisation std", "ft-head-std", form.head_init_std)}
                </div>
            </details>
            <div class="actions">
                <button data-testid="finetune-run" on:click=start disabled=move || !ready() || running() || state.busy.get()>"Fine-tune"</button>
                <button data-testid="finetune-cancel" on:click=move |_| job.cancel() disabled=move || !running()>"Cancel"</button>
                <JobStatusLine job=job testid="finetune-status" />
            </div>
            {move || match job.status.get() {
                JobStatus::Running(s) => Some(view! {
                    <progress data-testid="finetune-progress" max=s.step.steps.to_string() value=s.step.step.to_string() aria-label="steps of the current configuration"></progress>
                }),
                _ => None,
            }}
            <Show when=move || chart.get().is_some()>
                <Chart svg=chart name="finetune-loss" />
            </Show>
            <Show when=move || !results.get().is_empty()>
                <h3>"Fine-tuned scores"</h3>
                <FinetuneResults results=results model=model_name />
                {move || duration.get().map(|s| view! { <p data-testid="finetune-duration" data-seconds=s.to_string()>{format!("Trained and scored in {}.", format_seconds(s))}</p> })}
                <div class="actions">
                    <button class="secondary" data-testid="finetune-export-json" on:click=move |_| export("json")>"Results JSON (lm-eval layout)"</button>
                    <button class="secondary" data-testid="finetune-export-loss" on:click=move |_| export("loss")>"Loss log (JSONL)"</button>
                </div>
                {move || export_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <PermalinkButton
                    make=move || Permalink::compare(state.runs.get_untracked().last().cloned().into_iter().collect(), &[])
                    link=link
                    disabled=Signal::derive(move || duration.get().is_none())
                    caption="Link to these scores (settings and scores only, no texts)"
                    button_id="finetune-permalink-button"
                    link_id="finetune-permalink"
                />
            </Show>
        </section>
    }
}
