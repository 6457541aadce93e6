//! How much memory a model may take in this page, what a model needs (core's
//! [`MemoryNeed`], from its `config.json` or its GGUF header, before its
//! weights are read), and refusing one that needs more before its weights are
//! downloaded or read into memory.
//!
//! A model being loaded holds its weight files in the wasm heap and its
//! parameters as f32 tensors (on the CPU backend in the wasm heap too), so it
//! needs about `file bytes + 4 × parameters`. The wasm32 heap is at most
//! 4 GiB; where the browser reports the device's memory
//! (`navigator.deviceMemory`) and it is less, that is the limit.

use tinyeval_core::gguf::GgufFile;
use tinyeval_core::memory::{MemoryNeed, format_bytes};
use wasm_bindgen::JsValue;

use crate::browser::fetch::read_slice;

const GIB: f64 = (1u64 << 30) as f64;
/// The largest heap a wasm32 module can address.
pub const WASM_HEAP_BYTES: u64 = 4 << 30;
/// The first bytes of a GGUF file read for its header; doubled until the
/// header fits (a 150,000-token vocabulary takes about 4 MiB of it).
const FIRST_HEADER_READ: u64 = 1 << 20;

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

    pub fn describe(&self) -> String {
        if self.from_device {
            format!("this page can use at most {} (the memory this device reports)", format_bytes(self.bytes))
        } else {
            format!("this page can use at most {} (the largest WebAssembly heap)", format_bytes(self.bytes))
        }
    }

    /// `Err` naming `file` when a model needing at least `needed` bytes (a
    /// lower bound, known before its header is read) does not fit.
    pub fn check_at_least(&self, file: &str, needed: u64) -> Result<(), String> {
        if needed <= self.bytes {
            return Ok(());
        }
        Err(format!("{file}: this model needs at least {} of memory; {}", format_bytes(needed), self.describe()))
    }

    /// `Err` naming `file` when a model needing `need` does not fit.
    pub fn check(&self, file: &str, need: &MemoryNeed) -> Result<(), String> {
        if need.total() <= self.bytes {
            return Ok(());
        }
        Err(format!(
            "{file}: this model needs about {} of memory; {}. It needs the file ({}) and its weights as f32 ({}): tinyeval dequantizes every weight to f32 on load",
            format_bytes(need.total()),
            self.describe(),
            format_bytes(need.file_bytes),
            format_bytes(need.weight_bytes)
        ))
    }

    /// What the Models tab shows before a model's weights are read: `name needs about …; this page can use …`.
    pub fn explain(&self, name: &str, need: &MemoryNeed) -> String {
        format!("{name} needs {}; {}", need.describe(), self.describe())
    }
}

/// A GGUF header read from the first bytes of a file (`prefix`) of
/// `file_len` bytes: its memory need, or `None` while more bytes are needed.
pub fn gguf_need(file: &str, prefix: &[u8], file_len: u64) -> Result<Option<MemoryNeed>, String> {
    let header = GgufFile::parse_header(file, prefix.to_vec(), file_len).map_err(|e| e.to_string())?;
    Ok(header.map(|h| MemoryNeed::of_gguf(&h)))
}

/// The memory need of a picked or dropped `.gguf` file, from its header
/// alone (read in slices of 1, 2, 4, … MiB, not the whole file).
pub async fn gguf_file_need(name: &str, file: &web_sys::File) -> Result<MemoryNeed, String> {
    let len = file.size() as u64;
    let mut read = FIRST_HEADER_READ.min(len);
    loop {
        let prefix = read_slice(file, 0, read).await?;
        // The whole file and still no header: parse_header reported the cut.
        if let Some(need) = gguf_need(name, &prefix, len)? {
            return Ok(need);
        }
        if read >= len {
            return Err(format!("{name}: truncated GGUF file: its header goes past the end of the file ({len} bytes)"));
        }
        read = (2 * read).min(len);
    }
}

/// When to try reading a GGUF header from a download's first bytes: at 1,
/// 2, 4, … MiB, so that a large header is not parsed again for every chunk.
pub fn next_header_try(tried_at: u64) -> u64 {
    (2 * tried_at).max(FIRST_HEADER_READ)
}
