//! What the core tests share: the repository root, the TinyHelen folder and
//! `require` for data a test needs (data.rs, shared with the CLI's tests); the
//! golden files written by the reference scripts (transformers; see
//! scripts/README.md), and the check of a model's scores against them.
#![allow(dead_code)] // each test binary uses its own part

mod data;

pub use data::*;

use std::path::Path;

use serde::Deserialize;
use tinyeval_core::LanguageModel;
use tinyeval_core::scoring::{ScoreRequest, rolling_windows, score_batch, score_segmented};

pub const TOLERANCE: f64 = 1e-4;

#[derive(Deserialize)]
pub struct Golden {
    pub model: String,
    pub context: usize,
    pub tie_word_embeddings: Option<bool>,
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<u32>,
    pub texts: Vec<GoldenText>,
    pub rolling: Vec<GoldenRolling>,
    #[serde(default)]
    pub greedy: Vec<GoldenGreedy>,
}

#[derive(Deserialize)]
pub struct GoldenText {
    pub text: String,
    pub tokens: Vec<u32>,
    pub token_strs: Vec<String>,
    pub logprobs: Vec<Option<f64>>,
    pub mean: Vec<Option<f64>>,
    pub var: Vec<Option<f64>>,
    pub truncated_to: Option<usize>,
}

#[derive(Deserialize)]
pub struct GoldenRolling {
    pub text: String,
    pub tokens: Vec<u32>,
    pub prefix_token: u32,
    pub max_seq_len: usize,
    pub logprobs: Vec<f64>,
    pub total: f64,
}

#[derive(Deserialize, Clone)]
pub struct GoldenGreedy {
    pub prompt: String,
    pub prompt_tokens: Vec<u32>,
    pub max_new_tokens: usize,
    pub generated_tokens: Vec<u32>,
    pub generated_text: String,
    pub top2_margins: Vec<f64>,
}

/// Every model golden (`*.json`, not the tokenizer goldens) in `dir`, by name.
pub fn read_goldens(dir: &Path) -> Vec<(String, Golden)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || name.starts_with("tokenizer_") {
            continue;
        }
        let golden: Golden = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((name, golden));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn assert_close(what: &str, ours: f64, theirs: f64, worst: &mut f64) {
    let diff = (ours - theirs).abs();
    *worst = worst.max(diff);
    assert!(diff <= TOLERANCE, "{what}: ours {ours}, transformers {theirs} (difference {diff})");
}

/// Checks token ids, token strings, per-token log-probs, means and variances,
/// and rolling-window log-likelihoods (batched, and segment by segment through
/// the cache) against a golden; returns the largest absolute difference.
pub fn check_scores(name: &str, golden: &Golden, model: &LanguageModel) -> f64 {
    assert_eq!(model.config.max_positions, golden.context, "{name}: context");
    let mut worst = 0.0f64;

    for t in &golden.texts {
        let ids = model.tokenizer.encode(&t.text).unwrap();
        let expected_len = t.truncated_to.unwrap_or(ids.len());
        assert_eq!(&ids[..expected_len], &t.tokens[..], "{name}: token ids of {:?}", t.text);
        let strs: Vec<String> = t.tokens.iter().map(|&id| model.tokenizer.token_str(id)).collect();
        assert_eq!(strs, t.token_strs, "{name}: token strings of {:?}", t.text);
        if t.tokens.len() < 2 {
            continue;
        }
        let request = ScoreRequest {
            context: vec![t.tokens[0]],
            continuation: t.tokens[1..].to_vec(),
        };
        let scores = pollster::block_on(score_batch(&model.decoder, &[request])).unwrap().remove(0);
        for j in 1..t.tokens.len() {
            let what = |field: &str| format!("{name}: {field} of token {j} of {:?}", t.text);
            assert_close(&what("logprob"), scores.logprobs[j - 1] as f64, t.logprobs[j].unwrap(), &mut worst);
            assert_close(&what("mean"), scores.means[j - 1] as f64, t.mean[j].unwrap(), &mut worst);
            assert_close(&what("var"), scores.variances[j - 1] as f64, t.var[j].unwrap(), &mut worst);
        }
    }

    for r in &golden.rolling {
        // The whole text (1000+ tokens for the long one) tokenizes as transformers does.
        assert_eq!(model.tokenizer.encode(&r.text).unwrap(), r.tokens, "{name}: rolling tokens of {:?}", r.text);
        let windows = rolling_windows(r.prefix_token, &r.tokens, r.max_seq_len);
        // Batched together: padding must not change any window's numbers.
        let scores = pollster::block_on(score_batch(&model.decoder, &windows)).unwrap();
        let logprobs: Vec<f64> = scores.iter().flat_map(|s| s.logprobs.iter().map(|&x| x as f64)).collect();
        assert_eq!(logprobs.len(), r.logprobs.len(), "{name}: rolling token count of {:?}", r.text);
        for (j, (ours, theirs)) in logprobs.iter().zip(&r.logprobs).enumerate() {
            assert_close(&format!("{name}: rolling logprob {j} of {:?}", r.text), *ours, *theirs, &mut worst);
        }
        // A few tokens at a time through the key/value cache, as the browser scores.
        let mut segmented = Vec::new();
        for window in &windows {
            let s = pollster::block_on(score_segmented(&model.decoder, window, 5, || async { Ok(()) })).unwrap();
            segmented.extend(s.logprobs.iter().map(|&x| x as f64));
        }
        assert_eq!(segmented.len(), r.logprobs.len(), "{name}: segmented token count of {:?}", r.text);
        for (j, (ours, theirs)) in segmented.iter().zip(&r.logprobs).enumerate() {
            assert_close(&format!("{name}: segmented logprob {j} of {:?}", r.text), *ours, *theirs, &mut worst);
        }
        let total: f64 = logprobs.iter().sum();
        let rel = ((total - r.total) / r.total.abs().max(1.0)).abs();
        assert!(rel <= 1e-5, "{name}: rolling total of {:?}: ours {total}, transformers {}", r.text, r.total);
    }
    worst
}
