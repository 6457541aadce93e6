//! Membership checks from start to finish: a set of texts (a labelled set, or
//! a task's items with a manifest; see [`sets`]) scored by a model, every
//! detection method of [`crate::detection`] applied, and, with labels, each
//! method's ROC metrics, the AUROC against `k` for Min-K% and Min-K%++, the
//! model-free [`blind_baseline`] beside them (and a warning when it does about
//! as well), and per exposure count (manifests with `count`) each group's AUROC
//! against the held-out items: the dose response.
//!
//! [`run_check`] is the one entry point; the CLI's `detect` and
//! `contamination` and the page's Contamination tab call it and only read
//! inputs, show progress and write what [`CheckReport`] gives them.

pub mod blind_baseline;
mod report;
pub mod sets;

use std::future::Future;

use crate::detection::{self, DcPddReference, DetectionInput, Method, ScoredTokens, TokenFrequencies};
use crate::error::{Error, Result};
use crate::language_model::{BatchProgress, LanguageModel, TextScores};
use crate::scoring::{ScoreRequest, TokenScores};

pub use blind_baseline::{BlindBaseline, DEFAULT_FOLDS};
pub use report::{CheckReport, DoseRow, KSweep, MethodOutcome, MethodSummary};
pub use sets::{CheckItem, ManifestRow, MembershipManifest, parse_labelled_set, task_items};

/// The `k` values of the AUROC-against-`k` sweep of Min-K% and Min-K%++.
pub const K_SWEEP: [f64; 11] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// The blind baseline is flagged when its AUROC is at least this and within
/// [`BLIND_MARGIN`] of the best method's (or above it).
pub const BLIND_FLOOR: f64 = 0.6;
pub const BLIND_MARGIN: f64 = 0.05;

/// ReCaLL's non-member prefix.
#[derive(Debug, Clone, PartialEq)]
pub enum RecallPrefix {
    /// The first `shots` non-members of the set, in its order; they are then
    /// left out of the check (every method is scored on the same other items).
    NonMembers { shots: usize },
    /// Texts given by the user (none of the checked items).
    Texts(Vec<String>),
}

/// ReCaLL joins its shots with a blank line (the paper's code joins them with
/// nothing, which runs one text into the next).
pub const RECALL_SEPARATOR: &str = "\n\n";

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub methods: Vec<Method>,
    /// Fraction of tokens Min-K% and Min-K%++ average, in (0, 1].
    pub k: f64,
    pub recall: Option<RecallPrefix>,
    /// DC-PDD's reference corpus, counted with the target model's tokenizer.
    pub frequencies: Option<TokenFrequencies>,
    pub dc_pdd_cap: f64,
    /// Folds of the blind baseline; 0: none.
    pub blind_folds: usize,
    /// Seed of the blind baseline's folds and of the bootstrap.
    pub seed: u64,
    /// Bootstrap resamples of each AUROC's 95% interval; 0: none.
    pub bootstrap: usize,
    /// Context windows per forward pass.
    pub batch_size: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            methods: vec![Method::Loss, Method::Perplexity, Method::Zlib, Method::Lowercase, Method::MinK, Method::MinKPlusPlus],
            k: 0.2,
            recall: None,
            frequencies: None,
            dc_pdd_cap: detection::DC_PDD_CAP,
            blind_folds: DEFAULT_FOLDS,
            seed: 0,
            bootstrap: 1000,
            batch_size: 8,
        }
    }
}

/// Which pass a check is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Target,
    Lowercase,
    Reference,
    Recall,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Target => "scoring the texts",
            Stage::Lowercase => "scoring the lowercased texts",
            Stage::Reference => "scoring with the reference model",
            Stage::Recall => "scoring after ReCaLL's prefix",
        }
    }
}

/// Where a check is: its pass, and requests done of the pass's total.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckProgress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
    pub tokens_done: usize,
}

/// Token counts of `documents` under `model`'s tokenizer (DC-PDD's reference corpus).
pub fn count_tokens(model: &LanguageModel, documents: &[String]) -> Result<TokenFrequencies> {
    let mut counts = vec![0u64; model.config.vocab_size];
    for d in documents {
        for id in model.tokenizer.encode(d)? {
            if let Some(c) = counts.get_mut(id as usize) {
                *c += 1;
            }
        }
    }
    Ok(TokenFrequencies::from_counts(counts))
}

fn check_options(model: &LanguageModel, reference: Option<&LanguageModel>, items: &[CheckItem], o: &CheckOptions) -> Result<()> {
    if o.methods.is_empty() {
        return Err(Error::Input("no detection method chosen".into()));
    }
    detection::k_count(1, o.k).map_err(|e| Error::Input(format!("k: {e}")))?;
    let needs = |m: Method, ok: bool, what: &str| {
        if o.methods.contains(&m) && !ok { Err(Error::Input(format!("method `{}` needs {what}", m.name()))) } else { Ok(()) }
    };
    needs(Method::Reference, reference.is_some(), "a reference model")?;
    needs(Method::Recall, o.recall.is_some(), "a non-member prefix (shots from the set, or a prefix file)")?;
    needs(Method::DcPdd, o.frequencies.is_some(), "a reference corpus's token frequencies")?;
    if let Some(f) = &o.frequencies {
        if f.counts.len() != model.config.vocab_size {
            return Err(Error::Input(format!(
                "dcpdd: the token frequencies have {} entries, the model's vocabulary {}",
                f.counts.len(),
                model.config.vocab_size
            )));
        }
    }
    if let Some(RecallPrefix::NonMembers { shots }) = &o.recall {
        let non_members = items.iter().filter(|i| i.member == Some(false)).count();
        if *shots == 0 || *shots >= non_members {
            return Err(Error::Input(format!(
                "recall: {shots} shots from the set's {non_members} non-members: need at least 1 and fewer than there are"
            )));
        }
    }
    Ok(())
}

/// One pass of the check over `requests`, its progress reported as `stage`.
async fn score_requests<F, Fut>(
    model: &LanguageModel,
    requests: &[ScoreRequest],
    batch_size: usize,
    stage: Stage,
    after_batch: &mut F,
) -> Result<Vec<TokenScores>>
where
    F: FnMut(CheckProgress) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    model.score_requests_stepwise(requests, batch_size, |p| after_batch(progress(stage, p))).await
}

fn progress(stage: Stage, p: BatchProgress) -> CheckProgress {
    CheckProgress { stage, done: p.requests_done, total: p.requests_total, tokens_done: p.tokens_done }
}

/// Every text scored, as [`LanguageModel::score_texts`] does, a pass of the check.
async fn score_texts<F, Fut>(model: &LanguageModel, texts: &[String], o: &CheckOptions, stage: Stage, after_batch: &mut F) -> Result<Vec<TextScores>>
where
    F: FnMut(CheckProgress) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    model.score_texts_stepwise(texts, o.batch_size, |p| after_batch(progress(stage, p))).await
}

/// ReCaLL's conditional pass: each text's tokens after the prefix's, as one
/// request (cut from the left to the model's context, as lm-eval cuts); a text
/// longer than the context keeps its first `context − 1` tokens.
async fn score_after_prefix<F, Fut>(model: &LanguageModel, prefix: &str, target: &[TextScores], o: &CheckOptions, after_batch: &mut F) -> Result<Vec<Vec<f32>>>
where
    F: FnMut(CheckProgress) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let context = model.tokenizer.encode(prefix)?;
    if context.is_empty() {
        return Err(Error::Input("recall: the prefix has no tokens".into()));
    }
    let room = model.config.max_positions.saturating_sub(1).max(1);
    let requests: Vec<ScoreRequest> = target
        .iter()
        .map(|t| ScoreRequest { context: context.clone(), continuation: t.tokens[..t.tokens.len().min(room)].to_vec() })
        .collect();
    Ok(score_requests(model, &requests, o.batch_size, Stage::Recall, after_batch).await?.into_iter().map(|s| s.logprobs).collect())
}

/// Runs a membership check (see the module's documentation). `after_batch` is
/// awaited after every forward pass: the page yields to its event loop there and
/// shows progress; an error it returns (e.g. [`Error::Cancelled`]) stops the check.
pub async fn run_check<F, Fut>(
    model: &LanguageModel,
    reference: Option<&LanguageModel>,
    mut items: Vec<CheckItem>,
    options: &CheckOptions,
    mut after_batch: F,
) -> Result<CheckReport>
where
    F: FnMut(CheckProgress) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    check_options(model, reference, &items, options)?;
    let mut methods = options.methods.clone();
    methods.dedup();
    let (prefix, prefix_items) = match &options.recall {
        None => (None, Vec::new()),
        Some(RecallPrefix::Texts(texts)) => (Some(texts.join(RECALL_SEPARATOR)), Vec::new()),
        Some(RecallPrefix::NonMembers { shots }) => {
            let mut taken = Vec::new();
            items.retain(|i| {
                let take = i.member == Some(false) && taken.len() < *shots;
                if take {
                    taken.push(i.clone());
                }
                !take
            });
            let text = taken.iter().map(|i| i.text.as_str()).collect::<Vec<_>>().join(RECALL_SEPARATOR);
            (Some(text), taken)
        }
    };
    let texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
    let target = score_texts(model, &texts, options, Stage::Target, &mut after_batch).await?;
    let lowercase = if methods.contains(&Method::Lowercase) {
        let lower: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
        Some(score_texts(model, &lower, options, Stage::Lowercase, &mut after_batch).await?)
    } else {
        None
    };
    let reference_scores = match reference {
        Some(r) if methods.contains(&Method::Reference) => Some(score_texts(r, &texts, options, Stage::Reference, &mut after_batch).await?),
        _ => None,
    };
    let conditional = match &prefix {
        Some(p) if methods.contains(&Method::Recall) => Some(score_after_prefix(model, p, &target, options, &mut after_batch).await?),
        _ => None,
    };

    let tokens = |s: &[TextScores]| s.iter().map(ScoredTokens::from_text_scores).collect::<Vec<_>>();
    let (target_tokens, lower_tokens, reference_tokens) =
        (tokens(&target), lowercase.as_deref().map(tokens), reference_scores.as_deref().map(tokens));
    let dc_pdd = options.frequencies.as_ref().map(|f| DcPddReference { frequencies: f, cap: options.dc_pdd_cap });
    let input = |i: usize| DetectionInput {
        text: &items[i].text,
        target: &target_tokens[i],
        lowercase: lower_tokens.as_ref().map(|l| &l[i]),
        reference: reference_tokens.as_ref().map(|r| &r[i]),
        conditional: conditional.as_ref().map(|c| c[i].as_slice()),
        dc_pdd,
    };
    let mut outcomes = Vec::with_capacity(methods.len());
    for &method in &methods {
        let scores = (0..items.len())
            .map(|i| detection::score(method, &input(i), options.k).map_err(|e| format!("item {}: {e}", items[i].id)))
            .collect::<std::result::Result<Vec<f64>, String>>();
        outcomes.push(MethodOutcome { method, scores });
    }
    // Min-K% and Min-K%++ at every k of the sweep, when the set is labelled.
    let mut k_sweep = Vec::new();
    if items.iter().all(|i| i.member.is_some()) {
        for method in [Method::MinK, Method::MinKPlusPlus].into_iter().filter(|m| methods.contains(m)) {
            let mut aurocs = Vec::with_capacity(K_SWEEP.len());
            for &k in &K_SWEEP {
                let scores: Vec<f64> = (0..items.len()).map(|i| detection::score(method, &input(i), k).unwrap_or(f64::NAN)).collect();
                aurocs.push(report::auroc_of(&scores, &items));
            }
            k_sweep.push(KSweep { method, ks: K_SWEEP.to_vec(), aurocs });
        }
    }
    let blind = if options.blind_folds > 0 && items.iter().all(|i| i.member.is_some()) {
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        let labels: Vec<bool> = items.iter().map(|i| i.member == Some(true)).collect();
        Some(blind_baseline::blind_baseline(&texts, &labels, options.blind_folds, options.seed).map_err(|e| e.to_string()))
    } else {
        None
    };
    report::assemble(items, target, prefix_items, outcomes, k_sweep, blind, options)
}
