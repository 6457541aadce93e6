//! The bundled demo models (`public/models/tinyhelen-1m` and its contaminated
//! twin) against the targets of their model cards, with tinyeval's engine:
//!
//! - Min-K% Prob (k = 0.2) separates each task's inserted test items from its
//!   held-out half on the contaminated twin (AUROC at least 0.9 on every one of
//!   the five tasks) and does not on the clean model (AUROC within 0.5 ± 0.1,
//!   per task and over all five). The five tasks pooled into one set give the
//!   twin a lower AUROC (about 0.77): Min-K% scores are not comparable across
//!   tasks (a templated demo item's rarest tokens are far likelier than an RTE
//!   item's), so the pooled figure mixes in task differences; it must still be
//!   clearly above the clean model's. Every AUROC equals the one PyTorch
//!   computed when training (training_log.json), so the cards' numbers are the
//!   engine's too.
//! - Per-genre validation perplexity (lm-eval's rolling windows) equals the
//!   PyTorch figure in training_log.json within 1e-4 relative, and is at most a
//!   quarter of the unigram model's on every trained genre and on all pooled.
//!
//! Items are rendered from the built-in task configs (prompt, target delimiter,
//! gold choice), so this also checks that what the training script inserted is
//! what tinyeval's zero-shot prompts produce. The Leaner-GLUE and Leaner-Pretrain
//! files come from `$TINYHELEN_DIR`, else `../shared/data/tinyhelen` (if absent,
//! the tests that need them are skipped with a message, or fail under CI).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use tinyeval_core::detection::{self, DetectionInput, Method, ScoredTokens};
use tinyeval_core::scoring::{rolling_windows, score_batch};
use tinyeval_core::statistics::auroc;
use tinyeval_core::tasks::builtin_task;
use tinyeval_core::tasks::data::load_task_docs;
use tinyeval_core::tasks::template::{answer_text, doc_to_choice, doc_to_target, doc_to_text};
use tinyeval_core::{Device, LanguageModel};

mod common;
use common::{repo_root, require, tinyhelen_dir};

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn load(name: &str) -> (LanguageModel, Value) {
    let dir = repo_root().join("public/models").join(name);
    let model = LanguageModel::load_path(&dir, &Device::flex()).unwrap_or_else(|e| panic!("{name}: {e}"));
    (model, read_json(&dir.join("training_log.json")))
}

/// Every test item of the contaminated twin's manifest, rendered as inserted: (task, text, member).
fn manifest_items() -> Vec<(String, String, bool)> {
    counted_manifest_items("tinyhelen-1m-contaminated").into_iter().map(|(t, text, m, _)| (t, text, m)).collect()
}

/// Every test item of a demo model's manifest, rendered as inserted: (task, text, member, count).
fn counted_manifest_items(model: &str) -> Vec<(String, String, bool, u64)> {
    let path = repo_root().join("public/models").join(model).join("membership.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (tinyhelen, demo) = (tinyhelen_dir(), repo_root().join("public/tasks/demo"));
    let mut by_task: BTreeMap<String, BTreeMap<i64, Value>> = BTreeMap::new();
    let mut items = Vec::new();
    for row in rows {
        let task = row["task"].as_str().unwrap().to_string();
        let mut config = builtin_task(&task).unwrap_or_else(|| panic!("no built-in task {task}")).unwrap();
        if !by_task.contains_key(&task) {
            config.resolve_data_roots(&[("tinyhelen", tinyhelen.to_str().unwrap()), ("demo", demo.to_str().unwrap())]);
            let docs = load_task_docs(&config, &repo_root()).unwrap();
            let split = row["split"].as_str().unwrap();
            let docs = docs[split].iter().map(|d| (d["idx"].as_i64().unwrap(), d.clone())).collect();
            by_task.insert(task.clone(), docs);
        }
        let doc = &by_task[&task][&row["idx"].as_i64().unwrap()];
        let choices = doc_to_choice(&config, doc).unwrap();
        let prompt = doc_to_text(&config, doc).unwrap();
        let answer = answer_text(Some(&choices), &doc_to_target(&config, doc).unwrap()).unwrap();
        let text = format!("{}{}{}", prompt.as_str().unwrap(), config.target_delimiter, answer);
        let member = row["member"].as_i64().unwrap() == 1;
        items.push((task, text, member, row["count"].as_u64().unwrap_or(u64::from(member))));
    }
    items
}

/// Min-K% Prob (k = 0.2) of each text.
fn mink_scores(model: &LanguageModel, texts: &[String]) -> Vec<f64> {
    let scores = pollster::block_on(model.score_texts(texts, 16)).unwrap();
    scores
        .iter()
        .map(|s| {
            let target = ScoredTokens::from_text_scores(s);
            let input = DetectionInput { text: &s.text, target: &target, lowercase: None, reference: None, conditional: None, dc_pdd: None };
            detection::score(Method::MinK, &input, 0.2).unwrap()
        })
        .collect()
}

fn mink_auroc(model: &LanguageModel, items: &[(String, String, bool)]) -> (f64, BTreeMap<String, f64>) {
    let texts: Vec<String> = items.iter().map(|(_, t, _)| t.clone()).collect();
    let mink = mink_scores(model, &texts);
    let labels: Vec<bool> = items.iter().map(|(_, _, m)| *m).collect();
    let mut per_task = BTreeMap::new();
    for task in items.iter().map(|(t, _, _)| t.clone()).collect::<std::collections::BTreeSet<_>>() {
        let sel: Vec<usize> = (0..items.len()).filter(|&i| items[i].0 == task).collect();
        let s: Vec<f64> = sel.iter().map(|&i| mink[i]).collect();
        let l: Vec<bool> = sel.iter().map(|&i| labels[i]).collect();
        per_task.insert(task, auroc(&s, &l).unwrap());
    }
    (auroc(&mink, &labels).unwrap(), per_task)
}

fn check_auroc(name: &str, log: &Value, ours: f64, per_task: &BTreeMap<String, f64>) {
    let torch = log["mink_auroc"]["all"].as_f64().unwrap();
    eprintln!("{name}: Min-K% AUROC {ours:.4} (PyTorch {torch:.4}); per task {per_task:?}");
    assert!((ours - torch).abs() < 2e-3, "{name}: AUROC {ours} differs from PyTorch's {torch}");
    for (task, a) in per_task {
        let t = log["mink_auroc"]["per_task"][task].as_f64().unwrap();
        assert!((a - t).abs() < 5e-3, "{name} {task}: AUROC {a} differs from PyTorch's {t}");
    }
}

#[test]
fn min_k_separates_inserted_items_only_on_the_contaminated_twin() {
    if !require(&tinyhelen_dir(), "the TinyHelen folder") {
        return;
    }
    let items = manifest_items();
    assert!(items.len() >= 1000, "every test item of the five tasks is in the manifest");

    let (dirty, dirty_log) = load("tinyhelen-1m-contaminated");
    let (a, per_task) = mink_auroc(&dirty, &items);
    check_auroc("tinyhelen-1m-contaminated", &dirty_log, a, &per_task);
    for (task, t) in &per_task {
        assert!(*t >= 0.9, "contaminated twin, {task}: Min-K% AUROC {t} is below 0.9");
    }
    let contaminated = a;

    let (clean, clean_log) = load("tinyhelen-1m");
    let (a, per_task) = mink_auroc(&clean, &items);
    check_auroc("tinyhelen-1m", &clean_log, a, &per_task);
    assert!((a - 0.5).abs() <= 0.1, "clean model: Min-K% AUROC {a} is not within 0.5 ± 0.1");
    for (task, t) in &per_task {
        assert!((t - 0.5).abs() <= 0.1, "clean model, {task}: Min-K% AUROC {t} is not within 0.5 ± 0.1");
    }
    assert!(contaminated >= a + 0.05, "contaminated twin: Min-K% AUROC {contaminated} is not clearly above the clean model's {a}");
}

/// The dose-response twin: each exposure group's Min-K% AUROC against the
/// held-out items (all five tasks pooled; every group holds a sixth of each
/// task) equals PyTorch's from training (training_log.json), and grows with
/// the number of exposures: clearly higher at 16 than at 1, and never much
/// lower than at the count before.
#[test]
fn min_k_on_the_dose_twin_grows_with_exposures() {
    if !require(&tinyhelen_dir(), "the TinyHelen folder") {
        return;
    }
    let items = counted_manifest_items("tinyhelen-1m-dose");
    let (model, log) = load("tinyhelen-1m-dose");
    let texts: Vec<String> = items.iter().map(|(_, t, _, _)| t.clone()).collect();
    let mink = mink_scores(&model, &texts);
    let mut previous = 0.5;
    let mut by_count = BTreeMap::new();
    for count in [1u64, 2, 4, 8, 16] {
        let sel: Vec<usize> = (0..items.len()).filter(|&i| items[i].3 == 0 || items[i].3 == count).collect();
        let s: Vec<f64> = sel.iter().map(|&i| mink[i]).collect();
        let l: Vec<bool> = sel.iter().map(|&i| items[i].3 == count).collect();
        let a = auroc(&s, &l).unwrap();
        let torch = log["mink_auroc"]["per_count"][count.to_string()].as_f64().unwrap();
        eprintln!("{count:>2}x: Min-K% AUROC {a:.4} (PyTorch {torch:.4})");
        assert!((a - torch).abs() < 5e-3, "{count}x: AUROC {a} differs from PyTorch's {torch}");
        assert!(a >= previous - 0.03, "{count}x: AUROC {a} fell below the previous count's {previous}");
        previous = a;
        by_count.insert(count, a);
    }
    assert!(by_count[&16] >= by_count[&1] + 0.1, "no dose response: {by_count:?}");
}

/// A Leaner-Pretrain document, with ../shared/data/README.md's conventions.
fn document(genre: &str, row: &Value) -> String {
    match genre {
        "math" => std::iter::once(row["problem"].as_str().unwrap())
            .chain(row["hints"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()))
            .collect::<Vec<_>>()
            .join("\n"),
        "code" => format!("{}\n{}", row["prompt"].as_str().unwrap(), row["response"].as_str().unwrap()),
        _ => row["text"].as_str().unwrap().to_string(),
    }
}

/// The genres of the training files; code and web are only in validation and
/// test (out of domain), so the quarter-of-unigram target is checked on these
/// and on all seven genres pooled, and code and web are only reported.
const TRAIN_GENRES: [&str; 5] = ["book", "conversation", "math", "textbook", "wiki"];

#[test]
fn validation_perplexity_matches_the_card_and_beats_unigram_fourfold() {
    if !require(&tinyhelen_dir(), "the TinyHelen folder") {
        return;
    }
    let (model, log) = load("tinyhelen-1m");
    let (mut all_nll, mut all_unigram_nll, mut all_n) = (0.0f64, 0.0f64, 0usize);
    for (genre, card) in log["validation"].as_object().unwrap() {
        let path = tinyhelen_dir().join(format!("data/leaner/10M/validation/{genre}0000.jsonl"));
        let text = std::fs::read_to_string(&path).unwrap();
        let docs: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(|l| document(genre, &serde_json::from_str(l).unwrap())).collect();
        // lm-eval's loglikelihood_rolling: every token scored, the first from the EOS prefix.
        let prefix = model.config.eos_token_id.unwrap();
        let requests: Vec<_> = docs
            .iter()
            .flat_map(|d| rolling_windows(prefix, &model.tokenizer.encode(d).unwrap(), model.config.max_positions))
            .collect();
        let (mut nll, mut n) = (0.0f64, 0usize);
        for batch in requests.chunks(8) {
            for s in pollster::block_on(score_batch(&model.decoder, batch)).unwrap() {
                nll -= s.logprobs.iter().map(|&lp| lp as f64).sum::<f64>();
                n += s.logprobs.len();
            }
        }
        let ppl = (nll / n as f64).exp();
        let want = card["token_perplexity"].as_f64().unwrap();
        let unigram = card["unigram_token_perplexity"].as_f64().unwrap();
        eprintln!("{genre}: perplexity {ppl:.3} (PyTorch {want:.3}, unigram {unigram:.1}), {n} tokens");
        assert_eq!(n as u64, card["tokens"].as_u64().unwrap(), "{genre}: scored token count");
        assert!(((ppl - want) / want).abs() < 1e-4, "{genre}: perplexity {ppl} vs PyTorch {want}");
        if TRAIN_GENRES.contains(&genre.as_str()) {
            assert!(ppl <= unigram / 4.0, "{genre}: perplexity {ppl} is not at most a quarter of the unigram model's {unigram}");
        }
        all_nll += nll;
        all_unigram_nll += unigram.ln() * n as f64;
        all_n += n;
    }
    let (ppl, unigram) = ((all_nll / all_n as f64).exp(), (all_unigram_nll / all_n as f64).exp());
    eprintln!("all genres: perplexity {ppl:.3}, unigram {unigram:.1}");
    assert!(ppl <= unigram / 4.0, "all genres: perplexity {ppl} is not at most a quarter of the unigram model's {unigram}");
}
