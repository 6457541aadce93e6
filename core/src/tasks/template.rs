//! lm-eval-harness's `doc_to_text`, `doc_to_target` and `doc_to_choice`: a doc
//! field name, a Jinja template (minijinja, strict undefined, trailing newline
//! kept, as lm-eval's Jinja2 environment), an integer or a literal list.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::{DocField, TaskConfig};

/// Instructions one rendering may execute. lm-eval's templates take a few
/// hundred; a loop that would run for hours stops here with an error instead.
const TEMPLATE_FUEL: u64 = 10_000_000;

/// Renders a Jinja template against a doc's fields.
pub fn render(template: &str, doc: &Value) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| Error::Input(format!("template syntax: {e}")))?;
    env.set_syntax(syntax);
    env.render_str(template, minijinja::value::Serde(doc))
        .map_err(|e| Error::Input(format!("cannot render template {template:?}: {e}")))
}

fn field_name<'a>(doc: &'a Value, s: &str) -> Option<&'a Value> {
    doc.as_object().and_then(|o| o.get(s))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// `doc_to_text`: a string (or an integer, for templates that render to digits
/// when the task has choices).
pub fn doc_to_text(config: &TaskConfig, doc: &Value) -> Result<Value> {
    resolve(&config.doc_to_text, config, doc, false)
}

/// `doc_to_target`: an index into the choices, a string, or a list.
pub fn doc_to_target(config: &TaskConfig, doc: &Value) -> Result<Value> {
    resolve(&config.doc_to_target, config, doc, true)
}

fn resolve(field: &DocField, config: &TaskConfig, doc: &Value, is_target: bool) -> Result<Value> {
    match field {
        DocField::Index(i) => Ok(Value::from(*i)),
        DocField::List(l) => Ok(Value::from(l.clone())),
        DocField::Template(t) => {
            if let Some(v) = field_name(doc, t) {
                return Ok(v.clone());
            }
            let s = render(t, doc)?;
            if is_digits(&s) && config.doc_to_choice.is_some() {
                let n: i64 = s.parse().map_err(|_| Error::Input(format!("`{s}` is too large an index")))?;
                return Ok(Value::from(n));
            }
            if is_target && s.len() >= 2 && s.starts_with('[') && s.ends_with(']') {
                if let Ok(v) = parse_python_literal(&s) {
                    return Ok(v);
                }
            }
            Ok(Value::String(s))
        }
    }
}

/// `doc_to_choice`: the list of choices.
pub fn doc_to_choice(config: &TaskConfig, doc: &Value) -> Result<Vec<String>> {
    let value = match &config.doc_to_choice {
        None => return Err(Error::Input(format!("task {}: doc_to_choice is not set", config.task))),
        Some(DocField::List(l)) => return Ok(l.clone()),
        Some(DocField::Index(i)) => return Err(Error::Input(format!("task {}: doc_to_choice is the integer {i}, not a list", config.task))),
        Some(DocField::Template(t)) => match field_name(doc, t) {
            Some(v) => v.clone(),
            None => parse_python_literal(&render(t, doc)?)
                .map_err(|e| Error::Input(format!("task {}: doc_to_choice: {e}", config.task)))?,
        },
    };
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Ok(other.to_string()),
            })
            .collect(),
        other => Err(Error::Input(format!("task {}: doc_to_choice gave {other}, not a list", config.task))),
    }
}

/// The text of a few-shot answer: `choices[target]` for an index, the first of a
/// list, or the string itself (lm-eval's `build_qa_turn`).
pub fn answer_text(choices: Option<&[String]>, target: &Value) -> Result<String> {
    match (choices, target) {
        (Some(c), Value::Number(n)) if n.is_i64() => {
            let i = n.as_i64().unwrap_or(-1);
            usize::try_from(i)
                .ok()
                .and_then(|i| c.get(i))
                .cloned()
                .ok_or_else(|| Error::Input(format!("target index {i} is outside the {} choices", c.len())))
        }
        (_, Value::Array(a)) => match a.first() {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(Error::Input(format!("target {target} is not a list of strings"))),
        },
        (_, Value::String(s)) => Ok(s.clone()),
        _ => Err(Error::Input(format!("target {target} is not a string"))),
    }
}

/// Python's `ast.literal_eval` for what templates produce: lists, strings,
/// integers, floats, True/False/None.
pub fn parse_python_literal(text: &str) -> Result<Value> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = LiteralParser { s: &chars, i: 0 };
    let v = p.value()?;
    p.ws();
    if p.i != chars.len() {
        return Err(p.err());
    }
    Ok(v)
}

struct LiteralParser<'a> {
    s: &'a [char],
    i: usize,
}

impl LiteralParser<'_> {
    fn err(&self) -> Error {
        Error::Input(format!(
            "cannot read {:?} as a Python literal (at character {})",
            self.s.iter().collect::<String>(),
            self.i
        ))
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_whitespace() {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Result<Value> {
        self.ws();
        match self.s.get(self.i) {
            Some('[') | Some('(') => {
                let close = if self.s[self.i] == '[' { ']' } else { ')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&close) {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(',') => self.i += 1,
                        Some(c) if *c == close => {}
                        _ => return Err(self.err()),
                    }
                }
            }
            Some('\'') | Some('"') => {
                let quote = self.s[self.i];
                self.i += 1;
                let mut out = String::new();
                while let Some(&c) = self.s.get(self.i) {
                    self.i += 1;
                    if c == quote {
                        return Ok(Value::String(out));
                    }
                    if c == '\\' {
                        let e = *self.s.get(self.i).ok_or_else(|| self.err())?;
                        self.i += 1;
                        out.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            other => other,
                        });
                    } else {
                        out.push(c);
                    }
                }
                Err(self.err())
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len() && !matches!(self.s[self.i], ',' | ']' | ')') && !self.s[self.i].is_whitespace() {
                    self.i += 1;
                }
                let word: String = self.s[start..self.i].iter().collect();
                match word.as_str() {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    "None" => Ok(Value::Null),
                    w => {
                        if let Ok(n) = w.parse::<i64>() {
                            Ok(Value::from(n))
                        } else if let Ok(f) = w.parse::<f64>() {
                            Ok(Value::from(f))
                        } else {
                            Err(self.err())
                        }
                    }
                }
            }
            None => Err(self.err()),
        }
    }
}
