//! Fine-tuning against PyTorch: `scripts/make_finetune_goldens.py` runs the
//! same protocol (same weights, head, batches, AdamW, schedule and clipping)
//! in PyTorch + transformers on the llama-gqa reference model; tinyeval's
//! per-step losses must equal its within 1e-4 relative. On the native CPU
//! backend, and on native wgpu when `TINYEVAL_TEST_WGPU=1`.

mod common;

use common::repo_root;
use serde_json::Value;
use tinyeval_core::finetune::{FinetuneOptions, SplitMix64, initial_head, train_and_evaluate};
use tinyeval_core::probe::{ProbeItem, probe_task};
use tinyeval_core::{Device, LanguageModel, ModelFiles};

fn check_all(device: &Device, label: &str) {
    let golden: Value = serde_json::from_slice(&std::fs::read(repo_root().join("core/tests/fixtures/finetune_goldens.json")).unwrap()).unwrap();
    let model = LanguageModel::load(ModelFiles::from_dir(&repo_root().join(golden["model"].as_str().unwrap())).unwrap(), device).unwrap();
    let cases = golden["cases"].as_object().unwrap();
    let mut checked_steps = 0;
    for (name, case) in cases {
        let task = probe_task(case["task"].as_str().unwrap()).unwrap();
        let o = &case["options"];
        let items = |split: &str| -> Vec<ProbeItem> {
            case[split]
                .as_array()
                .unwrap()
                .iter()
                .map(|it| {
                    let item = ProbeItem { text: it["text"].as_str().unwrap().to_string(), label: it["label"].as_f64().unwrap() };
                    // transformers' token ids, cut to max_length, are tinyeval's.
                    let mut ids = model.tokenizer.encode(&item.text).unwrap();
                    ids.truncate(o["max_length"].as_u64().unwrap() as usize);
                    let theirs: Vec<u32> = it["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
                    assert_eq!(ids, theirs, "{name}: tokens of {:?}", item.text);
                    item
                })
                .collect()
        };
        let (train, validation) = (items("train"), items("validation"));
        let seed = o["seed"].as_u64().unwrap();
        let options = FinetuneOptions {
            learning_rates: vec![o["learning_rate"].as_f64().unwrap()],
            seeds: vec![seed],
            epochs: o["epochs"].as_u64().unwrap() as usize,
            batch_size: o["batch_size"].as_u64().unwrap() as usize,
            max_length: o["max_length"].as_u64().unwrap() as usize,
            weight_decay: o["weight_decay"].as_f64().unwrap(),
            warmup_ratio: o["warmup_ratio"].as_f64().unwrap(),
            max_grad_norm: o["max_grad_norm"].as_f64().unwrap(),
            head_init_std: o["head_init_std"].as_f64().unwrap(),
            limit: None,
            bootstrap: 0,
            bootstrap_seed: 0,
        };
        // The same initial head, drawn from the same generator.
        let outputs = task.num_classes.max(1);
        let head = initial_head(&mut SplitMix64::new(seed), outputs, model.config.hidden_size, options.head_init_std);
        let theirs: Vec<f32> = case["initial_head"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert_eq!(head, theirs, "{name}: initial head");

        let evals = [("validation", validation)];
        let run = pollster::block_on(train_and_evaluate(&model, task, &train, &evals, options.learning_rates[0], seed, &options, async |_, _| Ok(())))
            .unwrap();
        let steps = case["steps"].as_array().unwrap();
        assert_eq!(run.steps.len(), steps.len(), "{name}: steps");
        let mut worst: f64 = 0.0;
        for (ours, theirs) in run.steps.iter().zip(steps) {
            let (loss, lr) = (theirs["loss"].as_f64().unwrap(), theirs["lr"].as_f64().unwrap());
            assert!((ours.lr - lr).abs() <= 1e-12 * lr.abs().max(1e-12), "{name} step {}: lr {} vs {lr}", ours.step, ours.lr);
            let rel = (ours.loss - loss).abs() / loss.abs().max(1e-12);
            worst = worst.max(rel);
            assert!(rel <= 1e-4, "{name} step {}: loss {} vs PyTorch {loss} (relative {rel:.2e})", ours.step, ours.loss);
        }
        checked_steps += run.steps.len();
        let preds: Vec<f64> = case["validation_predictions"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let ours = &run.splits[0];
        let pred_diff = ours.predictions.iter().zip(&preds).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let metric_diffs: Vec<String> = ours
            .metrics
            .iter()
            .map(|m| {
                let theirs = case["validation_metrics"][m.metric.name()].as_f64().unwrap();
                let diff = (m.value - theirs).abs();
                assert!(diff <= 1e-3, "{name}: {} {} vs PyTorch {theirs}", m.metric.name(), m.value);
                format!("{} {:.4} (PyTorch {theirs:.4})", m.metric.name(), m.value)
            })
            .collect();
        eprintln!(
            "{name} ({label}): {} steps, max relative loss difference {worst:.2e}; validation predictions max |diff| {pred_diff:.2e}; {}",
            run.steps.len(),
            metric_diffs.join(", ")
        );
    }
    assert!(checked_steps >= 50, "at least 50 steps against PyTorch");
}

#[test]
fn finetuning_matches_pytorch_on_cpu() {
    check_all(&Device::flex(), "cpu");
}

#[test]
fn finetuning_matches_pytorch_on_wgpu() {
    if std::env::var("TINYEVAL_TEST_WGPU").as_deref() != Ok("1") {
        eprintln!("skipped: set TINYEVAL_TEST_WGPU=1 to run on native wgpu");
        return;
    }
    let device = Device::wgpu_options().init().expect("a wgpu adapter (apt-get install mesa-vulkan-drivers)");
    check_all(&device, "wgpu");
}
