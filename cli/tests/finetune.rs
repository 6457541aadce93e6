//! `tinyeval finetune` and `tinyeval run --tasks leaner_glue_finetune_TASK`:
//! the files' shape, and that the reported numbers are those of the written
//! predictions and loss log (recomputed here, not hard-coded). That the
//! training itself equals PyTorch's is core/tests/finetune.rs. Needs the
//! TinyHelen folder (`$TINYHELEN_DIR`, else ../shared/data/tinyhelen);
//! skipped with a message if it is absent, and failed then under CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tinyeval_core::probe::{metric_value, probe_task};

mod common;
use common::{repo_root, require, tinyhelen_dir};

const MODEL: &str = "public/models/tinyhelen-1m";

fn tinyeval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinyeval")).args(args).current_dir(repo_root()).output().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-finetune-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn finetune_writes_results_losses_and_predictions_that_agree() {
    if !require(&tinyhelen_dir().join("data/leaner/glue"), "the Leaner GLUE data") {
        return;
    }
    let out = temp_dir("cli");
    let o = tinyeval(&[
        "finetune", "--model", MODEL, "--tasks", "rte,stsb", "--limit", "16", "--epochs", "1", "--batch_size", "8",
        "--learning_rates", "1e-3,3e-4", "--bootstrap", "50", "--output_path", out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let results = read_json(&out.join("results.json"));
    let losses = read_jsonl(&out.join("losses.jsonl"));
    let predictions = read_jsonl(&out.join("predictions.jsonl"));
    for name in ["rte", "stsb"] {
        let task = probe_task(name).unwrap();
        let key = format!("leaner_glue_finetune_{name}");
        let r = &results["results"][&key];
        let config = &results["configs"][&key];
        let grid = config["grid"].as_array().unwrap();
        assert_eq!(grid.len(), 2, "{config}");
        // 16 items in batches of 8, one epoch: 2 steps per grid point, each logged.
        let lines: Vec<&Value> = losses.iter().filter(|l| l["task"] == key.as_str()).collect();
        assert_eq!(lines.len(), 4);
        for g in grid {
            let mine: Vec<&&Value> = lines.iter().filter(|l| l["learning_rate"] == g["learning_rate"]).collect();
            assert_eq!(mine.iter().map(|l| l["step"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
            assert_eq!(mine[0]["lr"], 0.0, "warm-up starts at 0");
            assert_eq!(g["final_loss"], mine[1]["loss"], "the grid's final loss is the log's last");
            assert!(mine.iter().all(|l| l["loss"].as_f64().unwrap().is_finite()));
        }
        // The chosen point has the best validation score, and it is the one reported.
        let best = grid.iter().map(|g| g["selection_score"].as_f64().unwrap()).fold(f64::MIN, f64::max);
        let chosen = grid.iter().find(|g| g["learning_rate"] == config["chosen"]["learning_rate"]).unwrap();
        assert_eq!(chosen["selection_score"].as_f64().unwrap(), best);
        let first = task.metrics[0].name();
        assert_eq!(r[format!("{first},validation")].as_f64().unwrap(), best);
        // Every reported metric is the one of the written predictions.
        for split in ["validation", "test"] {
            let rows: Vec<&Value> = predictions.iter().filter(|p| p["task"] == key.as_str() && p["split"] == split).collect();
            assert_eq!(rows.len(), 16);
            assert_eq!(r[format!("n,{split}")], 16);
            let gold: Vec<f64> = rows.iter().map(|p| p["label"].as_f64().unwrap()).collect();
            let pred: Vec<f64> = rows.iter().map(|p| p["prediction"].as_f64().unwrap()).collect();
            for &metric in task.metrics {
                let reported = r[format!("{},{split}", metric.name())].as_f64().unwrap();
                let recomputed = metric_value(metric, &gold, &pred);
                assert!((reported - recomputed).abs() < 1e-12, "{key} {split} {}: {reported} vs {recomputed}", metric.name());
                assert!(r.get(format!("{}_stderr,{split}", metric.name())).is_some());
                let ci = &r[format!("{}_ci95,{split}", metric.name())];
                assert!(ci.is_null() || ci["low"].as_f64().unwrap() <= ci["high"].as_f64().unwrap(), "{ci}");
            }
        }
    }
}

#[test]
fn run_reaches_finetune_through_the_run_plan() {
    if !require(&tinyhelen_dir().join("data/leaner/glue"), "the Leaner GLUE data") {
        return;
    }
    let out = temp_dir("run");
    let o = tinyeval(&["run", "--model", MODEL, "--tasks", "leaner_glue_finetune_wnli", "--limit", "8", "--seed", "3", "--output_path", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("public__models__tinyhelen-1m").join("leaner_glue_finetune");
    let results = read_json(&dir.join("results.json"));
    let r = &results["results"]["leaner_glue_finetune_wnli"];
    assert!(r["acc,validation"].is_number() && r["acc,test"].is_number(), "{r}");
    let config = &results["configs"]["leaner_glue_finetune_wnli"];
    assert_eq!(config["chosen"]["seed"], 3, "run's --seed is the grid's seed");
    assert!(!read_jsonl(&dir.join("losses.jsonl")).is_empty());
}
