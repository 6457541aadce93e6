//! Log-probabilities of token sequences under a model.
//!
//! A [`ScoreRequest`] is lm-eval-harness's unit: a context and a continuation;
//! the model sees `(context + continuation)[:-1]` and each continuation token is
//! scored by the distribution that predicts it. For every scored token we also
//! keep the mean and variance of log p over the whole next-token distribution,
//! which Min-K%++ needs.

use burn::tensor::{Int, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::cpu_kernels::is_plain_cpu;
use crate::logit_statistics;
use crate::model::{Decoder, KvCache};

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

/// The model's input for a request, `(context + continuation)[:-1]` cut to the
/// context window from the left as lm-eval-harness does
/// (`(context + continuation)[-(max_length + 1):][:-1]`).
fn model_input(request: &ScoreRequest, max_len: usize) -> Result<Vec<u32>> {
    if request.context.is_empty() {
        return Err(Error::Input("a scoring request needs at least one context token".into()));
    }
    let mut full: Vec<u32> = request.context.iter().chain(&request.continuation).copied().collect();
    full.pop();
    let input = full.split_off(full.len().saturating_sub(max_len));
    if request.continuation.len() > input.len() {
        return Err(Error::Input(format!(
            "a continuation of {} tokens does not fit the model's context of {max_len}",
            request.continuation.len()
        )));
    }
    Ok(input)
}

/// Scores a batch of requests in one forward pass (right-padded, so no real
/// token ever attends to padding and results do not depend on the batch).
pub async fn score_batch(decoder: &Decoder, requests: &[ScoreRequest]) -> Result<Vec<TokenScores>> {
    let max_len = decoder.config().max_positions;
    let inputs = requests
        .iter()
        .map(|r| model_input(r, max_len))
        .collect::<Result<Vec<_>>>()?;
    let seq = inputs.iter().map(Vec::len).max().unwrap_or(0);
    if seq == 0 {
        return Ok(vec![TokenScores::default(); requests.len()]);
    }
    let config = decoder.config();
    config.check_batch(requests.len(), seq)?;
    // An id past the embedding would fail inside the device's gather, mid-run.
    let vocab = config.vocab_size;
    if let Some(&bad) = requests.iter().flat_map(|r| r.context.iter().chain(&r.continuation)).find(|&&t| t as usize >= vocab) {
        return Err(Error::Input(format!("token id {bad} is outside the model's vocabulary of {vocab}")));
    }
    let padded: Vec<Vec<u32>> = inputs
        .iter()
        .map(|input| {
            let mut p = input.clone();
            p.resize(seq, 0);
            p
        })
        .collect();
    let hidden = decoder
        .hidden_states(&padded, None)
        .reshape([requests.len() * seq, decoder.config().hidden_size]);

    // Only the positions that predict a continuation token go through the LM head.
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (i, (r, input)) in requests.iter().zip(&inputs).enumerate() {
        let first = input.len() - r.continuation.len();
        rows.extend((0..r.continuation.len()).map(|j| i * seq + first + j));
        targets.extend_from_slice(&r.continuation);
    }
    let mut stats = row_statistics(decoder, hidden, &rows, &targets).await?.into_iter();
    Ok(requests
        .iter()
        .map(|r| {
            let mut s = TokenScores::default();
            for row in stats.by_ref().take(r.continuation.len()) {
                s.push(row);
            }
            s
        })
        .collect())
}

/// Scores one request a segment of `segment_len` input tokens at a time, keeping
/// keys and values in a cache, and awaits `pause()` between segments. This bounds
/// the work done between two awaits, so that a single-threaded caller (a browser
/// tab) stays responsive; `pause` returns an error to stop early (e.g. cancelled).
pub async fn score_segmented<F, Fut>(
    decoder: &Decoder,
    request: &ScoreRequest,
    segment_len: usize,
    mut pause: F,
) -> Result<TokenScores>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let input = model_input(request, decoder.config().max_positions)?;
    let first = input.len() - request.continuation.len();
    let mut cache = KvCache::default();
    let mut scores = TokenScores::default();
    for start in (0..input.len()).step_by(segment_len.max(1)) {
        pause().await?;
        let end = (start + segment_len.max(1)).min(input.len());
        let segment = input[start..end].to_vec();
        let hidden = decoder
            .hidden_states(&[segment], Some(&mut cache))
            .reshape([end - start, decoder.config().hidden_size]);
        let predicting = first.max(start)..end;
        if predicting.is_empty() {
            continue;
        }
        let rows: Vec<usize> = predicting.clone().map(|p| p - start).collect();
        let targets = &request.continuation[predicting.start - first..predicting.end - first];
        for row in row_statistics(decoder, hidden, &rows, targets).await? {
            scores.push(row);
        }
    }
    Ok(scores)
}

impl TokenScores {
    fn push(&mut self, [logprob, mean, variance, greedy]: [f32; 4]) {
        self.logprobs.push(logprob);
        self.means.push(mean);
        self.variances.push(variance);
        self.is_greedy.push(greedy > 0.5);
    }
}

/// Rows of LM-head logits computed at once, as a number of logits.
const LOGITS_PER_CHUNK: usize = 1 << 22;

/// For the given rows of `hidden` [n, hidden] and the token each row predicts:
/// (log p(target), E[log p], Var[log p], target is argmax), read back in one transfer.
async fn row_statistics(decoder: &Decoder, hidden: Tensor<2>, rows: &[usize], targets: &[u32]) -> Result<Vec<[f32; 4]>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let device = decoder.device();
    let vocab = decoder.config().vocab_size;
    let chunk = (LOGITS_PER_CHUNK / vocab).max(1);
    // On the CPU the logits are read back and reduced on the host, in one pass
    // a row (see logit_statistics); on a GPU they stay there and only the four
    // statistics a row come back.
    let on_host = is_plain_cpu(device);
    let mut parts = Vec::new();
    let mut host = Vec::new();
    for (rows, targets) in rows.chunks(chunk).zip(targets.chunks(chunk)) {
        let n = rows.len();
        let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [n]), device);
        let logits = decoder.logits(hidden.clone().select(0, idx)); // [n, vocab]
        if on_host {
            let data = logits.into_data_async().await.map_err(|e| Error::Device(format!("{e:?}")))?;
            let values = data.as_slice::<f32>().map_err(|e| Error::Device(format!("{e:?}")))?;
            host.extend(logit_statistics::rows(values, vocab, targets));
            continue;
        }
        let tgt: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
        let tgt = Tensor::<2, Int>::from_data(TensorData::new(tgt, [n, 1]), device);
        parts.push(token_statistics(logits, tgt));
    }
    if on_host {
        return Ok(host);
    }
    let data = Tensor::cat(parts, 0)
        .into_data_async()
        .await
        .map_err(|e| Error::Device(format!("{e:?}")))?;
    let values = data.as_slice::<f32>().map_err(|e| Error::Device(format!("{e:?}")))?;
    Ok(values.chunks_exact(4).map(|r| [r[0], r[1], r[2], r[3]]).collect())
}

/// For logits [n, vocab] and targets [n, 1]: [n, 4] = (log p(target), E[log p], Var[log p], target is argmax).
pub fn token_statistics(logits: Tensor<2>, targets: Tensor<2, Int>) -> Tensor<2> {
    let argmax = logits.clone().argmax(1);
    let max = logits.clone().max_dim(1);
    let shifted = logits - max;
    let exp = shifted.clone().exp();
    let sum = sum_over_vocab(exp.clone());
    let logp = shifted - sum.clone().log();
    let target_logp = logp.clone().gather(1, targets.clone());
    // p = exp(logp) = exp(shifted) / sum: one exp over the vocabulary, not two.
    let p = exp / sum;
    let mean = sum_over_vocab(p.clone() * logp.clone());
    // Var = E[(log p - mean)^2], more accurate in f32 than E[(log p)^2] - mean^2.
    let variance = sum_over_vocab(p * (logp - mean.clone()).square());
    let greedy = argmax.equal(targets).float();
    Tensor::cat(vec![target_logp, mean, variance, greedy], 1)
}

/// Sums [n, vocab] → [n, 1] in two levels (blocks of about sqrt(vocab), then the
/// block sums). One running f32 sum over 50,000 terms drifts by ~1e-4 in log p;
/// two levels keep the error near float32 precision, as PyTorch's reductions do.
fn sum_over_vocab(x: Tensor<2>) -> Tensor<2> {
    let [n, vocab] = x.dims();
    let blocks = (1..=vocab.isqrt()).rev().find(|d| vocab % d == 0).unwrap_or(1);
    x.reshape([n, blocks, vocab / blocks]).sum_dim(2).sum_dim(1).reshape([n, 1])
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
