//! Instruction following (Leaner-Eval): questions from a URL or a file; the
//! target model answers each after TinyHelen's prompt, streaming token by
//! token, with progress, tokens/s and cancel; judge-free metrics per response
//! and their means; an optional OpenAI-compatible judge; 0–5 ratings by hand,
//! kept on this device; exports. The work is in [`crate::leaner_eval_run`].

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tinyeval_core::leaner_eval::{self, LeanerEvalRecord, Question, Vocabulary, aggregates};

use super::job_status::JobStatusLine;
use super::leaner_eval_responses::{JudgeState, MeansTable, ResponseItem, Row, scored};
use super::permalink::PermalinkButton;
use super::AppState;
use crate::browser::files::{download, read_input_files};
use crate::browser::storage::{remember_key, remembered_key, store_rating, stored_rating};
use crate::export::{Permalink, RunSummary};
use crate::leaner_eval_run::{
    GenerationProgress, JudgeEndpoint, QUESTION_FILES, QUESTIONS_PATH, QuestionSet, RunSettings, build_vocabulary, fetch_judge_prompt,
    fetch_train_files, generate_responses, judge_response, parse_settings, questions_from_file, questions_from_url, responses_csv,
    responses_jsonl, run_summary, tinyhelen_url,
};
use crate::model_loading::LocalFile;
use crate::job::{Job, JobContext, JobStatus, Progress};
use crate::job::Outcome;
use crate::task_loading::TINYHELEN_BASE;

impl Progress for GenerationProgress {
    fn describe(&self) -> String {
        format!("question {} of {} · {} tokens · {:.0} tokens/s", self.question + 1, self.questions, self.tokens, self.tokens_per_second)
    }
}

/// What the last run was, for its results file.
#[derive(Clone, Debug, PartialEq)]
struct RunInfo {
    model: String,
    backend: String,
    questions: String,
    vocabulary: String,
    /// The Leaner vocabulary's words and token ids, once it is built.
    vocabulary_size: (usize, usize),
    settings: RunSettings,
}

/// "N questions from SOURCE".
fn loaded_note(set: &QuestionSet) -> String {
    let n = set.questions.len();
    format!("{n} question{} from {}", if n == 1 { "" } else { "s" }, set.source)
}

#[component]
pub fn LeanerEvalTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let questions_url = RwSignal::new(tinyhelen_url(TINYHELEN_BASE, QUESTIONS_PATH, QUESTION_FILES[0]));
    let questions = RwSignal::new(None::<QuestionSet>);
    let questions_note = RwSignal::new(None::<Result<String, String>>);
    let limit = RwSignal::new(String::from("20"));
    let max_new_tokens = RwSignal::new(leaner_eval::DEFAULT_MAX_NEW_TOKENS.to_string());
    let temperature = RwSignal::new(String::from("0"));
    let top_p = RwSignal::new(String::from("1"));
    let seed = RwSignal::new(String::from("0"));
    let tinyhelen_base = RwSignal::new(TINYHELEN_BASE.to_string());
    let train_files = RwSignal::new_local(Vec::<LocalFile>::new());
    // The Leaner vocabulary of the last run, for the model and files it was built from.
    let vocabulary = StoredValue::new_local(None::<(String, Rc<Vocabulary>)>);
    let job = Job::<GenerationProgress>::new(state.busy);
    let rows = RwSignal::new(Vec::<Row>::new());
    let run_info = RwSignal::new(None::<RunInfo>);
    let export_error = RwSignal::new(None::<String>);
    let link = RwSignal::new(String::new());
    // The run's entry in Compare, updated once a judge has scored it.
    let in_compare = StoredValue::new(None::<RunSummary>);
    let rating_error = RwSignal::new(None::<String>);

    let judge_url = RwSignal::new(String::new());
    let judge_model = RwSignal::new(String::new());
    let stored_key = remembered_key();
    let remember = RwSignal::new(stored_key.is_some());
    let judge_key = RwSignal::new(stored_key.unwrap_or_default());
    let judge_job = Job::<String>::new(state.busy);
    let judged_with = RwSignal::new(None::<JudgeEndpoint>);
    let key_error = RwSignal::new(None::<String>);

    // The run as Compare shows it, with the means of the responses so far.
    let summary_now = move || {
        let info = run_info.get_untracked()?;
        Some(run_summary(&info.model, &info.backend, &info.settings, &scored(&rows.get_untracked())))
    };

    let load_url = move |_| {
        let url = questions_url.get_untracked();
        questions_note.set(Some(Ok(format!("reading {url}…"))));
        spawn_local(async move {
            match questions_from_url(&url).await {
                Ok(set) => {
                    questions_note.set(Some(Ok(loaded_note(&set))));
                    questions.set(Some(set));
                }
                Err(e) => questions_note.set(Some(Err(e))),
            }
        });
    };
    let on_questions_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            let loaded = read_input_files(files)
                .await
                .and_then(|f| f.into_iter().next().ok_or_else(|| "no file chosen".to_string()))
                .and_then(|f| questions_from_file(&f));
            match loaded {
                Ok(set) => {
                    questions_note.set(Some(Ok(loaded_note(&set))));
                    questions.set(Some(set));
                }
                Err(e) => questions_note.set(Some(Err(e))),
            }
            input.set_value("");
        });
    };
    let on_train_files = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = input.files();
        spawn_local(async move {
            match read_input_files(files).await {
                Ok(f) => train_files.set(f),
                Err(e) => job.fail(e),
            }
            input.set_value("");
        });
    };

    let start = move |_| {
        let Some(model) = state.target.model_untracked() else { return };
        let Some(set) = questions.get_untracked() else {
            return job.fail("load the questions first (a URL or a file)");
        };
        let settings = match parse_settings(
            &limit.get_untracked(),
            &max_new_tokens.get_untracked(),
            &temperature.get_untracked(),
            &top_p.get_untracked(),
            &seed.get_untracked(),
        ) {
            Ok(s) => s,
            Err(e) => return job.fail(e),
        };
        let chosen: Vec<Question> = set.questions.iter().take(settings.limit.unwrap_or(usize::MAX)).cloned().collect();
        let uploaded = train_files.get_untracked();
        let base = tinyhelen_base.get_untracked();
        let vocabulary_source = if uploaded.is_empty() {
            tinyhelen_url(&base, crate::leaner_eval_run::TRAIN_PATH, "")
        } else {
            uploaded.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")
        };
        let run_id = job.finished.get_untracked();
        rows.set(
            chosen
                .iter()
                .enumerate()
                .map(|(doc_id, q)| Row {
                    run: run_id,
                    doc_id,
                    question: q.clone(),
                    text: RwSignal::new(String::new()),
                    response: RwSignal::new(None),
                    judge: RwSignal::new(JudgeState::NotRun),
                    rating: RwSignal::new(stored_rating(&model.name, q)),
                })
                .collect(),
        );
        run_info.set(Some(RunInfo {
            model: model.name.clone(),
            backend: state.backend.get_untracked().map(|b| b.short_name().to_string()).unwrap_or_default(),
            questions: set.source.clone(),
            vocabulary: vocabulary_source.clone(),
            vocabulary_size: (0, 0),
            settings: settings.clone(),
        }));
        judged_with.set(None);
        link.set(String::new());
        job.start(move |ctx| async move {
            let key = format!("{}\u{1f}{vocabulary_source}", model.name);
            let cached = vocabulary.get_value().filter(|(k, _)| *k == key).map(|(_, v)| v);
            let vocab = match cached {
                Some(v) => v,
                None => {
                    let files = if uploaded.is_empty() { fetch_train_files(&base, |url| ctx.preparing(format!("reading {url}…"))).await? } else { uploaded };
                    let built = build_vocabulary(&files, &model.tokenizer, &ctx.cancel_flag(), |done, total| {
                        ctx.preparing(format!("Leaner vocabulary: {done}/{total} documents"))
                    })
                    .await
                    .map_err(|e| format!("the Leaner vocabulary: {e}"))?;
                    let Outcome::Done(v) = built else { return Ok(Outcome::Cancelled) };
                    let v = Rc::new(v);
                    vocabulary.set_value(Some((key, v.clone())));
                    v
                }
            };
            run_info.update(|i| i.iter_mut().for_each(|i| i.vocabulary_size = (vocab.words.len(), vocab.tokens.len())));
            let shown = rows.get_untracked();
            let answered = generate_responses(
                &model,
                &chosen,
                &settings.generation,
                &vocab,
                &ctx.cancel_flag(),
                |p| ctx.progress(p),
                |i, piece| shown[i].text.update(|t| t.push_str(piece)),
                |i, response| {
                    // The finished text (with anything held back while streaming).
                    shown[i].text.set(response.text.clone());
                    shown[i].response.set(Some(response));
                },
            )
            .await?;
            if let Outcome::Cancelled = answered {
                return Ok(Outcome::Cancelled);
            }
            let summary = summary_now();
            in_compare.set_value(summary.clone());
            state.runs.update(|r| r.extend(summary));
            Ok(Outcome::Done(format!("{} responses; added to Compare", chosen.len())))
        });
    };
    let running = move || job.running() || judge_job.running();

    let start_judge = move |_| {
        let endpoint = JudgeEndpoint { base_url: judge_url.get_untracked(), model: judge_model.get_untracked(), key: judge_key.get_untracked() };
        if endpoint.base_url.trim().is_empty() || endpoint.model.trim().is_empty() {
            return judge_job.fail("give the endpoint's base URL and the judge's model name");
        }
        let pending: Vec<Row> = rows.get_untracked().into_iter().filter(|r| r.response.get_untracked().is_some()).collect();
        if pending.is_empty() {
            return judge_job.fail("no responses to judge yet");
        }
        let base = tinyhelen_base.get_untracked();
        judged_with.set(Some(endpoint.clone()));
        for r in &pending {
            r.judge.set(JudgeState::Waiting);
        }
        judge_job.start(move |ctx| async move {
            ctx.preparing("reading TinyHelen's judge prompt…");
            let outcome = judge_rows(&ctx, &endpoint, &base, &pending).await;
            for r in &pending {
                if r.judge.get_untracked() == JudgeState::Waiting {
                    r.judge.set(JudgeState::NotRun);
                }
            }
            if let (Some(old), Some(new)) = (in_compare.get_value(), summary_now()) {
                state.runs.update(|runs| runs.iter_mut().filter(|r| **r == old).for_each(|r| *r = new.clone()));
                in_compare.set_value(Some(new));
            }
            Ok(match outcome? {
                Some(0) => Outcome::Done(format!("{} responses judged", pending.len())),
                Some(n) => Outcome::Done(format!("{} responses judged, {n} without scores (see each response)", pending.len())),
                None => Outcome::Cancelled,
            })
        });
    };
    let set_remember = move |on: bool| {
        remember.set(on);
        let key = judge_key.get_untracked();
        key_error.set(remember_key(on.then_some(key.as_str())).err());
    };
    let set_key = move |key: String| {
        if remember.get_untracked() {
            key_error.set(remember_key(Some(&key)).err());
        }
        judge_key.set(key);
    };

    let results = Memo::new(move |_| scored(&rows.get()));
    let means = Memo::new(move |_| aggregates(&results.get()));
    let export = move |kind: &'static str| {
        let rs = results.get_untracked();
        let Some(info) = run_info.get_untracked() else { return };
        let outcome = match kind {
            "json" => {
                let judge = judged_with.get_untracked();
                let record = LeanerEvalRecord {
                    model: info.model.clone(),
                    device: info.backend.clone(),
                    questions: info.questions.clone(),
                    limit: info.settings.limit,
                    generation: info.settings.generation.clone(),
                    vocabulary_source: info.vocabulary.clone(),
                    vocabulary_words: info.vocabulary_size.0,
                    vocabulary_token_ids: info.vocabulary_size.1,
                    judge: judge.map(|j| (tinyeval_core::judge::chat_completions_url(j.base_url.trim()), j.model)),
                };
                serde_json::to_vec_pretty(&leaner_eval::results_json(&rs, &record))
                    .map_err(|e| e.to_string())
                    .and_then(|b| download("leaner_eval_results.json", "application/json", &b))
            }
            "jsonl" => download("leaner_eval_responses.jsonl", "application/jsonl", responses_jsonl(&info.model, &rs).as_bytes()),
            _ => download("leaner_eval_responses.csv", "text/csv", responses_csv(&info.model, &rs).as_bytes()),
        };
        export_error.set(outcome.err());
    };
    let rate = move |row: Row, criterion: &'static str, value: String| {
        let Some(info) = run_info.get_untracked() else { return };
        row.rating.update(|r| r.set(criterion, value.parse().ok()));
        rating_error.set(store_rating(&info.model, &row.question, &row.rating.get_untracked()).err());
    };

    view! {
        <section class="card" aria-labelledby="le-title">
            <h2 id="le-title">"Instruction following (Leaner-Eval)"</h2>
            <p class="legend">
                "The model answers TinyHelen's instruction questions after the prompt "
                <code>"### TASK INPUT: … ### RESPONSE:"</code>
                ", as "<code>"tinyeval leaner-eval"</code>" does; each response gets judge-free metrics, and optionally an LLM judge's and your own 0–5 scores."
            </p>
            <fieldset>
                <legend>"Questions (Leaner-Eval JSONL: one "<code>"question"</code>" per line)"</legend>
                <label for="le-questions-url">"URL"</label>
                <div class="actions">
                    <input id="le-questions-url" class="wide" type="url" data-testid="le-questions-url" prop:value=move || questions_url.get() on:input=move |ev| questions_url.set(event_target_value(&ev)) />
                    <select aria-label="TinyHelen's question files on Hugging Face" data-testid="le-questions-preset" on:change=move |ev| questions_url.set(event_target_value(&ev))>
                        {QUESTION_FILES
                            .into_iter()
                            .map(|f| {
                                let url = tinyhelen_url(TINYHELEN_BASE, QUESTIONS_PATH, f);
                                view! { <option value=url>{format!("Hugging Face · EmpathYang/TinyHelen · {f}")}</option> }
                            })
                            .collect_view()}
                    </select>
                    <button class="secondary" data-testid="le-questions-load" on:click=load_url>"Load"</button>
                </div>
                <label for="le-questions-file">"or a file"</label>
                <input id="le-questions-file" type="file" accept=".jsonl,.json" data-testid="le-questions-upload" on:change=on_questions_file />
                {move || questions_note.get().map(|note| match note {
                    Ok(s) => view! { <p data-testid="le-questions-status" role="status">{s}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" data-testid="le-questions-status">{e}</p> }.into_any(),
                })}
            </fieldset>
            <fieldset>
                <legend>"Leaner vocabulary (for the Leaner word and token shares)"</legend>
                <label for="le-tinyhelen-base">"TinyHelen base URL (the Leaner-Pretrain train files, and the judge's prompt)"</label>
                <input id="le-tinyhelen-base" class="wide" type="url" data-testid="le-tinyhelen-base" prop:value=move || tinyhelen_base.get() on:input=move |ev| tinyhelen_base.set(event_target_value(&ev)) />
                <label for="le-train-files">"or the train files themselves ("<code>"data/leaner/10M/train/*.jsonl"</code>")"</label>
                <input id="le-train-files" type="file" multiple accept=".jsonl" data-testid="le-train-upload" on:change=on_train_files />
                {move || {
                    let n = train_files.get().len();
                    (n > 0).then(|| view! { <p data-testid="le-train-status">{format!("{n} train file(s) chosen; read from your disk, nothing is uploaded")}</p> })
                }}
            </fieldset>
            <div class="options">
                <label>"Limit (questions; empty = all)" <input type="number" min="1" data-testid="le-opt-limit" prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev)) /></label>
                <label>"Max new tokens" <input type="number" min="1" data-testid="le-opt-max-tokens" prop:value=move || max_new_tokens.get() on:input=move |ev| max_new_tokens.set(event_target_value(&ev)) /></label>
                <label>"Temperature (0 = greedy)" <input type="number" min="0" step="0.1" data-testid="le-opt-temperature" prop:value=move || temperature.get() on:input=move |ev| temperature.set(event_target_value(&ev)) /></label>
                <label>"Top-p" <input type="number" min="0" max="1" step="0.05" data-testid="le-opt-top-p" prop:value=move || top_p.get() on:input=move |ev| top_p.set(event_target_value(&ev)) /></label>
                <label>"Seed" <input type="number" min="0" data-testid="le-opt-seed" prop:value=move || seed.get() on:input=move |ev| seed.set(event_target_value(&ev)) /></label>
            </div>
            <div class="actions">
                <button data-testid="le-run" on:click=start disabled=move || state.target.model().is_none() || running() || state.busy.get()>"Run"</button>
                <button data-testid="le-cancel" on:click=move |_| job.cancel() disabled=move || !job.running()>"Cancel"</button>
                <JobStatusLine job=job testid="le-status" />
            </div>
            {move || match job.status.get() {
                JobStatus::Running(p) => Some(view! {
                    <progress data-testid="le-progress" max=p.questions.to_string() value=p.question.to_string() aria-label="questions answered"></progress>
                }),
                _ => None,
            }}
        </section>
        <Show when=move || !rows.get().is_empty()>
            <section class="card" aria-labelledby="le-means-title">
                <h2 id="le-means-title">"Means over the responses"</h2>
                <MeansTable means=means />
                <div class="actions">
                    <button class="secondary" data-testid="le-export-json" on:click=move |_| export("json") disabled=move || results.get().is_empty()>"Results JSON (lm-eval layout)"</button>
                    <button class="secondary" data-testid="le-export-jsonl" on:click=move |_| export("jsonl") disabled=move || results.get().is_empty()>"Responses and ratings (JSONL)"</button>
                    <button class="secondary" data-testid="le-export-csv" on:click=move |_| export("csv") disabled=move || results.get().is_empty()>"Responses and ratings (CSV)"</button>
                </div>
                {move || export_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <PermalinkButton
                    make=move || Permalink::compare(summary_now().into_iter().collect(), &[])
                    link=link
                    disabled=Signal::derive(move || results.get().is_empty())
                    caption="Link to these means (settings and scores, judge's and yours included; no questions or responses)"
                    button_id="le-permalink"
                    link_id="le-link"
                />
            </section>
            <section class="card" aria-labelledby="le-judge-title">
                <h2 id="le-judge-title">"LLM judge (optional)"</h2>
                <p class="legend">
                    "Any OpenAI-compatible endpoint (OpenAI, a llama.cpp server, Ollama, vLLM…) scores each response 0–5 for grammar, coherence and specificity with TinyHelen's prompt. "
                    "Requests go straight from this page to the endpoint, which must allow it (CORS)."
                </p>
                <div class="options">
                    <label>"Base URL" <input type="url" placeholder="http://127.0.0.1:8080/v1" data-testid="le-judge-url" prop:value=move || judge_url.get() on:input=move |ev| judge_url.set(event_target_value(&ev)) /></label>
                    <label>"Model" <input type="text" placeholder="gpt-4o-mini" data-testid="le-judge-model" prop:value=move || judge_model.get() on:input=move |ev| judge_model.set(event_target_value(&ev)) /></label>
                    <label>"API key" <input type="password" autocomplete="off" data-testid="le-judge-key" prop:value=move || judge_key.get() on:input=move |ev| set_key(event_target_value(&ev)) /></label>
                </div>
                <label class="check">
                    <input type="checkbox" data-testid="le-judge-remember" prop:checked=move || remember.get() on:change=move |ev| set_remember(event_target_checked(&ev)) />
                    "remember the key on this device (otherwise it is kept only until the page is closed)"
                </label>
                {move || key_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="actions">
                    <button data-testid="le-judge-run" on:click=start_judge disabled=move || running() || results.get().is_empty()>"Judge the responses"</button>
                    <button class="secondary" data-testid="le-judge-cancel" on:click=move |_| judge_job.cancel() disabled=move || !judge_job.running()>"Stop"</button>
                    <JobStatusLine job=judge_job testid="le-judge-status" />
                </div>
            </section>
            <section class="card" aria-labelledby="le-responses-title">
                <h2 id="le-responses-title">"Responses"</h2>
                <p class="legend">"Rate each response 0–5 yourself; ratings are kept in this browser for this model and question, and go into the exports."</p>
                {move || rating_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <ol class="responses">
                    <For each=move || rows.get() key=|r| (r.run, r.doc_id) let:row>
                        <ResponseItem row=row rate=rate />
                    </For>
                </ol>
            </section>
        </Show>
    }
}

/// Asks the judge for each of `rows`' scores, one after the other; the number
/// of replies without scores, or `None` when cancelled.
async fn judge_rows(ctx: &JobContext<String>, endpoint: &JudgeEndpoint, base: &str, rows: &[Row]) -> Result<Option<usize>, String> {
    let template = fetch_judge_prompt(base).await?;
    let mut failures = 0;
    for (i, r) in rows.iter().enumerate() {
        if ctx.cancel_flag().get() {
            return Ok(None);
        }
        ctx.preparing(format!("judging response {} of {}…", i + 1, rows.len()));
        let Some(response) = r.response.get_untracked() else { continue };
        // An endpoint's error is the item's; the next item is tried all the same.
        r.judge.set(match judge_response(endpoint, &template, &r.question.question, &response.text).await {
            Ok(s) => JudgeState::Scored(s),
            Err(e) => {
                failures += 1;
                JudgeState::Failed(e)
            }
        });
    }
    Ok(Some(failures))
}
