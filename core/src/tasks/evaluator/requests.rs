//! A doc's requests (lm-eval's `Instance`s), their tokens as lm-eval's HF
//! model encodes them, and the check that every doc of a task renders.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::scoring::{ScoreRequest, rolling_windows};
use crate::tasks::config::{OutputType, TaskConfig};
use crate::tasks::data::{DocOrigins, TaskDocs};
use crate::tasks::records::Request;
use crate::tasks::template::{doc_to_choice, doc_to_target};
use crate::tokenizer::TextTokenizer;

use super::generation::{GenerationSettings, generation_settings};

/// lm-eval's `prefix_token_id`: BOS, else EOS.
fn prefix_token(tokenizer: &TextTokenizer) -> Result<u32> {
    tokenizer
        .bos_token_id
        .or(tokenizer.eos_token_id)
        .ok_or_else(|| Error::Input("the tokenizer has neither a BOS nor an EOS token to start a text with".into()))
}

/// lm-eval's `_encode_pair` (see [the evaluator's documentation](super)).
pub fn encode_pair(tokenizer: &TextTokenizer, context: &str, continuation: &str) -> Result<ScoreRequest> {
    if context.is_empty() {
        let cont = tokenizer.encode_plain(continuation, false)?;
        let prefix = prefix_token(tokenizer)?;
        return Ok(if cont.first() != Some(&prefix) {
            ScoreRequest { context: vec![prefix], continuation: cont }
        } else {
            ScoreRequest { context: cont[..1].to_vec(), continuation: cont[1..].to_vec() }
        });
    }
    let trimmed = context.trim_end();
    let (context, continuation) = if trimmed.len() < context.len() {
        (trimmed.to_string(), format!("{}{continuation}", &context[trimmed.len()..]))
    } else {
        (context.to_string(), continuation.to_string())
    };
    let whole = tokenizer.encode(&format!("{context}{continuation}"))?;
    let context_enc = tokenizer.encode(&context)?;
    let continuation_enc = whole.get(context_enc.len()..).unwrap_or_default().to_vec();
    Ok(ScoreRequest { context: context_enc, continuation: continuation_enc })
}

/// lm-eval's rolling windows of a text (`loglikelihood_rolling`).
pub fn rolling_requests(model: &LanguageModel, text: &str) -> Result<Vec<ScoreRequest>> {
    let tokens = model.tokenizer.encode(text)?;
    Ok(rolling_windows(prefix_token(&model.tokenizer)?, &tokens, model.config.max_positions))
}

/// What a doc asks of the model, and what it is scored against.
pub(super) struct DocPlan {
    pub(super) requests: Vec<Request>,
    pub(super) target: Value,
    /// The choices (multiple_choice, or generate_until with doc_to_choice).
    pub(super) choices: Option<Vec<String>>,
    /// The gold choice index (multiple_choice).
    pub(super) gold: i64,
}

/// The gold index of a multiple-choice doc. lm-eval turns a target outside the
/// choices into -100 (never right); tinyeval refuses it, since it is almost
/// always a wrong label type or a wrong `doc_to_choice`.
pub(super) fn gold_index(target: &Value, choices: &[String]) -> std::result::Result<i64, String> {
    match target {
        Value::Number(n) => match n.as_i64() {
            Some(g) if g >= 0 && (g as usize) < choices.len() => Ok(g),
            _ => Err(format!("target {n} is not a choice index (0 to {})", choices.len().saturating_sub(1))),
        },
        Value::String(s) => choices
            .iter()
            .position(|c| c == s)
            .map(|p| p as i64)
            .ok_or_else(|| format!("target {s:?} is not one of the choices {choices:?}")),
        other => Err(format!("target {other} is neither a choice index nor a choice")),
    }
}

pub(super) fn plan_doc(task: &TaskConfig, doc: &Value, context: &str, generation: Option<&GenerationSettings>) -> std::result::Result<DocPlan, String> {
    let target = doc_to_target(task, doc).map_err(|e| e.to_string())?;
    let text_target = |what: &str| -> std::result::Result<String, String> {
        match &target {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!("the {what} (doc_to_target) is {other}, not a string")),
        }
    };
    Ok(match task.output_type {
        OutputType::MultipleChoice => {
            let choices = doc_to_choice(task, doc).map_err(|e| e.to_string())?;
            let gold = gold_index(&target, &choices)?;
            let requests = choices
                .iter()
                .map(|c| Request::Loglikelihood { context: context.to_string(), continuation: format!("{}{c}", task.target_delimiter) })
                .collect();
            DocPlan { requests, target, choices: Some(choices), gold }
        }
        OutputType::Loglikelihood => {
            let continuation = text_target("continuation")?;
            DocPlan { requests: vec![Request::Loglikelihood { context: context.to_string(), continuation }], target, choices: None, gold: -1 }
        }
        OutputType::LoglikelihoodRolling => {
            let text = text_target("text to score")?;
            DocPlan { requests: vec![Request::Rolling { text }], target, choices: None, gold: -1 }
        }
        OutputType::GenerateUntil => {
            let choices = match task.doc_to_choice {
                Some(_) => {
                    let choices = doc_to_choice(task, doc).map_err(|e| e.to_string())?;
                    gold_index(&target, &choices)?;
                    Some(choices)
                }
                None => {
                    text_target("reference answer")?;
                    None
                }
            };
            let kwargs = generation.map(|g| g.kwargs.clone()).unwrap_or(Value::Null);
            DocPlan {
                requests: vec![Request::Generate { context: context.to_string(), generation_kwargs: kwargs }],
                target,
                choices,
                gold: -1,
            }
        }
    })
}

/// Checks that every doc of a task's evaluated and few-shot splits renders
/// (fields present, templates valid, a target of the right type), before any
/// model work; errors name the data file and line from `origins`.
pub fn check_docs(task: &TaskConfig, docs: &TaskDocs, origins: &DocOrigins) -> Result<()> {
    let generation = match task.output_type {
        OutputType::GenerateUntil => Some(generation_settings(task)?),
        _ => None,
    };
    let split = task.eval_split();
    let mut splits = vec![split];
    if let Some(fs) = task.fewshot_source_split().filter(|s| *s != split) {
        splits.push(fs);
    }
    for split in splits {
        let Some(split_docs) = docs.get(split) else { continue };
        for (i, doc) in split_docs.iter().enumerate() {
            let locate = |problem: String| match origins.get(split).and_then(|o| o.get(i)) {
                Some(origin) => Error::bad_file(&origin.file, format!("line {}: task {}: {problem}", origin.line, task.task)),
                None => Error::Input(format!("task {}: split {split}, doc {i}: {problem}", task.task)),
            };
            let context = crate::tasks::template::doc_to_text(task, doc).map_err(|e| locate(e.to_string()))?;
            if !context.is_string() {
                return Err(locate(format!("doc_to_text gave {context}, not a string")));
            }
            plan_doc(task, doc, "", generation.as_ref()).map_err(locate)?;
        }
    }
    Ok(())
}
