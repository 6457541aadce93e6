//! The task evaluator against lm-eval-harness 0.4.13: goldens written by
//! `scripts/make_task_goldens.py` (Leaner-GLUE SST-2 and RTE from TinyHelen,
//! 0- and 2-shot, the first 40 docs, public/models/llama-2k-1m-random), and
//! Python's `random.Random` against `pyrandom.json` from the same script.
//!
//! The TinyHelen folder is `$TINYHELEN_DIR`, else `../shared/data/tinyhelen`
//! beside the repository; the golden test is skipped (with a message) only if
//! it is absent.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tinyeval_core::tasks::data::load_task_docs;
use tinyeval_core::tasks::pyrandom::PyRandom;
use tinyeval_core::tasks::{EvalOptions, builtin_task, evaluate_task};
use tinyeval_core::{Device, LanguageModel};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

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

#[test]
fn tasks_match_lm_eval_harness() {
    let tinyhelen = std::env::var_os("TINYHELEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data/tinyhelen"));
    if !tinyhelen.is_dir() {
        eprintln!(
            "skipped: the TinyHelen folder {} is absent (set TINYHELEN_DIR)",
            tinyhelen.display()
        );
        return;
    }
    let model = LanguageModel::load_path(&repo_root().join("public/models/llama-2k-1m-random"), &Device::flex()).unwrap();
    for (task_name, shots) in [("sst2", 0), ("sst2", 2), ("rte", 0), ("rte", 2)] {
        let label = format!("{task_name} {shots}-shot");
        let golden = fixture(&format!("{task_name}_{shots}shot.json"));
        let mut task = builtin_task(task_name).unwrap().unwrap();
        task.resolve_data_roots(&[("tinyhelen", tinyhelen.to_str().unwrap())]);
        let docs = load_task_docs(&task, Path::new(".")).unwrap();
        let options = EvalOptions {
            num_fewshot: Some(shots),
            limit: Some(golden["limit"].as_u64().unwrap() as usize),
            batch_size: 8,
            seed: 1234,
        };
        let result = pollster::block_on(evaluate_task(&model, &task, &docs, options)).unwrap();
        let samples = golden["samples"].as_array().unwrap();
        assert_eq!(result.samples.len(), samples.len(), "{label}: number of samples");
        let mut worst = 0f64;
        for (ours, theirs) in result.samples.iter().zip(samples) {
            let id = ours.doc_id;
            assert_eq!(id as u64, theirs["doc_id"].as_u64().unwrap(), "{label}: doc order");
            assert_eq!(ours.target, theirs["target"], "{label} doc {id}: target");
            let choices = theirs["choices"].as_array().unwrap();
            assert_eq!(ours.arguments.len(), choices.len(), "{label} doc {id}: number of choices");
            for (j, ((ctx, cont), c)) in ours.arguments.iter().zip(choices).enumerate() {
                assert_eq!(ctx.chars().count() as u64, c["context_chars"].as_u64().unwrap(), "{label} doc {id} choice {j}: context length");
                assert_eq!(crc32(ctx.as_bytes()) as u64, c["context_crc32"].as_u64().unwrap(), "{label} doc {id} choice {j}: context (crc32)");
                assert_eq!(cont, c["continuation"].as_str().unwrap(), "{label} doc {id} choice {j}: continuation");
                let (ll, _) = ours.filtered_resps[j];
                let want = c["loglikelihood"].as_f64().unwrap();
                worst = worst.max((ll - want).abs());
                assert!((ll - want).abs() < 1e-4, "{label} doc {id} choice {j}: loglikelihood {ll} vs lm-eval {want}");
            }
            for m in ["acc", "acc_norm"] {
                let v = match ours.metrics[m] {
                    tinyeval_core::tasks::metrics::SampleValue::Score(v) => v,
                    other => panic!("{other:?}"),
                };
                assert_eq!(v, theirs[m].as_f64().unwrap(), "{label} doc {id}: {m}");
            }
        }
        let json = result.results_json();
        let r = &json["results"][task_name];
        for m in ["acc", "acc_norm"] {
            assert_eq!(r[format!("{m},none")].as_f64().unwrap(), golden[m].as_f64().unwrap(), "{label}: {m}");
        }
        let stderr = r["acc_stderr,none"].as_f64().unwrap();
        assert!((stderr - golden["acc_stderr"].as_f64().unwrap()).abs() < 1e-12, "{label}: acc_stderr");
        assert_eq!(json["n-shot"][task_name], shots);
        eprintln!("{label}: acc {} acc_norm {}, max |Δ loglikelihood| {worst:.2e}", r["acc,none"], r["acc_norm,none"]);
    }
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
    // An empty context becomes the prefix token (EOS for gpt-2K).
    let e = encode_pair(&tok, "", "yes").unwrap();
    assert_eq!(e.context, vec![tok.eos_token_id.unwrap()]);
    assert_eq!(e.continuation, tok.encode_plain("yes", false).unwrap());
}
