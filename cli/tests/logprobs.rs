//! `tinyeval logprobs` as a user runs it: numbers equal to transformers' on the
//! demo model, and clear errors naming the file and line for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::repo_root;

fn demo_model() -> PathBuf {
    repo_root().join("public/models/llama-2k-1m-random")
}

fn logprobs(input: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tinyeval"))
        .args(["logprobs", "--model"])
        .arg(demo_model())
        .arg("--input")
        .arg(input)
        .args(extra)
        .output()
        .unwrap()
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn logprobs_match_transformers_for_any_batch_size() {
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("core/tests/fixtures/goldens/llama-2k-1m-random.json")).unwrap(),
    )
    .unwrap();
    let texts = golden["texts"].as_array().unwrap();
    let input: String = texts.iter().map(|t| format!("{}\n", serde_json::json!({"text": t["text"]}))).collect();
    let path = write_temp("texts.jsonl", input.as_bytes());
    for batch_size in ["1", "3"] {
        let out = logprobs(&path, &["--batch_size", batch_size]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), texts.len());
        for (ours, theirs) in lines.iter().zip(texts) {
            assert_eq!(ours["text"], theirs["text"]);
            assert_eq!(ours["tokens"], theirs["tokens"], "tokens of {}", theirs["text"]);
            assert_eq!(ours["token_strs"], theirs["token_strs"]);
            for field in ["logprobs", "mean", "var"] {
                let (a, b) = (ours[field].as_array().unwrap(), theirs[field].as_array().unwrap());
                assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(b) {
                    match (x.as_f64(), y.as_f64()) {
                        (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-4, "{field}: {x} vs {y} ({})", theirs["text"]),
                        _ => assert!(x.is_null() && y.is_null(), "{field}: {x} vs {y}"),
                    }
                }
            }
        }
    }
}

#[test]
fn bad_input_names_the_file_and_line() {
    let cases: [(&str, &[u8], &str); 5] = [
        ("broken.jsonl", b"{\"text\": \"fine\"}\n{\"text\": oops}\n", "broken.jsonl:2: not valid JSON"),
        ("missing.jsonl", b"{\"txt\": \"no text field\"}\n", "missing.jsonl:1: no `text` field"),
        ("number.jsonl", b"{\"text\": 3}\n", "number.jsonl:1: field `text` is not a string"),
        ("latin1.jsonl", b"{\"text\": \"caf\xe9\"}\n", "latin1.jsonl:1: not valid UTF-8"),
        ("empty.jsonl", b"", "empty.jsonl: no texts"),
    ];
    for (name, bytes, expected) in cases {
        let out = logprobs(&write_temp(name, bytes), &[]);
        assert!(!out.status.success(), "{name} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{name}: stderr was {stderr}");
    }
}

#[test]
fn a_broken_model_folder_is_named() {
    let dir = std::env::temp_dir().join(format!("tinyeval-cli-badmodel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), b"{\"model_type\": \"mamba\"}").unwrap();
    std::fs::copy(demo_model().join("tokenizer.json"), dir.join("tokenizer.json")).unwrap();
    std::fs::write(dir.join("model.safetensors"), b"not safetensors").unwrap();
    let input = write_temp("one.jsonl", b"{\"text\": \"hello\"}\n");
    let out = Command::new(env!("CARGO_BIN_EXE_tinyeval"))
        .args(["logprobs", "--model"])
        .arg(&dir)
        .arg("--input")
        .arg(&input)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config.json") && stderr.contains("mamba"), "stderr was {stderr}");
}
