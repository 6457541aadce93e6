//! `tinyeval contamination`, `overlap` and `probe` on the demo model and the
//! demo benchmark: they run, their outputs agree with each other and with the
//! core functions checked against lm-eval / scikit-learn / NumPy in
//! core/tests (overlap.rs, probe.rs, detection.rs), and bad input names the
//! file and line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tinyeval_core::statistics::auroc;

mod common;
use common::{repo_root, require, tinyhelen_dir};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-contamination-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tinyeval(args: &[&str], extra: &[&Path]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tinyeval"));
    c.current_dir(repo_root()).args(args);
    for p in extra {
        c.arg(p);
    }
    c.output().unwrap()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const MODEL: &str = "public/models/llama-2k-1m-random";

#[test]
fn contamination_report_ranks_items_and_scores_the_manifest() {
    let dir = temp_dir("report");
    let manifest = dir.join("membership.jsonl");
    let rows: Vec<String> = (0..12).map(|i| format!("{{\"task\": \"demo_yesno\", \"split\": \"test\", \"idx\": {i}, \"member\": {}}}", (i % 3 == 0) as u8)).collect();
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();
    let out = dir.join("out");
    let o = tinyeval(&["contamination", "--model", MODEL, "--tasks", "demo_yesno", "--limit", "12", "--bootstrap", "50", "--manifest"], &[&manifest, Path::new("--output_path"), &out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let items = jsonl(&out.join("contamination_demo_yesno.jsonl"));
    assert_eq!(items.len(), 12);
    let minkpp: Vec<f64> = items.iter().map(|r| r["scores"]["minkpp"].as_f64().unwrap()).collect();
    assert!(minkpp.windows(2).all(|w| w[0] >= w[1]), "not most suspicious first: {minkpp:?}");
    let docs: Vec<Value> = std::fs::read_to_string(repo_root().join("public/tasks/demo/demo_yesno_test.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in &items {
        let idx = r["idx"].as_i64().unwrap();
        assert_eq!(r["member"].as_i64().unwrap(), (idx % 3 == 0) as i64);
        // Zero-shot prompt (demo_yesno.yaml's doc_to_text) + " " + gold choice.
        let doc = &docs[r["doc_id"].as_u64().unwrap() as usize];
        let gold = ["no", "yes"][doc["label"].as_u64().unwrap() as usize];
        let want = format!("{}\nQuestion: {}\nAnswer: {gold}", doc["sentence1"].as_str().unwrap(), doc["sentence2"].as_str().unwrap());
        assert_eq!(r["text"].as_str().unwrap(), want);
    }

    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("contamination_summary.json")).unwrap()).unwrap();
    let task = &summary["tasks"]["demo_yesno"];
    assert_eq!(task["n_in_manifest"], 12);
    let labels: Vec<bool> = items.iter().map(|r| r["member"] == 1).collect();
    for method in ["loss", "zlib", "lowercase", "mink", "minkpp"] {
        let scores: Vec<f64> = items.iter().map(|r| r["scores"][method].as_f64().unwrap()).collect();
        assert_eq!(task["methods"][method]["auroc"].as_f64().unwrap(), auroc(&scores, &labels).unwrap(), "{method}");
    }
}

#[test]
fn bad_manifest_line_is_named() {
    let dir = temp_dir("bad-manifest");
    let manifest = dir.join("m.jsonl");
    std::fs::write(&manifest, "{\"task\": \"demo_yesno\", \"split\": \"test\", \"idx\": 0, \"member\": 1}\n{\"task\": \"demo_yesno\", \"split\": \"test\", \"idx\": 1, \"member\": 2}\n").unwrap();
    let o = tinyeval(&["contamination", "--model", MODEL, "--tasks", "demo_yesno", "--manifest"], &[&manifest, Path::new("--output_path"), &dir.join("out")]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("m.jsonl") && e.contains("line 2") && e.contains("member"), "{e}");
}

#[test]
fn overlap_finds_an_item_hidden_in_a_corpus() {
    let dir = temp_dir("overlap");
    let docs: Vec<Value> = std::fs::read_to_string(repo_root().join("public/tasks/demo/demo_yesno_test.jsonl"))
        .unwrap()
        .lines()
        .take(30)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Item 7's rendered text, shouted and re-punctuated inside a longer document,
    // then the same text cut across two documents (n-grams never span documents).
    let report_dir = dir.join("report");
    let o = tinyeval(&["contamination", "--model", MODEL, "--tasks", "demo_yesno", "--limit", "30", "--bootstrap", "0", "--output_path"], &[&report_dir]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let items = jsonl(&report_dir.join("contamination_demo_yesno.jsonl"));
    let text_of = |doc_id: u64| items.iter().find(|r| r["doc_id"] == doc_id).unwrap()["text"].as_str().unwrap().to_string();
    let hidden = text_of(7).to_uppercase().replace('\n', " ... ");
    let split = text_of(8);
    let words: Vec<&str> = split.split_whitespace().collect();
    let corpus = dir.join("corpus.jsonl");
    // Item 8 cut into documents of 12 words: every piece is shorter than a 13-gram.
    let lines: Vec<serde_json::Value> = std::iter::once(serde_json::json!({"text": format!("Some story first. {hidden} And then more.")}))
        .chain(words.chunks(12).map(|piece| serde_json::json!({"text": piece.join(" ")})))
        .collect();
    std::fs::write(&corpus, lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let out = dir.join("out");
    let o = tinyeval(&["overlap", "--tasks", "demo_yesno", "--limit", "30", "--corpus"], &[&corpus, Path::new("--output_path"), &out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = jsonl(&out.join("overlap_demo_yesno.jsonl"));
    assert_eq!(rows.len(), docs.len());
    let overlapping: Vec<u64> = rows.iter().filter(|r| r["shared_ngrams"].as_u64().unwrap() > 0).map(|r| r["doc_id"].as_u64().unwrap()).collect();
    // Item 7, and any item whose text is the same as item 7's.
    assert!(overlapping.contains(&7), "{overlapping:?}");
    for id in &overlapping {
        assert_eq!(text_of(*id).to_lowercase(), text_of(7).to_lowercase(), "item {id} should not overlap");
    }
    let seven = rows.iter().find(|r| r["doc_id"] == 7).unwrap();
    assert_eq!(seven["fraction"], 1.0);
    assert_eq!(seven["shared"][0]["first_document"], 0);
}

#[test]
fn probe_cli_reports_each_split() {
    if !require(&tinyhelen_dir().join("data/leaner/glue"), "the Leaner GLUE data") {
        return;
    }
    let dir = temp_dir("probe");
    let out = dir.join("out");
    let o = tinyeval(&["probe", "--model", MODEL, "--tasks", "wnli,stsb", "--limit", "60", "--bootstrap", "100", "--output_path"], &[&out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    for split in ["validation", "test"] {
        let wnli = &r["results"]["leaner_glue_probe_wnli"];
        let acc = wnli[format!("acc,{split}")].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        let ci = &wnli[format!("acc_ci95,{split}")];
        assert!(ci["low"].as_f64().unwrap() <= acc && acc <= ci["high"].as_f64().unwrap());
        // Evenly spaced items: STS-B's files are sorted by score, so the first 60 would all be 5.0.
        assert!(r["results"]["leaner_glue_probe_stsb"][format!("spearman,{split}")].is_number());
    }
    assert_eq!(r["configs"]["leaner_glue_probe_wnli"]["n_train"], 60);
}

/// A manifest with exposure counts: the summary's dose response gives each
/// count's AUROC against the held-out items, equal to the AUROC of those rows'
/// scores; ReCaLL with shots from the set leaves them out; the blind baseline and
/// the k sweep are reported beside the methods.
#[test]
fn contamination_reports_the_dose_response_recall_and_the_blind_baseline() {
    let dir = temp_dir("dose");
    let manifest = dir.join("membership.jsonl");
    let count = |i: usize| [0, 0, 1, 4][i % 4];
    let rows: Vec<String> = (0..24)
        .map(|i| format!("{{\"task\": \"demo_yesno\", \"split\": \"test\", \"idx\": {i}, \"member\": {}, \"count\": {}}}", (count(i) > 0) as u8, count(i)))
        .collect();
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();
    let out = dir.join("out");
    let o = tinyeval(
        &["contamination", "--model", MODEL, "--tasks", "demo_yesno", "--bootstrap", "0", "--methods", "loss,mink,minkpp,recall", "--recall_shots", "2", "--manifest"],
        &[&manifest, Path::new("--output_path"), &out],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("AUROC per exposure count"), "{stderr}");
    let items = jsonl(&out.join("contamination_demo_yesno.jsonl"));
    assert_eq!(items.len(), 22, "two non-members are ReCaLL's prefix");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("contamination_summary.json")).unwrap()).unwrap();
    let task = &summary["tasks"]["demo_yesno"];
    assert_eq!(task["recall_prefix"]["items"], serde_json::json!(["test/0", "test/1"]));
    let dose = task["dose_response"].as_array().unwrap();
    assert_eq!(dose.iter().map(|d| d["count"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 4]);
    for d in dose {
        let c = d["count"].as_u64().unwrap();
        let subset: Vec<&Value> = items.iter().filter(|r| [0, c].contains(&r["count"].as_u64().unwrap())).collect();
        let labels: Vec<bool> = subset.iter().map(|r| r["count"].as_u64().unwrap() == c).collect();
        for pair in d["aurocs"].as_array().unwrap() {
            let method = pair[0].as_str().unwrap();
            let scores: Vec<f64> = subset.iter().map(|r| r["scores"][method].as_f64().unwrap()).collect();
            assert_eq!(pair[1].as_f64().unwrap(), auroc(&scores, &labels).unwrap(), "{method} at {c}x");
        }
    }
    let blind = &task["blind_baseline"]["metrics"];
    let labels: Vec<bool> = items.iter().map(|r| r["member"] == 1).collect();
    let blind_scores: Vec<f64> = items.iter().map(|r| r["blind"].as_f64().unwrap()).collect();
    assert_eq!(blind["auroc"].as_f64().unwrap(), auroc(&blind_scores, &labels).unwrap());
    assert_eq!(task["k_sweep"].as_array().unwrap().len(), 2);
}
