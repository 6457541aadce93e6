//! Detection scores and their metrics against `core/tests/fixtures/detection_goldens.json`,
//! written by `scripts/make_detection_goldens.py` (NumPy, Python's zlib, scikit-learn).

use std::path::Path;

use serde::Deserialize;
use tinyeval_core::detection::{
    self, DetectionInput, Method, ScoredTokens, k_count, lowercase_score, loss_score, min_k_plus_plus_score, min_k_score,
    perplexity_score, reference_score, zlib_len, zlib_score_with_len,
};
use tinyeval_core::statistics::{self, auroc, best_accuracy, detection_metrics, mean_stderr, roc_curve, tpr_at_fpr};

const TOLERANCE: f64 = 1e-6;

#[derive(Deserialize)]
struct Goldens {
    ks: Vec<f64>,
    zlib: Vec<ZlibCase>,
    zlib_generated: Vec<GeneratedZlibCase>,
    cases: Vec<Case>,
    roc: Vec<RocCase>,
}

#[derive(Deserialize)]
struct ZlibCase {
    text: String,
    zlib_len: usize,
}

#[derive(Deserialize)]
struct GeneratedZlibCase {
    n: usize,
    seed: u64,
    alphabet: String,
    zlib_len: usize,
}

#[derive(Deserialize)]
struct Case {
    logprobs: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
    lowercase_logprobs: Vec<f32>,
    reference_logprobs: Vec<f32>,
    text: String,
    zlib_len: usize,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    loss: f64,
    ppl: f64,
    zlib: f64,
    lowercase: f64,
    #[serde(rename = "ref")]
    reference: f64,
    mink: std::collections::BTreeMap<String, f64>,
    minkpp: std::collections::BTreeMap<String, f64>,
    k_len: std::collections::BTreeMap<String, usize>,
}

#[derive(Deserialize)]
struct Roc {
    fpr: Vec<f64>,
    tpr: Vec<f64>,
    thresholds: Vec<Option<f64>>,
}

#[derive(Deserialize)]
struct RocCase {
    scores: Vec<f64>,
    labels: Vec<bool>,
    auroc: f64,
    roc_all: Roc,
    roc_dropped: Roc,
    tpr_at_1_fpr: f64,
    tpr_at_5_fpr: f64,
    best_accuracy: f64,
    mean: f64,
    stderr: f64,
}

fn goldens() -> Goldens {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/detection_goldens.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Python's `str(k)` of the k values in the goldens (`0.05`, `1.0`, ...).
fn py_str(k: f64) -> String {
    let s = format!("{k}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn close(what: &str, ours: f64, theirs: f64) {
    let diff = (ours - theirs).abs();
    assert!(diff <= TOLERANCE * theirs.abs().max(1.0), "{what}: ours {ours}, NumPy {theirs} (diff {diff:e})");
}

#[test]
fn scores_match_numpy() {
    let g = goldens();
    for (i, c) in g.cases.iter().enumerate() {
        let e = &c.expected;
        close(&format!("case {i} loss"), loss_score(&c.logprobs).unwrap(), e.loss);
        close(&format!("case {i} ppl"), perplexity_score(&c.logprobs).unwrap(), e.ppl);
        close(&format!("case {i} zlib"), zlib_score_with_len(&c.logprobs, c.zlib_len).unwrap(), e.zlib);
        close(&format!("case {i} lowercase"), lowercase_score(&c.logprobs, &c.lowercase_logprobs).unwrap(), e.lowercase);
        close(&format!("case {i} ref"), reference_score(&c.logprobs, &c.reference_logprobs).unwrap(), e.reference);
        for &k in &g.ks {
            let key = py_str(k);
            assert_eq!(k_count(c.logprobs.len(), k).unwrap(), e.k_len[&key], "case {i} k {k}");
            close(&format!("case {i} mink {k}"), min_k_score(&c.logprobs, k).unwrap(), e.mink[&key]);
            close(
                &format!("case {i} minkpp {k}"),
                min_k_plus_plus_score(&c.logprobs, &c.mean, &c.var, k).unwrap(),
                e.minkpp[&key],
            );
        }
        // The dispatcher gives the same numbers.
        let target = ScoredTokens { ids: vec![], logprobs: c.logprobs.clone(), mean: c.mean.clone(), var: c.var.clone() };
        let lower = ScoredTokens { ids: vec![], logprobs: c.lowercase_logprobs.clone(), ..Default::default() };
        let reference = ScoredTokens { ids: vec![], logprobs: c.reference_logprobs.clone(), ..Default::default() };
        let input = DetectionInput { text: &c.text, target: &target, lowercase: Some(&lower), reference: Some(&reference), conditional: None, dc_pdd: None };
        close(&format!("case {i} score(loss)"), detection::score(Method::Loss, &input, 0.2).unwrap(), e.loss);
        close(&format!("case {i} score(mink)"), detection::score(Method::MinK, &input, 0.2).unwrap(), e.mink["0.2"]);
        close(&format!("case {i} score(minkpp)"), detection::score(Method::MinKPlusPlus, &input, 0.2).unwrap(), e.minkpp["0.2"]);
        close(&format!("case {i} score(lowercase)"), detection::score(Method::Lowercase, &input, 0.2).unwrap(), e.lowercase);
        close(&format!("case {i} score(ref)"), detection::score(Method::Reference, &input, 0.2).unwrap(), e.reference);
    }
}

#[test]
fn bad_inputs_are_errors() {
    assert!(loss_score(&[]).is_err());
    assert!(min_k_score(&[-1.0], 0.0).is_err());
    assert!(min_k_score(&[-1.0], 1.5).is_err());
    assert!(min_k_plus_plus_score(&[-1.0], &[], &[], 0.2).is_err());
    let t = ScoredTokens { ids: vec![], logprobs: vec![-1.0], mean: vec![-1.0], var: vec![1.0] };
    let input = DetectionInput { text: "a", target: &t, lowercase: None, reference: None, conditional: None, dc_pdd: None };
    assert!(detection::score(Method::Lowercase, &input, 0.2).is_err());
    assert!(detection::score(Method::Reference, &input, 0.2).is_err());
    assert!(Method::parse("nope").is_err());
    for m in Method::ALL {
        assert_eq!(Method::parse(m.name()).unwrap(), m);
    }
}

/// `zlib_len` equals Python's `len(zlib.compress(...))` (C zlib), on texts and
/// on long generated inputs that slide the window and fill blocks.
#[test]
fn zlib_lengths_equal_pythons() {
    let g = goldens();
    for c in &g.zlib {
        assert_eq!(zlib_len(&c.text), c.zlib_len, "{:?}", c.text);
    }
    for c in &g.zlib_generated {
        let alphabet = c.alphabet.as_bytes();
        let mut x = c.seed;
        let bytes: Vec<u8> = (0..c.n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                alphabet[((x >> 33) % alphabet.len() as u64) as usize]
            })
            .collect();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(zlib_len(&text), c.zlib_len, "generated n={} seed={}", c.n, c.seed);
    }
    // And the zlib score from the text itself.
    for (i, c) in g.cases.iter().enumerate() {
        close(&format!("case {i} zlib(text)"), detection::zlib_score(&c.logprobs, &c.text).unwrap(), c.expected.zlib);
    }
}

fn same_points(what: &str, ours: &statistics::RocCurve, theirs: &Roc) {
    assert_eq!(ours.fpr.len(), theirs.fpr.len(), "{what}: number of points");
    for j in 0..ours.fpr.len() {
        assert!((ours.fpr[j] - theirs.fpr[j]).abs() <= 1e-12, "{what}: fpr {j}");
        assert!((ours.tpr[j] - theirs.tpr[j]).abs() <= 1e-12, "{what}: tpr {j}");
        match theirs.thresholds[j] {
            None => assert_eq!(ours.thresholds[j], f64::INFINITY),
            Some(t) => assert_eq!(ours.thresholds[j], t, "{what}: threshold {j}"),
        }
    }
}

#[test]
fn roc_metrics_match_sklearn() {
    for (i, c) in goldens().roc.iter().enumerate() {
        let ours = auroc(&c.scores, &c.labels).unwrap();
        assert!((ours - c.auroc).abs() <= 1e-12, "case {i}: AUROC ours {ours}, sklearn {}", c.auroc);
        let all = roc_curve(&c.scores, &c.labels, false).unwrap();
        same_points(&format!("case {i} all"), &all, &c.roc_all);
        same_points(&format!("case {i} dropped"), &roc_curve(&c.scores, &c.labels, true).unwrap(), &c.roc_dropped);
        // sklearn's rates can differ from `tps / total` in the last bit.
        assert!((tpr_at_fpr(&all, 0.01) - c.tpr_at_1_fpr).abs() <= 1e-12, "case {i}");
        assert!((tpr_at_fpr(&all, 0.05) - c.tpr_at_5_fpr).abs() <= 1e-12, "case {i}");
        assert!((best_accuracy(&all) - c.best_accuracy).abs() <= 1e-12, "case {i}");
        let m = detection_metrics(&c.scores, &c.labels).unwrap();
        assert_eq!((m.auroc, m.tpr_at_5_fpr), (ours, tpr_at_fpr(&all, 0.05)));
        let ms = mean_stderr(&c.scores).unwrap();
        close(&format!("case {i} mean"), ms.mean, c.mean);
        close(&format!("case {i} stderr"), ms.stderr, c.stderr);
        let ci = statistics::auroc_interval(&c.scores, &c.labels, 200, 0, 0.95).unwrap();
        if c.scores.len() >= 10 {
            let ci = ci.unwrap();
            assert!(0.0 <= ci.low && ci.low <= ci.high && ci.high <= 1.0, "case {i}: {ci:?}");
            assert_eq!(Some(ci), statistics::auroc_interval(&c.scores, &c.labels, 200, 0, 0.95).unwrap());
        }
    }
}
