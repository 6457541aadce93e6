//! The task evaluator against lm-eval-harness 0.4.13: goldens written by
//! `scripts/make_task_goldens.py` (tinyeval's tasks exported with
//! `tinyeval export-lm-eval` and run by lm-eval on the model each golden
//! names: Leaner-GLUE SST-2, RTE (0- and 2-shot), CoLA (mcc), MRPC (f1), MNLI
//! (2-shot); Leaner-Pretrain perplexity per genre; a loglikelihood and a
//! generate_until task from core/tests/fixtures/tasks), and Python's
//! `random.Random` against `pyrandom.json` from the same script.
//!
//! The TinyHelen folder is `$TINYHELEN_DIR`, else `../shared/data/tinyhelen`
//! beside the repository; the golden test is skipped (with a message) only if
//! it is absent, and fails then under CI.

use std::path::Path;

use serde_json::Value;
use tinyeval_core::tasks::data::load_task_docs;
use tinyeval_core::tasks::evaluator::Response;
use tinyeval_core::tasks::metrics::SampleValue;
use tinyeval_core::tasks::pyrandom::PyRandom;
use tinyeval_core::tasks::results::sample_line;
use tinyeval_core::tasks::{EvalOptions, TaskOrGroup, TaskRegistry, evaluate_task};
use tinyeval_core::{Device, LanguageModel};

mod common;
use common::{repo_root, require, tinyhelen_dir};

fn fixture(name: &str) -> Value {
    let path = repo_root().join("core/tests/fixtures/task_goldens").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// zlib.crc32.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn python_random_is_reproduced() {
    for case in fixture("pyrandom.json").as_array().unwrap() {
        let seed = case["seed"].as_i64().unwrap();
        let mut r = PyRandom::new(seed);
        for want in case["getrandbits32"].as_array().unwrap() {
            assert_eq!(r.getrandbits(32), want.as_u64().unwrap(), "seed {seed}: getrandbits(32)");
        }
        for want in case["random"].as_array().unwrap() {
            // serde_json's default float parsing may be off by one unit in the last place.
            let (ours, want) = (r.random(), want.as_f64().unwrap());
            assert!((ours - want).abs() <= f64::EPSILON * want, "seed {seed}: random() {ours} vs {want}");
        }
        let mut r = PyRandom::new(seed);
        for s in case["samples"].as_array().unwrap() {
            let (n, k) = (s["n"].as_u64().unwrap() as usize, s["k"].as_u64().unwrap() as usize);
            let want: Vec<usize> = s["result"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            assert_eq!(r.sample_indices(n, k), want, "seed {seed}: sample(range({n}), {k})");
        }
    }
}

/// mcc and f1 and their bootstrap standard errors against sklearn and lm-eval's
/// `bootstrap_stderr` (same draws: chunk i of 1000 from `random.Random(i)`).
#[test]
fn bootstrap_stderr_matches_lm_eval() {
    use tinyeval_core::tasks::metrics::{aggregation, f1, matthews_corrcoef, uncertainty};
    for case in fixture("bootstrap.json").as_array().unwrap() {
        let seed = &case["seed"];
        let values: Vec<SampleValue> = case["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| SampleValue::GoldPred(p[0].as_i64().unwrap(), p[1].as_i64().unwrap()))
            .collect();
        let iters = case["iters"].as_u64().unwrap() as usize;
        let mcc = case["mcc"].as_f64().unwrap();
        assert!((matthews_corrcoef(&values) - mcc).abs() < 1e-12, "seed {seed}: mcc");
        let se = uncertainty(aggregation("matthews_corrcoef").unwrap(), &values, iters).stderr.unwrap();
        assert!(rel_close(se, case["mcc_stderr"].as_f64().unwrap(), 1e-9), "seed {seed}: mcc stderr {se} vs {}", case["mcc_stderr"]);
        if let Some(want) = case.get("f1") {
            assert!((f1(&values) - want.as_f64().unwrap()).abs() < 1e-12, "seed {seed}: f1");
            let se = uncertainty(aggregation("f1").unwrap(), &values, iters).stderr.unwrap();
            assert!(rel_close(se, case["f1_stderr"].as_f64().unwrap(), 1e-9), "seed {seed}: f1 stderr {se} vs {}", case["f1_stderr"]);
        }
    }
}

fn rel_close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// Tasks whose data files' lines differ in their fields.
const HETEROGENEOUS_FILES: &[&str] = &["leaner_pretrain_ppl_math"];

/// Runs one golden file's task and compares everything lm-eval recorded.
fn check_golden(file: &str) {
    let tinyhelen = tinyhelen_dir();
    if !require(&tinyhelen, "the TinyHelen folder") {
        return;
    }
    let golden = fixture(file);
    let task_name = golden["task"].as_str().unwrap();
    let shots = golden["num_fewshot"].as_u64().unwrap() as usize;
    let label = format!("{task_name} {shots}-shot");
    let model = LanguageModel::load_path(&repo_root().join(golden["model"].as_str().unwrap()), &Device::flex()).unwrap();
    let mut registry = TaskRegistry::builtin().unwrap();
    registry.include_path(&repo_root().join("core/tests/fixtures/tasks")).unwrap();
    let Some(TaskOrGroup::Task(task)) = registry.get(task_name) else { panic!("{task_name} is not a task") };
    let mut task = (**task).clone();
    task.resolve_data_roots(&[("tinyhelen", tinyhelen.to_str().unwrap())]);
    let docs = load_task_docs(&task, Path::new(".")).unwrap();
    let options = EvalOptions {
        num_fewshot: Some(shots),
        limit: Some(golden["limit"].as_u64().unwrap() as usize),
        batch_size: 8,
        seed: 1234,
        bootstrap_iters: golden["bootstrap_iters"].as_u64().unwrap() as usize,
    };
    let result = pollster::block_on(evaluate_task(&model, &task, &docs, options)).unwrap();
    let samples = golden["samples"].as_array().unwrap();
    assert_eq!(result.samples.len(), samples.len(), "{label}: number of samples");
    let mut worst = 0f64;
    for (ours, theirs) in result.samples.iter().zip(samples) {
        let id = ours.doc_id;
        assert_eq!(id as u64, theirs["doc_id"].as_u64().unwrap(), "{label}: doc order");
        let line = sample_line(ours);
        for key in ["target", "prompt_hash", "target_hash"] {
            assert_eq!(line[key], theirs[key], "{label} doc {id}: {key}");
        }
        // lm-eval's docs come through Hugging Face datasets, which gives every
        // doc every column of its file (None where a line lacks the field);
        // tinyeval keeps each line's own fields (so that a missing field is an
        // error), so the doc hashes agree where a file's lines share their fields.
        if !HETEROGENEOUS_FILES.contains(&task_name) {
            assert_eq!(line["doc_hash"], theirs["doc_hash"], "{label} doc {id}: doc_hash");
        }
        let requests = theirs["requests"].as_array().unwrap();
        assert_eq!(ours.arguments.len(), requests.len(), "{label} doc {id}: number of requests");
        for (j, ((args, resp), want)) in ours.arguments.iter().zip(&ours.resps).zip(requests).enumerate() {
            let args = args.arguments();
            let arg0 = args[0].as_str().unwrap();
            assert_eq!(arg0.chars().count() as u64, want["arg0"]["chars"].as_u64().unwrap(), "{label} doc {id} request {j}: first argument's length");
            assert_eq!(crc32(arg0.as_bytes()) as u64, want["arg0"]["crc32"].as_u64().unwrap(), "{label} doc {id} request {j}: first argument (crc32)");
            if let Some(c) = want.get("continuation") {
                assert_eq!(args[1], *c, "{label} doc {id} request {j}: continuation");
            }
            match resp {
                Response::Loglikelihood { logprob, is_greedy } => {
                    let w = want["loglikelihood"].as_f64().unwrap();
                    worst = worst.max((logprob - w).abs());
                    assert!((logprob - w).abs() < 1e-4, "{label} doc {id} request {j}: loglikelihood {logprob} vs lm-eval {w}");
                    assert_eq!(*is_greedy, want["is_greedy"].as_bool().unwrap(), "{label} doc {id} request {j}: is_greedy");
                }
                Response::Rolling { logprob } => {
                    let w = want["loglikelihood"].as_f64().unwrap();
                    worst = worst.max(((logprob - w) / w).abs());
                    assert!(rel_close(*logprob, w, 1e-4), "{label} doc {id}: rolling loglikelihood {logprob} vs lm-eval {w}");
                }
                Response::Generated { text } => {
                    assert_eq!(text, want["generated"].as_str().unwrap(), "{label} doc {id}: generated text");
                }
            }
        }
        for (m, want) in theirs["metrics"].as_object().unwrap() {
            match (ours.metrics[m], want) {
                // A log-likelihood (loglikelihood's perplexity) within 1e-4; 0/1 scores equal.
                (SampleValue::Score(v), w) if m == "perplexity" => {
                    assert!((v - w.as_f64().unwrap()).abs() < 1e-4, "{label} doc {id}: {m} {v} vs {w}")
                }
                (SampleValue::Score(v), w) => assert_eq!(v, w.as_f64().unwrap(), "{label} doc {id}: {m}"),
                (SampleValue::GoldPred(g, p), w) => assert_eq!(vec![g, p], serde_json::from_value::<Vec<i64>>(w.clone()).unwrap(), "{label} doc {id}: {m}"),
                (SampleValue::Weighted(ll, n), w) => {
                    assert!(rel_close(ll, w[0].as_f64().unwrap(), 1e-4), "{label} doc {id}: {m} log-likelihood");
                    assert_eq!(n, w[1].as_f64().unwrap(), "{label} doc {id}: {m} words/bytes");
                }
            }
        }
    }
    let json = result.results_json();
    let r = &json["results"][task_name];
    let want = &golden["results"];
    for (key, w) in want.as_object().unwrap() {
        let Some((metric, _)) = key.split_once(',') else { continue };
        let ours = &r[key];
        if let Some(base) = metric.strip_suffix("_stderr") {
            let agg = &result.metrics[base].aggregation;
            // Stderrs of 0/1 scores are equal but for rounding; those of
            // log-likelihoods carry the log-likelihoods' differences.
            let tol = if matches!(base, "acc" | "acc_norm" | "exact_match" | "mcc" | "f1") { 1e-9 } else { 1e-4 };
            match w.as_f64() {
                // lm-eval's closed form (means) and its Python-seeded bootstrap (mcc, f1, perplexity).
                Some(w) => assert!(rel_close(ours.as_f64().unwrap(), w, tol), "{label}: {key} {ours} vs lm-eval {w}"),
                // lm-eval has no stderr for weighted perplexities; tinyeval's is
                // lm-eval's bootstrap_stderr run on the same items.
                // ... and none for a single doc, as lm-eval.
                None if result.samples.len() < 2 => assert_eq!(*ours, "N/A", "{label}: {key}"),
                None => {
                    let b = golden["bootstrap"][base].as_f64().unwrap_or_else(|| panic!("{label}: no bootstrap golden for {base} ({agg})"));
                    assert!(rel_close(ours.as_f64().unwrap(), b, 1e-4), "{label}: {key} {ours} vs bootstrap_stderr {b}");
                }
            }
        } else if matches!(metric, "acc" | "acc_norm" | "exact_match" | "mcc" | "f1") {
            assert_eq!(ours.as_f64().unwrap(), w.as_f64().unwrap(), "{label}: {key}");
        } else {
            assert!(rel_close(ours.as_f64().unwrap(), w.as_f64().unwrap(), 1e-4), "{label}: {key} {ours} vs lm-eval {w}");
        }
    }
    assert_eq!(r["sample_len"], want["sample_len"], "{label}: sample_len");
    assert_eq!(json["n-shot"][task_name], shots);
    eprintln!("{label}: {} ; max |Δ loglikelihood| (relative for rolling) {worst:.2e}", serde_json::to_string(r).unwrap());
}

#[test]
fn glue_multiple_choice_matches_lm_eval() {
    for f in ["leaner_glue_sst2_0shot.json", "leaner_glue_sst2_2shot.json", "leaner_glue_rte_0shot.json", "leaner_glue_rte_2shot.json"] {
        check_golden(f);
    }
}

#[test]
fn glue_mcc_f1_and_mnli_match_lm_eval() {
    for f in ["leaner_glue_cola_0shot.json", "leaner_glue_mrpc_0shot.json", "leaner_glue_mnli_2shot.json"] {
        check_golden(f);
    }
}

#[test]
fn qqp_qnli_wnli_and_mnli_mismatched_match_lm_eval() {
    for f in ["leaner_glue_qqp_0shot.json", "leaner_glue_qnli_0shot.json", "leaner_glue_wnli_0shot.json", "leaner_glue_mnli_mismatch_0shot.json"] {
        check_golden(f);
    }
}

#[test]
fn pretrain_perplexity_matches_lm_eval() {
    for g in ["book", "code", "conversation", "math", "textbook", "web", "wiki"] {
        check_golden(&format!("leaner_pretrain_ppl_{g}_0shot.json"));
    }
}

#[test]
fn loglikelihood_and_generation_match_lm_eval() {
    check_golden("tinyeval_ll_sst2_0shot.json");
    check_golden("tinyeval_gen_sst2_0shot.json");
}

#[test]
fn encode_pair_moves_trailing_whitespace_to_the_continuation() {
    use tinyeval_core::tasks::evaluator::encode_pair;
    use tinyeval_core::tokenizer::TextTokenizer;
    let dir = repo_root().join("public/models/llama-2k-1m-random");
    let tok = TextTokenizer::from_bytes(
        "tokenizer.json",
        &std::fs::read(dir.join("tokenizer.json")).unwrap(),
        std::fs::read(dir.join("tokenizer_config.json")).ok().as_deref(),
    )
    .unwrap();
    let a = encode_pair(&tok, "Question: yes or no?\nAnswer: ", "yes").unwrap();
    let b = encode_pair(&tok, "Question: yes or no?\nAnswer:", " yes").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.context, tok.encode("Question: yes or no?\nAnswer:").unwrap());
    let whole = tok.encode("Question: yes or no?\nAnswer: yes").unwrap();
    assert_eq!([a.context.clone(), a.continuation.clone()].concat(), whole);
    // An empty context becomes the prefix token (BOS = EOS for gpt-2K).
    let e = encode_pair(&tok, "", "yes").unwrap();
    assert_eq!(e.context, vec![tok.eos_token_id.unwrap()]);
    assert_eq!(e.continuation, tok.encode_plain("yes", false).unwrap());
}

/// The stepwise evaluator gives its caller the event loop back while it
/// prepares the requests, not only between batches: with 2-shot prompts,
/// rendering and tokenizing a whole task at once held the page for a second.
#[test]
fn stepwise_evaluation_pauses_while_it_prepares_and_stops_when_told() {
    use std::cell::RefCell;
    use tinyeval_core::Error;
    use tinyeval_core::tasks::evaluator::PREPARE_STEP;
    use tinyeval_core::tasks::{EvalProgress, evaluate_task_stepwise};

    let model = LanguageModel::load_path(&repo_root().join("public/models/llama-2k-1m-random"), &Device::flex()).unwrap();
    let mut task = tinyeval_core::tasks::builtin_task("demo_sentiment").unwrap().unwrap();
    task.resolve_data_roots(&[("demo", repo_root().join("public/tasks/demo").to_str().unwrap())]);
    let docs = load_task_docs(&task, &repo_root()).unwrap();
    let limit = 3 * PREPARE_STEP + 5;
    let options = EvalOptions { num_fewshot: Some(2), limit: Some(limit), batch_size: 16, seed: 1234, bootstrap_iters: 0 };

    let calls = RefCell::new(Vec::<EvalProgress>::new());
    let stepwise = pollster::block_on(evaluate_task_stepwise(&model, &task, &docs, options, |p| {
        calls.borrow_mut().push(p);
        async { Ok(()) }
    }))
    .unwrap();
    let calls = calls.into_inner();
    // Three pauses while rendering the prompts and three while tokenizing them, before any scoring.
    let preparing = calls.iter().take_while(|p| p.requests_total == 0).count();
    assert_eq!(preparing, 6, "{calls:?}");
    assert!(calls[..preparing].iter().all(|p| p.requests_done == 0 && p.tokens_done == 0));
    // Then one call per batch of 16 of the 2 requests per doc, counting up to all of them.
    let batches = &calls[preparing..];
    assert_eq!(batches.len(), (2 * limit).div_ceil(16));
    assert!(batches.iter().all(|p| p.requests_total == 2 * limit));
    assert!(batches.windows(2).all(|w| w[0].requests_done < w[1].requests_done));
    assert_eq!(batches.last().unwrap().requests_done, 2 * limit);
    // The numbers are those of the plain evaluation.
    let plain = pollster::block_on(evaluate_task(&model, &task, &docs, options)).unwrap();
    assert_eq!(serde_json::to_value(&stepwise.metrics).unwrap(), serde_json::to_value(&plain.metrics).unwrap());

    // Told to stop at the first pause, it stops there, before scoring anything.
    let mut told = 0;
    let stopped = pollster::block_on(evaluate_task_stepwise(&model, &task, &docs, options, |p| {
        told += 1;
        assert_eq!(p.requests_total, 0);
        async { Err(Error::Cancelled) }
    }));
    assert!(matches!(stopped, Err(Error::Cancelled)), "{:?}", stopped.err());
    assert_eq!(told, 1);
}
