//! The engine against transformers: goldens written by `scripts/make_goldens.py`
//! (PyTorch + transformers) for every reference model, checked on the native CPU
//! backend, and on native wgpu when `TINYEVAL_TEST_WGPU=1` and an adapter exists.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tinyeval_core::scoring::{ScoreRequest, rolling_windows, score_batch, score_segmented};
use tinyeval_core::{Device, LanguageModel, ModelFiles};

const TOLERANCE: f64 = 1e-4;

#[derive(Deserialize)]
struct Golden {
    model: String,
    context: usize,
    texts: Vec<GoldenText>,
    rolling: Vec<GoldenRolling>,
}

#[derive(Deserialize)]
struct GoldenText {
    text: String,
    tokens: Vec<u32>,
    token_strs: Vec<String>,
    logprobs: Vec<Option<f64>>,
    mean: Vec<Option<f64>>,
    var: Vec<Option<f64>>,
    truncated_to: Option<usize>,
}

#[derive(Deserialize)]
struct GoldenRolling {
    text: String,
    tokens: Vec<u32>,
    prefix_token: u32,
    max_seq_len: usize,
    logprobs: Vec<f64>,
    total: f64,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn goldens() -> Vec<(String, Golden)> {
    let dir = repo_root().join("core/tests/fixtures/goldens");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name.starts_with("tokenizer_") {
            continue;
        }
        let golden: Golden = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        out.push((name, golden));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 9, "expected the goldens of every reference model");
    out
}

fn assert_close(what: &str, ours: f64, theirs: f64, worst: &mut f64) {
    let diff = (ours - theirs).abs();
    *worst = worst.max(diff);
    assert!(diff <= TOLERANCE, "{what}: ours {ours}, transformers {theirs} (difference {diff})");
}

fn check_model(name: &str, golden: &Golden, device: &Device) -> f64 {
    let model = LanguageModel::load(ModelFiles::from_dir(&repo_root().join(&golden.model)).unwrap(), device)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
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

#[test]
fn every_reference_model_matches_transformers_on_cpu() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let worst = check_model(&name, &golden, &device);
        eprintln!("{name}: max abs difference {worst:.2e}");
    }
}

#[test]
fn every_reference_model_matches_transformers_on_wgpu() {
    if std::env::var("TINYEVAL_TEST_WGPU").as_deref() != Ok("1") {
        eprintln!("skipped: set TINYEVAL_TEST_WGPU=1 to run on native wgpu");
        return;
    }
    let device = Device::wgpu_options().init().expect("a wgpu adapter (apt-get install mesa-vulkan-drivers)");
    for (name, golden) in goldens() {
        let worst = check_model(&name, &golden, &device);
        eprintln!("{name} (wgpu): max abs difference {worst:.2e}");
    }
}
