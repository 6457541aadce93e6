//! The corpus of malformed inputs (cli/tests/bad_inputs/, written by
//! scripts/make_bad_inputs.py; the cases are in its cases.json) run through
//! the `tinyeval` binary as a user runs it. Every case must end within 10 s,
//! not by a signal (an abort, a stack overflow) and not by a panic (exit code
//! 101 or "panicked at" on stderr); an "error" case must exit with 1 (2 for
//! clap's usage errors, `exit_code` in the case) and name on stderr every
//! string of its `stderr_contains` (the file and the field or problem); an
//! "ok" case must exit with 0.
//!
//! Each case runs with the corpus folder as its current folder (the task
//! YAMLs' data paths are relative to it), `{dir}` in its arguments replaced by
//! the corpus folder, `{models}` by public/models and `{out}` by a fresh empty
//! folder. It runs under a 6 GiB address-space limit, so that a runaway
//! allocation fails fast (as an abort) instead of taking the machine's memory,
//! and with RAYON_NUM_THREADS=1, two cases at a time. Every failing case is
//! collected and listed at the end (id, what went wrong, the first lines of
//! its stderr); the test fails if cases.json is missing or has fewer than 100 cases.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::repo_root;

const TIME_LIMIT: Duration = Duration::from_secs(10);
const THREADS: usize = 2;
const MIN_CASES: usize = 100;
/// Bytes of stderr kept per case (the rest is read and dropped).
const STDERR_KEEP: usize = 256 * 1024;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ADDRESS_SPACE_LIMIT: u64 = 6 << 30;

struct Case {
    id: String,
    args: Vec<String>,
    expect_ok: bool,
    exit_code: i32,
    stderr_contains: Vec<String>,
}

fn load_cases(corpus: &Path) -> Vec<Case> {
    let path = corpus.join("cases.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: cannot read ({e}); write it with `python3 scripts/make_bad_inputs.py`", path.display()));
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not a JSON list: {e}", path.display()));
    let cases: Vec<Case> = cases
        .iter()
        .map(|c| {
            let field = |k: &str| c.get(k).unwrap_or_else(|| panic!("{}: a case without `{k}`: {c}", path.display()));
            let strings = |k: &str| -> Vec<String> {
                field(k).as_array().unwrap_or_else(|| panic!("{}: `{k}` is not a list: {c}", path.display()))
                    .iter()
                    .map(|s| s.as_str().unwrap_or_else(|| panic!("{}: `{k}` holds a non-string: {c}", path.display())).to_string())
                    .collect()
            };
            let expect = field("expect").as_str().unwrap_or_default();
            assert!(expect == "ok" || expect == "error", "{}: `expect` must be \"ok\" or \"error\": {c}", path.display());
            Case {
                id: field("id").as_str().expect("a string id").to_string(),
                args: strings("args"),
                expect_ok: expect == "ok",
                exit_code: c.get("exit_code").and_then(Value::as_i64).map_or(1, |n| n as i32),
                stderr_contains: strings("stderr_contains"),
            }
        })
        .collect();
    assert!(cases.len() >= MIN_CASES, "{}: {} cases, fewer than {MIN_CASES}", path.display(), cases.len());
    cases
}

/// Why a case failed, or None.
fn run_case(case: &Case, corpus: &Path, models: &Path, scratch: &Path) -> Option<(String, String)> {
    let out = scratch.join(&case.id);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("{dir}", &corpus.display().to_string())
                .replace("{models}", &models.display().to_string())
                .replace("{out}", &out.display().to_string())
        })
        .collect();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tinyeval"));
    command
        .args(&args)
        .current_dir(corpus)
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and touches nothing of the parent's.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit { rlim_cur: ADDRESS_SPACE_LIMIT, rlim_max: ADDRESS_SPACE_LIMIT };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return Some((format!("cannot start tinyeval: {e}"), String::new())),
    };
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut kept, mut buf) = (Vec::new(), [0u8; 8192]);
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = STDERR_KEEP.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        kept
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= TIME_LIMIT => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().unwrap();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Some((format!("cannot wait for tinyeval: {e}"), String::new())),
        }
    };
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    let _ = std::fs::remove_dir_all(&out);

    let problem = if timed_out {
        Some(format!("timeout: still running after {} s (killed)", TIME_LIMIT.as_secs()))
    } else if stderr.contains("panicked at") || status.code() == Some(101) {
        Some(format!("panic (exit code {:?})", status.code()))
    } else if status.code().is_none() {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal: Option<i32> = None;
        Some(format!("abort: killed by signal {signal:?}"))
    } else if case.expect_ok {
        (status.code() != Some(0)).then(|| format!("expected a normal run (exit code 0), got exit code {:?}", status.code()))
    } else if status.code() != Some(case.exit_code) {
        Some(format!("expected an error (exit code {}), got exit code {:?}", case.exit_code, status.code()))
    } else {
        let missing: Vec<&String> = case.stderr_contains.iter().filter(|s| !stderr.contains(s.as_str())).collect();
        (!missing.is_empty()).then(|| format!("unclear message: stderr lacks {missing:?}"))
    };
    problem.map(|p| (format!("{p} [{:.1} s]", elapsed.as_secs_f64()), stderr))
}

#[test]
fn malformed_inputs_end_in_clear_errors() {
    let root = repo_root();
    let corpus = root.join("cli/tests/bad_inputs");
    let models = root.join("public/models");
    let cases = load_cases(&corpus);
    let scratch = std::env::temp_dir().join(format!("tinyeval-bad-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    if let Some((problem, stderr)) = run_case(case, &corpus, &models, &scratch) {
                        failures.lock().unwrap().push((i, problem, stderr));
                    }
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&scratch);

    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|f| f.0);
    if failures.is_empty() {
        return;
    }
    let mut report = format!("{} of {} malformed-input cases failed:\n", failures.len(), cases.len());
    for (i, problem, stderr) in &failures {
        let case = &cases[*i];
        report += &format!("\n- {}: {problem}\n  args: {}\n", case.id, case.args.join(" "));
        if !case.stderr_contains.is_empty() {
            report += &format!("  wanted on stderr: {:?}\n", case.stderr_contains);
        }
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).take(4).collect();
        for line in lines {
            let line: String = line.chars().take(300).collect();
            report += &format!("  | {line}\n");
        }
    }
    panic!("{report}");
}
