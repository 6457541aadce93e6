//! `tinyeval run` with the suites that are not task YAML: `leaner_eval` and
//! `leaner_glue_probe` go to `tinyeval leaner-eval` and `tinyeval probe`, and
//! write into `<output_path>/<model>/leaner_eval/` and `.../leaner_glue_probe/`,
//! beside the YAML tasks' results. The numbers themselves are checked against
//! Python in core/tests/leaner_eval.rs and core/tests/probe.rs. Needs the
//! TinyHelen folder (`$TINYHELEN_DIR`, else ../shared/data/tinyhelen);
//! skipped with a message if it is absent, and failed then under CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{repo_root, require, tinyhelen_dir};

const MODEL: &str = "public/models/tinyhelen-1m";
const MODEL_DIR: &str = "public__models__tinyhelen-1m";

fn tinyhelen_present() -> bool {
    let dir = tinyhelen_dir();
    require(&dir.join("data/leaner/10M/train"), "the Leaner-Pretrain train files")
        && require(&dir.join("data/leaner/glue"), "the Leaner GLUE data")
}

fn tinyeval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinyeval")).args(args).current_dir(repo_root()).output().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-run-suites-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn run_leaner_eval_writes_results_and_samples() {
    if !tinyhelen_present() {
        return;
    }
    let out = temp_dir("leaner-eval");
    let o = tinyeval(&["run", "--model", MODEL, "--tasks", "leaner_eval", "--limit", "2", "--output_path", out.to_str().unwrap(), "--log_samples"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = out.join(MODEL_DIR).join("leaner_eval");
    let results = read_json(&dir.join("results.json"));
    let r = &results["results"]["leaner_eval"];
    for key in ["distinct_1,none", "distinct_1_stderr,none", "distinct_2,none", "repetition_4,none", "n_tokens,none"] {
        assert!(r.get(key).is_some(), "results lack `{key}`: {r}");
    }
    assert!(r["distinct_1,none"].is_number(), "{r}");
    assert_eq!(results["n-samples"]["leaner_eval"]["effective"], 2);
    assert_eq!(results["model_name"], MODEL);
    // run's --seed (default 1234) is passed on.
    assert_eq!(results["configs"]["leaner_eval"]["generation_kwargs"]["seed"], 1234);
    let samples = std::fs::read_to_string(dir.join("samples_leaner_eval.jsonl")).unwrap();
    let samples: Vec<Value> = samples.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(samples.len(), 2);
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(s["doc_id"], i);
        for key in ["doc", "arguments", "resps", "filtered_resps", "metrics"] {
            assert!(s.get(key).is_some(), "sample {i} lacks `{key}`");
        }
        assert!(s["doc"]["question"].is_string());
    }
}

#[test]
fn run_mixes_yaml_tasks_and_the_probe_in_one_output_folder() {
    if !tinyhelen_present() {
        return;
    }
    let out = temp_dir("probe");
    let o = tinyeval(&[
        "run", "--model", MODEL, "--tasks", "demo_sentiment,leaner_glue_probe", "--limit", "12", "--batch_size", "4",
        "--bootstrap_iters", "100", "--output_path", out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = out.join(MODEL_DIR);
    // The YAML task: lm-eval's results_<date>.json, without the probe in it.
    let results_file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("results_"))
        .expect("no results_<date>.json");
    let results = read_json(&results_file);
    assert!(results["results"]["demo_sentiment"]["acc,none"].is_number());
    assert_eq!(results["results"].as_object().unwrap().len(), 1, "{}", results["results"]);
    // The probe: every Leaner-GLUE task, each GLUE metric on each evaluation split.
    let probe = read_json(&dir.join("leaner_glue_probe/results.json"));
    let expected: &[(&str, &[&str])] = &[
        ("cola", &["mcc,validation", "mcc,test"]),
        ("sst2", &["acc,test"]),
        ("mrpc", &["f1,validation", "acc,test"]),
        ("qqp", &["f1,test", "acc,test"]),
        ("stsb", &["pearson,validation", "spearman,test"]),
        ("mnli", &["acc,test_matched", "acc,test_mismatched"]),
        ("qnli", &["acc,test"]),
        ("rte", &["acc,validation", "acc,test"]),
        ("wnli", &["acc,validation", "acc,test"]),
    ];
    assert_eq!(probe["results"].as_object().unwrap().len(), expected.len(), "{}", probe["results"]);
    for (task, keys) in expected {
        let r = &probe["results"][format!("leaner_glue_probe_{task}")];
        for key in *keys {
            assert!(r.get(*key).is_some(), "{task}: no `{key}` in {r}");
            let (metric, split) = key.split_once(',').unwrap();
            assert!(r.get(format!("{metric}_stderr,{split}")).is_some(), "{task}: no stderr of `{key}`");
        }
        let config = &probe["configs"][format!("leaner_glue_probe_{task}")];
        assert_eq!(config["n_train"], 12, "{task}: --limit is passed on");
        assert_eq!(config["bootstrap"]["seed"], 1234, "{task}: --seed is passed on");
    }
    assert_eq!(probe["model_name"], MODEL);
}

#[test]
fn run_suites_need_an_output_path() {
    let o = tinyeval(&["run", "--model", MODEL, "--tasks", "leaner_glue_probe_cola"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--output_path"), "{}", stderr(&o));
}
