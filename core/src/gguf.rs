//! Models from a single GGUF file (llama.cpp's format): the metadata becomes a
//! [`ModelConfig`] and a tokenizer, the tensors are dequantized to f32 on load.
//!
//! Only the `llama` architecture is supported (which covers Llama, Mistral,
//! SmolLM and TinyLlama files). Tensor types: F32, F16, BF16, Q8_0, Q4_0, Q4_1;
//! any other type is an error naming the tensor and its type.
//!
//! The parser is written here rather than taken from crates.io. The readers
//! looked at (November 2026): `ggus` 0.5 reads only version 3, reads the header
//! through an unaligned pointer cast, and pulls in rayon, regex and num_enum
//! through `ggml-quants`; `gguf-rs` 0.1 opens files by path and depends on clap
//! and anyhow; `gguf` 0.1 (nom-based) is unmaintained since 2023; `gguf-rs-lib`
//! 0.3 is a 14k-line reader/writer without dequantization. What tinyeval needs
//! (v2 and v3, bytes in memory so that the browser can use it, errors that name
//! the file, six tensor types) is a few hundred lines with no dependency.
//!
//! Numbers that matter for matching transformers, which loads GGUF files by
//! dequantizing with gguf-py and undoing llama.cpp's q/k permutation
//! (`transformers/modeling_gguf_pytorch_utils.py`, `LlamaTensorProcessor`):
//! - ggml lists dimensions innermost first: `ne = [in, out]` is a PyTorch
//!   `[out, in]` matrix with the same row-major bytes;
//! - llama.cpp's converter permutes the rows of `attn_q` and `attn_k` for its
//!   interleaved RoPE ([`unpermute_rows`] undoes it), so that the decoder's
//!   rotate-half RoPE gives transformers' numbers;
//! - the tokenizer is rebuilt as transformers' GGUF tokenizer converter
//!   (`transformers/integrations/gguf/gguf_tokenizer_mapping.py`) builds it; see
//!   [`GgufFile::tokenizer_json`].

use std::collections::HashMap;

use burn::tensor::Device;
use serde_json::{Value, json};

use crate::config::{Activation, Architecture, ModelConfig, NormKind, Positions};
use crate::error::{Error, Result};
use crate::language_model::LanguageModel;
use crate::model_limits::{MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS, MAX_POSITIONS, check_dim, head_size};
use crate::model::Decoder;
use crate::tokenizer::TextTokenizer;
use crate::weights::{HostTensor, WeightSource};

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

/// A metadata value, with the type the file gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(String),
    Array(Vec<MetaValue>),
}

impl MetaValue {
    /// Any integer that is not negative.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::U8(v) => Some(v as u64),
            MetaValue::U16(v) => Some(v as u64),
            MetaValue::U32(v) => Some(v as u64),
            MetaValue::U64(v) => Some(v),
            MetaValue::I8(v) => u64::try_from(v).ok(),
            MetaValue::I16(v) => u64::try_from(v).ok(),
            MetaValue::I32(v) => u64::try_from(v).ok(),
            MetaValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            MetaValue::I8(v) => Some(v as i64),
            MetaValue::I16(v) => Some(v as i64),
            MetaValue::I32(v) => Some(v as i64),
            MetaValue::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    /// Any number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetaValue::F32(v) => Some(v as f64),
            MetaValue::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetaValue::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            MetaValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The GGUF type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            MetaValue::U8(_) => "uint8",
            MetaValue::I8(_) => "int8",
            MetaValue::U16(_) => "uint16",
            MetaValue::I16(_) => "int16",
            MetaValue::U32(_) => "uint32",
            MetaValue::I32(_) => "int32",
            MetaValue::U64(_) => "uint64",
            MetaValue::I64(_) => "int64",
            MetaValue::F32(_) => "float32",
            MetaValue::F64(_) => "float64",
            MetaValue::Bool(_) => "bool",
            MetaValue::String(_) => "string",
            MetaValue::Array(_) => "array",
        }
    }
}

/// ggml tensor types tinyeval can dequantize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q8_0,
}

impl GgmlType {
    pub fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            30 => GgmlType::BF16,
            _ => return None,
        })
    }

    /// (elements per block, bytes per block)
    fn block(self) -> (usize, usize) {
        match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::BF16 => (1, 2),
            GgmlType::Q4_0 => (32, 18),
            GgmlType::Q4_1 => (32, 20),
            GgmlType::Q8_0 => (32, 34),
        }
    }
}

/// ggml's name of a tensor type id (`ggml_type` in ggml.h), for error messages.
pub fn ggml_type_name(id: u32) -> String {
    let name = match id {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        6 => "Q5_0",
        7 => "Q5_1",
        8 => "Q8_0",
        9 => "Q8_1",
        10 => "Q2_K",
        11 => "Q3_K",
        12 => "Q4_K",
        13 => "Q5_K",
        14 => "Q6_K",
        15 => "Q8_K",
        16 => "IQ2_XXS",
        17 => "IQ2_XS",
        18 => "IQ3_XXS",
        19 => "IQ1_S",
        20 => "IQ4_NL",
        21 => "IQ3_S",
        22 => "IQ2_S",
        23 => "IQ4_XS",
        24 => "I8",
        25 => "I16",
        26 => "I32",
        27 => "I64",
        28 => "F64",
        29 => "IQ1_M",
        30 => "BF16",
        34 => "TQ1_0",
        35 => "TQ2_0",
        39 => "MXFP4",
        _ => return format!("unknown type {id}"),
    };
    name.to_string()
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
    file: String,
    bytes: Vec<u8>,
    pub version: u32,
    pub alignment: usize,
    /// In file order.
    metadata: Vec<(String, MetaValue)>,
    metadata_index: HashMap<String, usize>,
    /// In file order.
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
    /// Start of the data section.
    data_start: usize,
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

    fn wrong_type(&self, key: &str, value: &MetaValue, expected: &str) -> Error {
        Error::bad_file(&self.file, format!("metadata `{key}` is a {}, expected {expected}", value.type_name()))
    }

    fn missing(&self, key: &str) -> Error {
        Error::bad_file(&self.file, format!("metadata `{key}` is missing"))
    }

    pub fn get_str(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| self.wrong_type(key, v, "a string")),
        }
    }

    pub fn get_usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| self.wrong_type(key, v, "a non-negative integer"))
                // Saturate where usize is 32 bits: the limits then refuse it by name.
                .map(|n| Some(usize::try_from(n).unwrap_or(usize::MAX))),
        }
    }

    pub fn get_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| self.wrong_type(key, v, "a number")),
        }
    }

    pub fn get_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| self.wrong_type(key, v, "a bool")),
        }
    }

    fn require_usize(&self, key: &str) -> Result<usize> {
        self.get_usize(key)?.ok_or_else(|| self.missing(key))
    }

    fn string_array(&self, key: &str) -> Result<Option<Vec<&str>>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let items = v.as_array().ok_or_else(|| self.wrong_type(key, v, "an array of strings"))?;
        items
            .iter()
            .map(|item| item.as_str().ok_or_else(|| self.wrong_type(key, item, "an array of strings")))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The tensor called `name` (a GGUF name, e.g. `blk.0.attn_q.weight`) as
    /// f32 in PyTorch layout, exactly as stored (q/k still permuted).
    pub fn tensor_f32(&self, name: &str) -> Result<Option<HostTensor>> {
        let Some(t) = self.tensor_info(name) else { return Ok(None) };
        let ty = GgmlType::from_id(t.ggml_type).ok_or_else(|| Error::GgufTensorType {
            file: self.file.clone(),
            name: name.into(),
            ggml_type: ggml_type_name(t.ggml_type),
        })?;
        let (block_elems, block_bytes) = ty.block();
        let n = t.num_elements() as usize;
        let start = self.data_start + t.offset as usize;
        let raw = &self.bytes[start..start + n / block_elems * block_bytes];
        Ok(Some(HostTensor { shape: t.shape(), data: dequantize(ty, raw, n) }))
    }

    /// `general.architecture`, checked to be one we can run.
    fn architecture(&self) -> Result<&str> {
        let arch = self.get_str("general.architecture")?.ok_or_else(|| self.missing("general.architecture"))?;
        if arch != "llama" {
            return Err(Error::UnsupportedModelType { file: self.file.clone(), model_type: format!("{arch} (GGUF; only llama is supported)") });
        }
        Ok(arch)
    }

    /// The decoder's configuration, from the `llama.*` metadata as transformers
    /// reads it (`GGUF_CONFIG_MAPPING["llama"]`), with transformers' defaults.
    pub fn model_config(&self) -> Result<ModelConfig> {
        let arch = self.architecture()?;
        let key = |k: &str| format!("{arch}.{k}");
        let unsupported = |option: &str, value: String, why: &str| Error::UnsupportedOption {
            file: self.file.clone(),
            option: option.into(),
            value,
            why: why.into(),
        };
        if let Some(scaling) = self.get_str(&key("rope.scaling.type"))?
            && scaling != "none"
        {
            return Err(unsupported(&key("rope.scaling.type"), scaling.into(), "only unscaled rotary positions are implemented"));
        }
        if let Some(factor) = self.get_f64(&key("rope.scale_linear"))?
            && factor != 1.0
        {
            return Err(unsupported(&key("rope.scale_linear"), factor.to_string(), "only unscaled rotary positions are implemented"));
        }
        if self.get(&key("expert_count")).and_then(MetaValue::as_u64).unwrap_or(0) > 0 {
            return Err(unsupported(&key("expert_count"), "> 0".into(), "mixture-of-experts models are not implemented"));
        }
        for bias in ["attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias", "ffn_up.bias"] {
            if self.tensor_info(&format!("blk.0.{bias}")).is_some() {
                return Err(unsupported(&format!("blk.0.{bias}"), "present".into(), "Llama biases are not implemented"));
            }
        }

        // Every dimension is checked by its key before anything is sized from it.
        let dim = |k: &str, max: usize| -> Result<usize> { check_dim(&self.file, &key(k), self.require_usize(&key(k))?, max) };
        let optional_dim = |k: &str, max: usize| -> Result<Option<usize>> {
            self.get_usize(&key(k))?.map(|v| check_dim(&self.file, &key(k), v, max)).transpose()
        };
        let hidden_size = dim("embedding_length", MAX_HIDDEN)?;
        let num_layers = dim("block_count", MAX_LAYERS)?;
        let intermediate_size = dim("feed_forward_length", MAX_INTERMEDIATE)?;
        let num_heads = dim("attention.head_count", MAX_HEADS)?;
        let num_kv_heads = optional_dim("attention.head_count_kv", MAX_HEADS)?.unwrap_or(num_heads);
        let rope_dims = optional_dim("rope.dimension_count", MAX_HEAD_DIM)?;
        let max_positions = optional_dim("context_length", MAX_POSITIONS)?;
        // transformers takes head_dim from rope.dimension_count for llama.
        let head_dim = match optional_dim("attention.key_length", MAX_HEAD_DIM)?.or(rope_dims) {
            Some(d) => d,
            None => head_size(&self.file, &key("embedding_length"), hidden_size, &key("attention.head_count"), num_heads)?,
        };
        let rotary_dims = rope_dims.unwrap_or(head_dim);
        if rotary_dims != head_dim {
            return Err(unsupported(
                &key("rope.dimension_count"),
                rotary_dims.to_string(),
                "llama rotary embeddings must cover the whole head",
            ));
        }
        let vocab_size = match self.get_usize(&key("vocab_size"))? {
            Some(n) => n,
            None => self
                .get("tokenizer.ggml.tokens")
                .and_then(MetaValue::as_array)
                .map(<[MetaValue]>::len)
                .ok_or_else(|| self.missing("tokenizer.ggml.tokens"))?,
        };
        let token_id = |k: &str| -> Result<Option<u32>> { Ok(self.get_usize(k)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX))) };
        let config = ModelConfig {
            architecture: Architecture::Llama,
            vocab_size,
            hidden_size,
            num_layers,
            num_heads,
            num_kv_heads,
            head_dim,
            intermediate_size,
            // llama.cpp requires it; 2048 is transformers' LlamaConfig default.
            max_positions: max_positions.unwrap_or(2048),
            positions: Positions::Rotary {
                theta: self.get_f64(&key("rope.freq_base"))?.unwrap_or(10_000.0),
                rotary_dims,
            },
            norm: NormKind::Rms,
            // f32 in the file; transformers keeps the f32 value widened to a
            // Python float, as we do.
            norm_eps: self.get_f64(&key("attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-6),
            activation: Activation::Silu,
            gated_mlp: true,
            parallel_residual: false,
            // llama.cpp writes `output.weight` only when it differs from the embedding.
            tie_embeddings: self.tensor_info("output.weight").is_none(),
            scale_attention: true,
            attention_windows: vec![None; num_layers],
            bos_token_id: token_id("tokenizer.ggml.bos_token_id")?,
            eos_token_id: token_id("tokenizer.ggml.eos_token_id")?,
        };
        config.validate(&self.file)?;
        Ok(config)
    }

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

/// Reverses llama.cpp's `permute(w, n_head)`:
/// `w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)`,
/// i.e. GGUF row `h*2*half + 2*i + j` is transformers' row `h*2*half + j*half + i`.
pub fn unpermute_rows(t: &HostTensor, n_head: usize) -> Result<HostTensor, String> {
    let (rows, cols) = match t.shape[..] {
        [rows, cols] => (rows, cols),
        _ => return Err(format!("expected a matrix, found shape {:?}", t.shape)),
    };
    if n_head == 0 || rows % (2 * n_head) != 0 {
        return Err(format!("{rows} rows cannot be split into {n_head} heads of pairs"));
    }
    let half = rows / n_head / 2;
    let mut data = vec![0.0f32; t.data.len()];
    for h in 0..n_head {
        for i in 0..half {
            for j in 0..2 {
                let src = h * 2 * half + 2 * i + j;
                let dst = h * 2 * half + j * half + i;
                data[dst * cols..(dst + 1) * cols].copy_from_slice(&t.data[src * cols..(src + 1) * cols]);
            }
        }
    }
    Ok(HostTensor { shape: t.shape.clone(), data })
}

/// The GGUF name of a transformers Llama tensor name (with or without the
/// `model.` prefix), or `None` for names GGUF files do not have.
pub fn gguf_tensor_name(hf_name: &str) -> Option<String> {
    if hf_name == "lm_head.weight" {
        return Some("output.weight".into());
    }
    let name = hf_name.strip_prefix("model.").unwrap_or(hf_name);
    match name {
        "embed_tokens.weight" => return Some("token_embd.weight".into()),
        "norm.weight" => return Some("output_norm.weight".into()),
        _ => {}
    }
    let rest = name.strip_prefix("layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (module, suffix) = rest.rsplit_once('.')?;
    let gguf = match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        _ => return None,
    };
    Some(format!("blk.{layer}.{gguf}.{suffix}"))
}

/// Serves transformers tensor names from a GGUF file, with q/k un-permuted.
impl WeightSource for GgufFile {
    fn tensor(&self, name: &str) -> Result<Option<HostTensor>> {
        let Some(gguf_name) = gguf_tensor_name(name) else { return Ok(None) };
        let Some(t) = self.tensor_f32(&gguf_name)? else { return Ok(None) };
        let heads = || -> Result<usize> { self.require_usize("llama.attention.head_count") };
        let heads = if gguf_name.ends_with(".attn_q.weight") {
            Some(heads()?)
        } else if gguf_name.ends_with(".attn_k.weight") {
            Some(match self.get_usize("llama.attention.head_count_kv")? {
                Some(n) => n,
                None => heads()?,
            })
        } else {
            None
        };
        match heads {
            None => Ok(Some(t)),
            Some(n) => unpermute_rows(&t, n)
                .map(Some)
                .map_err(|p| Error::bad_file(&self.file, format!("tensor `{gguf_name}`: {p}"))),
        }
    }

    fn describe(&self) -> &str {
        &self.file
    }

    fn stored_name(&self, name: &str) -> String {
        gguf_tensor_name(name).unwrap_or_else(|| name.to_string())
    }
}

impl LanguageModel {
    /// Loads a model from the bytes of one `.gguf` file; `name` is shown to
    /// the user and in errors.
    pub fn load_gguf(name: impl Into<String>, bytes: Vec<u8>, device: &Device) -> Result<Self> {
        let name = name.into();
        let gguf = GgufFile::parse(name.clone(), bytes)?;
        let config = gguf.model_config()?;
        config.check_backed_by(&name, gguf.tensor_data_bytes())?;
        let tokenizer = gguf.tokenizer()?;
        tokenizer.check_fits(&name, config.vocab_size)?;
        let decoder = Decoder::load(&config, &gguf, device)?;
        Ok(Self {
            name,
            config,
            tokenizer,
            decoder,
            file_bytes: gguf.tensor_data_bytes(),
        })
    }
}

/// f32 values of `n` elements stored as `ty`. `raw` holds exactly their blocks.
fn dequantize(ty: GgmlType, raw: &[u8], n: usize) -> Vec<f32> {
    let f16 = |b: &[u8]| half::f16::from_le_bytes([b[0], b[1]]).to_f32();
    let mut out = Vec::with_capacity(n);
    match ty {
        GgmlType::F32 => out.extend(raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        GgmlType::F16 => out.extend(raw.chunks_exact(2).map(f16)),
        GgmlType::BF16 => out.extend(raw.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())),
        // ggml block_q8_0: f16 d, then 32 int8; x = q * d.
        GgmlType::Q8_0 => {
            for block in raw.chunks_exact(34) {
                let d = f16(&block[..2]);
                out.extend(block[2..].iter().map(|&q| q as i8 as f32 * d));
            }
        }
        // ggml block_q4_0: f16 d, then 16 bytes; element j < 16 is the low
        // nibble of byte j, element j + 16 its high nibble; x = (q - 8) * d.
        GgmlType::Q4_0 => {
            for block in raw.chunks_exact(18) {
                let d = f16(&block[..2]);
                let qs = &block[2..];
                out.extend(qs.iter().map(|&q| ((q & 0x0f) as i32 - 8) as f32 * d));
                out.extend(qs.iter().map(|&q| ((q >> 4) as i32 - 8) as f32 * d));
            }
        }
        // ggml block_q4_1: f16 d, f16 m, then 16 bytes as Q4_0; x = q * d + m.
        GgmlType::Q4_1 => {
            for block in raw.chunks_exact(20) {
                let d = f16(&block[..2]);
                let m = f16(&block[2..4]);
                let qs = &block[4..];
                out.extend(qs.iter().map(|&q| (q & 0x0f) as f32 * d + m));
                out.extend(qs.iter().map(|&q| (q >> 4) as f32 * d + m));
            }
        }
    }
    debug_assert_eq!(out.len(), n);
    out
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
    // Descending and stable, as Python's sorted(..., reverse=True).
    merges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        kb.0.partial_cmp(&ka.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(kb.1.cmp(&ka.1))
            .then(kb.2.cmp(&ka.2))
    });
    merges.into_iter().map(|(l, r, _)| (l.to_string(), r.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_gguf() {
        assert_eq!(gguf_tensor_name("model.embed_tokens.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(gguf_tensor_name("embed_tokens.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(gguf_tensor_name("model.norm.weight").as_deref(), Some("output_norm.weight"));
        assert_eq!(gguf_tensor_name("lm_head.weight").as_deref(), Some("output.weight"));
        assert_eq!(gguf_tensor_name("model.layers.12.self_attn.o_proj.weight").as_deref(), Some("blk.12.attn_output.weight"));
        assert_eq!(gguf_tensor_name("model.layers.0.post_attention_layernorm.weight").as_deref(), Some("blk.0.ffn_norm.weight"));
        assert_eq!(gguf_tensor_name("model.layers.3.mlp.down_proj.weight").as_deref(), Some("blk.3.ffn_down.weight"));
        assert_eq!(gguf_tensor_name("transformer.wte.weight"), None);
    }

    #[test]
    fn unpermute_reverses_llama_cpp_permute() {
        // permute: reshape(n_head, 2, half, cols).swapaxes(1, 2)
        let (n_head, half, cols) = (2, 3, 2);
        let rows = n_head * 2 * half;
        let hf: Vec<f32> = (0..rows * cols).map(|x| x as f32).collect();
        let mut permuted = vec![0.0; hf.len()];
        for h in 0..n_head {
            for j in 0..2 {
                for i in 0..half {
                    let src = h * 2 * half + j * half + i; // [h, j, i]
                    let dst = h * 2 * half + i * 2 + j; // [h, i, j]
                    permuted[dst * cols..(dst + 1) * cols].copy_from_slice(&hf[src * cols..(src + 1) * cols]);
                }
            }
        }
        let t = HostTensor { shape: vec![rows, cols], data: permuted };
        assert_eq!(unpermute_rows(&t, n_head).unwrap().data, hf);
    }

    #[test]
    fn q4_blocks_put_low_nibbles_first() {
        let mut block = half::f16::from_f32(0.5).to_le_bytes().to_vec();
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let x = dequantize(GgmlType::Q4_0, &block, 32);
        assert_eq!(x[0], -4.0); // (0 - 8) * 0.5
        assert_eq!(x[15], 3.5); // (15 - 8) * 0.5
        assert_eq!(x[16], 3.5); // high nibble of byte 0 is 15
        assert_eq!(x[31], -4.0);

        let mut block = half::f16::from_f32(2.0).to_le_bytes().to_vec();
        block.extend(half::f16::from_f32(-1.0).to_le_bytes());
        block.extend((0..16u8).map(|j| j | (j << 4)));
        let x = dequantize(GgmlType::Q4_1, &block, 32);
        assert_eq!(x[3], 5.0); // 3 * 2 - 1
        assert_eq!(x[19], 5.0);

        let mut block = half::f16::from_f32(0.25).to_le_bytes().to_vec();
        block.extend((0..32i8).map(|j| (j - 16) as u8));
        let x = dequantize(GgmlType::Q8_0, &block, 32);
        assert_eq!(x[0], -4.0);
        assert_eq!(x[31], 3.75);
    }

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
