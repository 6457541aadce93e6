//! Text ↔ token ids, through the Hugging Face `tokenizers` crate reading a
//! `tokenizer.json`, so that ids are those transformers produces.

use serde_json::Value;

use crate::error::{Error, Result};

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
        let inner = tokenizers::Tokenizer::from_bytes(tokenizer_json).map_err(|e| Error::Tokenizer {
            file: file.into(),
            problem: e.to_string(),
        })?;
        let config: Value = match tokenizer_config {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| Error::bad_file("tokenizer_config.json", format!("not valid JSON: {e}")))?,
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
        Ok(self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| Error::Input(format!("cannot tokenize text: {e}")))?
            .get_ids()
            .to_vec())
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

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
