//! `tinyeval run` and `tinyeval export-lm-eval` as a user runs them: the output
//! files in lm-eval-harness's layout, and clear errors naming the file and
//! line for bad task data. Uses the demo benchmark (public/tasks/demo), which
//! is part of the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{repo_root, require, tinyhelen_dir};

fn tinyeval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinyeval")).args(args).current_dir(repo_root()).output().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-run-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_writes_lm_eval_results_and_samples() {
    let out = temp_dir("out");
    let o = tinyeval(&[
        "run", "--model", "public/models/llama-2k-1m-random", "--tasks", "demo_sentiment,demo_yesno",
        "--limit", "6", "--num_fewshot", "1", "--batch_size", "4", "--bootstrap_iters", "1000",
        "--output_path", out.to_str().unwrap(), "--log_samples",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // lm-eval: <output_path>/<sanitized model name>/results_<date>.json and samples_<task>_<date>.jsonl.
    let dir = out.join("public__models__llama-2k-1m-random");
    let mut files: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    let results_file = files.iter().find(|f| f.starts_with("results_") && f.ends_with(".json")).unwrap();
    let date = &results_file["results_".len()..results_file.len() - ".json".len()];
    for task in ["demo_sentiment", "demo_yesno"] {
        assert!(files.contains(&format!("samples_{task}_{date}.jsonl")), "{files:?}");
    }
    let results: Value = serde_json::from_slice(&std::fs::read(dir.join(results_file)).unwrap()).unwrap();
    for key in ["results", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better", "n-samples", "config", "confidence_intervals"] {
        assert!(results.get(key).is_some(), "results file lacks `{key}`");
    }
    for task in ["demo_sentiment", "demo_yesno"] {
        let r = &results["results"][task];
        assert_eq!(r["alias"], task);
        assert_eq!(r["sample_len"], 6);
        for key in ["acc,none", "acc_stderr,none", "acc_norm,none", "acc_norm_stderr,none"] {
            assert!(r[key].is_number(), "{task}: {key} = {}", r[key]);
        }
        let acc = r["acc,none"].as_f64().unwrap();
        let ci = &results["confidence_intervals"][task]["acc,none"];
        assert!(ci["low"].as_f64().unwrap() <= acc && acc <= ci["high"].as_f64().unwrap(), "{ci}");
        assert_eq!(results["n-shot"][task], 1);
        assert_eq!(results["n-samples"][task]["effective"], 6);
        assert_eq!(results["higher_is_better"][task]["acc"], true);
        assert_eq!(results["configs"][task]["task"], task);
        // Data paths are written resolved, as lm-eval would read them.
        let files = results["configs"][task]["dataset_kwargs"]["data_files"]["test"].as_str().unwrap();
        assert!(Path::new(files).is_absolute() && Path::new(files).is_file(), "{files}");

        let text = std::fs::read_to_string(dir.join(format!("samples_{task}_{date}.jsonl"))).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 6);
        for (i, s) in lines.iter().enumerate() {
            assert_eq!(s["doc_id"], i);
            for key in ["doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash", "prompt_hash", "target_hash", "acc", "acc_norm"] {
                assert!(s.get(key).is_some(), "{task} sample {i} lacks `{key}`");
            }
            assert!(s["target"].is_string(), "lm-eval writes str(target)");
            let args = s["arguments"].as_object().unwrap();
            assert_eq!(args.len(), 2, "one request per choice");
            assert!(args["gen_args_0"]["arg_0"].as_str().unwrap().ends_with("Answer:"));
            let resp = &s["resps"][0][0];
            assert!(resp[0].as_f64().unwrap() < 0.0 && resp[1].is_boolean(), "{resp}");
            assert_eq!(s["filtered_resps"][0], *resp);
            assert_eq!(s["filter"], "none");
        }
    }
}

#[test]
fn export_writes_yaml_with_absolute_data_paths() {
    let out = temp_dir("export");
    let o = tinyeval(&["export-lm-eval", "--tasks", "demo_sentiment", "--output_path", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // YAML in its JSON form (every string quoted, as PyYAML needs for `no`/`yes`).
    let yaml: Value = serde_json::from_slice(&std::fs::read(out.join("demo_sentiment.yaml")).unwrap()).unwrap();
    assert_eq!(yaml["task"], "demo_sentiment");
    assert_eq!(yaml["doc_to_choice"], serde_json::json!(["negative", "positive"]));
    let test_file = yaml["dataset_kwargs"]["data_files"]["test"].as_str().unwrap();
    assert!(Path::new(test_file).is_absolute(), "{test_file}");
    assert_eq!(
        std::fs::canonicalize(test_file).unwrap(),
        std::fs::canonicalize(repo_root().join("public/tasks/demo/demo_sentiment_test.jsonl")).unwrap()
    );
}

/// A user task on the demo data layout, with a given data file.
fn user_task(dir: &Path, data: &[u8]) -> PathBuf {
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    let data_path = dir.join("data.jsonl");
    std::fs::write(&data_path, data).unwrap();
    std::fs::write(
        tasks.join("mine.yaml"),
        format!(
            "task: mine\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {}\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{{{sentence}}}}\\nAnswer:\"\ndoc_to_target: label\ndoc_to_choice: [\"no\", \"yes\"]\n",
            data_path.display()
        ),
    )
    .unwrap();
    tasks
}

#[test]
fn bad_task_data_names_file_and_line() {
    let good = "{\"sentence\": \"a\", \"label\": 0}\n";
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("missing", format!("{good}{{\"label\": 1}}\n").into_bytes(), "line 2"),
        ("label", format!("{good}{good}{{\"sentence\": \"b\", \"label\": \"maybe\"}}\n").into_bytes(), "line 3"),
        ("empty", Vec::new(), "empty"),
        ("utf8", [good.as_bytes(), b"{\"sentence\": \"\xff\", \"label\": 0}\n"].concat(), "UTF-8"),
        ("json", format!("{good}{{\"sentence\": \"b\", \"label\": 1\n").into_bytes(), "line 2"),
    ];
    for (name, data, what) in cases {
        let dir = temp_dir(name);
        let tasks = user_task(&dir, &data);
        let o = tinyeval(&[
            "run", "--model", "public/models/llama-2k-1m-random", "--tasks", "mine", "--include_path", tasks.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "{name}: should fail");
        let e = stderr(&o);
        assert!(e.contains("data.jsonl") && e.contains(what), "{name}: {e}");
    }
}

#[test]
fn unsupported_yaml_key_is_named() {
    let dir = temp_dir("key");
    let tasks = user_task(&dir, b"{\"sentence\": \"a\", \"label\": 0}\n");
    let path = tasks.join("mine.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap() + "process_results: !function utils.process\n";
    std::fs::write(&path, yaml).unwrap();
    let o = tinyeval(&["run", "--model", "public/models/llama-2k-1m-random", "--tasks", "mine", "--include_path", tasks.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("mine.yaml") && e.contains("process_results") && e.contains("!function"), "{e}");
    // A key tinyeval does not know, plainly.
    let yaml = std::fs::read_to_string(&path).unwrap().replace("process_results: !function utils.process\n", "doc_to_image: img\n");
    std::fs::write(&path, yaml).unwrap();
    let o = tinyeval(&["run", "--model", "public/models/llama-2k-1m-random", "--tasks", "mine", "--include_path", tasks.to_str().unwrap()]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("mine.yaml") && e.contains("doc_to_image"), "{e}");
}

/// Groups in lm-eval's layout: `groups`, `group_subtasks`, and the group's
/// aggregate as lm-eval's `Group.aggregate` (here the unweighted mean over the
/// subtasks, `weight_by_size: false`). Needs the TinyHelen folder.
#[test]
fn groups_in_lm_eval_layout() {
    if !require(&tinyhelen_dir(), "the TinyHelen folder") {
        return;
    }
    let out = temp_dir("groups");
    let results_path = out.join("r.json");
    let o = tinyeval(&[
        "run", "--model", "public/models/llama-2k-1m-random", "--tasks", "leaner_glue,leaner_pretrain_ppl",
        "--limit", "2", "--bootstrap_iters", "100", "--output_path", results_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&std::fs::read(&results_path).unwrap()).unwrap();
    let subtasks = r["group_subtasks"]["leaner_glue"].as_array().unwrap();
    assert_eq!(subtasks.len(), 9);
    assert_eq!(r["group_subtasks"]["leaner_pretrain_ppl"].as_array().unwrap().len(), 7);
    for (group, metric) in [("leaner_glue", "acc,none"), ("leaner_pretrain_ppl", "bits_per_byte,none")] {
        let g = &r["groups"][group];
        assert_eq!(r["results"][group], *g);
        let members = r["group_subtasks"][group].as_array().unwrap();
        let values: Vec<f64> = members.iter().map(|t| r["results"][t.as_str().unwrap()][metric].as_f64().unwrap()).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((g[metric].as_f64().unwrap() - mean).abs() < 1e-12, "{group}: {metric}");
        let sizes: u64 = members.iter().map(|t| r["results"][t.as_str().unwrap()]["sample_len"].as_u64().unwrap()).sum();
        assert_eq!(g["sample_len"], sizes);
        // A pooled stderr when every member has one, else "N/A" (a 1-doc task has none).
        let se_key = metric.replace(',', "_stderr,");
        let all = members.iter().all(|t| r["results"][t.as_str().unwrap()][&se_key].is_number());
        assert_eq!(g[&se_key].is_number(), all, "{group}: {}", g[&se_key]);
    }
    assert_eq!(r["versions"]["leaner_glue"], "1.0");
    assert_eq!(r["higher_is_better"]["leaner_pretrain_ppl"]["bits_per_byte"], false);
}
