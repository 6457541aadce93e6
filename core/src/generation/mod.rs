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
//!
//! This file holds the settings and results ([`GenerationConfig`],
//! [`StopReason`], [`GeneratedToken`], [`Generation`]); the step-by-step
//! [`Generator`] and [`generate`] are in `generator`, the choice of each token
//! ([`argmax`], [`top_p_keep`], [`sample`]) in `sampling`, and how much decoded
//! text may be handed out while generation goes on (stop strings, incomplete
//! characters) in `stream`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod generator;
mod sampling;
mod stream;

pub use generator::{Generator, generate};
pub use sampling::{argmax, sample, top_p_keep};

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
