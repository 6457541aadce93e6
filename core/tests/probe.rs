//! The linear probe against transformers' hidden states and scikit-learn:
//! goldens written by `scripts/make_probe_goldens.py` (Leaner-GLUE CoLA, MRPC,
//! STS-B and MNLI slices, on the model the golden names). Features are
//! computed here in padded batches of 16, the script's one text at a time, so
//! the padding mask is checked too. Skipped, with a message, only if the
//! TinyHelen folder is absent (`$TINYHELEN_DIR`, else ../shared/data/tinyhelen),
//! and failed then under CI.

use serde_json::Value;
use tinyeval_core::probe::{Probe, metric_value, probe_task};
use tinyeval_core::{Device, LanguageModel};

mod common;
use common::{repo_root, require, tinyhelen_dir};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn probe_equals_sklearn_on_transformers_features() {
    let glue = tinyhelen_dir().join("data/leaner/glue");
    if !require(&glue, "the Leaner GLUE data") {
        return;
    }
    let path = repo_root().join("core/tests/fixtures/analysis/probe_goldens.json");
    let golden: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let device = Device::flex();
    let model = LanguageModel::load_path(&repo_root().join(golden["model"].as_str().unwrap()), &device).unwrap();
    for case in golden["cases"].as_array().unwrap() {
        let name = case["task"].as_str().unwrap();
        let task = probe_task(name).unwrap();
        let slice = |split: &str, n: usize| {
            let file = glue.join(format!("{name}_{split}.jsonl"));
            let items = task.parse_items(&file.display().to_string(), &std::fs::read(&file).unwrap()).unwrap();
            // The script's stride: rows[::max(1, len // n)][:n].
            let step = (items.len() / n).max(1);
            items.into_iter().step_by(step).take(n).collect::<Vec<_>>()
        };
        let train = slice(case["train_split"].as_str().unwrap(), case["n_train"].as_u64().unwrap() as usize);
        let eval = slice(case["eval_split"].as_str().unwrap(), case["n_eval"].as_u64().unwrap() as usize);
        let texts = |items: &[tinyeval_core::probe::ProbeItem]| items.iter().map(|i| i.text.clone()).collect::<Vec<_>>();
        let ft = pollster::block_on(tinyeval_core::probe::features(&model, &texts(&train), 16)).unwrap();
        let fe = pollster::block_on(tinyeval_core::probe::features(&model, &texts(&eval), 16)).unwrap();
        for (ours, want) in ft.iter().zip(case["train_features_head"].as_array().unwrap()) {
            let d = max_diff(ours, &floats(want));
            assert!(d <= 1e-4, "{name}: features differ by {d}");
        }
        let labels: Vec<f64> = train.iter().map(|i| i.label).collect();
        let probe = Probe::fit(task, &ft, &labels).unwrap();

        let coef: Vec<f64> = probe.model.coef.iter().flatten().copied().collect();
        let want_coef: Vec<f64> = case["coef"].as_array().unwrap().iter().flat_map(floats).collect();
        let scale = want_coef.iter().map(|c| c.abs()).fold(1.0, f64::max);
        let d = max_diff(&coef, &want_coef);
        assert!(d <= 1e-3 * scale, "{name}: coefficients differ by {d} (largest {scale})");
        let d = max_diff(&probe.model.intercept, &floats(&case["intercept"]));
        assert!(d <= 1e-3 * scale, "{name}: intercepts differ by {d}");

        let proba = probe.predict_proba(&fe);
        let want_proba = case["eval_proba"].as_array().unwrap();
        for (p, w) in proba.iter().zip(want_proba) {
            let d = max_diff(p, &floats(w));
            assert!(d <= 1e-4, "{name}: probabilities/values differ by {d}");
        }
        let pred = probe.predict(&fe);
        let want_pred = floats(&case["eval_pred"]);
        if task.num_classes > 0 {
            assert_eq!(pred, want_pred, "{name}: predictions");
        }
        let gold: Vec<f64> = eval.iter().map(|i| i.label).collect();
        for (metric_name, want) in case["metrics"].as_object().unwrap() {
            let metric = *task.metrics.iter().find(|m| m.name() == metric_name).unwrap();
            let ours = metric_value(metric, &gold, &pred);
            let want = want.as_f64().unwrap();
            let tol = if task.num_classes > 0 { 1e-12 } else { 1e-6 };
            assert!((ours - want).abs() <= tol, "{name}: {metric_name} {ours} vs sklearn/scipy {want}");
        }
        eprintln!("{name}: {} L-BFGS iterations", probe.model.iterations);
    }
}
