//! Where a run's forward passes are done: [`BatchScorer`]. Every scoring run
//! (text scores, membership checks, benchmark tasks) passes through
//! [`score_in_length_order`], which forms the batches and hands them to the
//! model's scorer: its own decoder, one batch at a time, or a pool of copies
//! of the model elsewhere (the page's Web Workers), several batches at once.
//! The batches are formed before they are shared out and their scores are put
//! back in the requests' order, so the numbers do not depend on how many
//! batches are in flight, nor on which copy scored which.

use std::future::Future;
use std::pin::Pin;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::error::Result;
use crate::model::Decoder;
use crate::scoring::{ScoreRequest, TokenScores, score_batch};

/// A batch's scores, on their way.
pub type ScoresFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<TokenScores>>> + 'a>>;

/// Scores batches of requests, each in one forward pass of a copy of the model.
pub trait BatchScorer {
    /// How many batches it scores at once (1 for a decoder in this thread).
    fn parallelism(&self) -> usize;

    /// The scores of `batch`, in its order, as [`score_batch`] gives them.
    fn score(&self, batch: Vec<ScoreRequest>) -> ScoresFuture<'_>;
}

impl BatchScorer for Decoder {
    fn parallelism(&self) -> usize {
        1
    }

    fn score(&self, batch: Vec<ScoreRequest>) -> ScoresFuture<'_> {
        Box::pin(async move { score_batch(self, &batch).await })
    }
}

/// Requests up to this long fill a batch to its `batch_size`. Longer ones go
/// a few at a time, within `batch_size` x [`LONG_TOKENS_PER_REQUEST`] padded
/// tokens a batch: on the CPU, padding a full batch of long texts to its
/// longest took 2.5 times as long as scoring them one by one (SmolLM2, 12
/// Leaner-Pretrain texts of 63 to 994 tokens: 39.7 s against 15.8 s), and
/// batches of about 2,048 padded tokens 1.5 times as long (23.5 s).
const SHORT_REQUEST: usize = 256;
const LONG_TOKENS_PER_REQUEST: usize = 128;

/// Scores `requests` `batch_size` at a time at most, longest first (as
/// lm-eval-harness orders them), so that a batch holds requests of about one
/// length and little of each forward pass is padding; a batch of long
/// requests holds fewer (see [`SHORT_REQUEST`]). The scores come
/// back in the requests' order, the same whatever the batches. Ties keep their order, so the batches are the same on every run and
/// for every scorer. Up to `scorer.parallelism()` batches are in flight at
/// once; `after_batch` gets each batch once scored, in the batches' order,
/// with the count scored so far, and an error it returns stops the run.
pub async fn score_in_length_order<F, Fut>(
    scorer: &dyn BatchScorer,
    requests: &[ScoreRequest],
    batch_size: usize,
    mut after_batch: F,
) -> Result<Vec<TokenScores>>
where
    F: FnMut(&[ScoreRequest], usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(requests[i].context.len() + requests[i].continuation.len()));
    // The forward pass's length: the model sees (context + continuation)[:-1].
    let length = |i: usize| (requests[i].context.len() + requests[i].continuation.len()).saturating_sub(1);
    let chunks = batches(&order, length, batch_size.max(1));
    let batches = stream::iter(chunks.iter().map(|chunk| {
        let batch: Vec<ScoreRequest> = chunk.iter().map(|&i| requests[i].clone()).collect();
        async move {
            let scores = scorer.score(batch.clone()).await?;
            Ok::<_, crate::Error>((batch, scores))
        }
    }))
    .buffered(scorer.parallelism().max(1));
    let mut batches = std::pin::pin!(batches);
    let mut scores = vec![TokenScores::default(); requests.len()];
    let mut done = 0;
    let mut chunk_of = chunks.iter();
    while let Some((batch, batch_scores)) = batches.try_next().await? {
        let chunk = chunk_of.next().expect("one chunk per batch");
        if batch_scores.len() != chunk.len() {
            return Err(crate::Error::Device(format!("a batch of {} requests came back with {} scores", chunk.len(), batch_scores.len())));
        }
        for (&i, s) in chunk.iter().zip(batch_scores) {
            scores[i] = s;
        }
        done += chunk.len();
        after_batch(&batch, done).await?;
    }
    Ok(scores)
}

/// Cuts `order` (longest first) into batches of at most `batch_size`; one
/// whose longest request is longer than [`SHORT_REQUEST`] also within
/// `batch_size` x [`LONG_TOKENS_PER_REQUEST`] padded tokens, unless it holds
/// a single request.
fn batches(order: &[usize], length: impl Fn(usize) -> usize, batch_size: usize) -> Vec<&[usize]> {
    let budget = batch_size * LONG_TOKENS_PER_REQUEST;
    let mut out = Vec::new();
    let mut rest = order;
    while let Some(&first) = rest.first() {
        let longest = length(first);
        let fits = |n: usize| n == 1 || longest <= SHORT_REQUEST || n * longest <= budget;
        let take = (1..=batch_size.min(rest.len())).rev().find(|&n| fits(n)).unwrap_or(1);
        let (batch, after) = rest.split_at(take);
        out.push(batch);
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_requests_fill_the_batch_and_long_ones_share_the_budget() {
        // Lengths already longest first.
        let lengths = [994, 697, 663, 570, 563, 504, 497, 475, 453, 187, 159, 63];
        let order: Vec<usize> = (0..lengths.len()).collect();
        let sizes: Vec<usize> = batches(&order, |i| lengths[i], 8).iter().map(|b| b.len()).collect();
        // 8 x 128 = 1,024 padded tokens: one at a time down to 2 x 504 and 2 x 475,
        // then the short ones together.
        assert_eq!(sizes, [1, 1, 1, 1, 1, 2, 2, 3]);
        let short: Vec<usize> = (0..20).collect();
        let sizes: Vec<usize> = batches(&short, |_| SHORT_REQUEST, 8).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [8, 8, 4]);
        // A request longer than the whole budget still goes, alone.
        assert_eq!(batches(&[0, 1], |_| 5000, 8).iter().map(|b| b.len()).collect::<Vec<_>>(), [1, 1]);
    }
}
