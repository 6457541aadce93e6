//! Bundled models by name: `tinyeval models` lists them, and `--model NAME`
//! loads `public/models/NAME` (here checked against transformers' golden
//! log-probs of tinyhelen-1m, from scripts/make_goldens.py).

use std::path::Path;
use std::process::Command;

mod common;
use common::repo_root;

fn tinyeval(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tinyeval")).args(args).current_dir(dir).output().unwrap()
}

#[test]
fn models_lists_the_bundled_models() {
    let out = tinyeval(&["models"], &repo_root());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    for name in ["tinyhelen-1m", "tinyhelen-1m-contaminated"] {
        assert!(names.iter().any(|n| n == name), "{name} is not listed: {names:?}");
    }
}

#[test]
fn a_bundled_model_loads_by_name_from_any_folder() {
    let golden: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo_root().join("core/tests/fixtures/goldens/tinyhelen-1m.json")).unwrap()).unwrap();
    let first = &golden["texts"][1];
    let dir = std::env::temp_dir().join(format!("tinyeval-models-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in.jsonl"), serde_json::json!({ "text": first["text"] }).to_string()).unwrap();
    let out = tinyeval(&["logprobs", "--model", "tinyhelen-1m", "--input", "in.jsonl"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["tokens"], first["tokens"]);
    for (ours, want) in row["logprobs"].as_array().unwrap().iter().zip(first["logprobs"].as_array().unwrap()).skip(1) {
        assert!((ours.as_f64().unwrap() - want.as_f64().unwrap()).abs() < 1e-4, "{ours} vs {want}");
    }
}
