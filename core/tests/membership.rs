//! Membership checks against scripts/make_membership_goldens.py (NumPy,
//! scikit-learn and transformers, from the papers' formulas): ReCaLL and
//! DC-PDD scores within 1e-6 relative, the blind baseline's folds exactly and
//! its out-of-fold probabilities within 1e-6 (AUROC equal), ReCaLL through the
//! whole check on the demo model within 1e-4 (log-probs as the model goldens);
//! and the check itself: shots left out, the dose response per count, the
//! k sweep, the blind baseline's warning, and errors that name what is missing.

use serde::Deserialize;
use tinyeval_core::detection::{Method, TokenFrequencies, dc_pdd_score, recall_score};
use tinyeval_core::membership::blind_baseline::{blind_baseline, stratified_folds};
use tinyeval_core::membership::{CheckItem, CheckOptions, MembershipManifest, RecallPrefix, parse_labelled_set, run_check};
use tinyeval_core::statistics::auroc;
use tinyeval_core::{Device, LanguageModel};

mod common;
use common::repo_root;

#[derive(Deserialize)]
struct Goldens {
    recall: Vec<RecallCase>,
    dcpdd: Vec<DcPddCase>,
    blind: Vec<BlindCase>,
    model_recall: Vec<ModelRecallCase>,
}

#[derive(Deserialize)]
struct RecallCase {
    logprobs: Vec<f32>,
    conditional: Vec<f32>,
    recall: f64,
}

#[derive(Deserialize)]
struct DcPddCase {
    ids: Vec<u32>,
    logprobs: Vec<f32>,
    counts: Vec<u64>,
    cap: f64,
    dcpdd: f64,
}

#[derive(Deserialize)]
struct BlindCase {
    texts: Vec<String>,
    labels: Vec<bool>,
    folds: usize,
    seed: u64,
    fold: Vec<usize>,
    scores: Vec<f64>,
    auroc: f64,
}

#[derive(Deserialize)]
struct ModelRecallCase {
    prefix: Vec<String>,
    text: String,
    prefix_tokens: usize,
    tokens: usize,
    recall: f64,
}

fn goldens() -> Goldens {
    let path = repo_root().join("core/tests/fixtures/membership_goldens.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-12)
}

#[test]
fn recall_and_dc_pdd_equal_numpy() {
    let g = goldens();
    for c in &g.recall {
        let got = recall_score(&c.logprobs, &c.conditional).unwrap();
        assert!(close(got, c.recall, 1e-6), "recall {got} vs {}", c.recall);
    }
    for c in &g.dcpdd {
        let f = TokenFrequencies::from_counts(c.counts.clone());
        let got = dc_pdd_score(&c.ids, &c.logprobs, &f, c.cap).unwrap();
        assert!(close(got, c.dcpdd, 1e-6), "dcpdd {got} vs {} (cap {})", c.dcpdd, c.cap);
    }
    assert!(dc_pdd_score(&[1], &[-1.0], &TokenFrequencies::from_counts(vec![1, 2]), 0.0).is_err());
    assert!(recall_score(&[-1.0], &[]).is_err());
}

#[test]
fn blind_baseline_equals_scikit_learn() {
    for c in goldens().blind {
        let texts: Vec<&str> = c.texts.iter().map(String::as_str).collect();
        assert_eq!(stratified_folds(&c.labels, c.folds, c.seed), c.fold, "folds (seed {})", c.seed);
        let b = blind_baseline(&texts, &c.labels, 5, c.seed).unwrap();
        assert_eq!(b.folds, c.folds);
        for (i, (got, want)) in b.scores.iter().zip(&c.scores).enumerate() {
            assert!((got - want).abs() < 1e-6, "item {i}: {got} vs scikit-learn's {want}");
        }
        assert_eq!(auroc(&b.scores, &c.labels).unwrap(), c.auroc);
    }
    assert!(blind_baseline(&["a b", "c d", "e f"], &[true, false, false], 5, 0).is_err(), "one member");
}

fn model() -> LanguageModel {
    LanguageModel::load_path(&repo_root().join("public/models/tinyhelen-1m-contaminated"), &Device::flex()).unwrap()
}

fn check(model: &LanguageModel, items: Vec<CheckItem>, options: &CheckOptions) -> tinyeval_core::Result<tinyeval_core::membership::CheckReport> {
    pollster::block_on(run_check(model, None, items, options, |_| std::future::ready(Ok(()))))
}

fn unlabelled(text: &str) -> CheckItem {
    CheckItem { id: text.to_string(), text: text.to_string(), member: None, count: None }
}

#[test]
fn recall_through_the_check_equals_transformers() {
    let model = model();
    let cases = goldens().model_recall;
    assert!(cases.iter().any(|c| c.prefix_tokens + c.tokens > 257), "a case must cut the prefix");
    let mut prefixes: Vec<&Vec<String>> = cases.iter().map(|c| &c.prefix).collect();
    prefixes.dedup();
    for prefix in prefixes {
        let mine: Vec<&ModelRecallCase> = cases.iter().filter(|c| &c.prefix == prefix).collect();
        let items = mine.iter().map(|c| unlabelled(&c.text)).collect();
        let options = CheckOptions {
            methods: vec![Method::Recall],
            recall: Some(RecallPrefix::Texts(prefix.clone())),
            batch_size: 3,
            ..CheckOptions::default()
        };
        let report = check(&model, items, &options).unwrap();
        for (c, got) in mine.iter().zip(report.scores(Method::Recall).unwrap()) {
            assert!(close(*got, c.recall, 1e-4), "{} shots: {got} vs {}", prefix.len(), c.recall);
        }
    }
}

/// Demo items of the twin's manifest with made-up exposure counts: a labelled set the check can read.
fn counted_items() -> Vec<CheckItem> {
    let texts: Vec<String> = std::fs::read_to_string(repo_root().join("public/tasks/demo/demo_sentiment_test.jsonl"))
        .unwrap()
        .lines()
        .take(36)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["sentence"].as_str().unwrap().to_string())
        .collect();
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let count = [0, 0, 1, 4][i % 4];
            CheckItem { id: i.to_string(), text, member: Some(count > 0), count: Some(count) }
        })
        .collect()
}

#[test]
fn the_check_leaves_out_recall_shots_and_reports_dose_k_sweep_and_blind_baseline() {
    let model = model();
    let items = counted_items();
    let options = CheckOptions {
        methods: vec![Method::Loss, Method::MinK, Method::MinKPlusPlus, Method::Recall],
        recall: Some(RecallPrefix::NonMembers { shots: 3 }),
        bootstrap: 20,
        ..CheckOptions::default()
    };
    let report = check(&model, items.clone(), &options).unwrap();
    // The first three non-members (items 0, 1, 4) are the prefix, and out of the check.
    let ids: Vec<&str> = report.prefix_items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["0", "1", "4"]);
    assert_eq!(report.items.len(), items.len() - 3);
    assert!(report.items.iter().all(|i| !ids.contains(&i.id.as_str())));
    // Dose response: each count against the held-out items, equal to the AUROC of that subset.
    assert_eq!(report.dose.iter().map(|d| d.count).collect::<Vec<_>>(), [1, 4]);
    let loss = report.scores(Method::Loss).unwrap();
    for d in &report.dose {
        let subset: Vec<usize> = (0..report.items.len()).filter(|&i| report.items[i].count.is_some_and(|c| c == 0 || c == d.count)).collect();
        let s: Vec<f64> = subset.iter().map(|&i| loss[i]).collect();
        let l: Vec<bool> = subset.iter().map(|&i| report.items[i].count == Some(d.count)).collect();
        assert_eq!(d.aurocs.iter().find(|(m, _)| m == "loss").unwrap().1, auroc(&s, &l).unwrap());
        assert_eq!((d.members, d.held_out), (l.iter().filter(|&&x| x).count(), l.iter().filter(|&&x| !x).count()));
    }
    // The k sweep at k = 0.2 is the method's own AUROC.
    for sweep in &report.k_sweep {
        let at = sweep.ks.iter().position(|&k| k == 0.2).unwrap();
        let own = report.metrics.iter().find(|(m, _)| *m == sweep.method).unwrap().1.as_ref().unwrap();
        assert_eq!(sweep.aurocs[at], own.metrics.auroc, "{}", sweep.method.name());
    }
    assert_eq!(report.k_sweep.len(), 2);
    let (b, summary) = report.blind.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(summary.metrics.auroc, auroc(&b.scores, &report.items.iter().map(|i| i.member == Some(true)).collect::<Vec<_>>()).unwrap());
    let json = report.summary();
    assert_eq!(json["recall_prefix"]["items"].as_array().unwrap().len(), 3);
    assert_eq!(json["dose_response"].as_array().unwrap().len(), 2);
}

#[test]
fn a_set_that_separates_by_its_words_is_flagged() {
    let model = model();
    // Members about castles, non-members about phones: words alone tell them apart.
    let items: Vec<CheckItem> = (0..40)
        .map(|i| {
            let member = i % 2 == 0;
            let text = if member { format!("The old castle {i} stood by the river in winter.") } else { format!("My new phone {i} runs the app online all day.") };
            CheckItem { id: i.to_string(), text, member: Some(member), count: None }
        })
        .collect();
    let options = CheckOptions { methods: vec![Method::Loss], bootstrap: 0, ..CheckOptions::default() };
    let report = check(&model, items, &options).unwrap();
    let blind = report.blind.as_ref().unwrap().as_ref().unwrap().1.metrics.auroc;
    assert!(blind > 0.9, "blind AUROC {blind}");
    assert!(report.warning.as_deref().unwrap().contains("blind baseline"), "{:?}", report.warning);
}

#[test]
fn missing_inputs_are_named() {
    let model = model();
    let items = counted_items();
    let err = |o: CheckOptions| check(&model, items.clone(), &o).unwrap_err().to_string();
    assert!(err(CheckOptions { methods: vec![Method::Recall], ..CheckOptions::default() }).contains("non-member prefix"));
    assert!(err(CheckOptions { methods: vec![Method::DcPdd], ..CheckOptions::default() }).contains("token frequencies"));
    assert!(err(CheckOptions { methods: vec![Method::Reference], ..CheckOptions::default() }).contains("reference model"));
    let e = err(CheckOptions { methods: vec![Method::Recall], recall: Some(RecallPrefix::NonMembers { shots: 100 }), ..CheckOptions::default() });
    assert!(e.contains("100 shots"), "{e}");
    let e = err(CheckOptions {
        methods: vec![Method::DcPdd],
        frequencies: Some(TokenFrequencies::from_counts(vec![1; 10])),
        ..CheckOptions::default()
    });
    assert!(e.contains("10 entries"), "{e}");
}

#[test]
fn labelled_sets_and_manifests_have_one_set_of_rules() {
    let set = parse_labelled_set("s.jsonl", b"{\"text\": \"a\", \"label\": true}\n\n{\"input\": \"b\", \"label\": 0}\n").unwrap();
    assert_eq!(set.iter().map(|i| (i.id.as_str(), i.member)).collect::<Vec<_>>(), [("1", Some(true)), ("3", Some(false))]);
    let array = parse_labelled_set("s.json", br#"[{"input": "a"}, {"input": "b"}]"#).unwrap();
    assert!(array.iter().all(|i| i.member.is_none()));
    let e = parse_labelled_set("s.jsonl", b"{\"input\": \"a\", \"label\": 1}\n{\"input\": \"b\"}\n").unwrap_err().to_string();
    assert!(e.starts_with("s.jsonl: line 2: no `label`"), "{e}");
    let m = MembershipManifest::parse("m.jsonl", b"{\"task\": \"t\", \"split\": \"test\", \"idx\": 3, \"member\": 1, \"count\": 8}\n").unwrap();
    assert_eq!(m.rows[0].count, Some(8));
    for (bad, want) in [
        ("{\"task\": \"t\", \"split\": \"test\", \"idx\": 3, \"member\": 0, \"count\": 2}", "contradicts"),
        ("{\"task\": \"t\", \"split\": \"test\", \"idx\": 3, \"member\": 1, \"count\": -1}", "`count`"),
        ("{\"task\": \"t\", \"split\": \"test\", \"idx\": 3, \"member\": 1}\n{\"task\": \"t\", \"split\": \"test\", \"idx\": 3, \"member\": 0}", "listed twice"),
    ] {
        let e = MembershipManifest::parse("m.jsonl", bad.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("m.jsonl: line") && e.contains(want), "{e}");
    }
}

/// The page's default DC-PDD corpus (a count table made by Hugging Face's
/// `tokenizers`, scripts/make_token_frequencies.py) equals what tinyeval counts
/// from the Leaner-Pretrain train files with the demo model's tokenizer.
#[test]
fn the_committed_token_counts_equal_tinyevals_count_of_the_corpus() {
    let train = common::tinyhelen_dir().join("data/leaner/10M/train");
    if !common::require(&train, "the Leaner-Pretrain train files") {
        return;
    }
    let mut docs = Vec::new();
    for genre in ["book", "conversation", "math", "textbook", "wiki"] {
        let path = train.join(format!("{genre}0000.jsonl"));
        docs.extend(tinyeval_core::leaner_eval::parse_pretrain_documents(&path.display().to_string(), &std::fs::read(&path).unwrap()).unwrap());
    }
    let counted = tinyeval_core::membership::count_tokens(&model(), &docs).unwrap();
    let table = repo_root().join("public/data/token_frequencies_gpt-2K_leaner-pretrain-10M-train.json");
    let committed = TokenFrequencies::parse_table("table", &std::fs::read(&table).unwrap()).unwrap();
    assert_eq!(counted.total, committed.total);
    assert_eq!(counted.counts, committed.counts);
}
