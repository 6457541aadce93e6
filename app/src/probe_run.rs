//! `leaner_glue_probe` in the page: Leaner-GLUE's files fetched from the
//! TinyHelen base URL, then core's [`run_probe`] (the function `tinyeval probe`
//! calls), the browser's event loop given back and the cancel flag checked
//! between forward passes.

use std::cell::Cell;
use std::collections::BTreeMap;

use tinyeval_core::probe::{ProbeOptions, ProbeProgress, ProbeRun, ProbeTask, SplitFile, run_probe};
use tinyeval_core::{Error, LanguageModel};

use crate::browser::fetch::fetch_bytes;
use crate::job::{Outcome, yield_now};

/// Fetches every split of `task` from the TinyHelen folder at `base`.
pub async fn fetch_splits(task: &ProbeTask, base: &str) -> Result<BTreeMap<String, SplitFile>, String> {
    let mut files = BTreeMap::new();
    for split in task.splits() {
        let name = format!("{}/data/leaner/glue/{}", base.trim().trim_end_matches('/'), task.file_name(split));
        let bytes = fetch_bytes(&name).await?;
        files.insert(split.to_string(), SplitFile { name, bytes });
    }
    Ok(files)
}

/// Probes `task` on `model` (see core's `probe::run` for the steps).
pub async fn probe_in_page(
    model: &LanguageModel,
    task: &'static ProbeTask,
    tinyhelen_base: &str,
    options: &ProbeOptions,
    cancel: &Cell<bool>,
    on_progress: impl Fn(ProbeProgress),
) -> Result<Outcome<ProbeRun>, String> {
    let files = fetch_splits(task, tinyhelen_base).await?;
    let result = run_probe(model, task, &files, options, |p| {
        on_progress(p);
        yield_now(cancel)
    })
    .await;
    match result {
        Ok(run) => Ok(Outcome::Done(run)),
        Err(Error::Cancelled) => Ok(Outcome::Cancelled),
        Err(e) => Err(e.to_string()),
    }
}
