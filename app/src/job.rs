//! One job abstraction for every long run in the page (benchmarks, probe,
//! Leaner-Eval and its judge, membership checks, overlap, passage scoring).
//!
//! A [`Job`] owns the run's status line, its cancel flag and its share of the
//! page-wide `busy` flag; the tab hands [`Job::start`] the async work, which
//! reports through its [`JobContext`] and returns a summary, a cancel or an
//! error. Views read [`Job::status`] and [`Job::running`]; nothing else in a
//! tab sets `busy` or keeps a cancel flag. The work itself is a core run (or a
//! sequence of them) that yields to the browser between steps
//! ([`yield_now`]), where the cancel flag is read.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use tinyeval_core::Error;

/// How a run ended when it did not fail.
pub enum Outcome<T> {
    Done(T),
    Cancelled,
}

/// Seconds since the page opened (`performance.now()`).
pub fn now_seconds() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() / 1000.0)
        .unwrap_or(0.0)
}

/// Gives the browser its event loop back, then says whether to go on.
pub async fn yield_now(cancel: &Cell<bool>) -> Result<(), Error> {
    // A zero-delay timeout yields to the browser's event loop.
    gloo_timers::future::TimeoutFuture::new(0).await;
    if cancel.get() { Err(Error::Cancelled) } else { Ok(()) }
}

/// A run's structured progress, as its status line says it.
pub trait Progress: Clone + PartialEq + Send + Sync + 'static {
    fn describe(&self) -> String;
}

impl Progress for String {
    fn describe(&self) -> String {
        self.clone()
    }
}

/// Where a job is.
#[derive(Clone, Debug, PartialEq)]
pub enum JobStatus<P> {
    Idle,
    /// Reading inputs, or any step without structured progress.
    Preparing(String),
    Running(P),
    Done(String),
    Cancelled,
    Failed(String),
}

impl<P: Progress> JobStatus<P> {
    /// The status line: "Running: …", "Done: …", "Cancelled", "Error: …".
    pub fn text(&self) -> String {
        match self {
            JobStatus::Idle => String::new(),
            JobStatus::Preparing(s) => format!("Running: {s}"),
            JobStatus::Running(p) => format!("Running: {}", p.describe()),
            JobStatus::Done(s) => format!("Done: {s}"),
            JobStatus::Cancelled => "Cancelled".into(),
            JobStatus::Failed(e) => format!("Error: {e}"),
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, JobStatus::Preparing(_) | JobStatus::Running(_))
    }
}

/// What the running work gets: ways to report, and the cancel flag.
#[derive(Clone)]
pub struct JobContext<P: Progress> {
    status: RwSignal<JobStatus<P>>,
    cancel: Rc<Cell<bool>>,
}

impl<P: Progress> JobContext<P> {
    pub fn preparing(&self, what: impl Into<String>) {
        self.status.set(JobStatus::Preparing(what.into()));
    }

    pub fn progress(&self, p: P) {
        self.status.set(JobStatus::Running(p));
    }

    /// Set once the user cancels; the work's yields read it.
    pub fn cancel_flag(&self) -> Rc<Cell<bool>> {
        self.cancel.clone()
    }
}

/// A long run of one tab (see the module's documentation).
pub struct Job<P: Progress> {
    pub status: RwSignal<JobStatus<P>>,
    /// Runs finished so far, whatever their end (the e2e tests wait on it).
    pub finished: RwSignal<u32>,
    cancel: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    busy: RwSignal<bool>,
}

impl<P: Progress> Clone for Job<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: Progress> Copy for Job<P> {}

impl<P: Progress> Job<P> {
    /// A job that marks the page `busy` while it runs.
    pub fn new(busy: RwSignal<bool>) -> Self {
        Self {
            status: RwSignal::new(JobStatus::Idle),
            finished: RwSignal::new(0),
            cancel: StoredValue::new_local(Rc::new(Cell::new(false))),
            busy,
        }
    }

    /// Whether it is running (tracked).
    pub fn running(&self) -> bool {
        self.status.with(JobStatus::is_running)
    }

    /// Refuses to start, saying why (bad settings, nothing chosen).
    pub fn fail(&self, why: impl Into<String>) {
        self.status.set(JobStatus::Failed(why.into()));
    }

    pub fn cancel(&self) {
        self.cancel.get_value().set(true);
    }

    /// Runs `work`; its `Ok(Done(summary))`, `Ok(Cancelled)` or `Err(message)`
    /// becomes the status line. `busy` is set for the run's whole length.
    pub fn start<Fut>(&self, work: impl FnOnce(JobContext<P>) -> Fut + 'static)
    where
        Fut: Future<Output = Result<Outcome<String>, String>> + 'static,
    {
        let flag = Rc::new(Cell::new(false));
        self.cancel.set_value(flag.clone());
        self.busy.set(true);
        self.status.set(JobStatus::Preparing("starting…".into()));
        let context = JobContext { status: self.status, cancel: flag };
        let job = *self;
        spawn_local(async move {
            let outcome = work(context).await;
            job.status.set(match outcome {
                Ok(Outcome::Done(summary)) => JobStatus::Done(summary),
                Ok(Outcome::Cancelled) => JobStatus::Cancelled,
                Err(e) => JobStatus::Failed(e),
            });
            job.busy.set(false);
            job.finished.update(|n| *n += 1);
        });
    }
}
