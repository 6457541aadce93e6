//! `generate_until`: the task's generation settings as lm-eval normalizes
//! them, and one request's generation.

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::generation::{GenerationConfig, Generator};
use crate::language_model::LanguageModel;
use crate::tasks::config::TaskConfig;

/// The generation settings of a task as lm-eval normalizes them
/// (`TaskConfig.__post_init__`, then `normalize_gen_kwargs`).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationSettings {
    /// The `generation_kwargs` passed with each request (lm-eval logs them).
    pub kwargs: Value,
    pub until: Vec<String>,
    pub max_gen_toks: usize,
    pub do_sample: bool,
    pub temperature: f64,
    pub top_p: f64,
}

/// lm-eval's `DEFAULT_MAX_GEN_TOKS`.
const DEFAULT_MAX_GEN_TOKS: usize = 256;

pub fn generation_settings(task: &TaskConfig) -> Result<GenerationSettings> {
    let bad = |what: String| Error::Input(format!("task {}: generation_kwargs: {what}", task.task));
    // TaskConfig.__post_init__: defaults when absent, `until` defaulting to the
    // few-shot delimiter, temperature as a float.
    let mut kwargs = match &task.generation_kwargs {
        Some(Value::Object(m)) => {
            let mut m = m.clone();
            if let Some(t) = m.get("temperature") {
                let t = t.as_f64().ok_or_else(|| bad(format!("temperature {t} is not a number")))?;
                m.insert("temperature".into(), json!(t));
            }
            m.entry("until").or_insert_with(|| json!([task.fewshot_delimiter]));
            m
        }
        Some(other) => return Err(bad(format!("{other} is not a mapping"))),
        None => serde_json::from_value(json!({
            "temperature": 0.0, "do_sample": false, "max_gen_toks": DEFAULT_MAX_GEN_TOKS, "until": [task.fewshot_delimiter]
        }))
        .map_err(|e| bad(e.to_string()))?,
    };
    let until = match kwargs.get("until") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad(format!("until entry {v} is not a string"))))
            .collect::<Result<_>>()?,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => return Err(bad(format!("until {other} is neither a string nor a list"))),
    };
    // normalize_gen_kwargs: the first token budget by priority.
    let mut max_gen_toks = DEFAULT_MAX_GEN_TOKS;
    for key in ["max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens"] {
        if let Some(v) = kwargs.get(key).filter(|v| !v.is_null()) {
            max_gen_toks = v.as_u64().ok_or_else(|| bad(format!("{key} {v} is not a non-negative integer")))? as usize;
            break;
        }
    }
    let temperature = match kwargs.get("temperature") {
        Some(v) => v.as_f64().ok_or_else(|| bad(format!("temperature {v} is not a number")))?,
        None => 0.0,
    };
    let do_sample = match kwargs.get("do_sample") {
        None | Some(Value::Null) => temperature > 0.0,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(bad(format!("do_sample {other} is not a boolean"))),
    };
    let top_p = match kwargs.get("top_p") {
        Some(v) => v.as_f64().ok_or_else(|| bad(format!("top_p {v} is not a number")))?,
        None => 1.0,
    };
    kwargs.insert("until".into(), json!(until));
    Ok(GenerationSettings {
        kwargs: Value::Object(kwargs),
        until,
        max_gen_toks,
        do_sample,
        // do_sample=False means greedy whatever the temperature; do_sample=True
        // with temperature 0 samples at transformers' default temperature, 1.
        temperature: if !do_sample { 0.0 } else if temperature == 0.0 { 1.0 } else { temperature },
        top_p,
    })
}

/// One `generate_until` request: the generated text (cut before the first stop
/// string) and the tokens that went through the model.
pub(super) async fn generate_until(model: &LanguageModel, context: &str, settings: &GenerationSettings, seed: i64) -> Result<(String, usize)> {
    let max_len = model.config.max_positions;
    if settings.max_gen_toks >= max_len {
        return Err(Error::Input(format!(
            "max_gen_toks {} must be less than the model's context of {max_len} tokens",
            settings.max_gen_toks
        )));
    }
    let mut tokens = model.tokenizer.encode(context)?;
    // HFLM.tok_batch_encode(left_truncate_len = max_length - max_gen_toks).
    let keep = max_len - settings.max_gen_toks;
    if tokens.len() > keep {
        tokens.drain(..tokens.len() - keep);
    }
    let mut stop = settings.until.clone();
    // lm-eval also stops at the decoded EOS token (handle_stop_sequences).
    if let Some(eos) = model.tokenizer.eos_token_id {
        let s = model.tokenizer.decode(&[eos])?;
        if !s.is_empty() && !stop.contains(&s) {
            stop.push(s);
        }
    }
    let config = GenerationConfig {
        max_new_tokens: settings.max_gen_toks,
        temperature: settings.temperature as f32,
        top_p: settings.top_p as f32,
        seed: seed as u64,
        stop,
    };
    let prompt_len = tokens.len();
    let mut generator = Generator::from_tokens(&model.decoder, &model.tokenizer, tokens, &config)?;
    while generator.next_token().await?.is_some() {}
    let generation = generator.finish();
    Ok((generation.text, prompt_len + generation.tokens.len()))
}
