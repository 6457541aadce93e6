//! An LLM judge for Leaner-Eval responses through any OpenAI-compatible chat
//! endpoint (`POST {base}/chat/completions`: OpenAI, a llama.cpp server,
//! Ollama, vLLM…), scoring each response 0–5 for grammar, coherence and
//! specificity, TinyHelen's three criteria.
//!
//! Only the request and the reply are here (JSON in, JSON out); the caller
//! sends it (the CLI with a blocking client, the page with `fetch`), so the
//! same code builds and parses on both sides.
//!
//! The prompt is TinyHelen's evaluation prompt,
//! `prompts/simplification/eval/instruction_following_generation_comparison.txt`,
//! read by the caller at run time (it is not copied here): its `{question}` is
//! replaced by the question and its `{generations}` by the one response as
//! generation `A` (`###A\n{response}\n`, the layout of the prompt's example).
//! The judge answers `A. g\tc\ts`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Where TinyHelen's evaluation prompt lies inside the TinyHelen folder.
pub const TINYHELEN_PROMPT_PATH: &str = "prompts/simplification/eval/instruction_following_generation_comparison.txt";

/// The scores of one response, each in 0..=5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JudgeScores {
    pub grammar: f64,
    pub coherence: f64,
    pub specificity: f64,
}

/// `{base}/chat/completions`, whether or not `base` ends in a slash.
pub fn chat_completions_url(base: &str) -> String {
    format!("{}/chat/completions", base.trim_end_matches('/'))
}

/// The judge's prompt for one response (see the module's documentation).
pub fn judge_prompt(template: &str, question: &str, response: &str) -> Result<String> {
    for placeholder in ["{question}", "{generations}"] {
        if !template.contains(placeholder) {
            return Err(Error::Judge(format!("the judge prompt has no `{placeholder}` placeholder")));
        }
    }
    // `{generations}` first, so that a question containing "{generations}" stays as it is.
    Ok(template.replace("{generations}", &format!("###A\n{response}\n")).replace("{question}", question))
}

/// The body of a chat-completions request: one user message, greedy
/// (`temperature` 0) so that a judge that honours it is repeatable.
pub fn chat_request(model: &str, prompt: &str, max_tokens: Option<u32>) -> Value {
    let mut body = json!({
        "model": model,
        "messages": [{ "role": "user", "content": prompt }],
        "temperature": 0,
    });
    if let Some(m) = max_tokens {
        body["max_tokens"] = json!(m);
    }
    body
}

/// The assistant's text from a chat-completions reply (`choices[0].message.content`),
/// or the endpoint's own error message (`{"error": {"message": ...}}`).
pub fn parse_chat_response(body: &str) -> Result<String> {
    let excerpt = || body.chars().take(200).collect::<String>();
    let v: Value = serde_json::from_str(body)
        .map_err(|e| Error::Judge(format!("the endpoint's reply is not JSON ({e}): {}", excerpt())))?;
    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
        let message = err.get("message").and_then(Value::as_str).map_or_else(|| err.to_string(), str::to_string);
        return Err(Error::Judge(format!("the endpoint answered with an error: {message}")));
    }
    v.pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Judge(format!("the reply has no `choices[0].message.content` string: {}", excerpt())))
}

/// Numbers in a piece of text (`4`, `3.5`), in order.
fn numbers(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == '.' && !current.is_empty() && !current.contains('.')) {
            current.push(c);
        } else if !current.is_empty() {
            if let Ok(x) = current.trim_end_matches('.').parse() {
                out.push(x);
            }
            current.clear();
        }
    }
    out
}

/// The rest of a line that starts with the label `A` (`A. `, `A:`, `A)`,
/// `**A.**`, `###A`…), or `None`.
fn after_label_a(line: &str) -> Option<&str> {
    let l = line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '#' | '`' | '-' | '>'));
    let rest = l.strip_prefix('A')?;
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if matches!(c, '.' | ':' | ')' | '*' | '\t' | ' ') => Some(&rest[c.len_utf8()..]),
        _ => None,
    }
}

/// The three scores in the judge's reply. Accepted: the prompt's format
/// `A. 4\t3\t2` (tabs, spaces, commas, slashes, or a literal `\t` as the
/// prompt's example writes it), with or without the label and markdown around
/// it, or a JSON object with `grammar`, `coherence` and `specificity`. The
/// line labelled `A` is preferred; otherwise the first line with three numbers.
pub fn parse_judge_scores(reply: &str) -> Result<JudgeScores> {
    let excerpt = || reply.chars().take(200).collect::<String>();
    let check = |g: f64, c: f64, s: f64| {
        for (name, x) in [("grammar", g), ("coherence", c), ("specificity", s)] {
            if !(0.0..=5.0).contains(&x) {
                return Err(Error::Judge(format!("{name} score {x} is outside 0–5 in the judge's reply: {}", excerpt())));
            }
        }
        Ok(JudgeScores { grammar: g, coherence: c, specificity: s })
    };
    let trimmed = reply.trim().trim_start_matches("```json").trim_matches('`').trim();
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(trimmed) {
        let get = |k: &str| o.get(k).and_then(Value::as_f64);
        if let (Some(g), Some(c), Some(s)) = (get("grammar"), get("coherence"), get("specificity")) {
            return check(g, c, s);
        }
    }
    let unescaped = reply.replace("\\t", "\t");
    let lines: Vec<&str> = unescaped.lines().collect();
    let labelled = lines.iter().filter_map(|l| after_label_a(l));
    let any = lines.iter().copied();
    for candidate in labelled.chain(any) {
        let n = numbers(candidate);
        if n.len() >= 3 {
            return check(n[0], n[1], n[2]);
        }
    }
    Err(Error::Judge(format!("no three scores (grammar, coherence, specificity) in the judge's reply: {}", excerpt())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_in_many_shapes() {
        let want = JudgeScores { grammar: 4.0, coherence: 3.0, specificity: 2.0 };
        for reply in [
            "A. 4\t3\t2",
            "A. 4\\t3\\t2",
            "##EVALUATIONS\n**A.** 4, 3, 2\n",
            "Sure! Here are my scores.\nA: 4 / 3 / 2",
            "4\t3\t2",
            "```json\n{\"grammar\": 4, \"coherence\": 3, \"specificity\": 2}\n```",
        ] {
            assert_eq!(parse_judge_scores(reply).unwrap(), want, "{reply:?}");
        }
        assert_eq!(parse_judge_scores("A. 4.5\t3\t2").unwrap().grammar, 4.5);
        let e = parse_judge_scores("A. 7\t3\t2").unwrap_err().to_string();
        assert!(e.contains("grammar score 7"), "{e}");
        let e = parse_judge_scores("I cannot rate this.").unwrap_err().to_string();
        assert!(e.contains("no three scores"), "{e}");
    }
}
