//! `tinyeval leaner-eval` on the demo model with a stub OpenAI-compatible judge
//! on 127.0.0.1 (a plain std::net server in this file): the requests the CLI
//! sends (path, key, body) and the scores it records from the replies; a reply
//! it cannot read is recorded per item, an HTTP error stops the run with the
//! endpoint's message. The judge-free metrics themselves are checked against
//! Python in core/tests/leaner_eval.rs. Needs the TinyHelen folder (for the
//! Leaner vocabulary): `$TINYHELEN_DIR`, else ../shared/data/tinyhelen;
//! skipped with a message if it is absent, and failed then under CI.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

mod common;
use common::{repo_root, require, tinyhelen_dir};

/// The TinyHelen folder, if its Leaner-Pretrain train files are there (see `require`).
fn tinyhelen() -> Option<PathBuf> {
    let dir = tinyhelen_dir();
    require(&dir.join("data/leaner/10M/train"), "the Leaner-Pretrain train files").then_some(dir)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tinyeval-leaner-eval-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One request as the stub saw it.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    authorization: Option<String>,
    body: Value,
}

/// Serves `replies.len()` requests, the i-th answered with `replies[i]` (status, body).
fn stub_server(replies: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Seen>>>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let handle = std::thread::spawn(move || {
        for (status, reply) in replies {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut length, mut authorization) = (0usize, None);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "authorization" => authorization = Some(value.trim().to_string()),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen2.lock().unwrap().push(Seen {
                request_line: request_line.trim_end().to_string(),
                authorization,
                body: serde_json::from_slice(&body).unwrap(),
            });
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
        }
    });
    (base, seen, handle)
}

fn chat_reply(content: &str) -> String {
    json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}).to_string()
}

const TEMPLATE: &str = "Rate it.\n##QUESTION\n{question}\n\n##GENERATIONS\n{generations}\n##EVALUATIONS\n";

fn leaner_eval(dir: &Path, tinyhelen: &Path, base: &str, out: &Path) -> Output {
    let questions = dir.join("questions.jsonl");
    std::fs::write(
        &questions,
        "{\"question\": \"Why do we wear seatbelts in a car?\", \"source\": \"t\", \"hash\": \"h1\"}\n\n{\"question\": \"What makes you happy?\"}\n",
    )
    .unwrap();
    let template = dir.join("judge_prompt.txt");
    std::fs::write(&template, TEMPLATE).unwrap();
    Command::new(env!("CARGO_BIN_EXE_tinyeval"))
        .args(["leaner-eval", "--max_new_tokens", "6", "--judge_model", "stub-judge", "--judge_key_env", "TINYEVAL_TEST_JUDGE_KEY"])
        .arg("--model")
        .arg(repo_root().join("public/models/llama-2k-1m-random"))
        .arg("--tinyhelen_dir")
        .arg(tinyhelen)
        .arg("--split")
        .arg(&questions)
        .arg("--judge_prompt")
        .arg(&template)
        .args(["--judge_url", base])
        .arg("--output_path")
        .arg(out)
        .env("TINYEVAL_TEST_JUDGE_KEY", "sekrit")
        .output()
        .unwrap()
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn judge_requests_and_scores() {
    let Some(tinyhelen) = tinyhelen() else { return };
    let dir = temp_dir("judge");
    let out = dir.join("out");
    let (base, seen, server) = stub_server(vec![(200, chat_reply("A. 4\t3\t5")), (200, chat_reply("I'd rather not say."))]);
    let output = leaner_eval(&dir, &tinyhelen, &base, &out);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    server.join().unwrap();

    let samples = read_jsonl(&out.join("samples_leaner_eval.jsonl"));
    assert_eq!(samples.len(), 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let questions = ["Why do we wear seatbelts in a car?", "What makes you happy?"];
    for ((s, sample), question) in seen.iter().zip(&samples).zip(questions) {
        assert_eq!(s.request_line, "POST /v1/chat/completions HTTP/1.1");
        assert_eq!(s.authorization.as_deref(), Some("Bearer sekrit"));
        let response = sample["resps"][0][0].as_str().unwrap();
        let prompt = format!("Rate it.\n##QUESTION\n{question}\n\n##GENERATIONS\n###A\n{response}\n\n##EVALUATIONS\n");
        assert_eq!(
            s.body,
            json!({"model": "stub-judge", "messages": [{"role": "user", "content": prompt}], "temperature": 0})
        );
        assert_eq!(sample["doc"]["question"], question);
        assert_eq!(sample["arguments"][0][0], format!("### TASK INPUT:\n{question}\n\n### RESPONSE:\n"));
    }
    assert_eq!(samples[0]["judge"], json!({"grammar": 4.0, "coherence": 3.0, "specificity": 5.0}));
    assert_eq!(samples[0]["metrics"]["judge_specificity"], 5.0);
    let error = samples[1]["judge"]["error"].as_str().unwrap();
    assert!(error.contains("no three scores") && error.contains("rather not say"), "{error}");

    let results: Value = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let r = &results["results"]["leaner_eval"];
    assert_eq!(r["judge_grammar,none"], 4.0);
    assert_eq!(r["judge_grammar_stderr,none"], "N/A");
    assert_eq!(results["configs"]["leaner_eval"]["judge"]["failures"], 1);
    // The judge-free metrics are there, as means of the samples' values.
    let words: Vec<f64> = samples.iter().map(|s| s["metrics"]["n_words"].as_f64().unwrap()).collect();
    assert_eq!(r["n_words,none"].as_f64().unwrap(), (words[0] + words[1]) / 2.0);
    assert!(r["distinct_1,none"].is_number() || words.iter().all(|&w| w == 0.0));
}

#[test]
fn http_error_names_the_endpoint_and_its_message() {
    let Some(tinyhelen) = tinyhelen() else { return };
    let dir = temp_dir("http-error");
    let body = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}).to_string();
    let (base, _seen, server) = stub_server(vec![(401, body)]);
    let output = leaner_eval(&dir, &tinyhelen, &base, &dir.join("out"));
    server.join().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{base}/chat/completions")) && stderr.contains("401") && stderr.contains("Incorrect API key provided"),
        "{stderr}"
    );
}

#[test]
fn missing_question_names_file_and_line() {
    let Some(tinyhelen) = tinyhelen() else { return };
    let dir = temp_dir("bad");
    let questions = dir.join("bad.jsonl");
    std::fs::write(&questions, "{\"question\": \"Fine?\"}\n{\"prompt\": \"no question\"}\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tinyeval"))
        .arg("leaner-eval")
        .arg("--model")
        .arg(repo_root().join("public/models/llama-2k-1m-random"))
        .arg("--tinyhelen_dir")
        .arg(&tinyhelen)
        .arg("--split")
        .arg(&questions)
        .arg("--output_path")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.jsonl") && stderr.contains("line 2") && stderr.contains("no `question` field"), "{stderr}");
}
