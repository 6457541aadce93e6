//! `?bench`: the page as a benchmark runner for `scripts/bench.py` (through
//! `e2e/bench.mjs`): loads a model, times `score_batch` on the benchmark's
//! seeded token ids (`tinyeval_core::benchmark`, the same ids the CLI and
//! PyTorch score) on the page's backend, and shows one JSON object in
//! `[data-testid=bench-result]`, in the shape of `tinyeval bench`'s output.
//!
//! Query: `bench&model=URL` (a folder URL ending in `/`, or a `.gguf`) or
//! `bench&builtin=NAME`, plus optional `batch_size` (8), `seq_len` (256),
//! `repeats` (3), `warmup` (1), `seed` (0), `backend=cpu` and `workers`
//! (on the CPU: the pool's size, one a core by default; 0 for the page's main thread).

use leptos::prelude::*;
use serde_json::json;
use tinyeval_core::benchmark;
use tinyeval_core::scorer::score_in_length_order;

use crate::backend;
use crate::model_loading::{Keep, ModelSource, load_model};
use crate::state::with_workers;

pub struct BenchParams {
    source: ModelSource,
    batch_size: usize,
    seq_len: usize,
    repeats: usize,
    warmup: usize,
    seed: u64,
}

/// The benchmark the page URL asks for, if it has a `bench` parameter.
pub fn requested() -> Option<Result<BenchParams, String>> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.has("bench").then(|| {
        let number = |key: &str, default: u64| -> Result<u64, String> {
            params.get(key).map_or(Ok(default), |v| v.parse().map_err(|_| format!("?{key}={v} is not a whole number")))
        };
        let source = match (params.get("model"), params.get("builtin")) {
            (Some(url), _) => ModelSource::Url(url),
            (None, Some(name)) => ModelSource::Builtin(name),
            (None, None) => return Err("?bench needs model=URL or builtin=NAME".to_string()),
        };
        let p = BenchParams {
            source,
            batch_size: number("batch_size", 8)? as usize,
            seq_len: number("seq_len", 256)? as usize,
            repeats: number("repeats", 3)? as usize,
            warmup: number("warmup", 1)? as usize,
            seed: number("seed", 0)?,
        };
        if p.seq_len < 2 || p.batch_size == 0 || p.repeats == 0 {
            return Err("need seq_len >= 2, batch_size >= 1 and repeats >= 1".into());
        }
        Ok(p)
    })
}

fn now_s() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now() / 1000.0)
}

async fn run(params: BenchParams) -> Result<serde_json::Value, String> {
    let backend = backend::choose(backend::requested_backend().as_deref()).await;
    let started = now_s();
    let keep = if backend.short_name() == "cpu" { Keep::ForWorkers } else { Keep::Nothing };
    let pooled = with_workers(load_model(&params.source, &backend.device, keep, &|_| {}).await?).await;
    let model = pooled.loaded.model;
    let load_s = now_s() - started;
    // The batch shared out among the workers, a part each, at once.
    let workers = model.scorer().parallelism();
    let part = params.batch_size.div_ceil(workers);
    let config = &model.config;
    if params.seq_len - 1 > config.max_positions {
        return Err(format!("seq_len {} needs a context of {} but the model's is {}", params.seq_len, params.seq_len - 1, config.max_positions));
    }
    let requests = benchmark::requests(params.seed, params.batch_size, params.seq_len, config.vocab_size);
    let mut times = Vec::new();
    let mut warmup_s = Vec::new();
    let mut scores = Vec::new();
    for i in 0..params.warmup + params.repeats {
        let t = now_s();
        scores = score_in_length_order(model.scorer(), &requests, part, |_, _| async { Ok(()) }).await.map_err(|e| e.to_string())?;
        let elapsed = now_s() - t;
        if i < params.warmup { warmup_s.push(elapsed) } else { times.push(elapsed) }
    }
    let mut out = benchmark::report(params.batch_size, params.seq_len, &warmup_s, &times, &scores);
    out.as_object_mut().expect("an object").extend([
        ("model".to_string(), json!(model.name)),
        ("architecture".to_string(), json!(format!("{:?}", config.architecture))),
        ("backend".to_string(), json!(backend.short_name())),
        ("adapter".to_string(), json!(backend.label())),
        // Each worker's wasm runs on one thread (WebGPU's work is the GPU's).
        ("threads".to_string(), json!(workers)),
        ("workers".to_string(), json!(pooled.workers)),
        ("seed".to_string(), json!(params.seed)),
        ("load_s".to_string(), json!(load_s)),
    ]);
    Ok(out)
}

/// Shows the benchmark's JSON result (or its error) when it finishes.
#[component]
pub fn BenchPage(params: Result<BenchParams, String>) -> impl IntoView {
    let result = RwSignal::new(None::<Result<String, String>>);
    match params {
        Ok(params) => leptos::task::spawn_local(async move {
            result.set(Some(run(params).await.map(|v| v.to_string())));
        }),
        Err(e) => result.set(Some(Err(e))),
    }
    view! {
        <main>
            <h1>"tinyeval benchmark"</h1>
            {move || match result.get() {
                None => view! { <p data-testid="bench-status">"running…"</p> }.into_any(),
                Some(Ok(json)) => view! { <pre data-testid="bench-result">{json}</pre> }.into_any(),
                Some(Err(e)) => view! { <pre data-testid="bench-error" role="alert">{e}</pre> }.into_any(),
            }}
        </main>
    }
}
