//! Little-endian reads of a GGUF header from bytes in memory (the whole file
//! or its first bytes), with bounds checks that say what was being read.

use super::metadata::MetaValue;
use crate::error::{Error, Result};

/// Arrays of arrays are allowed by the format; nothing real nests deeper than this.
const MAX_ARRAY_DEPTH: usize = 8;

/// Little-endian reads with bounds checks that say what was being read.
pub(super) struct Cursor<'a> {
    pub(super) file: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    /// The file's length; `bytes` may be only its beginning.
    pub(super) file_len: u64,
    /// A read went past the end of `bytes` but not past the end of the file:
    /// more of the file is needed to read the header.
    pub(super) ran_out: bool,
}

impl<'a> Cursor<'a> {
    pub(super) fn take(&mut self, n: usize, what: &dyn Fn() -> String) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            let past_file = (self.pos as u64).checked_add(n as u64).is_none_or(|end| end > self.file_len);
            self.ran_out = !past_file;
            return Err(Error::bad_file(
                self.file,
                format!(
                    "truncated GGUF file: {} needs {n} bytes at offset {} but the file has {} bytes",
                    what(),
                    self.pos,
                    self.file_len
                ),
            ));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(super) fn array<const N: usize>(&mut self, what: &dyn Fn() -> String) -> Result<[u8; N]> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    pub(super) fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(super) fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub(super) fn string(&mut self, what: &dyn Fn() -> String) -> Result<String> {
        let len = self.u64(what)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let raw = self.take(len, what)?;
        // gguf-py decodes with errors="replace"; llama.cpp takes the bytes as they are.
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    pub(super) fn value(&mut self, ty: u32, depth: usize, what: &dyn Fn() -> String) -> Result<MetaValue> {
        Ok(match ty {
            0 => MetaValue::U8(self.array::<1>(what)?[0]),
            1 => MetaValue::I8(self.array::<1>(what)?[0] as i8),
            2 => MetaValue::U16(u16::from_le_bytes(self.array(what)?)),
            3 => MetaValue::I16(i16::from_le_bytes(self.array(what)?)),
            4 => MetaValue::U32(self.u32(what)?),
            5 => MetaValue::I32(i32::from_le_bytes(self.array(what)?)),
            6 => MetaValue::F32(f32::from_le_bytes(self.array(what)?)),
            7 => match self.array::<1>(what)?[0] {
                0 => MetaValue::Bool(false),
                1 => MetaValue::Bool(true),
                b => return Err(Error::bad_file(self.file, format!("{}: bool value {b} is neither 0 nor 1", what()))),
            },
            8 => MetaValue::String(self.string(what)?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(Error::bad_file(self.file, format!("{}: arrays nested more than {MAX_ARRAY_DEPTH} deep", what())));
                }
                let item_ty = self.u32(what)?;
                let len = self.u64(what)?;
                // Every item takes at least one byte: a length beyond what is
                // left is a broken file, not a reason to allocate.
                let left = self.left();
                if len > left {
                    return Err(Error::bad_file(
                        self.file,
                        format!(
                            "truncated GGUF file: {} is an array of {len} items but only {left} bytes are left",
                            what()
                        ),
                    ));
                }
                let mut items = Vec::with_capacity(self.capacity(len));
                for _ in 0..len {
                    items.push(self.value(item_ty, depth + 1, what)?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::U64(self.u64(what)?),
            11 => MetaValue::I64(i64::from_le_bytes(self.array(what)?)),
            12 => MetaValue::F64(f64::from_le_bytes(self.array(what)?)),
            other => {
                return Err(Error::bad_file(self.file, format!("{}: unknown metadata value type {other}", what())));
            }
        })
    }
}

impl Cursor<'_> {
    /// Bytes of the file after the current position.
    pub(super) fn left(&self) -> u64 {
        self.file_len.saturating_sub(self.pos as u64)
    }

    /// Room to reserve for `n` entries of at least a byte each: no more than
    /// the bytes at hand (a file of unknown length does not bound `n`).
    pub(super) fn capacity(&self, n: u64) -> usize {
        n.min((self.bytes.len() - self.pos) as u64) as usize
    }
}
