//! The GGUF container: the header, the metadata entries and the tensor table,
//! read from bytes in memory with bounds checks that name what was being read.

use std::collections::HashMap;

use super::metadata::MetaValue;
use super::quantization::{GgmlType, ggml_type_name};
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: usize = 32;
/// ggml's GGML_MAX_DIMS.
const MAX_DIMS: usize = 4;
/// Arrays of arrays are allowed by the format; nothing real nests deeper than this.
const MAX_ARRAY_DEPTH: usize = 8;

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
    pub(super) bytes: Vec<u8>,
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
}

/// Little-endian reads with bounds checks that say what was being read.
struct Cursor<'a> {
    file: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &dyn Fn() -> String) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(Error::bad_file(
                self.file,
                format!(
                    "truncated GGUF file: {} needs {n} bytes at offset {} but the file has {} bytes",
                    what(),
                    self.pos,
                    self.bytes.len()
                ),
            ));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &dyn Fn() -> String) -> Result<[u8; N]> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String> {
        let len = self.u64(what)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let raw = self.take(len, what)?;
        // gguf-py decodes with errors="replace"; llama.cpp takes the bytes as they are.
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    fn value(&mut self, ty: u32, depth: usize, what: &dyn Fn() -> String) -> Result<MetaValue> {
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
                let left = (self.bytes.len() - self.pos) as u64;
                if len > left {
                    return Err(Error::bad_file(
                        self.file,
                        format!(
                            "truncated GGUF file: {} is an array of {len} items but only {left} bytes are left",
                            what()
                        ),
                    ));
                }
                let mut items = Vec::with_capacity(len as usize);
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

fn align(pos: usize, alignment: usize) -> usize {
    pos.div_ceil(alignment) * alignment
}

impl GgufFile {
    /// Parses the header, metadata and tensor table of a GGUF file (versions 2
    /// and 3, little-endian). `file` names it in errors.
    pub fn parse(file: impl Into<String>, bytes: Vec<u8>) -> Result<Self> {
        let file = file.into();
        let mut c = Cursor { file: &file, bytes: &bytes, pos: 0 };
        let magic = c.array::<4>(&|| "the magic number".into())?;
        if &magic != MAGIC {
            return Err(Error::bad_file(
                &file,
                format!("not a GGUF file: it starts with {magic:02x?}, not \"GGUF\""),
            ));
        }
        let version = c.u32(&|| "the version".into())?;
        match version {
            2 | 3 => {}
            1 => return Err(Error::bad_file(&file, "GGUF version 1 is not supported (versions 2 and 3 are): re-convert the model with a recent llama.cpp")),
            v if v.swap_bytes() == 2 || v.swap_bytes() == 3 => {
                return Err(Error::bad_file(&file, "big-endian GGUF files are not supported"));
            }
            v => return Err(Error::bad_file(&file, format!("unknown GGUF version {v} (versions 2 and 3 are supported)"))),
        }
        let tensor_count = c.u64(&|| "the tensor count".into())?;
        let kv_count = c.u64(&|| "the metadata count".into())?;
        // Each entry takes more than 8 bytes.
        let left = (bytes.len() - c.pos) as u64 / 8;
        if tensor_count > left || kv_count > left {
            return Err(Error::bad_file(
                &file,
                format!("truncated or corrupt GGUF file: it claims {tensor_count} tensors and {kv_count} metadata entries in {} bytes", bytes.len()),
            ));
        }

        let mut metadata = Vec::with_capacity(kv_count as usize);
        let mut metadata_index = HashMap::new();
        for i in 0..kv_count {
            let key = c.string(&|| format!("the key of metadata entry {i}"))?;
            let what = || format!("metadata `{key}`");
            let ty = c.u32(&what)?;
            let value = c.value(ty, 0, &what)?;
            if metadata_index.insert(key.clone(), metadata.len()).is_some() {
                return Err(Error::bad_file(&file, format!("metadata key `{key}` appears twice")));
            }
            metadata.push((key, value));
        }

        let alignment = match metadata_index.get("general.alignment").map(|&i| &metadata[i].1) {
            None => DEFAULT_ALIGNMENT,
            Some(MetaValue::U32(a)) if a.is_power_of_two() => *a as usize,
            Some(v) => {
                return Err(Error::bad_file(
                    &file,
                    format!("`general.alignment` must be a power of two stored as uint32, found {v:?}"),
                ));
            }
        };

        let mut tensors = Vec::with_capacity(tensor_count as usize);
        let mut tensor_index = HashMap::new();
        for i in 0..tensor_count {
            let name = c.string(&|| format!("the name of tensor {i}"))?;
            let what = || format!("tensor `{name}`");
            let n_dims = c.u32(&what)? as usize;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(Error::bad_file(&file, format!("tensor `{name}` has {n_dims} dimensions (1 to {MAX_DIMS} are allowed)")));
            }
            let mut dims = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                dims.push(c.u64(&what)?);
            }
            let ggml_type = c.u32(&what)?;
            let offset = c.u64(&what)?;
            if tensor_index.insert(name.clone(), tensors.len()).is_some() {
                return Err(Error::bad_file(&file, format!("tensor `{name}` appears twice")));
            }
            tensors.push(TensorInfo { name, dims, ggml_type, offset });
        }
        let data_start = align(c.pos, alignment);

        let gguf = Self {
            file,
            bytes,
            version,
            alignment,
            metadata,
            metadata_index,
            tensors,
            tensor_index,
            data_start,
        };
        for t in &gguf.tensors {
            gguf.check_tensor(t)?;
        }
        Ok(gguf)
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
            Some(end) if end <= self.bytes.len() as u64 => Ok(()),
            _ => Err(Error::bad_file(
                &self.file,
                format!(
                    "truncated GGUF file: tensor `{}` ({}, dims {:?}) ends past the end of the file ({} bytes)",
                    t.name,
                    ggml_type_name(t.ggml_type),
                    t.dims,
                    self.bytes.len()
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
        self.bytes.len().saturating_sub(self.data_start)
    }
}
