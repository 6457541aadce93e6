//! The 13-gram overlap check against lm-eval-harness 0.4.13's decontamination
//! code: goldens written by `scripts/make_overlap_goldens.py`.

use std::path::Path;

use serde_json::Value;
use tinyeval_core::overlap::{OverlapIndex, normalize, split_words, word_ngrams};

fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analysis/overlap_goldens.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

#[test]
fn normalisation_and_ngrams_equal_lm_eval() {
    for case in golden()["normalize"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let normalized = normalize(text);
        assert_eq!(normalized, case["normalized"].as_str().unwrap(), "normalize({text:?})");
        assert_eq!(split_words(&normalized).collect::<Vec<_>>(), strings(&case["words"]), "split of {text:?}");
        assert_eq!(word_ngrams(&normalized, 3), strings(&case["ngrams3"]), "3-grams of {text:?}");
    }
}

#[test]
fn overlapping_items_and_ngrams_equal_lm_eval() {
    let g = golden();
    let (items, corpus) = (strings(&g["items"]), strings(&g["corpus"]));
    for (n, key) in [(13, "overlap13"), (5, "overlap5")] {
        let mut index = OverlapIndex::new(&items, n);
        for doc in &corpus {
            index.scan(doc);
        }
        let ours = serde_json::to_value(index.report()).unwrap();
        assert_eq!(ours, g[key], "{n}-gram overlap");
    }
    // The golden exercises both outcomes.
    let o = g["overlap13"].as_array().unwrap();
    assert!(o.iter().any(|i| !i["shared"].as_array().unwrap().is_empty()));
    assert!(o.iter().any(|i| i["ngrams"].as_u64().unwrap() > 0 && i["shared"].as_array().unwrap().is_empty()));
}
