//! The engine against transformers: goldens written by `scripts/make_goldens.py`
//! (PyTorch + transformers) for every reference model, checked on the native CPU
//! backend, and on native wgpu when `TINYEVAL_TEST_WGPU=1` and an adapter exists.

mod common;

use common::{check_scores, read_goldens, repo_root};
use tinyeval_core::config::{Architecture, RopeScaling};
use tinyeval_core::scorer::{BatchScorer, ScoresFuture};
use tinyeval_core::scoring::{ScoreRequest, score_batch};
use tinyeval_core::{Device, LanguageModel, ModelFiles};

fn check_all(device: &Device, label: &str) {
    let goldens = read_goldens(&repo_root().join("core/tests/fixtures/goldens"));
    assert!(goldens.len() >= 19, "expected the goldens of every reference model");
    let mut architectures = Vec::new();
    let mut rope_scalings = Vec::new();
    for (name, golden) in goldens {
        let model = LanguageModel::load(ModelFiles::from_dir(&repo_root().join(&golden.model)).unwrap(), device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let worst = check_scores(&name, &golden, &model);
        eprintln!("{name} ({label}): max abs difference {worst:.2e}");
        architectures.push(model.config.architecture);
        rope_scalings.push(std::mem::discriminant(&model.config.extras.rope_scaling));
    }
    use Architecture::*;
    for a in [Llama, Qwen2, Qwen3, Gemma3, Olmo2, Gpt2, GptNeo, GptNeoX] {
        assert!(architectures.contains(&a), "no golden for {a:?}");
    }
    let linear = RopeScaling::Linear { factor: 1.0 };
    let llama3 = RopeScaling::Llama3 { factor: 1.0, low_freq_factor: 1.0, high_freq_factor: 2.0, original_max_positions: 1 };
    let yarn = RopeScaling::Yarn { factor: 1.0, original_max_positions: 1, beta_fast: 1.0, beta_slow: 1.0, truncate: true, attention_factor: 1.0 };
    for scaling in [RopeScaling::None, linear, llama3, yarn] {
        assert!(rope_scalings.contains(&std::mem::discriminant(&scaling)), "no golden for rope scaling {scaling:?}");
    }
}

#[test]
fn every_reference_model_matches_transformers_on_cpu() {
    check_all(&Device::flex(), "cpu");
}

#[test]
fn every_reference_model_matches_transformers_on_wgpu() {
    if std::env::var("TINYEVAL_TEST_WGPU").as_deref() != Ok("1") {
        eprintln!("skipped: set TINYEVAL_TEST_WGPU=1 to run on native wgpu");
        return;
    }
    let device = Device::wgpu_options().init().expect("a wgpu adapter (apt-get install mesa-vulkan-drivers)");
    check_all(&device, "wgpu");
}

/// The parameters a config declares (the count that checks a config against its
/// weights) are exactly those stored, for every Llama-layout reference model.
#[test]
fn llama_layout_parameter_counts_match_the_checkpoints() {
    use tinyeval_core::config::ModelConfig;
    let mut checked = 0;
    for (name, golden) in read_goldens(&repo_root().join("core/tests/fixtures/goldens")) {
        let dir = repo_root().join(&golden.model);
        let config = ModelConfig::from_json(&name, &std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        if matches!(config.architecture, Architecture::Gpt2 | Architecture::GptNeo | Architecture::GptNeoX) {
            continue; // their count leaves out biases and the like
        }
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let stored: usize = safetensors::SafeTensors::deserialize(&bytes)
            .unwrap()
            .tensors()
            .iter()
            .map(|(_, t)| t.shape().iter().product::<usize>())
            .sum();
        assert_eq!(config.num_parameters(), stored, "{name}");
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} checkpoints checked");
}

/// Scores do not depend on how requests are batched: every text of each
/// golden, with its rolling windows, scored one request a pass and in batches
/// of 3 and 8 (formed longest first), gives the same log-probabilities within
/// 1e-6 relative, in the texts' order.
#[test]
fn scores_are_the_same_for_every_batch_size() {
    let device = Device::flex();
    for name in ["llama-gqa", "gpt2", "tinyhelen-1m"] {
        let goldens = read_goldens(&repo_root().join("core/tests/fixtures/goldens"));
        let golden = &goldens.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no golden {name}")).1;
        let model = LanguageModel::load(ModelFiles::from_dir(&repo_root().join(&golden.model)).unwrap(), &device).unwrap();
        // Short and long texts together, so that batches mix lengths and windows.
        let texts: Vec<String> = golden.texts.iter().map(|t| t.text.clone()).chain(golden.rolling.iter().map(|r| r.text.clone())).collect();
        let one = pollster::block_on(model.score_texts(&texts, 1)).unwrap();
        for batch in [3, 8] {
            let many = pollster::block_on(model.score_texts(&texts, batch)).unwrap();
            for (a, b) in one.iter().zip(&many) {
                assert_eq!(a.text, b.text, "{name}: texts out of order with batch {batch}");
                for (i, (x, y)) in a.logprobs.iter().zip(&b.logprobs).enumerate() {
                    let (x, y) = (x.unwrap_or(0.0) as f64, y.unwrap_or(0.0) as f64);
                    assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{name} batch {batch}, token {i} of {:?}: {x} vs {y}", a.text);
                }
            }
        }
        eprintln!("{name}: {} texts, the same scores with batches of 1, 3 and 8", texts.len());
    }
}

/// A pool's stand-in: a second copy of the model that scores up to three
/// batches at once and finishes them out of order (each waits a different
/// number of polls), as workers of different speeds would.
struct OutOfOrderPool {
    copy: LanguageModel,
    started: std::cell::Cell<usize>,
}

impl BatchScorer for OutOfOrderPool {
    fn parallelism(&self) -> usize {
        3
    }

    fn score(&self, batch: Vec<ScoreRequest>) -> ScoresFuture<'_> {
        let n = self.started.get();
        self.started.set(n + 1);
        Box::pin(async move {
            for _ in 0..(3 - n % 3) * 2 {
                YieldOnce(false).await;
            }
            score_batch(&self.copy.decoder, &batch).await
        })
    }
}

/// Pending once (waking itself), then ready.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[test]
fn scores_are_the_same_whatever_the_pool() {
    let device = Device::flex();
    let goldens = read_goldens(&repo_root().join("core/tests/fixtures/goldens"));
    let golden = &goldens.iter().find(|(n, _)| n == "llama-gqa").expect("no golden llama-gqa").1;
    let load = || LanguageModel::load(ModelFiles::from_dir(&repo_root().join(&golden.model)).unwrap(), &device).unwrap();
    let texts: Vec<String> = golden.texts.iter().map(|t| t.text.clone()).chain(golden.rolling.iter().map(|r| r.text.clone())).collect();
    let alone = pollster::block_on(load().score_texts(&texts, 2)).unwrap();
    let pool = OutOfOrderPool { copy: load(), started: std::cell::Cell::new(0) };
    let pooled_model = load().with_scorer(std::rc::Rc::new(pool));
    let pooled = pollster::block_on(pooled_model.score_texts(&texts, 2)).unwrap();
    // The same batches, scored elsewhere and out of order: the same numbers exactly, in order.
    assert_eq!(alone, pooled);
    assert!(alone.iter().map(|t| t.tokens.len()).sum::<usize>() > 20, "too few tokens to mean anything");
}
