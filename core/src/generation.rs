//! Text generation: greedy decoding or seeded temperature / top-p sampling, with
//! a key/value cache, stopping at a token budget, an end-of-sequence token, a
//! stop string or the end of the model's context.
//!
//! [`Generator`] produces one token per `next_token().await`, so a browser can
//! drive it without blocking the page (every tensor read is async); [`generate`]
//! runs it to the end. Sampling follows transformers' logits processors:
//! temperature first, then `TopPLogitsWarper`, then a draw from the softmax. The
//! random numbers come from ChaCha20 seeded with [`GenerationConfig::seed`], and
//! the arithmetic after the logits is f64 with libm's `exp`, so the same logits
//! and seed give the same tokens on every platform, wasm32 included.

use burn::tensor::Tensor;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::model::{Decoder, KvCache};
use crate::tokenizer::TextTokenizer;

/// How to generate. The defaults: greedy, at most 64 new tokens, no stop strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationConfig {
    pub max_new_tokens: usize,
    /// 0 means greedy (always the most likely token); otherwise logits are divided by it before sampling.
    pub temperature: f32,
    /// Nucleus sampling: keep the most likely tokens whose probabilities add up to `top_p` (1 = keep all).
    /// Ignored when greedy.
    pub top_p: f32,
    /// Seeds the sampler; the same seed, model and prompt give the same text.
    pub seed: u64,
    /// Generation stops when the new text contains one of these; the text is cut
    /// before it (empty strings are ignored).
    pub stop: Vec<String>,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 64,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            stop: Vec::new(),
        }
    }
}

impl GenerationConfig {
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self { max_new_tokens, ..Self::default() }
    }

    pub fn is_greedy(&self) -> bool {
        self.temperature == 0.0
    }

    pub fn validate(&self) -> Result<()> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(Error::Input(format!(
                "temperature must be 0 (greedy) or positive, not {}",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.top_p) {
            return Err(Error::Input(format!("top_p must be between 0 and 1, not {}", self.top_p)));
        }
        Ok(())
    }
}

/// Why generation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum StopReason {
    /// `max_new_tokens` tokens were generated.
    MaxNewTokens,
    /// The model produced its end-of-sequence token (kept as the last of `tokens`, not in `text`).
    Eos,
    /// The new text contained this stop string; the text is cut before it.
    StopString(String),
    /// The key/value cache holds as many positions as the model's context: no
    /// further token can be computed.
    ContextFull,
    /// The caller stopped before generation ended ([`Generator::finish`] early).
    Cancelled,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::MaxNewTokens => write!(f, "reached max_new_tokens"),
            StopReason::Eos => write!(f, "end-of-sequence token"),
            StopReason::StopString(s) => write!(f, "stop string {s:?}"),
            StopReason::ContextFull => write!(f, "the model's context is full"),
            StopReason::Cancelled => write!(f, "cancelled"),
        }
    }
}

/// One step of generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedToken {
    pub id: u32,
    /// The text this token adds to the output (may be empty: text ending in an
    /// incomplete character, or that may begin a stop string, is held back until
    /// it is settled, and the end-of-sequence token adds none). Concatenating the
    /// pieces gives [`Generation::text`].
    pub text: String,
}

/// The result of a finished generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    /// The new text: the decoded new tokens (without the end-of-sequence token),
    /// cut before the first stop string.
    pub text: String,
    /// The new tokens, including an end-of-sequence token that ended generation.
    pub tokens: Vec<u32>,
    /// The prompt as the model saw it (its last tokens, if it was longer than the context).
    pub prompt_tokens: Vec<u32>,
    /// How many tokens were dropped from the front of a prompt longer than the context.
    pub prompt_tokens_dropped: usize,
    pub stop_reason: StopReason,
}

/// Step-by-step generation from one prompt. Each [`Generator::next_token`] runs
/// one forward pass (the whole prompt on the first call, then the previous
/// token against the cache) and one read of the logits.
pub struct Generator<'a> {
    decoder: &'a Decoder,
    tokenizer: &'a TextTokenizer,
    config: GenerationConfig,
    eos: Vec<u32>,
    rng: ChaCha20Rng,
    cache: KvCache,
    prompt_tokens: Vec<u32>,
    prompt_tokens_dropped: usize,
    /// Tokens still to go through the model: the prompt, then each new token.
    to_feed: Vec<u32>,
    tokens: Vec<u32>,
    /// The new text so far (cut before a stop string once one is found).
    text: String,
    /// Bytes of `text` already handed out.
    emitted: usize,
    stop_reason: Option<StopReason>,
}

impl<'a> Generator<'a> {
    /// Tokenizes `prompt` as transformers' `tokenizer(prompt)` does (BOS included
    /// where the tokenizer adds one).
    pub fn new(model: &'a LanguageModel, prompt: &str, config: &GenerationConfig) -> Result<Self> {
        let tokens = model.tokenizer.encode(prompt)?;
        Self::from_tokens(&model.decoder, &model.tokenizer, tokens, config)
    }

    /// Generation after the given prompt tokens. An empty prompt starts from the
    /// model's BOS token; a prompt longer than the context keeps its last tokens.
    pub fn from_tokens(
        decoder: &'a Decoder,
        tokenizer: &'a TextTokenizer,
        mut prompt: Vec<u32>,
        config: &GenerationConfig,
    ) -> Result<Self> {
        config.validate()?;
        let model_config = decoder.config();
        if prompt.is_empty() {
            match model_config.bos_token_id {
                Some(bos) => prompt.push(bos),
                None => return Err(Error::Input("the prompt is empty and the model has no BOS token to start from".into())),
            }
        }
        if let Some(&bad) = prompt.iter().find(|&&t| t as usize >= model_config.vocab_size) {
            return Err(Error::Input(format!(
                "token id {bad} is outside the model's vocabulary of {}",
                model_config.vocab_size
            )));
        }
        let context = model_config.max_positions;
        let dropped = prompt.len().saturating_sub(context);
        let prompt = prompt.split_off(dropped);
        let mut eos = Vec::new();
        for id in [tokenizer.eos_token_id, model_config.eos_token_id].into_iter().flatten() {
            if !eos.contains(&id) {
                eos.push(id);
            }
        }
        let stop_reason = (config.max_new_tokens == 0).then_some(StopReason::MaxNewTokens);
        Ok(Self {
            decoder,
            tokenizer,
            config: config.clone(),
            eos,
            rng: ChaCha20Rng::seed_from_u64(config.seed),
            cache: KvCache::default(),
            to_feed: prompt.clone(),
            prompt_tokens: prompt,
            prompt_tokens_dropped: dropped,
            tokens: Vec::new(),
            text: String::new(),
            emitted: 0,
            stop_reason,
        })
    }

    /// The end-of-sequence ids that stop generation: the tokenizer's
    /// (`tokenizer_config.json`) and the model's (`config.json`).
    pub fn eos_tokens(&self) -> &[u32] {
        &self.eos
    }

    /// Replaces the end-of-sequence ids (an empty list never stops on a token).
    pub fn set_eos_tokens(&mut self, ids: Vec<u32>) {
        self.eos = ids;
    }

    pub fn prompt_tokens(&self) -> &[u32] {
        &self.prompt_tokens
    }

    /// The new tokens so far.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// The new text so far, including what is still held back.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `Some` once generation has ended.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stop_reason.as_ref()
    }

    /// The next token, or `None` once generation has ended. A token that ends
    /// generation is returned with all the text still held back; the call after
    /// it returns `None`. If a call fails or its future is dropped before it
    /// finishes, the generator must not be used further.
    pub async fn next_token(&mut self) -> Result<Option<GeneratedToken>> {
        if self.stop_reason.is_some() {
            return Ok(None);
        }
        let feed = std::mem::take(&mut self.to_feed);
        let logits = self.next_logits(&feed).await?;
        let id = if self.config.is_greedy() {
            argmax(&logits)
        } else {
            sample(&logits, self.config.temperature, self.config.top_p, &mut self.rng)
        }
        .ok_or_else(|| Error::Device("the model's logits are all NaN".into()))?;
        self.tokens.push(id);

        let is_eos = self.eos.contains(&id);
        let text_tokens = if is_eos { &self.tokens[..self.tokens.len() - 1] } else { &self.tokens[..] };
        self.text = self.tokenizer.decode(text_tokens)?;
        self.stop_reason = if let Some((at, stop)) = find_stop(&self.text, &self.config.stop) {
            self.text.truncate(at);
            Some(StopReason::StopString(stop.to_string()))
        } else if is_eos {
            Some(StopReason::Eos)
        } else if self.tokens.len() >= self.config.max_new_tokens {
            Some(StopReason::MaxNewTokens)
        } else if self.cache.len >= self.decoder.config().max_positions {
            Some(StopReason::ContextFull)
        } else {
            self.to_feed.push(id);
            None
        };

        let text = next_piece(&self.text, &mut self.emitted, self.stop_reason.is_some(), &self.config.stop);
        Ok(Some(GeneratedToken { id, text }))
    }

    /// Runs the model on `feed` at the cache's positions; the last position's logits.
    async fn next_logits(&mut self, feed: &[u32]) -> Result<Vec<f32>> {
        let hidden = self.decoder.hidden_states(&[feed.to_vec()], Some(&mut self.cache));
        let [_, seq, size] = hidden.dims();
        let last: Tensor<2> = hidden.slice([0..1, seq - 1..seq, 0..size]).reshape([1, size]);
        let logits = self.decoder.logits(last);
        let data = logits
            .into_data_async()
            .await
            .map_err(|e| Error::Device(format!("{e:?}")))?;
        data.try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
    }

    /// Generates to the end, calling `on_token` with each non-empty piece of text.
    pub async fn run(mut self, mut on_token: impl FnMut(&str)) -> Result<Generation> {
        while let Some(token) = self.next_token().await? {
            if !token.text.is_empty() {
                on_token(&token.text);
            }
        }
        Ok(self.finish())
    }

    /// The result so far; the stop reason is `Cancelled` if generation had not ended.
    /// (Text still held back is included in `text`.)
    pub fn finish(self) -> Generation {
        Generation {
            text: self.text,
            tokens: self.tokens,
            prompt_tokens: self.prompt_tokens,
            prompt_tokens_dropped: self.prompt_tokens_dropped,
            stop_reason: self.stop_reason.unwrap_or(StopReason::Cancelled),
        }
    }
}

/// Generates after `prompt`, calling `on_token` with each piece of new text as it settles.
pub async fn generate(
    model: &LanguageModel,
    prompt: &str,
    config: &GenerationConfig,
    on_token: impl FnMut(&str),
) -> Result<Generation> {
    Generator::new(model, prompt, config)?.run(on_token).await
}

/// The first (lowest) index of the largest logit, as `torch.argmax`; NaNs never win.
pub fn argmax(logits: &[f32]) -> Option<u32> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in logits.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i as u32)
}

/// transformers' `TopPLogitsWarper` (with `min_tokens_to_keep = 1`): sort the
/// logits ascending, take the cumulative softmax, and remove every token whose
/// cumulative probability is <= 1 - top_p; the most likely token always stays.
/// Returns which tokens are kept. NaN logits are never kept.
pub fn top_p_keep(logits: &[f32], top_p: f32) -> Vec<bool> {
    let mut keep: Vec<bool> = logits.iter().map(|x| !x.is_nan()).collect();
    if top_p >= 1.0 {
        return keep;
    }
    let mut order: Vec<usize> = (0..logits.len()).filter(|&i| keep[i]).collect();
    // Ascending; ties by descending index, so that the last (always kept) is the
    // lowest-index maximum, as argmax picks, whatever the sort's stability.
    order.sort_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)));
    let probs = softmax(&order.iter().map(|&i| logits[i]).collect::<Vec<_>>());
    let threshold = 1.0 - top_p as f64;
    let mut cumulative = 0.0;
    for (k, (&i, p)) in order.iter().zip(&probs).enumerate() {
        cumulative += p;
        if cumulative <= threshold && k + 1 < order.len() {
            keep[i] = false;
        }
    }
    keep
}

/// Draws a token: logits / temperature, then top-p, then a draw from the
/// softmax of what is left, with one uniform number from `rng`.
pub fn sample(logits: &[f32], temperature: f32, top_p: f32, rng: &mut impl RngCore) -> Option<u32> {
    // Temperature first, in f32, as transformers' TemperatureLogitsWarper.
    let scaled: Vec<f32> = if temperature == 1.0 {
        logits.to_vec()
    } else {
        logits.iter().map(|&x| x / temperature).collect()
    };
    let keep = top_p_keep(&scaled, top_p);
    let kept: Vec<usize> = (0..scaled.len()).filter(|&i| keep[i]).collect();
    if kept.is_empty() {
        return None;
    }
    let probs = softmax(&kept.iter().map(|&i| scaled[i]).collect::<Vec<_>>());
    let total: f64 = probs.iter().sum();
    // A uniform number in [0, 1) from the top 53 bits.
    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * total;
    let mut cumulative = 0.0;
    for (&i, &p) in kept.iter().zip(&probs) {
        cumulative += p;
        if u < cumulative && p > 0.0 {
            return Some(i as u32);
        }
    }
    // Rounding left `u` at the very end: the last token with any probability.
    kept.iter().zip(&probs).rev().find(|(_, p)| **p > 0.0).map(|(&i, _)| i as u32)
}

/// Softmax in f64 with libm's exp (the same bits on every platform). -inf gives 0.
fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    if max == f64::NEG_INFINITY {
        // All -inf: uniform, as torch would give NaNs here and we would rather not.
        return vec![1.0 / logits.len() as f64; logits.len()];
    }
    let exps: Vec<f64> = logits.iter().map(|&x| libm::exp(x as f64 - max)).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The earliest occurrence of any non-empty stop string: (byte offset, stop string).
fn find_stop<'s>(text: &str, stops: &'s [String]) -> Option<(usize, &'s str)> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|at| (at, s.as_str())))
        .min_by_key(|&(at, _)| at)
}

/// The text to hand out now: what follows the `emitted` bytes of `text` up to
/// where it is settled (all of it once `finished`); advances `emitted`. Nothing,
/// should the decoded text ever not extend what was handed out.
fn next_piece(text: &str, emitted: &mut usize, finished: bool, stops: &[String]) -> String {
    let settled = if finished { text.len() } else { settled_len(text, stops) };
    match text.get(*emitted..settled) {
        Some(piece) if settled > *emitted => {
            *emitted = settled;
            piece.to_string()
        }
        _ => String::new(),
    }
}

/// How much of `text` (in bytes) can be handed out while generation goes on:
/// not a trailing run of U+FFFD (bytes of a character still incomplete) and not
/// a suffix that could be the start of a stop string.
fn settled_len(text: &str, stops: &[String]) -> usize {
    // The incomplete character may be the next one of a stop string, so the
    // stop-string check looks at the text before it.
    let complete = text.trim_end_matches('\u{FFFD}');
    let mut end = complete.len();
    for stop in stops {
        for k in (1..stop.len()).rev() {
            if stop.is_char_boundary(k) && complete.ends_with(&stop[..k]) {
                end = end.min(complete.len() - k);
                break;
            }
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ln(p: f64) -> f32 {
        p.ln() as f32
    }

    #[test]
    fn top_p_follows_transformers() {
        // Probabilities 0.1, 0.2, 0.3, 0.4; ascending cumulative 0.1, 0.3, 0.6, 1.0.
        let logits = [ln(0.2), ln(0.4), ln(0.1), ln(0.3)];
        // top_p 0.5: remove cumulative <= 0.5, i.e. 0.1 and 0.2.
        assert_eq!(top_p_keep(&logits, 0.5), [false, true, false, true]);
        // top_p 0.75: remove cumulative <= 0.25, i.e. only 0.1.
        assert_eq!(top_p_keep(&logits, 0.75), [true, true, false, true]);
        // Tiny top_p: only the most likely token is left.
        assert_eq!(top_p_keep(&logits, 1e-6), [false, true, false, false]);
        assert_eq!(top_p_keep(&logits, 0.0), [false, true, false, false]);
        assert_eq!(top_p_keep(&logits, 1.0), [true; 4]);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, f32::NAN, 3.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN]), None);
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let logits = [ln(0.1), ln(0.2), ln(0.3), ln(0.4)];
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut counts = [0usize; 4];
        let n = 20_000;
        for _ in 0..n {
            counts[sample(&logits, 1.0, 1.0, &mut rng).unwrap() as usize] += 1;
        }
        for (c, p) in counts.iter().zip([0.1, 0.2, 0.3, 0.4]) {
            let f = *c as f64 / n as f64;
            assert!((f - p).abs() < 0.015, "frequency {f}, probability {p}");
        }
        // Temperature 0.5 squares the probabilities: 1, 4, 9, 16 over 30.
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[sample(&logits, 0.5, 1.0, &mut rng).unwrap() as usize] += 1;
        }
        assert!(((counts[3] as f64 / n as f64) - 16.0 / 30.0).abs() < 0.015);
        // Top-p 0.5 leaves 0.3 and 0.4, renormalised.
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[sample(&logits, 1.0, 0.5, &mut rng).unwrap() as usize] += 1;
        }
        assert_eq!(counts[0] + counts[1], 0);
        assert!(((counts[3] as f64 / n as f64) - 4.0 / 7.0).abs() < 0.015);
    }

    /// Streams the decoded prefixes of `ids` as the generator does: (pieces, final text).
    fn stream(tokenizer: &TextTokenizer, ids: &[u32], stops: &[String]) -> (Vec<String>, String) {
        let mut emitted = 0;
        let mut pieces = Vec::new();
        let mut text = String::new();
        for n in 1..=ids.len() {
            text = tokenizer.decode(&ids[..n]).unwrap();
            let mut finished = n == ids.len();
            if let Some((at, _)) = find_stop(&text, stops) {
                text.truncate(at);
                finished = true;
            }
            pieces.push(next_piece(&text, &mut emitted, finished, stops));
            if finished {
                break;
            }
        }
        (pieces, text)
    }

    #[test]
    fn characters_split_across_tokens_come_out_whole() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
        let text = "Café in Zürich 👩\u{200d}👩\u{200d}👧, ☃ and 日本語.";
        for model in ["gpt2", "llama-sp"] {
            let json = std::fs::read(dir.join(model).join("tokenizer.json")).unwrap();
            let tokenizer = TextTokenizer::from_bytes(model, &json, None).unwrap();
            let ids = tokenizer.encode_plain(text, false).unwrap();
            let whole = tokenizer.decode(&ids).unwrap();
            assert!(!whole.contains('\u{FFFD}'), "{model}: {whole:?}");
            // Some character must really be split, or this test shows nothing.
            let split = (1..ids.len()).any(|n| tokenizer.decode(&ids[..n]).unwrap().ends_with('\u{FFFD}'));
            assert!(split, "{model}: no character spans tokens");
            let (pieces, streamed) = stream(&tokenizer, &ids, &[]);
            assert_eq!(streamed, whole);
            assert_eq!(pieces.concat(), whole, "{model}");
            assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{model}: {pieces:?}");

            // A stop string spread over tokens: nothing of it is ever handed out.
            let stops = vec!["Zürich 👩".to_string()];
            let (pieces, streamed) = stream(&tokenizer, &ids, &stops);
            let expected = whole.split("Zürich 👩").next().unwrap();
            assert_eq!(streamed, expected, "{model}");
            assert_eq!(pieces.concat(), expected, "{model}: {pieces:?}");
        }
    }

    #[test]
    fn held_back_text() {
        let stops = vec!["\n\n".to_string(), "END".to_string()];
        assert_eq!(settled_len("abc", &stops), 3);
        assert_eq!(settled_len("abc\n", &stops), 3);
        assert_eq!(settled_len("abcEN", &stops), 3);
        assert_eq!(settled_len("abc\u{FFFD}\u{FFFD}", &stops), 3);
        assert_eq!(settled_len("a\u{FFFD}b", &stops), "a\u{FFFD}b".len());
        assert_eq!(settled_len("abcE\u{FFFD}", &stops), 3);
        assert_eq!(find_stop("xEND\n\ny", &stops), Some((1, "END")));
        assert_eq!(find_stop("x\n\nEND", &stops), Some((1, "\n\n")));
        assert_eq!(find_stop("x", &["".to_string()]), None);
    }
}
