//! ggml's k-quants: super-blocks of 256 elements (`QK_K`) split into
//! sub-blocks of 16 or 32 that each have their own small integer scale (and
//! for Q2_K, Q4_K, Q5_K a minimum), themselves scaled by the super-block's f16
//! `d` (and `dmin`). Layouts as `block_q*_K` in ggml-common.h; each function
//! fills the 256 values `y` of one block `b`, computing as gguf-py does:
//! first the sub-block's scale `d * sc` (and `dmin * m`) in f32, then
//! `scale * q` (minus the minimum).

use super::f16;

pub const QK_K: usize = 256;
pub const Q2_K_BYTES: usize = 84;
pub const Q3_K_BYTES: usize = 110;
pub const Q4_K_BYTES: usize = 144;
pub const Q5_K_BYTES: usize = 176;
pub const Q6_K_BYTES: usize = 210;

/// The 2-bit field of element `e` in 64 bytes `qs` that hold four elements
/// per byte: each half of the block (128 elements) uses 32 bytes, element
/// `32 s + j` of that half being bits `2s..2s+2` of byte `j`.
fn crumb(qs: &[u8], e: usize) -> u8 {
    let (half, r) = (e / 128, e % 128);
    (qs[half * 32 + r % 32] >> (2 * (r / 32))) & 3
}

/// The 4-bit field of element `e` in 128 bytes `qs` that hold two elements
/// per byte: each 64 elements use 32 bytes, the first 32 the low nibbles, the
/// next 32 the high nibbles.
fn nibble(qs: &[u8], e: usize) -> u8 {
    (qs[(e / 64) * 32 + e % 32] >> (4 * ((e / 32) % 2))) & 0x0f
}

/// block_q2_K (84 bytes): `scales[16]`, one byte per 16-element sub-block
/// (low nibble the scale, high nibble the minimum); `qs[64]`, 2-bit quants
/// (see [`crumb`]); f16 `d`; f16 `dmin`. x = d * sc * q - dmin * m.
pub fn q2_k(b: &[u8], y: &mut [f32]) {
    let (scales, qs) = (&b[..16], &b[16..80]);
    let (d, dmin) = (f16(&b[80..82]), f16(&b[82..84]));
    for (sub, y) in y.chunks_exact_mut(16).enumerate() {
        let dl = d * (scales[sub] & 0x0f) as f32;
        let ml = dmin * (scales[sub] >> 4) as f32;
        for (i, y) in y.iter_mut().enumerate() {
            *y = dl * crumb(qs, sub * 16 + i) as f32 - ml;
        }
    }
}

/// The 6-bit scales of Q3_K, `scales[12]`: sub-block `k`'s low 4 bits are the
/// low nibble of byte `k` (k < 8) or the high nibble of byte `k - 8`; its top
/// 2 bits are bits `2 (k / 4)..` of byte `8 + k % 4`. Stored with an offset of 32.
fn q3_k_scale(scales: &[u8], k: usize) -> i32 {
    let low = if k < 8 { scales[k] & 0x0f } else { scales[k - 8] >> 4 };
    let high = (scales[8 + k % 4] >> (2 * (k / 4))) & 3;
    (low | (high << 4)) as i32 - 32
}

/// block_q3_K (110 bytes): `hmask[32]`, the third bit of each quant (element
/// `e` is bit `e / 32` of byte `e % 32`); `qs[64]`, the low 2 bits (see
/// [`crumb`]); `scales[12]`, sixteen 6-bit scales (see [`q3_k_scale`]); f16 `d`.
/// q = low bits - 4 where the hmask bit is clear (the bit set means no
/// offset); x = d * sc * q.
pub fn q3_k(b: &[u8], y: &mut [f32]) {
    let (hmask, qs, scales) = (&b[..32], &b[32..96], &b[96..108]);
    let d = f16(&b[108..110]);
    for (sub, y) in y.chunks_exact_mut(16).enumerate() {
        let dl = d * q3_k_scale(scales, sub) as f32;
        for (i, y) in y.iter_mut().enumerate() {
            let e = sub * 16 + i;
            let high = (hmask[e % 32] >> (e / 32)) & 1;
            let q = crumb(qs, e) as i32 - if high == 0 { 4 } else { 0 };
            *y = dl * q as f32;
        }
    }
}

/// The 6-bit scale and minimum of 32-element sub-block `j` of Q4_K and Q5_K,
/// packed in 12 bytes: for j < 4 the low 6 bits of bytes `j` (scale) and
/// `j + 4` (minimum); for j >= 4 the low (scale) and high (minimum) nibble of
/// byte `j + 4`, topped with the 2 high bits of bytes `j - 4` and `j`.
fn scale_min_k4(scales: &[u8], j: usize) -> (u8, u8) {
    if j < 4 {
        (scales[j] & 63, scales[j + 4] & 63)
    } else {
        (
            (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4),
            (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4),
        )
    }
}

/// block_q4_K (144 bytes): f16 `d`, f16 `dmin`, `scales[12]` (eight 6-bit
/// scales and minimums, see [`scale_min_k4`]), `qs[128]` 4-bit quants (see
/// [`nibble`]). x = d * sc * q - dmin * m per 32-element sub-block.
pub fn q4_k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (f16(&b[..2]), f16(&b[2..4]));
    let (scales, qs) = (&b[4..16], &b[16..144]);
    for (sub, y) in y.chunks_exact_mut(32).enumerate() {
        let (sc, m) = scale_min_k4(scales, sub);
        let (dl, ml) = (d * sc as f32, dmin * m as f32);
        for (i, y) in y.iter_mut().enumerate() {
            *y = dl * nibble(qs, sub * 32 + i) as f32 - ml;
        }
    }
}

/// block_q5_K (176 bytes): f16 `d`, f16 `dmin`, `scales[12]` as Q4_K,
/// `qh[32]` the fifth bits (element `e` is bit `e / 32` of byte `e % 32`),
/// `qs[128]` the low 4 bits as Q4_K. x = d * sc * q - dmin * m.
pub fn q5_k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (f16(&b[..2]), f16(&b[2..4]));
    let (scales, qh, qs) = (&b[4..16], &b[16..48], &b[48..176]);
    for (sub, y) in y.chunks_exact_mut(32).enumerate() {
        let (sc, m) = scale_min_k4(scales, sub);
        let (dl, ml) = (d * sc as f32, dmin * m as f32);
        for (i, y) in y.iter_mut().enumerate() {
            let e = sub * 32 + i;
            let q = nibble(qs, e) | (((qh[i] >> sub) & 1) << 4);
            *y = dl * q as f32 - ml;
        }
    }
}

/// block_q6_K (210 bytes): `ql[128]` the low 4 bits, `qh[64]` the high 2
/// bits, `scales[16]` int8 scales of 16-element sub-blocks, f16 `d`. Each half
/// of the block (128 elements) uses 64 bytes of `ql` (element `r` of the half:
/// byte `r % 64`, low nibble for r < 64, high nibble above) and 32 bytes of
/// `qh` (bits `2 (r / 32)..` of byte `r % 32`). q = 6-bit value - 32;
/// x = d * sc * q.
pub fn q6_k(b: &[u8], y: &mut [f32]) {
    let (ql, qh, scales) = (&b[..128], &b[128..192], &b[192..208]);
    let d = f16(&b[208..210]);
    for (sub, y) in y.chunks_exact_mut(16).enumerate() {
        let dl = d * scales[sub] as i8 as f32;
        for (i, y) in y.iter_mut().enumerate() {
            let e = sub * 16 + i;
            let (half, r) = (e / 128, e % 128);
            let low = (ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0f;
            let high = (qh[half * 32 + r % 32] >> (2 * (r / 32))) & 3;
            *y = dl * ((low | (high << 4)) as i32 - 32) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(x: f32) -> [u8; 2] {
        half::f16::from_f32(x).to_le_bytes()
    }

    /// Hand-packed blocks, read back at the positions each layout comment
    /// describes (the goldens in core/tests/gguf_quants.rs check random blocks
    /// against gguf-py).
    #[test]
    fn q4_k_scales_and_nibbles_land_where_the_layout_says() {
        let mut b = vec![0u8; Q4_K_BYTES];
        b[..2].copy_from_slice(&half(0.5));
        b[2..4].copy_from_slice(&half(0.25));
        // Sub-block 1: scale 3, min 2 (bytes 1 and 5); sub-block 5: scale
        // 0x12 (low nibble of byte 9 = 2, top bits of byte 1 = 01), min 0x21.
        b[4 + 1] = 3 | (1 << 6);
        b[4 + 5] = 2 | (2 << 6);
        b[4 + 9] = 0x2 | (0x1 << 4);
        // Element 40 (sub-block 1: high nibbles of bytes 0..32) = 7 in byte 8;
        // element 163 (sub-block 5: high nibbles of bytes 64..96) = 9 in byte 67.
        b[16 + 8] = 7 << 4;
        b[16 + 64 + 3] = 9 << 4;
        let mut y = [0.0; QK_K];
        q4_k(&b, &mut y);
        assert_eq!(y[40], 0.5 * 3.0 * 7.0 - 0.25 * 2.0);
        assert_eq!(y[163], 0.5 * 0x12 as f32 * 9.0 - 0.25 * 0x21 as f32);
    }

    #[test]
    fn q6_k_halves_and_offsets() {
        let mut b = vec![0u8; Q6_K_BYTES];
        b[208..].copy_from_slice(&half(1.0));
        b[192 + 9] = (-2i8) as u8; // sub-block 9 = elements 144..160
        // Element 128 + 70 = 198 (sub-block 12): low nibble is the high nibble
        // of ql[64 + 6]; its high bits are bits 4..6 of qh[32 + 6].
        b[192 + 12] = 1;
        b[64 + 6] = 0xa << 4;
        b[128 + 32 + 6] = 0b10 << 4;
        let mut y = [0.0; QK_K];
        q6_k(&b, &mut y);
        assert_eq!(y[198], ((0xa | (0b10 << 4)) - 32) as f32);
        assert_eq!(y[150], -2.0 * -32.0); // all-zero quant is -32
    }

    #[test]
    fn q3_k_mask_bit_set_means_no_offset() {
        let mut b = vec![0u8; Q3_K_BYTES];
        b[108..].copy_from_slice(&half(1.0));
        // Every scale 33 - 32 = 1: low nibbles 1, top bits 10 (= 32).
        for s in &mut b[96..104] {
            *s = 0x11;
        }
        for s in &mut b[104..108] {
            *s = 0b1010_1010;
        }
        b[0] = 1 << 2; // element 64's mask bit (bit 2 of byte 0)
        b[32] = 3 << 4; // element 64: bits 4..6 of qs[0]
        let mut y = [0.0; QK_K];
        q3_k(&b, &mut y);
        assert_eq!(y[64], 3.0);
        assert_eq!(y[0], -4.0); // low bits 0, mask clear
    }
}
