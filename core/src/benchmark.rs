//! The input of the scoring-throughput benchmark, shared by `tinyeval bench`,
//! the page's `?bench` mode and `scripts/bench.py` (which builds the same ids
//! for PyTorch): `batch` sequences of `seq` token ids from a seeded splitmix64
//! generator, each one request whose context is its first token and whose
//! continuation is the other `seq - 1`. The model reads tokens `0..seq-1`, and
//! every one of the `seq - 1` next tokens goes through the LM head and the
//! log-softmax statistics (log p, mean and variance of log p, argmax), read back
//! to the host.

use crate::scoring::{ScoreRequest, TokenScores};

/// splitmix64; `scripts/bench.py` has the same function.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `batch` rows of `seq` ids in `0..vocab`, row after row from one generator.
pub fn token_ids(seed: u64, batch: usize, seq: usize, vocab: usize) -> Vec<Vec<u32>> {
    let mut state = seed;
    (0..batch)
        .map(|_| (0..seq).map(|_| (splitmix64(&mut state) % vocab as u64) as u32).collect())
        .collect()
}

/// The benchmark's requests (see the module's documentation).
pub fn requests(seed: u64, batch: usize, seq: usize, vocab: usize) -> Vec<ScoreRequest> {
    token_ids(seed, batch, seq, vocab)
        .into_iter()
        .map(|ids| ScoreRequest {
            context: ids[..1].to_vec(),
            continuation: ids[1..].to_vec(),
        })
        .collect()
}

/// Checksums to compare with PyTorch: the mean over every scored token of log p,
/// of the entropy (minus the mean of log p) and of the variance of log p.
fn checksums(scores: &[TokenScores]) -> [f64; 3] {
    let n = scores.iter().map(|s| s.logprobs.len()).sum::<usize>().max(1) as f64;
    let mean_of = |f: fn(&TokenScores) -> &Vec<f32>| scores.iter().flat_map(|s| f(s).iter()).map(|&x| x as f64).sum::<f64>() / n;
    [mean_of(|s| &s.logprobs), -mean_of(|s| &s.means), mean_of(|s| &s.variances)]
}

/// The timings and checksums of a run, in the JSON shape `tinyeval bench` and
/// the page's `?bench` print (each adds what it knows of its model and backend).
/// `times_s` must not be empty; `scores` are the last run's.
pub fn report(batch: usize, seq: usize, warmup_s: &[f64], times_s: &[f64], scores: &[TokenScores]) -> serde_json::Value {
    let mut sorted = times_s.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median_s = sorted[sorted.len() / 2];
    let [mean_logprob, mean_entropy, mean_variance] = checksums(scores);
    serde_json::json!({
        "batch_size": batch,
        "seq_len": seq,
        "repeats": times_s.len(),
        "warmup": warmup_s.len(),
        "warmup_s": warmup_s,
        "times_s": times_s,
        "median_s": median_s,
        "min_s": sorted[0],
        // B x T tokens per second (T-1 of them read by the model and T-1 scored per sequence).
        "tokens_per_s": (batch * seq) as f64 / median_s,
        "scored_tokens_per_s": (batch * (seq - 1)) as f64 / median_s,
        "mean_logprob": mean_logprob,
        "mean_entropy": mean_entropy,
        "mean_variance": mean_variance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_reference_values() {
        // The first outputs of splitmix64 from seed 0, as published with the
        // generator (Vigna, prng.di.unimi.it/splitmix64.c).
        let mut state = 0u64;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut state), 0x6E78_9E6A_A1B9_65F4);
    }
}
