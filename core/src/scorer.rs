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

/// Scores `requests` `batch_size` at a time, longest first (as lm-eval-harness
/// orders them), so that a batch holds requests of about one length and little
/// of each forward pass is padding; the scores come back in the requests'
/// order. Ties keep their order, so the batches are the same on every run and
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
    let chunks: Vec<&[usize]> = order.chunks(batch_size.max(1)).collect();
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
