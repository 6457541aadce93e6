//! ggml tensor types, and dequantizing a tensor's blocks (F16, BF16, Q8_0,
//! Q4_0, Q4_1; F32 as it is) to f32.

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
    pub(super) fn block(self) -> (usize, usize) {
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
        let (block_elems, block_bytes) = ty.block();
        let n = t.num_elements() as usize;
        let start = self.data_start + t.offset as usize;
        let raw = &self.bytes[start..start + n / block_elems * block_bytes];
        Ok(Some(HostTensor { shape: t.shape(), data: dequantize(ty, raw, n) }))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
