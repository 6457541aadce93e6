//! What one sample contributes to each metric, from the doc's responses.

use super::{Sample, SampleValue};
use crate::tasks::output_type::OutputType;

/// numpy's argmax: the first maximum.
fn argmax(xs: &[f64]) -> i64 {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best as i64
}

fn hit(s: &Sample, pred: i64) -> SampleValue {
    SampleValue::Score(if pred == s.gold { 1.0 } else { 0.0 })
}

/// multiple_choice: the most likely choice is the gold one; loglikelihood: the
/// continuation is the greedy one.
pub(super) fn acc(s: &Sample) -> Result<SampleValue, String> {
    Ok(match s.output_type {
        OutputType::Loglikelihood => SampleValue::Score(s.greedy.first().copied().unwrap_or(false) as u8 as f64),
        _ => hit(s, argmax(s.logprobs)),
    })
}

/// The most likely choice per character of its text (Python `len()`; the
/// target delimiter not counted).
pub(super) fn acc_norm(s: &Sample) -> Result<SampleValue, String> {
    let by_chars: Vec<f64> = s.logprobs.iter().zip(s.choices).map(|(l, c)| l / c.chars().count() as f64).collect();
    Ok(hit(s, argmax(&by_chars)))
}

/// The most likely choice per UTF-8 byte of its text.
pub(super) fn acc_bytes(s: &Sample) -> Result<SampleValue, String> {
    let by_bytes: Vec<f64> = s.logprobs.iter().zip(s.choices).map(|(l, c)| l / c.len() as f64).collect();
    Ok(hit(s, argmax(&by_bytes)))
}

/// multiple_choice: the gold choice is the greedy continuation; generate_until:
/// the generation equals the gold answer ([`exact_match`]).
pub(super) fn exact_match_sample(s: &Sample) -> Result<SampleValue, String> {
    Ok(SampleValue::Score(match s.output_type {
        OutputType::GenerateUntil => exact_match(s.text, s.gold_text, s.exact_match).map_err(|e| e.to_string())?,
        _ => s.greedy.get(s.gold as usize).copied().unwrap_or(false) as u8 as f64,
    }))
}

/// `(gold, pred)`, aggregated by f1 or matthews_corrcoef.
pub(super) fn gold_pred(s: &Sample) -> Result<SampleValue, String> {
    Ok(SampleValue::GoldPred(s.gold, argmax(s.logprobs)))
}

/// The continuation's log-likelihood (perplexity aggregates `exp(-mean)`).
pub(super) fn loglikelihood(s: &Sample) -> Result<SampleValue, String> {
    s.logprobs.first().map(|&l| SampleValue::Score(l)).ok_or_else(|| "no log-likelihood".into())
}

/// The text's log-likelihood and its words (lm-eval's `count_words`).
pub(super) fn per_word(s: &Sample) -> Result<SampleValue, String> {
    let ll = s.logprobs.first().ok_or("no log-likelihood")?;
    Ok(SampleValue::Weighted(*ll, count_words(s.text) as f64))
}

/// The text's log-likelihood and its UTF-8 bytes.
pub(super) fn per_byte(s: &Sample) -> Result<SampleValue, String> {
    let ll = s.logprobs.first().ok_or("no log-likelihood")?;
    Ok(SampleValue::Weighted(*ll, s.text.len() as f64))
}

/// lm-eval's `count_words`: `len(re.split(r"\s+", text))`, i.e. the runs of
/// whitespace plus one (Python's `\s` is `str.isspace`: Unicode White_Space
/// and the separators U+001C..U+001F).
pub fn count_words(text: &str) -> usize {
    let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let mut runs = 0;
    let mut in_run = false;
    for c in text.chars() {
        let s = is_space(c);
        if s && !in_run {
            runs += 1;
        }
        in_run = s;
    }
    runs + 1
}

/// lm-eval's `exact_match` (ported from Hugging Face evaluate): optional
/// regexes removed, then case, punctuation (Python's `string.punctuation`) and
/// digits ignored as asked, then string equality.
pub fn exact_match(prediction: &str, reference: &str, options: &ExactMatchOptions) -> crate::Result<f64> {
    let prep = |s: &str| -> crate::Result<String> {
        let mut s = s.to_string();
        for r in &options.regexes_to_ignore {
            let re = regex::Regex::new(r)
                .map_err(|e| crate::Error::Input(format!("regexes_to_ignore: `{r}` is not a valid regex: {e}")))?;
            s = re.replace_all(&s, "").into_owned();
        }
        if options.ignore_case {
            s = s.to_lowercase();
        }
        if options.ignore_punctuation {
            s.retain(|c| !c.is_ascii_punctuation());
        }
        if options.ignore_numbers {
            s.retain(|c| !c.is_ascii_digit());
        }
        Ok(s)
    };
    Ok(if prep(prediction)? == prep(reference)? { 1.0 } else { 0.0 })
}

/// The keyword arguments lm-eval passes to `exact_match` from `metric_list`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactMatchOptions {
    pub regexes_to_ignore: Vec<String>,
    pub ignore_case: bool,
    pub ignore_punctuation: bool,
    pub ignore_numbers: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_python_re_split() {
        // len(re.split(r"\s+", s)) for each s
        assert_eq!(count_words("a b"), 2);
        assert_eq!(count_words(" a  b\n"), 4);
        assert_eq!(count_words(""), 1);
        assert_eq!(count_words("a\u{1f}b\u{a0}c"), 3);
    }

    #[test]
    fn exact_match_options() {
        let o = ExactMatchOptions { ignore_case: true, ignore_punctuation: true, ..Default::default() };
        assert_eq!(exact_match("Yes!", "yes", &o).unwrap(), 1.0);
        assert_eq!(exact_match("Yes!", "yes", &ExactMatchOptions::default()).unwrap(), 0.0);
        let r = ExactMatchOptions { regexes_to_ignore: vec![r"\s+$".into()], ..Default::default() };
        assert_eq!(exact_match("no  ", "no", &r).unwrap(), 1.0);
    }
}
