//! Leaner-Eval: TinyHelen's 1,594 instruction questions
//! (`data/leaner/eval/all.jsonl` and its similarity splits `split-*.jsonl`),
//! answered by the model after TinyHelen's prompt, with judge-free metrics per
//! response and their means with standard errors. The optional LLM judge is
//! [`crate::judge`].
//!
//! Judge-free metrics of one response (its text, cut before a stop string):
//!
//! | metric               | definition                                                                  |
//! |----------------------|-----------------------------------------------------------------------------|
//! | `n_tokens`           | tokens of the text (`tokenizer.encode(text, add_special_tokens=False)`)      |
//! | `n_words`            | words of the text (see [`words`])                                            |
//! | `distinct_1`, `_2`   | distinct word n-grams / word n-grams (Li et al. 2016)                        |
//! | `repetition_4`       | 1 − distinct word 4-grams / word 4-grams (Welleck et al. 2019's seq-rep-4)   |
//! | `leaner_word_share`  | share of the words that are in the Leaner vocabulary's word set             |
//! | `leaner_token_share` | share of the tokens whose id occurs in the tokenized Leaner vocabulary text |
//!
//! A ratio with no denominator (a response of fewer words than `n`) is `None`
//! and left out of the mean. **The Leaner vocabulary** is taken from the
//! Leaner-Pretrain training files (`data/leaner/10M/train/*.jsonl`, the text
//! TinyHelen's models are trained on): its word set under [`words`], and the
//! token ids the evaluated model's tokenizer gives that text. It is computed at
//! run time from the files the caller reads ([`Vocabulary::from_documents`]),
//! never stored.
//!
//! The whole run, from the questions to the results JSON, is in `run`.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::statistics::mean_stderr;
use crate::tokenizer::TextTokenizer;

mod run;

pub use run::{
    AnswerEvent, AnswerProgress, CRITERIA, HUMAN_COLUMNS, HumanRating, JUDGE_COLUMNS, LeanerEvalRecord, Response, ScoredResponse, aggregates, answer_questions, columns,
    higher_is_better, question_id, results_json, sample_line,
};

/// TinyHelen's instruction format.
pub fn prompt(question: &str) -> String {
    format!("### TASK INPUT:\n{question}\n\n### RESPONSE:\n")
}

/// Where a response ends when the model goes on to write the next section
/// header of its training format (`### TASK INPUT:`) instead of stopping.
pub const DEFAULT_STOP: &str = "\n###";

/// The response budget `tinyeval leaner-eval` and the page start from.
pub const DEFAULT_MAX_NEW_TOKENS: usize = 128;

/// One Leaner-Eval question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// 1-based line of the file.
    pub line: usize,
    pub question: String,
    pub source: Option<String>,
    pub hash: Option<String>,
}

/// The questions of a Leaner-Eval JSONL file (`{"question", "source", "hash"}`
/// per line; only `question` is required). Errors name the file and line.
pub fn parse_questions(file: &str, bytes: &[u8]) -> Result<Vec<Question>> {
    let mut out = Vec::new();
    for (line, v) in crate::jsonl::jsonl_rows(file, bytes)? {
        let bad = |p: String| Error::bad_file(file, format!("line {line}: {p}"));
        let question = match v.get("question") {
            Some(Value::String(q)) => q.clone(),
            Some(_) => return Err(bad("field `question` is not a string".into())),
            None => return Err(bad("no `question` field".into())),
        };
        let string = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        out.push(Question { line, question, source: string("source"), hash: string("hash") });
    }
    if out.is_empty() {
        return Err(Error::bad_file(file, "no questions (the file is empty)"));
    }
    Ok(out)
}

/// The words of a text: maximal runs of ASCII letters, with inner apostrophes
/// (`'` or `’`, written as `'`) kept (`don't` is one word), lowercased. Digits,
/// punctuation and non-ASCII letters separate words. (Python:
/// `[w.replace("’", "'").lower() for w in re.findall(r"[A-Za-z]+(?:['’][A-Za-z]+)*", text)]`.)
pub fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let mut word = String::new();
        loop {
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                word.push(chars[i].to_ascii_lowercase());
                i += 1;
            }
            let apostrophe = i < chars.len() && (chars[i] == '\'' || chars[i] == '’');
            if apostrophe && i + 1 < chars.len() && chars[i + 1].is_ascii_alphabetic() {
                word.push('\'');
                i += 1;
            } else {
                break;
            }
        }
        out.push(word);
    }
    out
}

/// A Leaner-Pretrain document as text, by the convention of this project's
/// data README: `text` (book, conversation, textbook, web, wiki); math is
/// `problem` and its `hints` joined by newlines; code is `prompt`, a newline,
/// `response`. `None` for a line of none of these shapes.
pub fn pretrain_document(doc: &Value) -> Option<String> {
    if let Some(t) = doc.get("text").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    if let Some(p) = doc.get("problem").and_then(Value::as_str) {
        let mut parts = vec![p.to_string()];
        if let Some(hints) = doc.get("hints").and_then(Value::as_array) {
            parts.extend(hints.iter().filter_map(Value::as_str).map(str::to_string));
        }
        return Some(parts.join("\n"));
    }
    match (doc.get("prompt").and_then(Value::as_str), doc.get("response").and_then(Value::as_str)) {
        (Some(p), Some(r)) => Some(format!("{p}\n{r}")),
        _ => None,
    }
}

/// The documents of a Leaner-Pretrain JSONL file ([`pretrain_document`] of
/// each line). Errors name the file and line.
pub fn parse_pretrain_documents(file: &str, bytes: &[u8]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (line, v) in crate::jsonl::jsonl_rows(file, bytes)? {
        let bad = |p: String| Error::bad_file(file, format!("line {line}: {p}"));
        out.push(pretrain_document(&v).ok_or_else(|| bad("no `text`, `problem` or `prompt`/`response` field".into()))?);
    }
    Ok(out)
}

/// The Leaner vocabulary (see the module's documentation).
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub words: HashSet<String>,
    /// Token ids of the evaluated model's tokenizer; empty without one.
    pub tokens: HashSet<u32>,
}

impl Vocabulary {
    /// From the documents' texts; token ids only with a tokenizer.
    pub fn from_documents<'a>(documents: impl IntoIterator<Item = &'a str>, tokenizer: Option<&TextTokenizer>) -> Result<Self> {
        let mut v = Self::default();
        for doc in documents {
            v.words.extend(words(doc));
            if let Some(t) = tokenizer {
                v.tokens.extend(t.encode_plain(doc, false)?);
            }
        }
        Ok(v)
    }
}

impl Vocabulary {
    /// From every `*.jsonl` file of a folder (the Leaner-Pretrain train folder,
    /// `{tinyhelen}/data/leaner/10M/train`).
    #[cfg(not(target_family = "wasm"))]
    pub fn from_dir(dir: &std::path::Path, tokenizer: Option<&TextTokenizer>) -> Result<Self> {
        let name = dir.display().to_string();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::bad_file(&name, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        if files.is_empty() {
            return Err(Error::bad_file(name, "no .jsonl files (expected the Leaner-Pretrain train folder)"));
        }
        files.sort();
        let mut documents = Vec::new();
        for f in files {
            let file = f.display().to_string();
            let bytes = crate::files::read_data_file(&f)?;
            documents.extend(parse_pretrain_documents(&file, &bytes)?);
        }
        Self::from_documents(documents.iter().map(String::as_str), tokenizer)
    }
}

/// The judge-free metrics of one response (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseMetrics {
    pub n_tokens: usize,
    pub n_words: usize,
    pub distinct_1: Option<f64>,
    pub distinct_2: Option<f64>,
    pub repetition_4: Option<f64>,
    pub leaner_word_share: Option<f64>,
    /// `None` without the vocabulary's token ids.
    pub leaner_token_share: Option<f64>,
}

/// Distinct n-grams over n-grams; `None` when there are none.
fn distinct(words: &[String], n: usize) -> Option<f64> {
    if words.len() < n {
        return None;
    }
    let grams: Vec<&[String]> = words.windows(n).collect();
    let unique: HashSet<&[String]> = grams.iter().copied().collect();
    Some(unique.len() as f64 / grams.len() as f64)
}

fn share(hits: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| hits as f64 / total as f64)
}

/// The metrics of a response's text; `tokens` are its ids without special tokens.
pub fn response_metrics(text: &str, tokens: &[u32], vocabulary: &Vocabulary) -> ResponseMetrics {
    let w = words(text);
    ResponseMetrics {
        n_tokens: tokens.len(),
        n_words: w.len(),
        distinct_1: distinct(&w, 1),
        distinct_2: distinct(&w, 2),
        repetition_4: distinct(&w, 4).map(|d| 1.0 - d),
        leaner_word_share: share(w.iter().filter(|x| vocabulary.words.contains(*x)).count(), w.len()),
        leaner_token_share: if vocabulary.tokens.is_empty() {
            None
        } else {
            share(tokens.iter().filter(|t| vocabulary.tokens.contains(t)).count(), tokens.len())
        },
    }
}

/// The mean of a metric over the responses where it is defined, with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Aggregate {
    pub mean: f64,
    /// Sample std (n − 1) / √n, as lm-eval's `mean_stderr`; `None` for n < 2.
    pub stderr: Option<f64>,
    /// Responses where the metric is defined.
    pub n: usize,
}

/// Named per-response values (`None` = undefined) → their aggregates.
pub fn aggregate(values: &BTreeMap<String, Vec<Option<f64>>>) -> BTreeMap<String, Aggregate> {
    values
        .iter()
        .filter_map(|(name, vs)| {
            let defined: Vec<f64> = vs.iter().filter_map(|v| *v).collect();
            let ms = mean_stderr(&defined).ok()?;
            Some((
                name.clone(),
                Aggregate { mean: ms.mean, stderr: (defined.len() > 1).then_some(ms.stderr), n: defined.len() },
            ))
        })
        .collect()
}

impl ResponseMetrics {
    /// `(name, value)` of every metric, counts as floats.
    pub fn named(&self) -> Vec<(&'static str, Option<f64>)> {
        vec![
            ("n_tokens", Some(self.n_tokens as f64)),
            ("n_words", Some(self.n_words as f64)),
            ("distinct_1", self.distinct_1),
            ("distinct_2", self.distinct_2),
            ("repetition_4", self.repetition_4),
            ("leaner_word_share", self.leaner_word_share),
            ("leaner_token_share", self.leaner_token_share),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_inner_apostrophes() {
        assert_eq!(words("Don't stop—it’s 3 o'clock, 'quoted' x'"), ["don't", "stop", "it's", "o'clock", "quoted", "x"]);
    }
}
