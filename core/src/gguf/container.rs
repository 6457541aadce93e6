//! The GGUF container: the header, the metadata entries and the tensor table,
//! read from bytes in memory with bounds checks that name what was being read.

use std::cell::Cell;
use std::collections::HashMap;

use super::cursor::Cursor;
use super::metadata::MetaValue;
use super::quantization::{GgmlType, ggml_type_name};
use crate::error::{Error, Result};
use crate::file_bytes::FileBytes;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: usize = 32;
/// ggml's GGML_MAX_DIMS.
const MAX_DIMS: usize = 4;
/// The first bytes tried for the header of a file held in pieces (doubled
/// until the header fits), so that a header is not copied whole from every piece.
const FIRST_HEADER_BYTES: u64 = 1 << 20;

/// Whether `bytes` start like a GGUF file.
pub fn is_gguf(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// One tensor's entry in the file's tensor table.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: innermost (contiguous) dimension first.
    pub dims: Vec<u64>,
    /// ggml type id.
    pub ggml_type: u32,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// The PyTorch shape: `dims` reversed.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    pub fn num_elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed GGUF file held in memory.
pub struct GgufFile {
    /// Names the file in errors.
    pub(super) file: String,
    /// The whole file, or only its first bytes for a header read by
    /// [`GgufFile::parse_header`] (then no tensor's data can be read); its
    /// pieces are freed as the decoder reads the tensors in them.
    pub(super) bytes: FileBytes,
    /// The file's length in bytes (more than `bytes.len()` for a header alone).
    pub(super) file_len: u64,
    pub version: u32,
    pub alignment: usize,
    /// In file order.
    pub(super) metadata: Vec<(String, MetaValue)>,
    pub(super) metadata_index: HashMap<String, usize>,
    /// In file order.
    pub(super) tensors: Vec<TensorInfo>,
    pub(super) tensor_index: HashMap<String, usize>,
    /// Start of the data section.
    pub(super) data_start: usize,
    /// Per tensor: read for good, its bytes no longer needed.
    pub(super) done: Vec<Cell<bool>>,
}

/// What the header says, before the tensors are checked against the file.
struct Header {
    version: u32,
    alignment: usize,
    metadata: Vec<(String, MetaValue)>,
    metadata_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
    data_start: usize,
}

fn align(pos: usize, alignment: usize) -> usize {
    pos.div_ceil(alignment) * alignment
}

impl GgufFile {
    /// Parses the header, metadata and tensor table of a GGUF file (versions 2
    /// and 3, little-endian): a `Vec<u8>`, or [`FileBytes`] in pieces (freed
    /// as the decoder reads the tensors in them). `file` names it in errors.
    pub fn parse(file: impl Into<String>, bytes: impl Into<FileBytes>) -> Result<Self> {
        let bytes = bytes.into();
        let file_len = bytes.len();
        Self::parse_within(file.into(), bytes, file_len).map_err(|(e, _)| e)
    }

    /// Parses the header of a GGUF file of `file_len` bytes from its first
    /// bytes, `prefix`, so that what the file holds (configuration, tokenizer,
    /// tensor table and what its weights will take in memory,
    /// [`crate::memory::MemoryNeed::of_gguf`]) is known before the rest is
    /// read. `Ok(None)`: the header goes on past `prefix`; call again with
    /// more of the file. The result has no tensor data: reading a tensor
    /// from it is an error.
    pub fn parse_header(file: impl Into<String>, prefix: Vec<u8>, file_len: u64) -> Result<Option<Self>> {
        match Self::parse_within(file.into(), prefix.into(), file_len) {
            Ok(header) => Ok(Some(header)),
            Err((_, true)) => Ok(None),
            Err((e, false)) => Err(e),
        }
    }

    /// `Err((error, true))` when the error came from reading past the end of
    /// `bytes` where the file goes on.
    fn parse_within(file: String, bytes: FileBytes, file_len: u64) -> std::result::Result<Self, (Error, bool)> {
        let read = |prefix: &[u8]| {
            let mut c = Cursor { file: &file, bytes: prefix, pos: 0, file_len, ran_out: false };
            Self::read_header(&mut c).map_err(|e| (e, c.ran_out))
        };
        // One piece is read in place; pieces from their first bytes, more while the header goes on.
        let mut n = if bytes.is_one_piece() { bytes.len() } else { FIRST_HEADER_BYTES.min(bytes.len()) };
        let header = loop {
            let header = bytes.with_range(0, n, read).map_err(|e| (Error::bad_file(&file, e), false))?;
            match header {
                Err((_, true)) if n < bytes.len() => n = (2 * n).min(bytes.len()),
                other => break other?,
            }
        };
        let Header { version, alignment, metadata, metadata_index, tensors, tensor_index, data_start } = header;
        let gguf = Self {
            file,
            bytes,
            file_len,
            version,
            alignment,
            metadata,
            metadata_index,
            done: tensors.iter().map(|_| Cell::new(false)).collect(),
            tensors,
            tensor_index,
            data_start,
        };
        for t in &gguf.tensors {
            gguf.check_tensor(t).map_err(|e| (e, false))?;
            if let Some((start, end)) = gguf.data_range(t) {
                gguf.bytes.expect_read(start, end);
            }
        }
        Ok(gguf)
    }

    /// Where a tensor of a type tinyeval reads lies in the file: bytes `start..end`.
    pub(super) fn data_range(&self, t: &TensorInfo) -> Option<(u64, u64)> {
        let (block_elems, block_bytes) = GgmlType::from_id(t.ggml_type)?.block();
        let elements = t.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
        let start = t.offset.checked_add(self.data_start as u64)?;
        let end = (elements / block_elems as u64).checked_mul(block_bytes as u64)?.checked_add(start)?;
        Some((start, end))
    }

    /// The decoder has read tensor `name` for good: the pieces of the file
    /// that hold no tensor still to be read are freed.
    pub(super) fn done_with(&self, name: &str) {
        let Some(&i) = self.tensor_index.get(name) else { return };
        if !self.done[i].replace(true)
            && let Some((start, end)) = self.data_range(&self.tensors[i])
        {
            self.bytes.done_reading(start, end);
        }
    }

    fn read_header(c: &mut Cursor) -> Result<Header> {
        let file = c.file;
        let magic = c.array::<4>(&|| "the magic number".into())?;
        if &magic != MAGIC {
            return Err(Error::bad_file(
                file,
                format!("not a GGUF file: it starts with {magic:02x?}, not \"GGUF\""),
            ));
        }
        let version = c.u32(&|| "the version".into())?;
        match version {
            2 | 3 => {}
            1 => return Err(Error::bad_file(file, "GGUF version 1 is not supported (versions 2 and 3 are): re-convert the model with a recent llama.cpp")),
            v if v.swap_bytes() == 2 || v.swap_bytes() == 3 => {
                return Err(Error::bad_file(file, "big-endian GGUF files are not supported"));
            }
            v => return Err(Error::bad_file(file, format!("unknown GGUF version {v} (versions 2 and 3 are supported)"))),
        }
        let tensor_count = c.u64(&|| "the tensor count".into())?;
        let kv_count = c.u64(&|| "the metadata count".into())?;
        // Each entry takes more than 8 bytes.
        let left = c.left() / 8;
        if tensor_count > left || kv_count > left {
            return Err(Error::bad_file(
                file,
                format!("truncated or corrupt GGUF file: it claims {tensor_count} tensors and {kv_count} metadata entries in {} bytes", c.file_len),
            ));
        }

        let mut metadata = Vec::with_capacity(c.capacity(kv_count));
        let mut metadata_index = HashMap::new();
        for i in 0..kv_count {
            let key = c.string(&|| format!("the key of metadata entry {i}"))?;
            let what = || format!("metadata `{key}`");
            let ty = c.u32(&what)?;
            let value = c.value(ty, 0, &what)?;
            if metadata_index.insert(key.clone(), metadata.len()).is_some() {
                return Err(Error::bad_file(file, format!("metadata key `{key}` appears twice")));
            }
            metadata.push((key, value));
        }

        let alignment = match metadata_index.get("general.alignment").map(|&i| &metadata[i].1) {
            None => DEFAULT_ALIGNMENT,
            Some(MetaValue::U32(a)) if a.is_power_of_two() => *a as usize,
            Some(v) => {
                return Err(Error::bad_file(
                    file,
                    format!("`general.alignment` must be a power of two stored as uint32, found {v:?}"),
                ));
            }
        };

        let mut tensors = Vec::with_capacity(c.capacity(tensor_count));
        let mut tensor_index = HashMap::new();
        for i in 0..tensor_count {
            let name = c.string(&|| format!("the name of tensor {i}"))?;
            let what = || format!("tensor `{name}`");
            let n_dims = c.u32(&what)? as usize;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(Error::bad_file(file, format!("tensor `{name}` has {n_dims} dimensions (1 to {MAX_DIMS} are allowed)")));
            }
            let mut dims = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                dims.push(c.u64(&what)?);
            }
            let ggml_type = c.u32(&what)?;
            let offset = c.u64(&what)?;
            if tensor_index.insert(name.clone(), tensors.len()).is_some() {
                return Err(Error::bad_file(file, format!("tensor `{name}` appears twice")));
            }
            tensors.push(TensorInfo { name, dims, ggml_type, offset });
        }
        let data_start = align(c.pos, alignment);
        Ok(Header { version, alignment, metadata, metadata_index, tensors, tensor_index, data_start })
    }


    /// Checks that a tensor's data lies inside the file (for the types we can
    /// read; others are reported when asked for).
    fn check_tensor(&self, t: &TensorInfo) -> Result<()> {
        if !t.offset.is_multiple_of(self.alignment as u64) {
            return Err(Error::bad_file(
                &self.file,
                format!("tensor `{}` starts at offset {}, which is not a multiple of the alignment {}", t.name, t.offset, self.alignment),
            ));
        }
        let Some(ty) = GgmlType::from_id(t.ggml_type) else {
            return Ok(());
        };
        let (block_elems, block_bytes) = ty.block();
        let elements = t.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        let Some(elements) = elements else {
            return Err(Error::bad_file(&self.file, format!("tensor `{}` has dimensions {:?} too large to hold", t.name, t.dims)));
        };
        if !t.dims[0].is_multiple_of(block_elems as u64) {
            return Err(Error::bad_file(
                &self.file,
                format!(
                    "tensor `{}` ({}) has rows of {} elements, not a multiple of the block size {block_elems}",
                    t.name,
                    ggml_type_name(t.ggml_type),
                    t.dims[0]
                ),
            ));
        }
        let nbytes = (elements / block_elems as u64).checked_mul(block_bytes as u64);
        let end = nbytes.and_then(|n| n.checked_add(t.offset)).and_then(|n| n.checked_add(self.data_start as u64));
        match end {
            Some(end) if end <= self.file_len => Ok(()),
            _ => Err(Error::bad_file(
                &self.file,
                format!(
                    "truncated GGUF file: tensor `{}` ({}, dims {:?}) ends past the end of the file ({} bytes)",
                    t.name,
                    ggml_type_name(t.ggml_type),
                    t.dims,
                    self.file_len
                ),
            )),
        }
    }

    /// The name given in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn metadata(&self) -> impl Iterator<Item = (&str, &MetaValue)> {
        self.metadata.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.metadata_index.get(key).map(|&i| &self.metadata[i].1)
    }

    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensor_index.get(name).map(|&i| &self.tensors[i])
    }

    /// Bytes of tensor data (the weights as stored).
    pub fn tensor_data_bytes(&self) -> usize {
        usize::try_from(self.file_len.saturating_sub(self.data_start as u64)).unwrap_or(usize::MAX)
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }
}
