//! ggml tensor types, and dequantizing a tensor's blocks to f32.
//!
//! Every value is computed with the f32 operations, in the order, that
//! gguf-py's `gguf.quants` uses (transformers loads GGUF files through it), so
//! the results are the same bits; core/tests/gguf_quants.rs checks that against
//! blocks gguf-py dequantized (scripts/make_quant_goldens.py).
//!
//! - this file: the types ([`GgmlType`]), their block sizes, and the dispatch;
//!   F32, F16 and BF16, which are one element per "block";
//! - `legacy`: the 32-element blocks with one scale (Q4_0, Q4_1, Q5_0, Q5_1,
//!   Q8_0);
//! - `k_quants`: the 256-element super-blocks of sub-blocks with their own
//!   scales (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K).

mod k_quants;
mod legacy;

use super::container::GgufFile;
use crate::error::{Error, Result};
use crate::weights::HostTensor;

/// ggml tensor types tinyeval can dequantize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
}

impl GgmlType {
    /// Every type tinyeval reads, for messages and tests.
    pub const ALL: [GgmlType; 13] = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q2K,
        GgmlType::Q3K,
        GgmlType::Q4K,
        GgmlType::Q5K,
        GgmlType::Q6K,
    ];

    /// The type of ggml type id `id` (`enum ggml_type` in ggml.h), if tinyeval reads it.
    pub fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            6 => GgmlType::Q5_0,
            7 => GgmlType::Q5_1,
            8 => GgmlType::Q8_0,
            10 => GgmlType::Q2K,
            11 => GgmlType::Q3K,
            12 => GgmlType::Q4K,
            13 => GgmlType::Q5K,
            14 => GgmlType::Q6K,
            30 => GgmlType::BF16,
            _ => return None,
        })
    }

    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q5_0 => 6,
            GgmlType::Q5_1 => 7,
            GgmlType::Q8_0 => 8,
            GgmlType::Q2K => 10,
            GgmlType::Q3K => 11,
            GgmlType::Q4K => 12,
            GgmlType::Q5K => 13,
            GgmlType::Q6K => 14,
            GgmlType::BF16 => 30,
        }
    }

    /// (elements per block, bytes per block), as gguf-py's `GGML_QUANT_SIZES`.
    /// A row (the innermost dimension) must hold whole blocks.
    pub fn block(self) -> (usize, usize) {
        match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::BF16 => (1, 2),
            GgmlType::Q4_0 => (32, legacy::Q4_0_BYTES),
            GgmlType::Q4_1 => (32, legacy::Q4_1_BYTES),
            GgmlType::Q5_0 => (32, legacy::Q5_0_BYTES),
            GgmlType::Q5_1 => (32, legacy::Q5_1_BYTES),
            GgmlType::Q8_0 => (32, legacy::Q8_0_BYTES),
            GgmlType::Q2K => (k_quants::QK_K, k_quants::Q2_K_BYTES),
            GgmlType::Q3K => (k_quants::QK_K, k_quants::Q3_K_BYTES),
            GgmlType::Q4K => (k_quants::QK_K, k_quants::Q4_K_BYTES),
            GgmlType::Q5K => (k_quants::QK_K, k_quants::Q5_K_BYTES),
            GgmlType::Q6K => (k_quants::QK_K, k_quants::Q6_K_BYTES),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "F32",
            GgmlType::F16 => "F16",
            GgmlType::BF16 => "BF16",
            GgmlType::Q4_0 => "Q4_0",
            GgmlType::Q4_1 => "Q4_1",
            GgmlType::Q5_0 => "Q5_0",
            GgmlType::Q5_1 => "Q5_1",
            GgmlType::Q8_0 => "Q8_0",
            GgmlType::Q2K => "Q2_K",
            GgmlType::Q3K => "Q3_K",
            GgmlType::Q4K => "Q4_K",
            GgmlType::Q5K => "Q5_K",
            GgmlType::Q6K => "Q6_K",
        }
    }
}

/// ggml's name of a tensor type id (`ggml_type` in ggml.h), for error messages.
pub fn ggml_type_name(id: u32) -> String {
    if let Some(ty) = GgmlType::from_id(id) {
        return ty.name().to_string();
    }
    let name = match id {
        9 => "Q8_1",
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
        34 => "TQ1_0",
        35 => "TQ2_0",
        39 => "MXFP4",
        _ => return format!("unknown type {id}"),
    };
    name.to_string()
}

impl GgufFile {
    /// The tensor called `name` (a GGUF name, e.g. `blk.0.attn_q.weight`) as
    /// f32 in PyTorch layout, exactly as stored (q/k still permuted).
    pub fn tensor_f32(&self, name: &str) -> Result<Option<HostTensor>> {
        let Some(t) = self.tensor_info(name) else { return Ok(None) };
        let ty = GgmlType::from_id(t.ggml_type).ok_or_else(|| Error::GgufTensorType {
            file: self.file.clone(),
            name: name.into(),
            ggml_type: ggml_type_name(t.ggml_type),
        })?;
        let (block_elems, _) = ty.block();
        // `parse` checked that the rows hold whole blocks and that the data lie
        // in the file; these checks keep a broken invariant an error, not a panic.
        let broken = |why: &str| Error::bad_file(&self.file, format!("tensor `{name}` ({}, dims {:?}): {why}", ty.name(), t.dims));
        let n = usize::try_from(t.num_elements()).map_err(|_| broken("too many elements for this machine"))?;
        if !n.is_multiple_of(block_elems) {
            return Err(broken(&format!("not a whole number of {block_elems}-element blocks")));
        }
        let (start, end) = self.data_range(t).ok_or_else(|| broken("the data end past the end of the file"))?;
        let data = self.bytes.with_range(start, end, |raw| dequantize(ty, raw)).map_err(broken)?;
        Ok(Some(HostTensor { shape: t.shape(), data }))
    }
}

/// The f32 values of the whole blocks of type `ty` in `raw` (any bytes past
/// the last whole block are ignored; callers pass exactly the tensor's blocks).
pub fn dequantize(ty: GgmlType, raw: &[u8]) -> Vec<f32> {
    let (block_elems, block_bytes) = ty.block();
    let blocks = raw.chunks_exact(block_bytes);
    let mut out = vec![0.0f32; blocks.len() * block_elems];
    let pairs = blocks.zip(out.chunks_exact_mut(block_elems));
    match ty {
        GgmlType::F32 => pairs.for_each(|(b, y)| y[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        GgmlType::F16 => pairs.for_each(|(b, y)| y[0] = f16(b)),
        GgmlType::BF16 => pairs.for_each(|(b, y)| y[0] = half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        GgmlType::Q4_0 => pairs.for_each(|(b, y)| legacy::q4_0(b, y)),
        GgmlType::Q4_1 => pairs.for_each(|(b, y)| legacy::q4_1(b, y)),
        GgmlType::Q5_0 => pairs.for_each(|(b, y)| legacy::q5_0(b, y)),
        GgmlType::Q5_1 => pairs.for_each(|(b, y)| legacy::q5_1(b, y)),
        GgmlType::Q8_0 => pairs.for_each(|(b, y)| legacy::q8_0(b, y)),
        GgmlType::Q2K => pairs.for_each(|(b, y)| k_quants::q2_k(b, y)),
        GgmlType::Q3K => pairs.for_each(|(b, y)| k_quants::q3_k(b, y)),
        GgmlType::Q4K => pairs.for_each(|(b, y)| k_quants::q4_k(b, y)),
        GgmlType::Q5K => pairs.for_each(|(b, y)| k_quants::q5_k(b, y)),
        GgmlType::Q6K => pairs.for_each(|(b, y)| k_quants::q6_k(b, y)),
    }
    out
}

/// A little-endian IEEE half at the start of `b`, widened exactly.
fn f16(b: &[u8]) -> f32 {
    half::f16::from_le_bytes([b[0], b[1]]).to_f32()
}
