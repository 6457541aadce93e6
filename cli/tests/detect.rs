//! `tinyeval detect` on the demo model: it runs, its outputs are well-formed and
//! consistent with each other (the numbers themselves are checked against
//! NumPy and scikit-learn in core/tests/detection.rs), and bad input is an
//! error naming the file and line.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::repo_root;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-detect-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn detect(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tinyeval"))
        .arg("detect")
        .arg("--model")
        .arg(repo_root().join("public/models/llama-2k-1m-random"))
        .arg("--data")
        .arg(data)
        .arg("--output_path")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

const DATA: &str = r#"{"input": "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.", "label": 1}
{"input": "In 2031 the Lunar Gateway hosted its first long crew rotation.", "label": 0}
{"input": "Water boils at 100 degrees Celsius at sea level.", "label": 1}

{"input": "The new stadium, opened last month, seats ninety thousand fans.", "label": 0}
{"input": "Once upon a time, there was a little girl who liked to read books.", "label": 1}
{"input": "A SHORT Text In Mixed Case, with numbers 12345.", "label": 0}
"#;

/// Mann–Whitney: the fraction of (member, non-member) pairs ranked right, ties half.
fn pairwise_auroc(scores: &[f64], labels: &[bool]) -> f64 {
    let (mut right, mut pairs) = (0.0, 0.0);
    for (i, &a) in scores.iter().enumerate() {
        for (j, &b) in scores.iter().enumerate() {
            if labels[i] && !labels[j] {
                pairs += 1.0;
                right += if a > b { 1.0 } else if a == b { 0.5 } else { 0.0 };
            }
        }
    }
    right / pairs
}

#[test]
fn detect_writes_consistent_scores_and_summary() {
    let dir = temp_dir("ok");
    let data = dir.join("wikimia.jsonl");
    std::fs::write(&data, DATA).unwrap();
    let out_dir = dir.join("out");
    let model = repo_root().join("public/models/llama-2k-1m-random");
    let out = detect(&data, &out_dir, &["--ref_model", model.to_str().unwrap(), "--batch_size", "2", "--bootstrap", "50"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("AUROC") && stderr.contains("minkpp"), "{stderr}");

    let methods = ["loss", "ppl", "zlib", "lowercase", "mink", "minkpp", "ref"];
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(out_dir.join("scores.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 6);
    let labels: Vec<bool> = rows.iter().map(|r| r["label"].as_u64().unwrap() == 1).collect();
    assert_eq!(labels, [true, false, true, false, true, false]);
    assert_eq!(rows[3]["line"], 5); // the blank line is skipped
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["index"], i);
        assert!(r["n_tokens"].as_u64().unwrap() >= 2);
        for m in methods {
            assert!(r["scores"][m].as_f64().unwrap().is_finite(), "row {i} {m}");
        }
        // The reference model is the target itself: L_ref − L = 0.
        assert_eq!(r["scores"]["ref"].as_f64().unwrap(), 0.0);
        // Orientations: loss = −L < 0, ppl = −exp(L) < −1, zlib = −L / len < 0.
        let loss = r["scores"]["loss"].as_f64().unwrap();
        assert!(loss < 0.0);
        assert!((r["scores"]["ppl"].as_f64().unwrap() + (-loss).exp()).abs() < 1e-9 * (-loss).exp());
        assert!(r["scores"]["zlib"].as_f64().unwrap() < 0.0);
        assert!(r["scores"]["mink"].as_f64().unwrap() <= loss + 1e-9, "Min-K% is at most the mean log-prob");
    }

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["n"], 6);
    assert_eq!(summary["positives"], 3);
    for m in methods {
        let s = &summary["methods"][m];
        let scores: Vec<f64> = rows.iter().map(|r| r["scores"][m].as_f64().unwrap()).collect();
        let auroc = s["auroc"].as_f64().unwrap();
        assert!((auroc - pairwise_auroc(&scores, &labels)).abs() < 1e-12, "{m}: {auroc}");
        let fpr: Vec<f64> = s["roc"]["fpr"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        let tpr: Vec<f64> = s["roc"]["tpr"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(fpr.len(), tpr.len());
        assert_eq!((fpr[0], tpr[0]), (0.0, 0.0));
        assert_eq!((*fpr.last().unwrap(), *tpr.last().unwrap()), (1.0, 1.0));
        assert!(fpr.windows(2).all(|w| w[0] <= w[1]) && tpr.windows(2).all(|w| w[0] <= w[1]));
        assert!(s["roc"]["thresholds"][0].is_null(), "the first threshold is +inf");
        for key in ["tpr_at_1_fpr", "tpr_at_5_fpr", "best_accuracy"] {
            let v = s[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{m} {key} {v}");
        }
        assert!(s["best_accuracy"].as_f64().unwrap() >= 0.5);
        let ci = &s["auroc_ci95"];
        assert!(ci["low"].as_f64().unwrap() <= ci["high"].as_f64().unwrap());
    }
    assert_eq!(summary["methods"]["ref"]["auroc"], 0.5, "all-equal scores");
}

#[test]
fn detect_without_labels_writes_scores_only() {
    let dir = temp_dir("nolabels");
    let data = dir.join("texts.jsonl");
    std::fs::write(&data, "{\"input\": \"Hello there, general reader.\"}\n{\"input\": \"The cat sat on the mat.\"}\n").unwrap();
    let out_dir = dir.join("out");
    let out = detect(&data, &out_dir, &["--methods", "loss,mink", "--k", "0.5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(out_dir.join("scores.jsonl")).unwrap();
    let row: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(row["label"].is_null());
    assert_eq!(row["scores"].as_object().unwrap().len(), 2);
    assert!(!out_dir.join("summary.json").exists());
}

#[test]
fn detect_errors_name_the_file_and_line() {
    let dir = temp_dir("bad");
    let cases = [
        ("{\"input\": \"fine text here\", \"label\": 1}\n{\"sentence\": \"x\"}\n", ": line 2: no `input`"),
        ("{\"input\": \"fine text here\", \"label\": 2}\n", ": line 1: `label` is 2"),
        ("not json\n", ": line 1: not valid JSON"),
        ("{\"input\": \"a b c\", \"label\": 1}\n{\"input\": \"d e f\"}\n", ": line 2: no `label`"),
    ];
    for (i, (content, expected)) in cases.iter().enumerate() {
        let data = dir.join(format!("bad{i}.jsonl"));
        std::fs::write(&data, content).unwrap();
        let out = detect(&data, &dir.join("out"), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(&format!("bad{i}.jsonl{expected}")), "{stderr}");
    }
    let data = dir.join("ok.jsonl");
    std::fs::write(&data, "{\"input\": \"a b c\"}\n").unwrap();
    let out = detect(&data, &dir.join("out"), &["--methods", "ref"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --ref_model"));
    let out = detect(&data, &dir.join("out"), &["--k", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--k"));
}
