//! Leaner-Eval's judge-free metrics against `scripts/make_leaner_eval_goldens.py`
//! (Python's re, the tokenizers library and NumPy), on a made-up vocabulary
//! and on the Leaner vocabulary of the Leaner-Pretrain train files (in the
//! TinyHelen folder: `$TINYHELEN_DIR`, else `../shared/data/tinyhelen`; if
//! absent, skipped with a message, or failed under CI).

use std::collections::BTreeMap;

use serde_json::Value;
use tinyeval_core::leaner_eval::{Vocabulary, aggregate, prompt, response_metrics, words};
use tinyeval_core::tokenizer::TextTokenizer;

mod common;
use common::{repo_root, require, tinyhelen_dir};

fn golden() -> Value {
    let path = repo_root().join("core/tests/fixtures/analysis/leaner_eval_goldens.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn tokenizer() -> TextTokenizer {
    let dir = repo_root().join("public/models/llama-2k-1m-random");
    TextTokenizer::from_bytes(
        "tokenizer.json",
        &std::fs::read(dir.join("tokenizer.json")).unwrap(),
        std::fs::read(dir.join("tokenizer_config.json")).ok().as_deref(),
    )
    .unwrap()
}

fn close(ours: Option<f64>, want: &Value, what: &str) {
    match (ours, want.as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-12, "{what}: {a} vs {b}"),
        (a, _) => panic!("{what}: {a:?} vs {want}"),
    }
}

fn check_metrics(vocab: &Vocabulary, tok: &TextTokenizer, responses: &[String], want: &[Value], label: &str) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut columns: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for (r, w) in responses.iter().zip(want) {
        let ids = tok.encode_plain(r, false).unwrap();
        let m = response_metrics(r, &ids, vocab);
        for (name, value) in m.named() {
            close(value, &w[name], &format!("{label}: {name} of {r:?}"));
            columns.entry(name.to_string()).or_default().push(value);
        }
    }
    columns
}

#[test]
fn metrics_equal_python_on_a_small_vocabulary() {
    let g = golden();
    let tok = tokenizer();
    let responses: Vec<String> = g["responses"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    for (r, w) in responses.iter().zip(g["words"].as_array().unwrap()) {
        assert_eq!(serde_json::to_value(words(r)).unwrap(), *w, "words of {r:?}");
    }
    let docs: Vec<&str> = g["vocab_docs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let vocab = Vocabulary::from_documents(docs, Some(&tok)).unwrap();
    assert_eq!(vocab.words.len() as u64, g["small"]["vocab_words"].as_u64().unwrap());
    assert_eq!(vocab.tokens.len() as u64, g["small"]["vocab_tokens"].as_u64().unwrap());
    let columns = check_metrics(&vocab, &tok, &responses, g["small"]["metrics"].as_array().unwrap(), "small");
    let agg = aggregate(&columns);
    for (name, want) in g["small"]["aggregate"].as_object().unwrap() {
        let a = &agg[name];
        close(Some(a.mean), &want["mean"], &format!("mean of {name}"));
        close(a.stderr, &want["stderr"], &format!("stderr of {name}"));
        assert_eq!(a.n as u64, want["n"].as_u64().unwrap(), "n of {name}");
    }
}

#[test]
fn metrics_equal_python_on_the_leaner_vocabulary() {
    let train = tinyhelen_dir().join("data/leaner/10M/train");
    if !require(&train, "the Leaner-Pretrain train files") {
        return;
    }
    let g = golden();
    let tok = tokenizer();
    let vocab = Vocabulary::from_dir(&train, Some(&tok)).unwrap();
    let want = &g["leaner_train"];
    assert_eq!(vocab.words.len() as u64, want["vocab_words"].as_u64().unwrap());
    assert_eq!(vocab.tokens.len() as u64, want["vocab_tokens"].as_u64().unwrap());
    let responses: Vec<String> = g["responses"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    check_metrics(&vocab, &tok, &responses, want["metrics"].as_array().unwrap(), "leaner");
}

#[test]
fn tinyhelen_prompt_format() {
    assert_eq!(prompt("Why is the sky blue?"), "### TASK INPUT:\nWhy is the sky blue?\n\n### RESPONSE:\n");
}
