//! Text ↔ token ids, through the Hugging Face `tokenizers` crate reading a
//! `tokenizer.json`, so that ids are those transformers produces.

use serde_json::Value;

use crate::error::{Error, Result};

/// The longest run of non-whitespace bytes encoded in one piece. BPE's merge
/// loop grows faster than linearly with a word's length (one 1 MB word took over
/// a minute), and no language has words this long, so longer runs are cut into
/// pieces of at most this many bytes, each encoded on its own: ids then differ
/// from transformers' only inside such a run. Texts without one are encoded
/// exactly as transformers encodes them.
pub const MAX_WORD_BYTES: usize = 1000;

/// The checks the `tokenizers` crate's own errors leave unclear (its parser
/// reports an unknown model as "did not match any variant of untagged enum").
fn check_tokenizer_json(bytes: &[u8]) -> std::result::Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not valid UTF-8 (byte {})", e.valid_up_to()))?;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let model = value.get("model").ok_or("no `model` field (not a Hugging Face tokenizer.json)")?;
    const MODELS: [&str; 4] = ["BPE", "Unigram", "WordPiece", "WordLevel"];
    match model.get("type").and_then(Value::as_str) {
        Some(t) if !MODELS.contains(&t) => Err(format!("model type `{t}` is not supported (supported: {})", MODELS.join(", "))),
        _ => value.get("post_processor").map_or(Ok(()), check_post_processor),
    }
}

/// A `TemplateProcessing` post-processor (alone or inside a `Sequence`) must
/// define every special token its templates name, each with as many ids as
/// tokens: the tokenizers crate loads a template without checking and then
/// panics while encoding (found by the `tokenizer` fuzz target).
fn check_post_processor(p: &Value) -> std::result::Result<(), String> {
    match p.get("type").and_then(Value::as_str) {
        Some("Sequence") => p.get("processors").and_then(Value::as_array).map_or(Ok(()), |ps| ps.iter().try_for_each(check_post_processor)),
        Some("TemplateProcessing") => {
            let defined = p.get("special_tokens").and_then(Value::as_object);
            for (name, t) in defined.into_iter().flatten() {
                let len = |k: &str| t.get(k).and_then(Value::as_array).map(Vec::len);
                if len("ids") != len("tokens") {
                    return Err(format!("post_processor: special token `{name}` has {:?} ids but {:?} tokens", len("ids"), len("tokens")));
                }
            }
            for template in ["single", "pair"] {
                for piece in p.get(template).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(id) = piece.get("SpecialToken").and_then(|t| t.get("id")).and_then(Value::as_str) {
                        if !defined.is_some_and(|d| d.contains_key(id)) {
                            return Err(format!("post_processor: the `{template}` template names the special token `{id}`, which `special_tokens` does not define"));
                        }
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Byte offsets (on char boundaries) where runs longer than [`MAX_WORD_BYTES`] are cut.
fn long_word_cuts(text: &str) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut run = 0;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            run = 0;
            continue;
        }
        if run + c.len_utf8() > MAX_WORD_BYTES {
            cuts.push(i);
            run = 0;
        }
        run += c.len_utf8();
    }
    cuts
}

pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    /// Prepend this id when `tokenizer_config.json` asks for a BOS token and the
    /// tokenizer's own post-processor does not add one.
    bos_to_prepend: Option<u32>,
    /// `bos_token` of `tokenizer_config.json`.
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<u32>,
}

impl TextTokenizer {
    /// `tokenizer_json` is `tokenizer.json`; `tokenizer_config` the optional `tokenizer_config.json`.
    pub fn from_bytes(file: &str, tokenizer_json: &[u8], tokenizer_config: Option<&[u8]>) -> Result<Self> {
        let problem = |p: String| Error::Tokenizer { file: file.into(), problem: p };
        check_tokenizer_json(tokenizer_json).map_err(problem)?;
        let inner = tokenizers::Tokenizer::from_bytes(tokenizer_json).map_err(|e| problem(e.to_string()))?;
        if inner.get_vocab_size(true) == 0 {
            return Err(problem("its vocabulary is empty".into()));
        }
        let config: Value = match tokenizer_config {
            Some(bytes) => {
                // The config sits beside tokenizer.json.
                let config_file = match file.strip_suffix("tokenizer.json") {
                    Some(dir) => format!("{dir}tokenizer_config.json"),
                    None => format!("{file} (tokenizer_config.json)"),
                };
                serde_json::from_slice(bytes).map_err(|e| Error::bad_file(config_file, format!("not valid JSON: {e}")))?
            }
            None => Value::Null,
        };
        let special = |key: &str| -> Option<u32> {
            let token = match config.get(key)? {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.get("content")?.as_str()?.to_string(),
                _ => return None,
            };
            inner.token_to_id(&token)
        };
        let bos = special("bos_token");
        let eos_token_id = special("eos_token");
        let adds_bos_itself = match (bos, inner.encode("a", true)) {
            (Some(bos), Ok(enc)) => enc.get_ids().first() == Some(&bos),
            _ => false,
        };
        let wants_bos = config.get("add_bos_token").and_then(Value::as_bool).unwrap_or(false);
        Ok(Self {
            inner,
            bos_to_prepend: if wants_bos && !adds_bos_itself { bos } else { None },
            bos_token_id: bos,
            eos_token_id,
        })
    }

    /// Ids of `text` with the special tokens the tokenizer adds by default, as
    /// `tokenizer(text)["input_ids"]` in transformers.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = self.encode_plain(text, true)?;
        if let Some(bos) = self.bos_to_prepend {
            ids.insert(0, bos);
        }
        Ok(ids)
    }

    /// Ids of `text`; special tokens only if `add_special_tokens`, never the extra BOS.
    pub fn encode_plain(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let failed = |e: tokenizers::Error| Error::Input(format!("cannot tokenize text: {e}"));
        let cuts = long_word_cuts(text);
        if cuts.is_empty() {
            return Ok(self.inner.encode(text, add_special_tokens).map_err(failed)?.get_ids().to_vec());
        }
        let bounds = std::iter::once(0).chain(cuts).chain(std::iter::once(text.len())).collect::<Vec<_>>();
        let pieces = bounds
            .windows(2)
            .map(|w| self.inner.encode(&text[w[0]..w[1]], false))
            .collect::<tokenizers::Result<Vec<_>>>()
            .map_err(failed)?;
        let whole = tokenizers::Encoding::merge(pieces, true);
        Ok(self.inner.post_process(whole, None, add_special_tokens).map_err(failed)?.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, false)
            .map_err(|e| Error::Input(format!("cannot decode tokens: {e}")))
    }

    /// The vocabulary entry of `id` (e.g. `Ġthe`), as `convert_ids_to_tokens`.
    pub fn token_str(&self, id: u32) -> String {
        self.inner.id_to_token(id).unwrap_or_default()
    }

    /// Refuses a tokenizer that can produce ids the model has no embedding row
    /// for (they would fail inside the embedding lookup, mid-run).
    pub fn check_fits(&self, file: &str, embedding_rows: usize) -> Result<()> {
        let highest = self.inner.get_vocab(true).into_values().max();
        match highest {
            Some(id) if id as usize >= embedding_rows => Err(Error::Tokenizer {
                file: file.into(),
                problem: format!(
                    "it has token id {id}, but the model's embedding has only {embedding_rows} rows (`vocab_size`): the tokenizer does not belong to this model"
                ),
            }),
            _ => Ok(()),
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runs_longer_than_the_limit_are_cut() {
        assert!(long_word_cuts(&format!("{} {}", "a".repeat(MAX_WORD_BYTES), "b".repeat(10))).is_empty());
        let long = "é".repeat(MAX_WORD_BYTES); // 2 bytes each
        let cuts = long_word_cuts(&long);
        assert_eq!(cuts.len(), 1);
        assert!(long.is_char_boundary(cuts[0]) && cuts[0] == MAX_WORD_BYTES);
        assert_eq!(long_word_cuts(&"x".repeat(3 * MAX_WORD_BYTES + 1)), vec![MAX_WORD_BYTES, 2 * MAX_WORD_BYTES, 3 * MAX_WORD_BYTES]);
    }

    /// Regression (the `tokenizer` fuzz target): a template naming a special
    /// token its `special_tokens` lacks is refused at load, not a panic when encoding.
    #[test]
    fn a_template_with_an_undefined_special_token_is_refused() {
        let data = include_bytes!("../tests/fixtures/fuzz/tokenizer-undefined-special-token.bin");
        let split = data.iter().rposition(|&b| b == 0).unwrap_or(data.len());
        let (json, text) = data.split_at(split);
        match TextTokenizer::from_bytes("tokenizer.json", json, Some(json)) {
            Ok(t) => {
                let _ = t.encode(&String::from_utf8_lossy(text));
            }
            Err(e) => assert!(e.to_string().contains("special token"), "{e}"),
        }
    }
}
