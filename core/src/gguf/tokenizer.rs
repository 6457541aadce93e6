//! A `tokenizer.json` (and `tokenizer_config.json`) built from a GGUF file's
//! `tokenizer.ggml.*` metadata, as transformers' GGUF tokenizer converter
//! builds it.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::container::GgufFile;
use super::metadata::MetaValue;
use crate::error::{Error, Result};
use crate::tokenizer::TextTokenizer;

impl GgufFile {
    /// A `tokenizer.json` document (and a `tokenizer_config.json` with the
    /// special tokens and `add_bos_token`) equivalent to the tokenizer
    /// transformers builds from this file's `tokenizer.ggml.*` metadata:
    ///
    /// - `gpt2` (byte-level BPE): the tokens (re-spelled in the byte alphabet
    ///   where a file wrote them plainly) and the file's merges; pre-tokenizer
    ///   from `tokenizer.ggml.pre` (see [`byte_level_pre_tokenizer`]);
    ///   add_bos_token defaults to false.
    /// - `llama` (SentencePiece BPE with byte fallback): Metaspace
    ///   pre-tokenizer (prepend "▁" to the first word, no split), the file's
    ///   merges or, as in most files, merges rebuilt from the scores as
    ///   transformers' `generate_merges` does; add_bos_token defaults to true.
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

        let TokenizerParts { vocab_tokens, merges, pre_tokenizer, decoder, bpe_options, default_add_bos } =
            match model {
                "gpt2" => {
                    let alphabet = byte_alphabet();
                    let spelled: std::collections::HashSet<char> = alphabet.iter().copied().collect();
                    let vocab_tokens = tokens
                        .iter()
                        .map(|t| {
                            if t.chars().all(|c| spelled.contains(&c)) {
                                t.to_string()
                            } else {
                                t.bytes().map(|b| alphabet[b as usize]).collect()
                            }
                        })
                        .collect();
                    let merges = merges_in_file
                        .ok_or_else(|| problem("a `gpt2` tokenizer needs `tokenizer.ggml.merges`".into()))?
                        .iter()
                        .map(|m| split_merge(m))
                        .collect::<Result<Vec<_>>>()?;
                    let pre = self.get_str("tokenizer.ggml.pre")?.unwrap_or("default");
                    TokenizerParts {
                        vocab_tokens,
                        merges,
                        pre_tokenizer: byte_level_pre_tokenizer(pre),
                        decoder: json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
                        bpe_options: json!({"unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false}),
                        default_add_bos: false,
                    }
                }
                "llama" => {
                    let merges = match merges_in_file {
                        Some(m) => m.iter().map(|m| split_merge(m)).collect::<Result<Vec<_>>>()?,
                        None => {
                            let scores = self.scores(tokens.len())?;
                            merges_from_scores(&tokens, &scores)
                        }
                    };
                    TokenizerParts {
                        vocab_tokens: tokens.iter().map(|t| t.to_string()).collect(),
                        merges,
                        pre_tokenizer: json!({"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "first", "split": false}),
                        decoder: json!({"type": "Sequence", "decoders": [
                            {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                            {"type": "ByteFallback"},
                            {"type": "Fuse"},
                            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
                        ]}),
                        bpe_options: json!({"unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true}),
                        default_add_bos: true,
                    }
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
        let spelled: std::collections::HashSet<char> = byte_alphabet().into_iter().collect();
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
            "normalizer": null,
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

/// What the two tokenizer models (`gpt2`, `llama`) build differently.
struct TokenizerParts {
    /// The vocabulary's tokens in id order, as the BPE model spells them.
    vocab_tokens: Vec<String>,
    merges: Vec<(String, String)>,
    pre_tokenizer: Value,
    decoder: Value,
    /// BPE model fields besides the vocabulary and merges.
    bpe_options: Value,
    /// `add_bos_token` when the file does not say.
    default_add_bos: bool,
}

/// GPT-2's byte-to-character table (`bytes_to_unicode`): printable bytes map
/// to themselves, the others to U+0100 onwards.
fn byte_alphabet() -> Vec<char> {
    let printable = |b: u32| (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
    let mut next = 256;
    (0..256u32)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).expect("Latin-1")
            } else {
                let c = char::from_u32(next).expect("U+0100..");
                next += 1;
                c
            }
        })
        .collect()
}

const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const TEKKEN_SPLIT: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const GPT4O_SPLIT: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The pre-tokenizer of a byte-level vocabulary, from `tokenizer.ggml.pre`.
///
/// As transformers (`GGUF_PRE_TOKENIZER_SPLITS`): the Llama-3, Tekken and
/// GPT-4o families split with their own regex before a regex-free ByteLevel;
/// anything else gets GPT-2's ByteLevel. One addition: `smollm` also splits
/// every digit apart first, as SmolLM's own tokenizer.json and llama.cpp do.
/// transformers' GGUF loader leaves that split out; for SmolLM2 it makes no
/// difference (its merges never join a digit to anything), but the split is
/// what the vocabulary was trained with.
fn byte_level_pre_tokenizer(pre: &str) -> Value {
    let gpt2 = json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    let split = match pre {
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0" | "lfm2"
        | "jina-v5-nano" | "dbrx" | "smaug-bpe" => LLAMA3_SPLIT,
        "tekken" => TEKKEN_SPLIT,
        "gpt-4o" | "llama4" | "kanana2" | "talkie" | "minimax-m2" => GPT4O_SPLIT,
        "smollm" => {
            return json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true},
                gpt2,
            ]});
        }
        _ => return gpt2,
    };
    json!({"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": false},
        {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
    ]})
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

/// transformers' `generate_merges(vocab, vocab_scores)` for a SentencePiece
/// vocabulary without merges: every split of a token into two tokens of the
/// vocabulary, ordered by the merged token's score (best first), then by the
/// lengths of the two parts (longer first), ties kept in vocabulary order.
pub fn merges_from_scores(tokens: &[&str], scores: &[f64]) -> Vec<(String, String)> {
    // {token: last id}, and {token: last score} in first-occurrence order: Python dicts.
    let mut vocab: HashMap<&str, usize> = HashMap::with_capacity(tokens.len());
    for (i, &t) in tokens.iter().enumerate() {
        vocab.insert(t, i);
    }
    let mut order: Vec<&str> = Vec::with_capacity(tokens.len());
    let mut score_of: HashMap<&str, f64> = HashMap::with_capacity(tokens.len());
    for (&t, &s) in tokens.iter().zip(scores) {
        if score_of.insert(t, s).is_none() {
            order.push(t);
        }
    }
    let mut merges: Vec<(&str, &str, f64)> = Vec::new();
    for t in order {
        let score = score_of[t];
        let mut local: Vec<(&str, &str, f64)> = t
            .char_indices()
            .skip(1)
            .map(|(i, _)| (&t[..i], &t[i..]))
            .filter(|(l, r)| vocab.contains_key(l) && vocab.contains_key(r))
            .map(|(l, r)| (l, r, score))
            .collect();
        local.sort_by_key(|&(l, r, _)| (vocab[l], vocab[r]));
        merges.extend(local);
    }
    let key = |m: &(&str, &str, f64)| (m.2, m.0.chars().count(), m.1.chars().count());
    // Descending and stable, as Python's sorted(..., reverse=True). Scores
    // compare by `total_cmp`: a file's NaN scores must still give a total order
    // (the sort panics otherwise; found by the `gguf` fuzz target).
    merges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0).then(kb.1.cmp(&ka.1)).then(kb.2.cmp(&ka.2))
    });
    merges.into_iter().map(|(l, r, _)| (l.to_string(), r.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_follow_scores_then_lengths() {
        let tokens = ["a", "b", "c", "ab", "abc", "bc"];
        let scores = [0.0, 0.0, 0.0, -1.0, -3.0, -2.0];
        let merges = merges_from_scores(&tokens, &scores);
        let merges: Vec<(&str, &str)> = merges.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        // ab (-1), bc (-2), then abc (-3): a+bc and ab+c tie on score; longer left part first.
        assert_eq!(merges, vec![("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")]);
    }
}
