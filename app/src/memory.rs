//! How much memory a model may take in this page, and refusing one that needs
//! more before its weights are downloaded or read into memory.
//!
//! A model being loaded holds its weight files in the wasm heap and its
//! parameters as f32 tensors, so it needs about `file bytes + 4 × parameters`.
//! The wasm32 heap is at most 4 GiB; where the browser reports the device's
//! memory (`navigator.deviceMemory`) and it is less, that is the limit.

use tinyeval_core::config::{ModelConfig, Positions};
use wasm_bindgen::JsValue;

const GIB: f64 = (1u64 << 30) as f64;
/// The largest heap a wasm32 module can address.
pub const WASM_HEAP_BYTES: u64 = 4 << 30;

/// The most memory this page lets one model take, and where the figure comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    pub bytes: u64,
    /// `navigator.deviceMemory` set it (rather than the wasm32 heap).
    pub from_device: bool,
}

impl Limit {
    /// The limit in this browser.
    pub fn here() -> Self {
        let device = web_sys::window()
            .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("deviceMemory")).ok())
            .and_then(|v| v.as_f64());
        Self::from_device_memory(device)
    }

    /// The limit for a device reporting `device_gib` GiB of memory (if it reports any).
    pub fn from_device_memory(device_gib: Option<f64>) -> Self {
        match device_gib.filter(|g| g.is_finite() && *g > 0.0).map(|g| (g * GIB) as u64) {
            Some(d) if d < WASM_HEAP_BYTES => Limit { bytes: d, from_device: true },
            _ => Limit { bytes: WASM_HEAP_BYTES, from_device: false },
        }
    }

    fn describe(&self) -> String {
        if self.from_device {
            format!("this page can use at most {} (the memory this device reports)", gib(self.bytes as f64))
        } else {
            format!("this page can use at most {} (the largest WebAssembly heap)", gib(self.bytes as f64))
        }
    }

    /// `Err` naming `file` when a model needing `needed` bytes does not fit;
    /// `at_least` when `needed` is a lower bound.
    pub fn check(&self, file: &str, needed: f64, at_least: bool) -> Result<(), String> {
        if needed <= self.bytes as f64 {
            return Ok(());
        }
        let about = if at_least { "at least" } else { "about" };
        Err(format!("{file}: this model needs {about} {} of memory; {}", gib(needed), self.describe()))
    }
}

/// `9.8 GiB`, `0.3 GiB`, `4 GiB`.
pub fn gib(bytes: f64) -> String {
    let g = bytes / GIB;
    if g >= 1000.0 {
        format!("{:.0} GiB", g)
    } else if (g - g.round()).abs() < 0.05 {
        format!("{:.0} GiB", g.round())
    } else {
        format!("{g:.1} GiB")
    }
}

/// The parameters a configuration declares, in f64 (a `usize` product
/// overflows on wasm32 for the sizes a hostile or corrupt file declares).
pub fn parameters(c: &ModelConfig) -> f64 {
    let f = |n: usize| n as f64;
    let h = f(c.hidden_size);
    let kv = f(c.num_kv_heads) * f(c.head_dim);
    let q = f(c.num_heads) * f(c.head_dim);
    let attention = h * q + 2.0 * h * kv + q * h;
    let mlp = if c.gated_mlp { 3.0 } else { 2.0 } * h * f(c.intermediate_size);
    let norms = 2.0 * h;
    let embed = f(c.vocab_size) * h;
    let head = if c.tie_embeddings { 0.0 } else { embed };
    let positions = match c.positions {
        Positions::Learned => f(c.max_positions) * h,
        Positions::Rotary { .. } => 0.0,
    };
    embed + head + positions + h + f(c.num_layers) * (attention + mlp + norms)
}

/// Bytes a model takes while it loads: its weight files and its parameters as f32.
pub fn needed(file_bytes: u64, parameters: f64) -> f64 {
    file_bytes as f64 + 4.0 * parameters
}

/// The parameters `config.json` declares: exactly where core reads it; else,
/// where its dimensions are plausible ones, an estimate from them (core refuses
/// a configuration whose parameter count overflows a wasm32 `usize`, more than
/// 4 billion, which is then too large for this page too); else `None`, and
/// loading the model reports what is wrong, naming the file and field.
pub fn declared_parameters(file: &str, config_json: &[u8]) -> Option<f64> {
    match ModelConfig::from_json(file, config_json) {
        Ok(c) => Some(parameters(&c)),
        Err(_) => estimated_parameters(config_json),
    }
}

/// About the parameters of a decoder with a config's dimensions (transformers'
/// field names of the llama, gpt2, gpt_neo and gpt_neox families), when each is
/// at least 1 and at most a bound no real model exceeds.
fn estimated_parameters(config_json: &[u8]) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_slice(config_json).ok()?;
    let get = |keys: &[&str], most: u64| -> Option<Option<f64>> {
        match keys.iter().find_map(|k| v.get(*k).filter(|x| !x.is_null())) {
            None => Some(None),
            Some(x) => x.as_u64().filter(|n| (1..=most).contains(n)).map(|n| Some(n as f64)),
        }
    };
    const DIM: u64 = 1 << 22;
    let h = get(&["hidden_size", "n_embd", "d_model"], DIM)??;
    let layers = get(&["num_hidden_layers", "n_layer", "num_layers"], 1 << 16)??;
    let vocab = get(&["vocab_size"], DIM)??;
    let ff = get(&["intermediate_size", "n_inner"], DIM)?.unwrap_or(4.0 * h);
    let heads = get(&["num_attention_heads", "n_head", "num_heads"], DIM)?.unwrap_or(1.0);
    let kv_heads = get(&["num_key_value_heads"], DIM)?.unwrap_or(heads);
    let head_dim = get(&["head_dim"], DIM)?.unwrap_or(h / heads);
    let gated = v.get("model_type").and_then(|t| t.as_str()) == Some("llama");
    let attention = 2.0 * h * heads * head_dim + 2.0 * h * kv_heads * head_dim;
    let mlp = if gated { 3.0 } else { 2.0 } * h * ff;
    Some(2.0 * vocab * h + layers * (attention + mlp + 2.0 * h))
}
