//! Contamination without a model: the n-gram overlap of a multiple-choice
//! task's items with a corpus the user gives (JSONL or text files, chosen or
//! read from a URL), as `tinyeval overlap` computes it; the overlapping items
//! with their shared n-grams highlighted.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::overlap::{DEFAULT_N, OverlapReport, parse_corpus};

use super::column_heads::ColumnHeads;
use super::job_status::JobStatusLine;
use super::AppState;
use crate::browser::files::read_input_files;
use crate::browser::fetch::fetch_bytes;
use crate::job::Job;
use crate::overlap::overlap_in_page;
use crate::job::Outcome;
use crate::task_loading::{TINYHELEN_BASE, TaskSource, builtin_tasks, load_task};

fn parse_count(what: &str, s: &str) -> Result<Option<usize>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| format!("{what}: `{s}` is not a whole number"))
}

/// Items shown at most, so that the page stays quick on big tasks.
const MAX_ROWS: usize = 200;

#[component]
pub fn OverlapPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tasks: Vec<TaskSource> = builtin_tasks().into_iter().filter(|t| t.multiple_choice).collect();
    let task_name = RwSignal::new(tasks.first().map(|t| t.name.clone()).unwrap_or_default());
    let tinyhelen_base = RwSignal::new(TINYHELEN_BASE.to_string());
    let corpus_url = RwSignal::new(String::new());
    let corpus_files = RwSignal::new_local(Vec::<crate::model_loading::LocalFile>::new());
    let limit = RwSignal::new(String::new());
    let n = RwSignal::new(DEFAULT_N.to_string());
    let job = Job::<String>::new(state.busy);
    let report = RwSignal::new(None::<OverlapReport>);

    let on_corpus = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            match read_input_files(files).await {
                Ok(f) => corpus_files.set(f),
                Err(e) => job.fail(e),
            }
        });
    };

    let start = move |_| {
        let (limit, n) = match (parse_count("limit", &limit.get_untracked()), parse_count("n", &n.get_untracked())) {
            (Ok(l), Ok(n)) => (l, n.unwrap_or(DEFAULT_N)),
            (Err(e), _) | (_, Err(e)) => return job.fail(e),
        };
        let source = tasks.iter().find(|t| t.name() == task_name.get_untracked()).cloned();
        let files = corpus_files.get_untracked();
        let url = corpus_url.get_untracked().trim().to_string();
        let base = tinyhelen_base.get_untracked();
        job.start(move |ctx| async move {
            ctx.preparing("reading the task and the corpus…");
            {
                let task = load_task(&source.ok_or("choose a task")?, &base).await?;
                // Documents in the order of the files (CLI: --corpus a,b).
                let mut corpus = Vec::new();
                if !files.is_empty() {
                    for f in &files {
                        corpus.extend(parse_corpus(&f.path, &f.bytes).map_err(|e| e.to_string())?);
                    }
                } else if !url.is_empty() {
                    corpus = parse_corpus(&url, &fetch_bytes(&url).await?).map_err(|e| e.to_string())?;
                } else {
                    return Err("choose corpus files, or give a corpus URL".to_string());
                }
                let progress = |done: usize, total: usize| ctx.progress(format!("{done}/{total} corpus documents"));
                let Outcome::Done(r) = overlap_in_page(&task, limit, &corpus, n, &ctx.cancel_flag(), progress).await? else {
                    return Ok(Outcome::Cancelled);
                };
                let summary = format!(
                        "{} of {} items of {} share a {}-gram with the corpus ({} documents)",
                        r.overlapping().count(),
                        r.rows.len(),
                        r.task,
                        r.n,
                        r.documents
                    );
                report.set(Some(r));
                Ok(Outcome::Done(summary))
            }
        });
    };
    let running = move || job.running();

    view! {
        <section class="card" aria-labelledby="overlap-title">
            <h2 id="overlap-title">"n-gram overlap with a corpus (no model needed)"</h2>
            <p>"Which items of a task share a run of n words with a corpus, after lm-eval's decontamination normalisation (lowercase, ASCII punctuation removed)."</p>
            <div class="options">
                <label>
                    "Task"
                    <select data-testid="overlap-task" on:change=move |ev| task_name.set(event_target_value(&ev))>
                        {builtin_tasks().into_iter().filter(|t| t.multiple_choice).map(|t| {
                            let name = t.name;
                            view! { <option value=name.clone() selected=task_name.get_untracked() == name>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    "TinyHelen base URL (Leaner-GLUE tasks)"
                    <input type="url" class="wide" data-testid="overlap-tinyhelen-base" prop:value=move || tinyhelen_base.get() on:input=move |ev| tinyhelen_base.set(event_target_value(&ev)) />
                </label>
                <label>"Limit (items; empty = all)" <input type="number" min="1" data-testid="overlap-limit" prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev)) /></label>
                <label>"n (words per n-gram)" <input type="number" min="1" data-testid="overlap-n" prop:value=move || n.get() on:input=move |ev| n.set(event_target_value(&ev)) /></label>
            </div>
            <label for="overlap-corpus">"Corpus: JSONL (one document a line: text; problem + hints; prompt + response) or text files (one document each)"</label>
            <input id="overlap-corpus" type="file" multiple accept=".jsonl,.txt,.md" data-testid="overlap-corpus-upload" on:change=on_corpus />
            {move || {
                let files = corpus_files.get();
                (!files.is_empty()).then(|| view! { <small data-testid="overlap-corpus-info">{format!("using {}", files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", "))}</small> })
            }}
            <label for="overlap-corpus-url">"…or a corpus URL (used when no file is chosen)"</label>
            <input id="overlap-corpus-url" type="url" class="wide" data-testid="overlap-corpus-url" prop:value=move || corpus_url.get() on:input=move |ev| corpus_url.set(event_target_value(&ev)) />
            <div class="actions">
                <button data-testid="overlap-run" on:click=start disabled=move || running() || state.busy.get()>"Find overlaps"</button>
                <button data-testid="overlap-cancel" on:click=move |_| job.cancel() disabled=move || !running()>"Cancel"</button>
                <JobStatusLine job=job testid="overlap-status" />
            </div>
            {move || report.get().map(|r| view! { <OverlapTable report=r /> })}
        </section>
    }
}

#[component]
fn OverlapTable(report: OverlapReport) -> impl IntoView {
    let rows: Vec<_> = report.overlapping().cloned().collect();
    let total = rows.len();
    view! {
        <p>{if total > MAX_ROWS { format!("Overlapping items (the first {MAX_ROWS} of {total}); shared {}-grams highlighted.", report.n) } else { format!("Overlapping items: {total}; shared {}-grams highlighted.", report.n) }}</p>
        <div class="scroll tall">
            <table data-testid="overlap-table">
                <ColumnHeads names=&["doc", "idx", "shared / n-grams", "item (shared words marked)"] />
                <tbody>
                    {rows.into_iter().take(MAX_ROWS).map(|row| {
                        let shared_attr = serde_json::to_string(&row.shared.iter().map(|s| (&s.ngram, s.first_document)).collect::<Vec<_>>()).unwrap_or_default();
                        view! {
                            <tr data-testid="overlap-row" data-doc-id=row.item.doc_id.to_string() data-idx=row.item.idx.to_string() data-ngrams=row.ngrams.to_string() data-fraction=row.fraction.to_string() data-shared=shared_attr>
                                <td>{row.item.doc_id}</td>
                                <td>{row.item.idx}</td>
                                <td>{format!("{} / {} ({:.0}%)", row.shared.len(), row.ngrams, row.fraction * 100.0)}</td>
                                <td class="prompt overlap-text">
                                    {row.segments.into_iter().map(|s| if s.shared {
                                        view! { <mark data-testid="overlap-mark">{s.text}</mark> }.into_any()
                                    } else {
                                        view! { <span>{s.text}</span> }.into_any()
                                    }).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
