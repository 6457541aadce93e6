//! What the page and its workers send each other, as flat typed arrays
//! (structured clone copies them at memory speed; JSON would print and parse
//! every float): scoring requests as token ids, scores as f32 values,
//! bit-exact both ways.

use tinyeval_core::scoring::{ScoreRequest, TokenScores};

/// `[count, then per request: context length, continuation length, context ids, continuation ids]`.
pub fn encode_requests(requests: &[ScoreRequest]) -> Vec<u32> {
    let mut out = vec![requests.len() as u32];
    for r in requests {
        out.push(r.context.len() as u32);
        out.push(r.continuation.len() as u32);
        out.extend_from_slice(&r.context);
        out.extend_from_slice(&r.continuation);
    }
    out
}

pub fn decode_requests(words: &[u32]) -> Result<Vec<ScoreRequest>, String> {
    let bad = || "a malformed batch of requests".to_string();
    let (&count, mut rest) = words.split_first().ok_or_else(bad)?;
    let mut requests = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let [ctx, cont, tail @ ..] = rest else { return Err(bad()) };
        let (ctx, cont) = (*ctx as usize, *cont as usize);
        if tail.len() < ctx + cont {
            return Err(bad());
        }
        requests.push(ScoreRequest { context: tail[..ctx].to_vec(), continuation: tail[ctx..ctx + cont].to_vec() });
        rest = &tail[ctx + cont..];
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    Ok(requests)
}

/// Each request's token count, and per token `[logprob, mean, variance, greedy (1 or 0)]`.
pub fn encode_scores(scores: &[TokenScores]) -> (Vec<u32>, Vec<f32>) {
    let lengths = scores.iter().map(|s| s.logprobs.len() as u32).collect();
    let mut values = Vec::with_capacity(scores.iter().map(|s| 4 * s.logprobs.len()).sum());
    for s in scores {
        for i in 0..s.logprobs.len() {
            values.extend([s.logprobs[i], s.means[i], s.variances[i], if s.is_greedy[i] { 1.0 } else { 0.0 }]);
        }
    }
    (lengths, values)
}

pub fn decode_scores(lengths: &[u32], values: &[f32]) -> Result<Vec<TokenScores>, String> {
    let total: usize = lengths.iter().map(|&n| n as usize).sum();
    if values.len() != 4 * total {
        return Err(format!("a worker sent {} values for {total} tokens", values.len()));
    }
    let mut rows = values.chunks_exact(4);
    Ok(lengths
        .iter()
        .map(|&n| {
            let mut s = TokenScores::default();
            for row in rows.by_ref().take(n as usize) {
                s.logprobs.push(row[0]);
                s.means.push(row[1]);
                s.variances.push(row[2]);
                s.is_greedy.push(row[3] == 1.0);
            }
            s
        })
        .collect())
}
