//! Contamination: has the model seen these texts? A labelled set, or a
//! benchmark task with a membership manifest; detection methods and k; AUROC
//! and TPR at low FPR per method, ROC curves, score histograms, items ranked by
//! score with a token heat map; a box to check any passage; and the model-free
//! n-gram overlap of a task with a corpus.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::TextScores;
use tinyeval_core::detection::Method;

use super::chart::Chart;
use super::column_heads::ColumnHeads;
use super::overlap_panel::OverlapPanel;
use super::permalink::PermalinkButton;
use super::token_view::TokenView;
use super::{AppState, read_input_files};
use crate::contamination::{Item, MethodResult, detect, items_from_task, parse_labelled_set, parse_manifest, passage_scores};
use crate::export::Permalink;
use crate::fetch::fetch_bytes;
use crate::plots::{Curve, histogram_chart, roc_chart};
use crate::runs::{DetectionRun, Outcome, TextProgress, score_text, score_texts_stepwise};
use crate::task_loading::{TINYHELEN_BASE, TaskSource, builtin_tasks, load_task};

#[derive(Clone, Debug, PartialEq)]
enum RunState {
    Idle,
    Running(String),
    Done(String),
    Cancelled,
    Failed(String),
}

impl RunState {
    fn text(&self) -> String {
        match self {
            RunState::Idle => String::new(),
            RunState::Running(s) => format!("Running: {s}"),
            RunState::Done(s) => format!("Done: {s}"),
            RunState::Cancelled => "Cancelled".into(),
            RunState::Failed(e) => format!("Error: {e}"),
        }
    }
}

/// A finished check: the items, the target model's scores and each method's results.
#[derive(Clone)]
struct Check {
    items: Vec<Item>,
    target: Vec<TextScores>,
    results: Vec<MethodResult>,
    k: f64,
}

#[component]
pub fn ContaminationTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let source_kind = RwSignal::new(String::from("task"));
    let labelled = RwSignal::new(None::<(String, Vec<Item>)>);
    let labelled_error = RwSignal::new(None::<String>);
    let tasks: Vec<TaskSource> = builtin_tasks().into_iter().filter(|t| t.multiple_choice).collect();
    let task_name = RwSignal::new(tasks.first().map(|t| t.name.clone()).unwrap_or_default());
    let tinyhelen_base = RwSignal::new(TINYHELEN_BASE.to_string());
    let manifest_url = RwSignal::new(String::new());
    let manifest_upload = RwSignal::new(None::<(String, Vec<u8>)>);
    let methods = RwSignal::new(vec![Method::Loss, Method::Zlib, Method::MinK, Method::MinKPlusPlus]);
    let k = RwSignal::new(String::from("0.2"));
    let batch_size = RwSignal::new(String::from("8"));
    let run = RwSignal::new(RunState::Idle);
    let finished_runs = RwSignal::new(0u32);
    let check = RwSignal::new_local(None::<Check>);
    let cancel = StoredValue::new_local(Rc::new(Cell::new(false)));
    let shown_method = RwSignal::new(String::from("mink"));
    let selected_item = RwSignal::new(None::<usize>);
    // The last check as a permalink carries it (AUROCs and ROC curves, no texts).
    let shared = StoredValue::new(None::<DetectionRun>);
    let link = RwSignal::new(String::new());

    // The manifest defaults to the first bundled model that has one.
    Effect::new(move |_| {
        if manifest_url.get_untracked().is_empty() {
            if let Some(url) = state.builtin_models.get().iter().find_map(|m| m.membership.clone()) {
                manifest_url.set(format!("models/{url}"));
            }
        }
    });

    let on_labelled = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            let parsed = read_input_files(files).await.and_then(|f| {
                let f = f.into_iter().next().ok_or("no file chosen")?;
                Ok((f.path.clone(), parse_labelled_set(&f.path, &f.bytes)?))
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
        let chosen = methods.get_untracked();
        let reference = state.reference.model_untracked();
        let k_value: f64 = match k.get_untracked().trim().parse() {
            Ok(v) if v > 0.0 && v <= 1.0 => v,
            _ => return run.set(RunState::Failed("k must be a number in (0, 1], e.g. 0.2".into())),
        };
        if chosen.is_empty() {
            return run.set(RunState::Failed("choose at least one method".into()));
        }
        if chosen.contains(&Method::Reference) && reference.is_none() {
            return run.set(RunState::Failed("the ref method needs a reference model (load one in Models)".into()));
        }
        let batch = batch_size.get_untracked().trim().parse::<usize>().unwrap_or(8).max(1);
        let kind = source_kind.get_untracked();
        let labelled_set = labelled.get_untracked();
        let source = tasks_for_run.iter().find(|t| t.name() == task_name.get_untracked()).cloned();
        // What Compare calls the checked texts.
        let texts_name = match (&labelled_set, &source) {
            (Some((file, _)), _) if kind == "labelled" => file.clone(),
            (_, Some(task)) if kind != "labelled" => task.name().to_string(),
            _ => String::new(),
        };
        let base = tinyhelen_base.get_untracked();
        let m_url = manifest_url.get_untracked();
        let m_upload = manifest_upload.get_untracked();
        let flag = Rc::new(Cell::new(false));
        cancel.set_value(flag.clone());
        state.busy.set(true);
        selected_item.set(None);
        link.set(String::new());
        run.set(RunState::Running("reading the items…".into()));
        spawn_local(async move {
            let outcome: Result<Option<Check>, String> = async {
                let items = if kind == "labelled" {
                    labelled_set.ok_or("choose a labelled set (JSONL with input and label) first")?.1
                } else {
                    let source: TaskSource = source.ok_or("choose a task")?;
                    let task = load_task(&source, &base).await?;
                    let (file, bytes) = match m_upload {
                        Some(u) => u,
                        None if !m_url.trim().is_empty() => (m_url.clone(), fetch_bytes(m_url.trim()).await?),
                        None => return Err("choose a membership manifest (JSONL with task, split, idx, member)".to_string()),
                    };
                    // Whatever does not match the task names the manifest.
                    items_from_task(&task, &parse_manifest(&file, &bytes)?).map_err(|e| format!("{file}: {e}"))?
                };
                let texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
                let stage = |what: &'static str| move |done: usize, total: usize| run.set(RunState::Running(format!("{what}: {done}/{total} texts")));
                let Outcome::Done(target) = score_texts_stepwise(&model, &texts, batch, &flag, stage("target model")).await? else {
                    return Ok(None);
                };
                let lowercase = if chosen.contains(&Method::Lowercase) {
                    let lower: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
                    match score_texts_stepwise(&model, &lower, batch, &flag, stage("lowercased texts")).await? {
                        Outcome::Done(s) => Some(s),
                        Outcome::Cancelled => return Ok(None),
                    }
                } else {
                    None
                };
                let reference_scores = match (&reference, chosen.contains(&Method::Reference)) {
                    (Some(r), true) => match score_texts_stepwise(r, &texts, batch, &flag, stage("reference model")).await? {
                        Outcome::Done(s) => Some(s),
                        Outcome::Cancelled => return Ok(None),
                    },
                    _ => None,
                };
                let results = detect(&items, &target, lowercase.as_deref(), reference_scores.as_deref(), &chosen, k_value);
                Ok(Some(Check { items, target, results, k: k_value }))
            }
            .await;
            run.set(match outcome {
                Ok(Some(c)) => {
                    let detection = DetectionRun::new(&model.name, &texts_name, c.k, &c.items, &c.results);
                    shared.set_value(Some(detection.clone()));
                    state.detections.update(|d| d.push(detection));
                    let summary = format!("{} texts ({} members) checked with {} method(s)", c.items.len(), c.items.iter().filter(|i| i.member).count(), c.results.len());
                    if !c.results.iter().any(|r| r.method.name() == shown_method.get_untracked()) {
                        shown_method.set(c.results[0].method.name().to_string());
                    }
                    check.set(Some(c));
                    RunState::Done(summary)
                }
                Ok(None) => RunState::Cancelled,
                Err(e) => RunState::Failed(e),
            });
            state.busy.set(false);
            finished_runs.update(|n| *n += 1);
        });
    };
    let stop = move |_| cancel.get_value().set(true);
    let running = move || matches!(run.get(), RunState::Running(_));

    let roc = Signal::derive(move || {
        let c = check.get()?;
        let curves: Vec<Curve> = c
            .results
            .iter()
            .filter_map(|r| {
                let m = r.metrics.as_ref().ok()?;
                Some(Curve { name: format!("{} (AUROC {:.3})", r.method.name(), m.auroc), fpr: m.roc.fpr.clone(), tpr: m.roc.tpr.clone() })
            })
            .collect();
        Some(roc_chart("ROC curves: members vs non-members", &curves))
    });
    let histogram = Signal::derive(move || {
        let c = check.get()?;
        let r = c.results.iter().find(|r| r.method.name() == shown_method.get())?;
        if r.scores.is_empty() {
            return None;
        }
        let pick = |member: bool| c.items.iter().zip(&r.scores).filter(|(i, _)| i.member == member).map(|(_, &s)| s).collect::<Vec<_>>();
        let (members, others) = (pick(true), pick(false));
        Some(histogram_chart(
            &format!("{} scores (higher = more likely seen)", r.method.name()),
            &format!("{} score", r.method.name()),
            &[("members", &members), ("non-members", &others)],
            20,
        ))
    });

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
                            "TinyHelen base URL (Leaner-GLUE tasks)"
                            <input type="url" class="wide" data-testid="mia-tinyhelen-base" prop:value=move || tinyhelen_base.get() on:input=move |ev| tinyhelen_base.set(event_target_value(&ev)) />
                        </label>
                    </div>
                    <label for="manifest-url">"Membership manifest (URL, or choose a file)"</label>
                    <input id="manifest-url" class="wide" data-testid="manifest-url" prop:value=move || manifest_url.get() on:input=move |ev| manifest_url.set(event_target_value(&ev)) />
                    <input type="file" accept=".jsonl,.json" data-testid="manifest-upload" aria-label="membership manifest file" on:change=on_manifest />
                    {move || manifest_upload.get().map(|(f, _)| view! { <small>{format!("using {f}")}</small> })}
                </div>
                <div hidden=move || source_kind.get() != "labelled">
                    <input type="file" accept=".jsonl,.json" data-testid="labelled-upload" aria-label="labelled set file" on:change=on_labelled />
                    {move || labelled.get().map(|(f, items)| view! { <small data-testid="labelled-info">{format!("{f}: {} texts, {} members", items.len(), items.iter().filter(|i| i.member).count())}</small> })}
                    {move || labelled_error.get().map(|e| view! { <p class="error" role="alert" data-testid="labelled-error">{e}</p> })}
                </div>
            </fieldset>
            <fieldset>
                <legend>"Methods"</legend>
                {Method::ALL.into_iter().map(|m| {
                    let needs_reference = m == Method::Reference;
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                data-testid=format!("method-{}", m.name())
                                prop:checked=move || methods.get().contains(&m)
                                disabled=move || needs_reference && state.reference.model().is_none()
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    methods.update(|ms| {
                                        ms.retain(|x| *x != m);
                                        if on { ms.push(m); ms.sort(); }
                                    });
                                }
                            />
                            {m.name()}
                            {needs_reference.then_some(" (needs a reference model)")}
                        </label>
                    }
                }).collect_view()}
                <div class="options">
                    <label>"k (fraction of tokens for Min-K% and Min-K%++)" <input type="number" step="0.05" min="0.05" max="1" data-testid="mia-k" prop:value=move || k.get() on:input=move |ev| k.set(event_target_value(&ev)) /></label>
                    <label>"Batch size" <input type="number" min="1" data-testid="mia-batch" prop:value=move || batch_size.get() on:input=move |ev| batch_size.set(event_target_value(&ev)) /></label>
                </div>
            </fieldset>
            <div class="actions">
                <button data-testid="mia-run" on:click=start disabled=move || state.target.model().is_none() || running() || state.busy.get()>"Check"</button>
                <button data-testid="mia-cancel" on:click=stop disabled=move || !running()>"Cancel"</button>
                <span data-testid="mia-status" data-finished-runs=move || finished_runs.get().to_string() role="status" aria-live="polite">{move || run.get().text()}</span>
            </div>
        </section>
        {move || check.get().map(|c| {
            let c2 = c.clone();
            view! {
                <section class="card" aria-labelledby="detection-title">
                    <h2 id="detection-title">"How well each method tells members from non-members"</h2>
                    <DetectionTable check=c.clone() />
                    <Chart svg=roc name="roc" />
                    <PermalinkButton
                        make=move || Permalink::compare(Vec::new(), &shared.get_value().into_iter().collect::<Vec<_>>())
                        link=link
                        disabled=Signal::derive(|| false)
                        caption="Link to this check: each method's AUROC, TPR and ROC curve (no texts); it opens in Compare"
                        button_id="mia-permalink"
                        link_id="mia-link"
                    />
                    <label>
                        "Method for the histogram and the ranking"
                        <select data-testid="shown-method" on:change=move |ev| shown_method.set(event_target_value(&ev))>
                            {c.results.iter().filter(|r| !r.scores.is_empty()).map(|r| {
                                let n = r.method.name();
                                view! { <option value=n selected=shown_method.get_untracked() == n>{n}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <Chart svg=histogram name="histogram" />
                </section>
                <section class="card" aria-labelledby="items-title">
                    <h2 id="items-title">"Items ranked by score"</h2>
                    <ItemsTable check=c2 method=shown_method selected=selected_item />
                </section>
            }
        })}
        <PassageCheck />
        <OverlapPanel />
    }
}

#[component]
fn DetectionTable(check: Check) -> impl IntoView {
    view! {
        <div class="scroll">
            <table data-testid="detection-table">
                <ColumnHeads names=&["method", "AUROC", "TPR @ 1% FPR", "TPR @ 5% FPR", "best accuracy", "texts"] />
                <tbody>
                    {check.results.iter().map(|r| match &r.metrics {
                        Ok(m) => view! {
                            <tr data-testid="detection-row" data-method=r.method.name() data-auroc=m.auroc.to_string() data-tpr1=m.tpr_at_1_fpr.to_string() data-tpr5=m.tpr_at_5_fpr.to_string()>
                                <td>{r.method.name()}</td>
                                <td>{format!("{:.4}", m.auroc)}</td>
                                <td>{format!("{:.4}", m.tpr_at_1_fpr)}</td>
                                <td>{format!("{:.4}", m.tpr_at_5_fpr)}</td>
                                <td>{format!("{:.4}", m.best_accuracy)}</td>
                                <td>{m.n}</td>
                            </tr>
                        }.into_any(),
                        Err(e) => view! {
                            <tr data-testid="detection-row" data-method=r.method.name()>
                                <td>{r.method.name()}</td>
                                <td colspan="5" class="error">{e.clone()}</td>
                            </tr>
                        }.into_any(),
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const MAX_ITEMS: usize = 100;

#[component]
fn ItemsTable(check: Check, method: RwSignal<String>, selected: RwSignal<Option<usize>>) -> impl IntoView {
    let c = check.clone();
    let order = move || {
        let Some(r) = c.results.iter().find(|r| r.method.name() == method.get()) else { return Vec::new() };
        let mut idx: Vec<usize> = (0..r.scores.len()).collect();
        idx.sort_by(|&a, &b| r.scores[b].total_cmp(&r.scores[a]));
        idx.into_iter().map(|i| (i, r.scores[i])).collect::<Vec<_>>()
    };
    let items = check.items.clone();
    let heat = check.clone();
    view! {
        <p>{format!("Highest score first (the likeliest members); the first {MAX_ITEMS} shown. Choose one to see its tokens.")}</p>
        <div class="scroll tall">
            <table data-testid="items-table">
                <ColumnHeads names=&["rank", "score", "member?", "text"] />
                <tbody>
                    {move || order().into_iter().take(MAX_ITEMS).enumerate().map(|(rank, (i, s))| {
                        let item = &items[i];
                        let text: String = item.text.chars().take(140).collect();
                        view! {
                            <tr data-testid="item-row" data-score=s.to_string() data-member=item.member.to_string() class=move || if selected.get() == Some(i) { "selected" } else { "" }>
                                <td>{rank + 1}</td>
                                <td>{format!("{s:.4}")}</td>
                                <td>{if item.member { "member" } else { "non-member" }}</td>
                                <td><button class="link" data-testid="item-open" on:click=move |_| selected.set(Some(i))>{text}</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || selected.get().map(|i| view! {
            <h3>{format!("Tokens of item {} ({})", heat.items[i].id, if heat.items[i].member { "member" } else { "non-member" })}</h3>
            <TokenView scores=heat.target[i].clone() k=heat.k />
        })}
    }
}

#[component]
fn PassageCheck() -> impl IntoView {
    let state = expect_context::<AppState>();
    let text = RwSignal::new("The little dog ran to the park. It was a sunny day.".to_string());
    let k = RwSignal::new(String::from("0.2"));
    let run = RwSignal::new(RunState::Idle);
    let finished_runs = RwSignal::new(0u32);
    let result = RwSignal::new(None::<TextScores>);
    let cancel = StoredValue::new_local(Rc::new(Cell::new(false)));
    let k_value = move || k.get().trim().parse::<f64>().ok().filter(|v| *v > 0.0 && *v <= 1.0).unwrap_or(0.2);

    let start = move |_| {
        let Some(m) = state.target.model_untracked() else { return };
        // Small steps on the CPU, which shares the page's thread; larger on the GPU.
        let segment_len = match state.backend.get_untracked().map(|b| b.short_name()) {
            Some("webgpu") => 128,
            _ => 32,
        };
        let flag = Rc::new(Cell::new(false));
        cancel.set_value(flag.clone());
        run.set(RunState::Running("starting…".into()));
        state.busy.set(true);
        let input = text.get_untracked();
        spawn_local(async move {
            let on_progress = move |p: TextProgress| {
                let rate = if p.seconds > 0.0 { p.tokens_done as f64 / p.seconds } else { 0.0 };
                run.set(RunState::Running(format!("{}/{} tokens · {rate:.0} tokens/s", p.tokens_done, p.tokens_total)));
            };
            let state_after = match score_text(&m, &input, segment_len, flag, on_progress).await {
                Ok(Outcome::Done(scores)) => {
                    let n = scores.tokens.len();
                    result.set(Some(scores));
                    RunState::Done(format!("scored {n} tokens"))
                }
                Ok(Outcome::Cancelled) => RunState::Cancelled,
                Err(e) => RunState::Failed(e),
            };
            run.set(state_after);
            state.busy.set(false);
            finished_runs.update(|n| *n += 1);
        });
    };
    let stop = move |_| cancel.get_value().set(true);
    let running = move || matches!(run.get(), RunState::Running(_));
    view! {
        <section class="card" aria-labelledby="score-title">
            <h2 id="score-title">"Check a passage"</h2>
            <label for="text-input">"Text to score"</label>
            <textarea
                id="text-input"
                data-testid="text-input"
                rows="4"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <div class="actions">
                <label class="inline">"k" <input type="number" step="0.05" min="0.05" max="1" data-testid="passage-k" prop:value=move || k.get() on:input=move |ev| k.set(event_target_value(&ev)) /></label>
                <button data-testid="score-button" on:click=start disabled=move || state.target.model().is_none() || running() || state.busy.get()>
                    "Score"
                </button>
                <button data-testid="cancel-button" on:click=stop disabled=move || !running()>
                    "Cancel"
                </button>
                <span data-testid="run-status" data-finished-runs=move || finished_runs.get().to_string() role="status" aria-live="polite">
                    {move || run.get().text()}
                </span>
            </div>
            {move || result.get().map(|scores| {
                let kv = k_value();
                let detection = passage_scores(&scores.text, &scores, kv);
                view! {
                    <table data-testid="passage-scores">
                        <ColumnHeads names=&["method", "score (higher = more likely seen)"] />
                        <tbody>
                            {detection.into_iter().map(|(m, s)| view! {
                                <tr data-method=m.name() data-score=s.as_ref().map(|x| x.to_string()).unwrap_or_default()>
                                    <td>{m.name()}</td>
                                    <td>{match &s { Ok(x) => format!("{x:.4}"), Err(e) => e.clone() }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <TokenView scores=scores k=kv table=true />
                }
            })}
        </section>
    }
}
