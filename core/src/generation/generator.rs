//! [`Generator`]: one forward pass and one token per call, against a key/value
//! cache; [`generate`] runs it to the end.

use burn::tensor::Tensor;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::model::{Decoder, KvCache};
use crate::tokenizer::TextTokenizer;

use super::sampling::{argmax, sample};
use super::stream::{find_stop, next_piece};
use super::{GeneratedToken, Generation, GenerationConfig, StopReason};

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
