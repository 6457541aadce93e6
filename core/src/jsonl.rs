//! JSON Lines as every reader in core takes them (Leaner-Eval questions,
//! Leaner-Pretrain documents, probe items, labelled sets, manifests): UTF-8,
//! one JSON value a line, blank lines skipped; errors name the file and the line.

use serde_json::Value;

use crate::error::{Error, Result};

/// `(line number from 1, value)` of each non-blank line.
pub fn jsonl_rows(file: &str, bytes: &[u8]) -> Result<Vec<(usize, Value)>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::bad_file(file, format!("line {line}: not valid UTF-8"))
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map(|v| (i + 1, v)).map_err(|e| Error::bad_file(file, format!("line {}: not valid JSON: {e}", i + 1)))
        })
        .collect()
}
