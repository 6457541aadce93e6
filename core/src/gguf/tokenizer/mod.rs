//! A `tokenizer.json` (and `tokenizer_config.json`) built from a GGUF file's
//! `tokenizer.ggml.*` metadata, as transformers' GGUF tokenizer converter
//! (integrations/gguf/gguf_tokenizer_mapping.py) builds it.
//!
//! - this file: the document, the special and added tokens, the post-processor;
//! - `byte_level`: `gpt2` vocabularies (byte alphabet, `tokenizer.ggml.pre`);
//! - `sentencepiece`: `llama` vocabularies, Llama's and Gemma's layouts, and
//!   merges rebuilt from scores.

mod byte_level;
mod sentencepiece;

use serde_json::{Value, json};

pub use sentencepiece::merges_from_scores;

use super::container::GgufFile;
use super::metadata::MetaValue;
use crate::error::{Error, Result};
use crate::tokenizer::TextTokenizer;

/// Architectures whose SentencePiece vocabularies transformers rebuilds as
/// `GemmaTokenizer` (`GGUF_SENTENCEPIECE_BUILDERS`).
const GEMMA_ARCHITECTURES: [&str; 3] = ["gemma", "gemma2", "gemma3"];

impl GgufFile {
    /// A `tokenizer.json` document (and a `tokenizer_config.json` with the
    /// special tokens and `add_bos_token`) equivalent to the tokenizer
    /// transformers builds from this file's `tokenizer.ggml.*` metadata:
    ///
    /// - `gpt2` (byte-level BPE): the tokens (re-spelled in the byte alphabet
    ///   where a file wrote them plainly) and the file's merges; pre-tokenizer
    ///   from `tokenizer.ggml.pre` (`gpt-2`, `llama-bpe`, `qwen2`, ...);
    ///   add_bos_token defaults to false.
    /// - `llama` (SentencePiece BPE with byte fallback): Metaspace
    ///   pre-tokenizer (prepend "▁" to the first word, no split), the file's
    ///   merges or, as in most files, merges rebuilt from the scores as
    ///   transformers' `generate_merges` does; add_bos_token defaults to true.
    /// - `llama` in a gemma, gemma2 or gemma3 file: Gemma's layout (spaces to
    ///   "▁" in a normalizer, no prefix), space tokens re-spelled, merges
    ///   rebuilt from the tokens' order.
    ///
    /// Tokens marked CONTROL (type 3) and the bos/eos/unk/padding tokens are
    /// special added tokens; USER_DEFINED ones (type 4) are plain added tokens.
    /// The post-processor adds BOS/EOS as `add_bos_token`/`add_eos_token` say.
    pub fn tokenizer_json(&self) -> Result<(Value, Value)> {
        let problem = |p: String| Error::Tokenizer { file: self.file.clone(), problem: p };
        let model = self
            .get_str("tokenizer.ggml.model")?
            .ok_or_else(|| problem("no `tokenizer.ggml.model` in the metadata: the file carries no tokenizer".into()))?;
        let tokens = self
            .string_array("tokenizer.ggml.tokens")?
            .ok_or_else(|| problem("no `tokenizer.ggml.tokens` in the metadata".into()))?;
        if tokens.is_empty() {
            return Err(problem("`tokenizer.ggml.tokens` is empty".into()));
        }
        let token_types: Vec<i64> = match self.get("tokenizer.ggml.token_type") {
            None => Vec::new(),
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(MetaValue::as_i64).collect::<Option<Vec<_>>>())
                .ok_or_else(|| self.wrong_type("tokenizer.ggml.token_type", v, "an array of integers"))?,
        };
        let merges_in_file = self.string_array("tokenizer.ggml.merges")?;
        let special_id = |k: &str| -> Result<Option<usize>> {
            match self.get_usize(&format!("tokenizer.ggml.{k}"))? {
                Some(id) if id >= tokens.len() => Err(problem(format!(
                    "`tokenizer.ggml.{k}` = {id} is not a token id (the vocabulary has {} tokens)",
                    tokens.len()
                ))),
                other => Ok(other),
            }
        };
        let bos = special_id("bos_token_id")?;
        let eos = special_id("eos_token_id")?;
        let unk = special_id("unknown_token_id")?;
        let pad = special_id("padding_token_id")?;

        let split_merge = |m: &str| -> Result<(String, String)> {
            let (a, b) = m.split_once(' ').ok_or_else(|| problem(format!("merge {m:?} is not two tokens separated by a space")))?;
            Ok((a.to_string(), b.to_string()))
        };

        let merges_in_file = match merges_in_file {
            Some(m) => Some(m.iter().map(|m| split_merge(m)).collect::<Result<Vec<_>>>()?),
            None => None,
        };
        let architecture = self.get_str("general.architecture")?.unwrap_or("");
        let TokenizerParts { vocab_tokens, merges, normalizer, pre_tokenizer, decoder, bpe_options, default_add_bos } =
            match model {
                "gpt2" => {
                    let merges = merges_in_file.ok_or_else(|| problem("a `gpt2` tokenizer needs `tokenizer.ggml.merges`".into()))?;
                    byte_level::parts(&tokens, merges, self.get_str("tokenizer.ggml.pre")?.unwrap_or("default"))
                }
                "llama" if GEMMA_ARCHITECTURES.contains(&architecture) => sentencepiece::gemma_parts(&tokens, merges_in_file),
                "llama" => {
                    let merges = match merges_in_file {
                        Some(m) => m,
                        None => merges_from_scores(&tokens, &self.scores(tokens.len())?),
                    };
                    sentencepiece::llama_parts(&tokens, merges)
                }
                other => {
                    return Err(problem(format!(
                        "tokenizer.ggml.model `{other}` is not supported (gpt2 and llama are)"
                    )));
                }
            };

        // {token: id}, a later duplicate overriding an earlier one, as a Python dict does.
        let mut vocab = serde_json::Map::with_capacity(vocab_tokens.len());
        for (i, t) in vocab_tokens.iter().enumerate() {
            vocab.insert(t.clone(), json!(i));
        }

        let mut added = Vec::new();
        let mut is_added = vec![false; tokens.len()];
        let mut add = |id: usize, special: bool, added: &mut Vec<Value>| {
            if !is_added[id] {
                is_added[id] = true;
                added.push(json!({
                    "id": id, "content": tokens[id], "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": special,
                }));
            }
        };
        for id in [unk, bos, eos, pad].into_iter().flatten() {
            add(id, true, &mut added);
        }
        let byte_level = model == "gpt2";
        let spelled: std::collections::HashSet<char> = byte_level::byte_alphabet().into_iter().collect();
        for (id, &ty) in token_types.iter().enumerate().take(tokens.len()) {
            // A CONTROL token outside the byte alphabet in a byte-level vocabulary
            // is a llama.cpp mislabel; transformers skips it.
            if ty == 3 && (!byte_level || tokens[id].chars().all(|c| spelled.contains(&c))) {
                add(id, true, &mut added);
            }
        }
        for (id, &ty) in token_types.iter().enumerate().take(tokens.len()) {
            if ty == 4 && vocab.contains_key(tokens[id]) {
                add(id, false, &mut added);
            }
        }
        // Added tokens are matched in id order of their addition; sort for a stable document.
        added.sort_by_key(|t| t["id"].as_u64());

        let add_bos = self.get_bool("tokenizer.ggml.add_bos_token")?.unwrap_or(default_add_bos);
        let add_eos = self.get_bool("tokenizer.ggml.add_eos_token")?.unwrap_or(false);
        let bos_token = bos.map(|id| tokens[id].to_string());
        let eos_token = eos.map(|id| tokens[id].to_string());
        let post_processor = template_processing(
            if add_bos { bos.map(|id| (tokens[id], id)) } else { None },
            if add_eos { eos.map(|id| (tokens[id], id)) } else { None },
        );

        let mut bpe = json!({
            "type": "BPE",
            "dropout": null,
            "ignore_merges": false,
            "vocab": Value::Object(vocab),
            "merges": merges.into_iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
        });
        for (k, v) in bpe_options.as_object().expect("object") {
            bpe[k] = v.clone();
        }
        let tokenizer = json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added,
            "normalizer": normalizer,
            "pre_tokenizer": pre_tokenizer,
            "post_processor": post_processor,
            "decoder": decoder,
            "model": bpe,
        });
        let config = json!({
            "bos_token": bos_token,
            "eos_token": eos_token,
            "add_bos_token": add_bos,
            "add_eos_token": add_eos,
        });
        Ok((tokenizer, config))
    }

    fn scores(&self, n: usize) -> Result<Vec<f64>> {
        let key = "tokenizer.ggml.scores";
        let v = self.get(key).ok_or_else(|| Error::Tokenizer {
            file: self.file.clone(),
            problem: "a `llama` tokenizer needs `tokenizer.ggml.merges` or `tokenizer.ggml.scores`".into(),
        })?;
        let scores = v
            .as_array()
            .and_then(|a| a.iter().map(MetaValue::as_f64).collect::<Option<Vec<_>>>())
            .ok_or_else(|| self.wrong_type(key, v, "an array of numbers"))?;
        if scores.len() != n {
            return Err(Error::Tokenizer {
                file: self.file.clone(),
                problem: format!("{} scores for {n} tokens", scores.len()),
            });
        }
        Ok(scores)
    }

    /// The tokenizer described by the metadata (see [`GgufFile::tokenizer_json`]).
    pub fn tokenizer(&self) -> Result<TextTokenizer> {
        let (tokenizer, config) = self.tokenizer_json()?;
        let to_bytes = |v: &Value| serde_json::to_vec(v).expect("JSON values serialize");
        TextTokenizer::from_bytes(&self.file, &to_bytes(&tokenizer), Some(&to_bytes(&config)))
    }
}

/// What the tokenizer models (`gpt2`, `llama`, Gemma's `llama`) build differently.
struct TokenizerParts {
    /// The vocabulary's tokens in id order, as the BPE model spells them.
    vocab_tokens: Vec<String>,
    merges: Vec<(String, String)>,
    normalizer: Value,
    pre_tokenizer: Value,
    decoder: Value,
    /// BPE model fields besides the vocabulary and merges.
    bpe_options: Value,
    /// `add_bos_token` when the file does not say.
    default_add_bos: bool,
}

/// transformers' post-processor for `add_bos_token` / `add_eos_token`.
fn template_processing(bos: Option<(&str, usize)>, eos: Option<(&str, usize)>) -> Value {
    let special = |(t, _): (&str, usize), type_id: u32| json!({"SpecialToken": {"id": t, "type_id": type_id}});
    let seq = |id: &str, type_id: u32| json!({"Sequence": {"id": id, "type_id": type_id}});
    let mut single = Vec::new();
    let mut pair = Vec::new();
    single.extend(bos.map(|b| special(b, 0)));
    single.push(seq("A", 0));
    single.extend(eos.map(|e| special(e, 0)));
    pair.extend(single.iter().cloned());
    pair.extend(bos.map(|b| special(b, 1)));
    pair.push(seq("B", 1));
    pair.extend(eos.map(|e| special(e, 1)));
    let mut special_tokens = serde_json::Map::new();
    for (t, id) in bos.into_iter().chain(eos) {
        special_tokens.insert(t.into(), json!({"id": t, "ids": [id], "tokens": [t]}));
    }
    json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": special_tokens})
}

