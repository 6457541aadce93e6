//! Log-probabilities of token sequences under a model.
//!
//! A [`ScoreRequest`] is lm-eval-harness's unit: a context and a continuation;
//! the model sees `(context + continuation)[:-1]` and each continuation token is
//! scored by the distribution that predicts it. For every scored token we also
//! keep the mean and variance of log p over the whole next-token distribution,
//! which Min-K%++ needs.

use burn::tensor::{Int, Tensor, TensorData, activation};

use crate::error::{Error, Result};
use crate::model::Decoder;

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRequest {
    /// At least one token.
    pub context: Vec<u32>,
    pub continuation: Vec<u32>,
}

/// Per continuation token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenScores {
    pub logprobs: Vec<f32>,
    /// E[log p] under the predicting distribution.
    pub means: Vec<f32>,
    /// Var[log p] under the predicting distribution.
    pub variances: Vec<f32>,
    /// Whether the token is the distribution's argmax.
    pub is_greedy: Vec<bool>,
}

impl TokenScores {
    pub fn total_logprob(&self) -> f64 {
        self.logprobs.iter().map(|&x| x as f64).sum()
    }
}

/// Rows of the logits matrix computed at once, as a number of logits.
const LOGITS_PER_CHUNK: usize = 1 << 22;

/// Scores a batch of requests in one forward pass (right-padded, so no real
/// token ever attends to padding and results do not depend on the batch).
pub async fn score_batch(decoder: &Decoder, requests: &[ScoreRequest]) -> Result<Vec<TokenScores>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let max_len = decoder.config().max_positions;
    // Inputs, and how many of their last positions are scored.
    let mut inputs = Vec::with_capacity(requests.len());
    for r in requests {
        if r.context.is_empty() {
            return Err(Error::Input("a scoring request needs at least one context token".into()));
        }
        let mut full: Vec<u32> = r.context.iter().chain(&r.continuation).copied().collect();
        full.pop();
        // Keep the end, as lm-eval-harness does: `(context + continuation)[-(max_length + 1):][:-1]`.
        let input = full.split_off(full.len().saturating_sub(max_len));
        if r.continuation.len() > input.len() {
            return Err(Error::Input(format!(
                "a continuation of {} tokens does not fit the model's context of {max_len}",
                r.continuation.len()
            )));
        }
        inputs.push(input);
    }
    let seq = inputs.iter().map(Vec::len).max().unwrap_or(0);
    let padded: Vec<Vec<u32>> = inputs
        .iter()
        .map(|input| {
            let mut p = input.clone();
            p.resize(seq, 0);
            p
        })
        .collect();

    let device = decoder.device().clone();
    let hidden = decoder.hidden_states(&padded, None);
    let hidden_size = decoder.config().hidden_size;
    let hidden = hidden.reshape([requests.len() * seq, hidden_size]);

    // Only the positions that predict a continuation token go through the LM head.
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (i, (r, input)) in requests.iter().zip(&inputs).enumerate() {
        let first = input.len() - r.continuation.len();
        for (j, &t) in r.continuation.iter().enumerate() {
            rows.push((i * seq + first + j) as i64);
            targets.push(t as i64);
        }
    }
    let total = rows.len();
    if total == 0 {
        return Ok(vec![TokenScores::default(); requests.len()]);
    }
    let chunk = (LOGITS_PER_CHUNK / decoder.config().vocab_size).max(1);
    let mut parts = Vec::new();
    for start in (0..total).step_by(chunk) {
        let end = (start + chunk).min(total);
        let idx = Tensor::<1, Int>::from_data(TensorData::new(rows[start..end].to_vec(), [end - start]), &device);
        let tgt = Tensor::<2, Int>::from_data(TensorData::new(targets[start..end].to_vec(), [end - start, 1]), &device);
        let logits = decoder.logits(hidden.clone().select(0, idx)); // [n, vocab]
        parts.push(token_statistics(logits, tgt));
    }
    let stats = Tensor::cat(parts, 0); // [total, 4]
    let data = stats
        .into_data_async()
        .await
        .map_err(|e| Error::Device(format!("{e:?}")))?;
    let values = data
        .as_slice::<f32>()
        .map_err(|e| Error::Device(format!("{e:?}")))?;

    let mut out = Vec::with_capacity(requests.len());
    let mut k = 0;
    for r in requests {
        let mut s = TokenScores::default();
        for _ in &r.continuation {
            let row = &values[k * 4..k * 4 + 4];
            s.logprobs.push(row[0]);
            s.means.push(row[1]);
            s.variances.push(row[2]);
            s.is_greedy.push(row[3] > 0.5);
            k += 1;
        }
        out.push(s);
    }
    Ok(out)
}

/// For logits [n, vocab] and targets [n, 1]: [n, 4] = (log p(target), E[log p], Var[log p], target is argmax).
fn token_statistics(logits: Tensor<2>, targets: Tensor<2, Int>) -> Tensor<2> {
    let argmax = logits.clone().argmax(1);
    let logp = activation::log_softmax(logits, 1);
    let target_logp = logp.clone().gather(1, targets.clone());
    let p = logp.clone().exp();
    let mean = (p.clone() * logp.clone()).sum_dim(1);
    // Var = E[(log p - mean)^2], more accurate in f32 than E[(log p)^2] - mean^2.
    let variance = (p * (logp - mean.clone()).square()).sum_dim(1);
    let greedy = argmax.equal(targets).float();
    Tensor::cat(vec![target_logp, mean, variance, greedy], 1)
}

/// lm-eval-harness's rolling windows (`get_rolling_token_windows` with
/// `context_len = 1`, then `make_disjoint_window`): every token of `tokens` is
/// scored exactly once, each with as much preceding context as fits in `max_len`;
/// `prefix` predicts the first token.
pub fn rolling_windows(prefix: u32, tokens: &[u32], max_len: usize) -> Vec<ScoreRequest> {
    let mut windows = Vec::new();
    if tokens.is_empty() {
        return windows;
    }
    let first = max_len.min(tokens.len());
    windows.push(ScoreRequest {
        context: vec![prefix],
        continuation: tokens[..first].to_vec(),
    });
    let mut predicted = first;
    while predicted < tokens.len() {
        let pred_len = (tokens.len() - predicted).min(max_len);
        let end = predicted + pred_len;
        // The window's input is tokens[end - max_len - 1 .. end - 1]; what precedes
        // the predicted tokens is its context.
        let window_start = end.saturating_sub(max_len + 1);
        windows.push(ScoreRequest {
            context: tokens[window_start..end - pred_len].to_vec(),
            continuation: tokens[end - pred_len..end].to_vec(),
        });
        predicted = end;
    }
    windows
}
