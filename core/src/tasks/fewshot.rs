//! Prompts with few-shot examples, as lm-eval-harness's default sampler and
//! `ConfigurableTask.fewshot_context` build them (plain text, no chat template).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::TaskConfig;
use crate::tasks::pyrandom::PyRandom;
use crate::tasks::template::{answer_text, doc_to_choice, doc_to_target, doc_to_text, render};

/// lm-eval's `ContextSampler`: one `random.Random(seed)` shared by all the docs
/// of a task, in order.
pub struct FewshotSampler<'a> {
    pool: &'a [Value],
    rng: PyRandom,
}

impl<'a> FewshotSampler<'a> {
    pub fn new(pool: &'a [Value], seed: i64) -> Self {
        Self { pool, rng: PyRandom::new(seed) }
    }

    /// `n` examples; with `exclude`, draws `n + 1` and drops the docs equal to
    /// it (then redraws from the pool without it if fewer than `n` are left).
    pub fn sample(&mut self, n: usize, exclude: Option<&Value>) -> Result<Vec<&'a Value>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let pool = self.pool;
        let want = n + exclude.is_some() as usize;
        if pool.len() < want {
            return Err(Error::Input(format!(
                "{n} few-shot examples were asked for, but the few-shot split has {} docs",
                pool.len()
            )));
        }
        let drawn = self.rng.sample_indices(pool.len(), want);
        let mut res: Vec<&Value> = drawn.iter().map(|&i| &pool[i]).filter(|d| Some(*d) != exclude).take(n).collect();
        if res.len() < n {
            let rest: Vec<&Value> = pool.iter().filter(|d| Some(*d) != exclude).collect();
            if rest.len() < n {
                return Err(Error::Input(format!("not enough few-shot docs other than the evaluated one ({})", rest.len())));
            }
            res = self.rng.sample_indices(rest.len(), n).into_iter().map(|i| rest[i]).collect();
        }
        Ok(res)
    }
}

fn text_of(config: &TaskConfig, doc: &Value) -> Result<String> {
    match doc_to_text(config, doc)? {
        Value::String(s) => Ok(s),
        other => Err(Error::Input(format!("task {}: doc_to_text gave {other}, not a string", config.task))),
    }
}

/// The context of `doc`: the description (rendered, no delimiter), then per
/// example `text + target_delimiter + answer + fewshot_delimiter`, then the
/// doc's text.
pub fn fewshot_context(config: &TaskConfig, doc: &Value, examples: &[&Value]) -> Result<String> {
    let mut out = String::new();
    // lm-eval's `resolve_field`: a field of the doc, else a template.
    if let Some(d) = config.description.as_deref().filter(|d| !d.is_empty()) {
        match doc.get(d) {
            Some(Value::String(s)) => out.push_str(s),
            Some(other) => out.push_str(&other.to_string()),
            None => out.push_str(&render(d, doc)?),
        }
    }
    for ex in examples {
        let q = text_of(config, ex)?;
        let choices = match &config.doc_to_choice {
            Some(_) => Some(doc_to_choice(config, ex)?),
            None => None,
        };
        let a = doc_to_target(config, ex)?;
        let has_answer = !(a.is_null() || a == Value::String(String::new()));
        out.push_str(&q);
        if has_answer {
            out.push_str(&config.target_delimiter);
            out.push_str(&answer_text(choices.as_deref(), &a)?);
            out.push_str(&config.fewshot_delimiter);
        }
    }
    out.push_str(&text_of(config, doc)?);
    Ok(out)
}
