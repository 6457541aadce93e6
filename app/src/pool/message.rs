//! The messages' shapes: plain objects with a `kind`, an `id` (the reply
//! carries it back), `ok`, and typed arrays; and a model's bytes, as the page
//! read them, sent to each worker to load its own copy.

use js_sys::{Array, Object, Reflect, Uint8Array};
use tinyeval_core::file_bytes::FileBytes;
use tinyeval_core::{Device, LanguageModel, ModelFiles};
use wasm_bindgen::{JsCast, JsValue};

/// A model's files as read, before core builds the model from them.
pub enum ModelBytes {
    /// A Hugging Face folder's files.
    Folder(ModelFiles),
    /// One `.gguf` file, in pieces.
    Gguf { name: String, pieces: Vec<Vec<u8>> },
}

impl ModelBytes {
    /// Builds the model (the pieces of a GGUF are freed as they are read).
    pub fn load(self, device: &Device) -> Result<LanguageModel, String> {
        match self {
            ModelBytes::Folder(files) => LanguageModel::load(files, device),
            ModelBytes::Gguf { name, pieces } => LanguageModel::load_gguf(name, FileBytes::from_pieces(pieces), device),
        }
        .map_err(|e| e.to_string())
    }

    /// The message that has a worker load its copy (the bytes copied into it).
    pub fn load_message(&self) -> Object {
        let bytes = |b: &[u8]| JsValue::from(Uint8Array::from(b));
        let list = |items: Vec<JsValue>| JsValue::from(items.into_iter().collect::<Array>());
        match self {
            ModelBytes::Folder(f) => object(&[
                ("kind", "load".into()),
                ("format", "folder".into()),
                ("name", f.name.as_str().into()),
                ("config", bytes(&f.config_json)),
                ("tokenizer", bytes(&f.tokenizer_json)),
                ("tokenizer_config", f.tokenizer_config_json.as_deref().map_or(JsValue::NULL, bytes)),
                ("shard_names", list(f.safetensors.iter().map(|(n, _)| n.as_str().into()).collect())),
                ("shards", list(f.safetensors.iter().map(|(_, b)| bytes(b)).collect())),
            ]),
            ModelBytes::Gguf { name, pieces } => object(&[
                ("kind", "load".into()),
                ("format", "gguf".into()),
                ("name", name.as_str().into()),
                ("pieces", list(pieces.iter().map(|p| bytes(p)).collect())),
            ]),
        }
    }

    /// The bytes a load message carries, copied into the worker's wasm heap.
    pub fn from_message(m: &JsValue) -> Result<ModelBytes, String> {
        let bytes = |v: JsValue| -> Result<Vec<u8>, String> { Ok(v.dyn_into::<Uint8Array>().map_err(|_| "not bytes")?.to_vec()) };
        let list = |key: &str| -> Result<Vec<JsValue>, String> { Ok(field::<Array>(m, key)?.iter().collect()) };
        let name = text(m, "name")?;
        match text(m, "format")?.as_str() {
            "folder" => {
                let names = list("shard_names")?.into_iter().map(|n| n.as_string().ok_or("a shard name is not text"));
                let shards = list("shards")?.into_iter().map(bytes);
                let safetensors = names.zip(shards).map(|(n, b)| Ok((n?.to_string(), b?))).collect::<Result<Vec<_>, String>>()?;
                let tokenizer_config = Reflect::get(m, &"tokenizer_config".into()).unwrap_or(JsValue::NULL);
                Ok(ModelBytes::Folder(ModelFiles {
                    name,
                    config_json: bytes(field::<JsValue>(m, "config")?)?,
                    tokenizer_json: bytes(field::<JsValue>(m, "tokenizer")?)?,
                    tokenizer_config_json: if tokenizer_config.is_null() { None } else { Some(bytes(tokenizer_config)?) },
                    safetensors,
                }))
            }
            "gguf" => Ok(ModelBytes::Gguf { name, pieces: list("pieces")?.into_iter().map(bytes).collect::<Result<_, _>>()? }),
            other => Err(format!("unknown model format {other:?}")),
        }
    }
}

/// `{key: value, …}`.
pub fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// `m[key]` as a `T`.
pub fn field<T: JsCast>(m: &JsValue, key: &str) -> Result<T, String> {
    Reflect::get(m, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.dyn_into::<T>().ok())
        .ok_or_else(|| format!("a message without a proper `{key}`"))
}

pub fn text(m: &JsValue, key: &str) -> Result<String, String> {
    Reflect::get(m, &JsValue::from_str(key)).ok().and_then(|v| v.as_string()).ok_or_else(|| format!("a message without `{key}`"))
}

pub fn number(m: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(m, &JsValue::from_str(key)).ok()?.as_f64()
}

/// A reply: itself when `ok`, else its `error`.
pub fn ok(reply: &JsValue) -> Result<JsValue, String> {
    let is_ok = Reflect::get(reply, &"ok".into()).map(|v| v.is_truthy()).unwrap_or(false);
    if is_ok { Ok(reply.clone()) } else { Err(text(reply, "error").unwrap_or_else(|_| "a worker failed".into())) }
}

/// A reply to call `id`.
pub fn reply(id: f64, fields: &[(&str, JsValue)]) -> Object {
    let o = object(fields);
    let _ = Reflect::set(&o, &"id".into(), &id.into());
    let _ = Reflect::set(&o, &"ok".into(), &true.into());
    o
}

/// A failed call's reply.
pub fn failure(id: f64, error: &str) -> Object {
    object(&[("id", id.into()), ("ok", false.into()), ("error", error.into())])
}
