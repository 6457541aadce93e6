//! The page's pool of Web Workers: each holds a copy of the model on burn's
//! CPU backend and scores the batches it is sent, so that a run's forward
//! passes use every core and never block the page's main thread.
//!
//! A worker runs this same wasm module (the page's own wasm-bindgen script,
//! imported by a small module script, given the module the page compiled),
//! whose `main` sees it is in a worker and runs [`worker::serve`] instead of
//! the app. Nothing needs SharedArrayBuffer or cross-origin isolation: the
//! model's bytes are copied to each worker once, then only token ids go out
//! and scores come back. Core's [`score_in_length_order`] forms the batches
//! and puts their scores in order, so a run's numbers are the same for any
//! number of workers. Cancelling a run drops its batches at once; a worker
//! busy with one finishes it and its answer is ignored.
//!
//! [`score_in_length_order`]: tinyeval_core::scorer::score_in_length_order

mod link;
pub mod message;
pub mod wire;
pub mod worker;

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Float32Array, Uint32Array};
use tinyeval_core::Error;
use tinyeval_core::memory::MemoryNeed;
use tinyeval_core::scorer::{BatchScorer, ScoresFuture};
use tinyeval_core::scoring::{ScoreRequest, TokenScores};

use link::WorkerLink;
pub use message::ModelBytes;

/// The most workers a pool starts, whatever the core count.
const MOST_WORKERS: usize = 8;

/// A pool of workers, each with a copy of one model.
pub struct WorkerPool {
    workers: Vec<WorkerLink>,
    /// Batches handed out so far (the next one goes to the least busy worker).
    sent: Cell<u64>,
}

/// How many workers the page starts for a model: `?workers=N` when given,
/// else one a core (`navigator.hardwareConcurrency`), as many as half the
/// device's memory (`navigator.deviceMemory`, else the 4 GiB of one wasm
/// heap) holds copies of the model, and at least one.
pub fn workers_for(need: &MemoryNeed) -> usize {
    if let Some(n) = requested_workers() {
        return n;
    }
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency()) as usize;
    let device = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"deviceMemory".into()).ok())
        .and_then(|v| v.as_f64())
        .map_or(4u64 << 30, |gib| (gib * (1u64 << 30) as f64 / 2.0) as u64);
    let copy = need.weight_bytes.saturating_add(need.file_bytes).max(1);
    cores.min((device / copy) as usize).clamp(1, MOST_WORKERS)
}

/// `?workers=N`: 0 scores on the page's main thread, as before workers.
pub fn requested_workers() -> Option<usize> {
    let search = web_sys::window()?.location().search().ok()?;
    let n = web_sys::UrlSearchParams::new_with_str(&search).ok()?.get("workers")?;
    n.trim().parse::<usize>().ok().map(|n| n.min(MOST_WORKERS))
}

impl WorkerPool {
    /// Starts `count` workers and loads the model (as sent by
    /// [`message::load_message`]) in each, in parallel.
    pub async fn start(count: usize, load: &js_sys::Object) -> Result<WorkerPool, String> {
        let mut workers = Vec::with_capacity(count);
        for _ in 0..count {
            workers.push(WorkerLink::spawn()?);
        }
        let ready: Vec<_> = workers.iter().map(|w| w.ready()).collect();
        for r in ready {
            r.await?;
        }
        let nothing_moved = js_sys::Array::new();
        let loaded: Vec<_> = workers.iter().map(|w| w.call(load, &nothing_moved)).collect();
        for l in loaded {
            l.await.map_err(|e| format!("a worker could not load the model: {e}"))?;
        }
        Ok(WorkerPool { workers, sent: Cell::new(0) })
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// The least busy worker, taking turns among equals.
    fn pick(&self) -> &WorkerLink {
        let turn = self.sent.get();
        self.sent.set(turn + 1);
        let n = self.workers.len();
        (0..n)
            .map(|k| &self.workers[(turn as usize + k) % n])
            .min_by_key(|w| w.in_flight())
            .expect("a pool has workers")
    }
}

impl BatchScorer for WorkerPool {
    fn parallelism(&self) -> usize {
        self.workers.len()
    }

    fn score(&self, batch: Vec<ScoreRequest>) -> ScoresFuture<'_> {
        let worker = self.pick();
        Box::pin(async move {
            let ids = Uint32Array::from(wire::encode_requests(&batch).as_slice());
            let request = message::object(&[("kind", "score".into()), ("requests", ids.clone().into())]);
            let transfer = js_sys::Array::of1(&ids.buffer());
            let reply = worker.call(&request, &transfer).await.map_err(Error::Device)?;
            let lengths: Uint32Array = message::field(&reply, "lengths").map_err(Error::Device)?;
            let values: Float32Array = message::field(&reply, "values").map_err(Error::Device)?;
            let scores: Vec<TokenScores> = wire::decode_scores(&lengths.to_vec(), &values.to_vec()).map_err(Error::Device)?;
            Ok(scores)
        })
    }
}

/// A pool that has started, as the Models tab says it.
pub fn describe(pool: &WorkerPool) -> String {
    match pool.len() {
        1 => "scoring in 1 Web Worker".to_string(),
        n => format!("scoring in {n} Web Workers (a copy of the model each)"),
    }
}

/// A pool for a model just loaded from `bytes` on the CPU, or why there is none.
pub async fn pool_for(bytes: &js_sys::Object, count: usize) -> Result<Rc<WorkerPool>, String> {
    WorkerPool::start(count, bytes).await.map(Rc::new).map_err(|e| format!("no Web Workers ({e}): scoring on the page's main thread"))
}
