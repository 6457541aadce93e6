//! Pretraining-data detection scores of one text, from its per-token scores
//! (no model access here: see [`crate::LanguageModel::score_texts`]).
//!
//! **Orientation: every score is higher for a text more likely seen in training**
//! (a member). The published code (swj0419/detect-pretrain-code for Min-K%,
//! zjysteven/mink-plus-plus for Min-K%++) mixes orientations and negates some
//! scores before its ROC; here each is turned so that no negation is needed:
//!
//! | method      | score                                                        |
//! |-------------|--------------------------------------------------------------|
//! | `loss`      | `−L`, with `L` the mean negative log-likelihood (nats/token)  |
//! | `ppl`       | `−exp(L)` (minus the perplexity)                             |
//! | `zlib`      | `−L / zlib_len(text)` (Min-K%++'s `ll / zlib`)               |
//! | `lowercase` | `L_lower / L` (Min-K%'s `−(log ppl_lower / log ppl)`, negated) |
//! | `mink`      | mean of the lowest `k·n` token log-probs                     |
//! | `minkpp`    | mean of the lowest `k·n` values of `(log p − μ) / σ`          |
//! | `ref`       | `L_ref − L` (Min-K%'s `log ppl − log ppl_ref`, negated)       |
//! | `recall`    | `LL(x | P) / LL(x)` (ReCaLL; `LL` mean log-likelihoods)       |
//! | `dcpdd`     | mean over first occurrences of `min(p · −log f, a)` (DC-PDD)  |
//!
//! **ReCaLL** (Xie et al. 2024): `LL(x)` is `−L`; `LL(x | P)` is the mean
//! log-prob of every token of `x` read after a prefix `P` of non-member texts
//! (`x` tokenized alone, its tokens appended to the prefix's; the first token of
//! `x` is then predicted too, as in the paper's code). A member's likelihood
//! drops more under a non-member prefix, so the ratio of two negative numbers
//! is larger for members.
//!
//! **DC-PDD** (Zhang et al. 2024): per scored token with probability `p` under
//! the model and frequency `f` in a reference corpus (counts + 1 over total +
//! vocabulary size, Laplace smoothing), `α = p · −ln f`, capped at `a` (0.01 in
//! the paper); the score is the mean of `α` over the first occurrence of each
//! distinct token id among the scored tokens.
//!
//! `L` averages over the scored tokens, i.e. every token but the first, which
//! has no prediction (as the published code does with Hugging Face's loss).
//! `μ` and `σ²` are the mean and variance of `log p` under the full next-token
//! distribution that predicted the token. Lowest-`k` counts are
//! `max(1, floor(n·k))` over the `n` scored tokens (the published code's
//! `int(len * k)`, which gives an empty mean, NaN, when it is 0).
//!
//! All arithmetic is in `f64` from the `f32` token scores.

use crate::error::{Error, Result};
use crate::language_model::TextScores;

/// The scored tokens of one text: the entries of [`TextScores`] that have a
/// prediction (all but the first token), as three parallel vectors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoredTokens {
    /// The ids of the scored tokens (DC-PDD's first occurrences and frequencies).
    pub ids: Vec<u32>,
    pub logprobs: Vec<f32>,
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
}

impl ScoredTokens {
    pub fn from_text_scores(scores: &TextScores) -> Self {
        let pick = |v: &[Option<f32>]| v.iter().filter_map(|x| *x).collect::<Vec<_>>();
        let ids = scores.tokens.iter().zip(&scores.logprobs).filter(|(_, lp)| lp.is_some()).map(|(&t, _)| t).collect();
        Self {
            ids,
            logprobs: pick(&scores.logprobs),
            mean: pick(&scores.mean),
            var: pick(&scores.var),
        }
    }
}

/// A detection method; [`Method::name`] is its name on the command line and in outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Loss,
    Perplexity,
    Zlib,
    Lowercase,
    MinK,
    MinKPlusPlus,
    Reference,
    Recall,
    DcPdd,
}

impl Method {
    pub const ALL: [Method; 9] = [
        Method::Loss,
        Method::Perplexity,
        Method::Zlib,
        Method::Lowercase,
        Method::MinK,
        Method::MinKPlusPlus,
        Method::Reference,
        Method::Recall,
        Method::DcPdd,
    ];

    /// The methods that need nothing but the text's own scores.
    pub const SELF_CONTAINED: [Method; 5] = [Method::Loss, Method::Perplexity, Method::Zlib, Method::MinK, Method::MinKPlusPlus];

    pub fn name(self) -> &'static str {
        match self {
            Method::Loss => "loss",
            Method::Perplexity => "ppl",
            Method::Zlib => "zlib",
            Method::Lowercase => "lowercase",
            Method::MinK => "mink",
            Method::MinKPlusPlus => "minkpp",
            Method::Reference => "ref",
            Method::Recall => "recall",
            Method::DcPdd => "dcpdd",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Method::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| {
            let names: Vec<_> = Method::ALL.iter().map(|m| m.name()).collect();
            Error::Input(format!("unknown detection method `{name}` (known: {})", names.join(", ")))
        })
    }
}

fn non_empty(logprobs: &[f32], what: &str) -> Result<()> {
    if logprobs.is_empty() {
        return Err(Error::Input(format!(
            "{what}: no scored tokens (a text needs at least two tokens to be scored)"
        )));
    }
    Ok(())
}

/// Mean negative log-likelihood `L` of the scored tokens (nats per token).
pub fn mean_nll(logprobs: &[f32]) -> Result<f64> {
    non_empty(logprobs, "loss")?;
    Ok(-logprobs.iter().map(|&x| x as f64).sum::<f64>() / logprobs.len() as f64)
}

/// `−L`.
pub fn loss_score(logprobs: &[f32]) -> Result<f64> {
    Ok(-mean_nll(logprobs)?)
}

/// `−exp(L)`: minus the perplexity.
pub fn perplexity_score(logprobs: &[f32]) -> Result<f64> {
    Ok(-mean_nll(logprobs)?.exp())
}

/// `len(zlib.compress(text.encode("utf-8")))` as Python computes it: the length
/// of C zlib's stream (2-byte header, deflate at level 6, Adler-32).
///
/// Pure-Rust deflate encoders (flate2 with miniz_oxide or zlib-rs) choose other
/// matches and blocks than C zlib, so their lengths differ from Python's on
/// some texts (by up to ~30% on short ones in our tests); this counts the bits
/// C zlib's algorithm would write instead (see `zlib_length.rs`), equal to
/// Python's on every text tested (`tests/detection.rs`).
pub fn zlib_len(text: &str) -> usize {
    crate::zlib_length::zlib_compressed_len(text.as_bytes())
}

/// `−L / zlib_len`, the zlib length given (see [`zlib_len`]).
pub fn zlib_score_with_len(logprobs: &[f32], zlib_len: usize) -> Result<f64> {
    Ok(-mean_nll(logprobs)? / zlib_len as f64)
}

/// `−L / zlib_len(text)`.
pub fn zlib_score(logprobs: &[f32], text: &str) -> Result<f64> {
    zlib_score_with_len(logprobs, zlib_len(text))
}

/// `L_lower / L`, from the scores of the text and of its lowercased version
/// (`str::to_lowercase`, which agrees with Python's `str.lower` but for rare
/// characters).
pub fn lowercase_score(logprobs: &[f32], lowercase_logprobs: &[f32]) -> Result<f64> {
    Ok(mean_nll(lowercase_logprobs)? / mean_nll(logprobs)?)
}

/// `L_ref − L`, from the target model's and the reference model's scores of the same text.
pub fn reference_score(logprobs: &[f32], reference_logprobs: &[f32]) -> Result<f64> {
    Ok(mean_nll(reference_logprobs)? - mean_nll(logprobs)?)
}

/// How many of `n` values the lowest-`k` means take: `max(1, floor(n·k))`, with
/// `n·k` in `f64` as Python computes `int(len * k)`. `k` must be in `(0, 1]`.
pub fn k_count(n: usize, k: f64) -> Result<usize> {
    check_k(k)?;
    Ok(((n as f64 * k).floor() as usize).max(1))
}

fn check_k(k: f64) -> Result<()> {
    if !(k > 0.0 && k <= 1.0) {
        return Err(Error::Input(format!("k = {k} is not in (0, 1]")));
    }
    Ok(())
}

/// Mean of the lowest `k_count(values.len(), k)` values.
fn mean_of_lowest(mut values: Vec<f64>, k: f64) -> Result<f64> {
    let count = k_count(values.len(), k)?;
    values.sort_by(f64::total_cmp);
    Ok(values[..count].iter().sum::<f64>() / count as f64)
}

/// Min-K% Prob: the mean log-prob of the lowest `k` fraction of the scored tokens.
pub fn min_k_score(logprobs: &[f32], k: f64) -> Result<f64> {
    non_empty(logprobs, "mink")?;
    mean_of_lowest(logprobs.iter().map(|&x| x as f64).collect(), k)
}

/// Min-K%++: per token `(log p − μ) / σ` (`μ`, `σ²` the mean and variance of
/// `log p` under the predicting distribution), then the mean of the lowest `k`
/// fraction. A token whose distribution has `σ = 0` gives ±inf or NaN, as in
/// the published code.
pub fn min_k_plus_plus_score(logprobs: &[f32], mean: &[f32], var: &[f32], k: f64) -> Result<f64> {
    non_empty(logprobs, "minkpp")?;
    if mean.len() != logprobs.len() || var.len() != logprobs.len() {
        return Err(Error::Input(format!(
            "minkpp: {} log-probs but {} means and {} variances",
            logprobs.len(),
            mean.len(),
            var.len()
        )));
    }
    let z = logprobs
        .iter()
        .zip(mean)
        .zip(var)
        .map(|((&lp, &mu), &v)| (lp as f64 - mu as f64) / (v as f64).sqrt())
        .collect();
    mean_of_lowest(z, k)
}

/// ReCaLL: `LL(x | P) / LL(x)`, from the log-probs of every token of `x` read
/// after the prefix (`conditional`) and of its scored tokens read alone.
pub fn recall_score(logprobs: &[f32], conditional_logprobs: &[f32]) -> Result<f64> {
    non_empty(conditional_logprobs, "recall")?;
    let conditional = conditional_logprobs.iter().map(|&x| x as f64).sum::<f64>() / conditional_logprobs.len() as f64;
    Ok(conditional / -mean_nll(logprobs)?)
}

/// Token counts of a reference corpus, tokenized by the target model's
/// tokenizer, for DC-PDD.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFrequencies {
    /// One count per id of the model's vocabulary.
    pub counts: Vec<u64>,
    pub total: u64,
}

impl TokenFrequencies {
    pub fn from_counts(counts: Vec<u64>) -> Self {
        let total = counts.iter().sum();
        Self { counts, total }
    }

    /// A count table as `scripts/make_token_frequencies.py` writes it:
    /// JSON `{"counts": [one whole number per token id], ...}`.
    pub fn parse_table(file: &str, bytes: &[u8]) -> Result<Self> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| Error::bad_file(file, format!("not valid JSON ({e})")))?;
        let counts = v
            .get("counts")
            .and_then(serde_json::Value::as_array)
            .and_then(|a| a.iter().map(serde_json::Value::as_u64).collect::<Option<Vec<u64>>>())
            .ok_or_else(|| Error::bad_file(file, "no `counts` array of whole numbers"))?;
        if counts.is_empty() {
            return Err(Error::bad_file(file, "`counts` is empty"));
        }
        Ok(Self::from_counts(counts))
    }

    /// Laplace-smoothed frequency `(count + 1) / (total + V)`; an id past the
    /// table counts 0.
    pub fn frequency(&self, id: u32) -> f64 {
        let count = self.counts.get(id as usize).copied().unwrap_or(0);
        (count as f64 + 1.0) / (self.total as f64 + self.counts.len() as f64)
    }
}

/// DC-PDD's cap `a` in the paper's experiments.
pub const DC_PDD_CAP: f64 = 0.01;

/// DC-PDD: the mean over the first occurrence of each distinct scored token of
/// `min(p · −ln f, cap)`.
pub fn dc_pdd_score(ids: &[u32], logprobs: &[f32], frequencies: &TokenFrequencies, cap: f64) -> Result<f64> {
    non_empty(logprobs, "dcpdd")?;
    if ids.len() != logprobs.len() {
        return Err(Error::Input(format!("dcpdd: {} token ids but {} log-probs", ids.len(), logprobs.len())));
    }
    if !(cap > 0.0) {
        return Err(Error::Input(format!("dcpdd: the cap a = {cap} must be positive")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut sum = 0.0;
    for (&id, &lp) in ids.iter().zip(logprobs) {
        if seen.insert(id) {
            sum += ((lp as f64).exp() * -frequencies.frequency(id).ln()).min(cap);
        }
    }
    Ok(sum / seen.len() as f64)
}

/// DC-PDD's reference corpus and cap.
#[derive(Debug, Clone, Copy)]
pub struct DcPddReference<'a> {
    pub frequencies: &'a TokenFrequencies,
    pub cap: f64,
}

/// What one text gives to the detection methods.
pub struct DetectionInput<'a> {
    pub text: &'a str,
    pub target: &'a ScoredTokens,
    /// The target model's scores of the lowercased text (for `lowercase`).
    pub lowercase: Option<&'a ScoredTokens>,
    /// The reference model's scores of the text (for `ref`).
    pub reference: Option<&'a ScoredTokens>,
    /// The log-probs of every token of the text read after ReCaLL's prefix (for `recall`).
    pub conditional: Option<&'a [f32]>,
    /// The reference corpus's token frequencies (for `dcpdd`).
    pub dc_pdd: Option<DcPddReference<'a>>,
}

/// One method's score of one text.
pub fn score(method: Method, input: &DetectionInput, k: f64) -> Result<f64> {
    let lp = &input.target.logprobs;
    let missing = |what: &str| Error::Input(format!("method `{}` needs {what}", method.name()));
    match method {
        Method::Loss => loss_score(lp),
        Method::Perplexity => perplexity_score(lp),
        Method::Zlib => zlib_score(lp, input.text),
        Method::Lowercase => lowercase_score(lp, &input.lowercase.ok_or_else(|| missing("the lowercased text's scores"))?.logprobs),
        Method::MinK => min_k_score(lp, k),
        Method::MinKPlusPlus => min_k_plus_plus_score(lp, &input.target.mean, &input.target.var, k),
        Method::Reference => reference_score(lp, &input.reference.ok_or_else(|| missing("a reference model"))?.logprobs),
        Method::Recall => recall_score(lp, input.conditional.ok_or_else(|| missing("a non-member prefix"))?),
        Method::DcPdd => {
            let r = input.dc_pdd.ok_or_else(|| missing("a reference corpus's token frequencies"))?;
            dc_pdd_score(&input.target.ids, lp, r.frequencies, r.cap)
        }
    }
}
