//! ggml's first block formats: 32 elements, one f16 scale `d` (and for the
//! `_1` types an f16 offset `m`), little-endian. Each function fills the 32
//! values `y` of one block `b`, computing as gguf-py does.

pub const Q4_0_BYTES: usize = 18;
pub const Q4_1_BYTES: usize = 20;
pub const Q5_0_BYTES: usize = 22;
pub const Q5_1_BYTES: usize = 24;
pub const Q8_0_BYTES: usize = 34;

use super::f16;

/// The low 4 bits of element `j` of a block whose 16 bytes `qs` hold two
/// elements each: element `j < 16` is the low nibble of byte `j`, element
/// `j + 16` the high nibble of byte `j`.
fn nibble(qs: &[u8], j: usize) -> u8 {
    if j < 16 { qs[j] & 0x0f } else { qs[j - 16] >> 4 }
}

/// block_q4_0: f16 d, then 16 bytes of 4-bit quants (see [`nibble`]);
/// x = (q - 8) * d.
pub fn q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16(&b[..2]);
    let qs = &b[2..18];
    for (j, y) in y.iter_mut().enumerate() {
        *y = (nibble(qs, j) as i32 - 8) as f32 * d;
    }
}

/// block_q4_1: f16 d, f16 m, then 16 bytes of 4-bit quants as Q4_0;
/// x = q * d + m.
pub fn q4_1(b: &[u8], y: &mut [f32]) {
    let d = f16(&b[..2]);
    let m = f16(&b[2..4]);
    let qs = &b[4..20];
    for (j, y) in y.iter_mut().enumerate() {
        *y = d * nibble(qs, j) as f32 + m;
    }
}

/// The 5-bit quant of element `j`: the low 4 bits as Q4_0, the fifth bit is
/// bit `j` of the little-endian u32 `qh`.
fn five_bits(qh: u32, qs: &[u8], j: usize) -> u8 {
    nibble(qs, j) | ((((qh >> j) & 1) as u8) << 4)
}

/// block_q5_0: f16 d, 4 bytes qh (the fifth bits), 16 bytes of low nibbles;
/// x = (q - 16) * d.
pub fn q5_0(b: &[u8], y: &mut [f32]) {
    let d = f16(&b[..2]);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for (j, y) in y.iter_mut().enumerate() {
        *y = d * (five_bits(qh, qs, j) as i32 - 16) as f32;
    }
}

/// block_q5_1: f16 d, f16 m, 4 bytes qh, 16 bytes of low nibbles as Q5_0;
/// x = q * d + m.
pub fn q5_1(b: &[u8], y: &mut [f32]) {
    let d = f16(&b[..2]);
    let m = f16(&b[2..4]);
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let qs = &b[8..24];
    for (j, y) in y.iter_mut().enumerate() {
        *y = d * five_bits(qh, qs, j) as f32 + m;
    }
}

/// block_q8_0: f16 d, then 32 int8 quants; x = q * d.
pub fn q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16(&b[..2]);
    for (y, &q) in y.iter_mut().zip(&b[2..34]) {
        *y = q as i8 as f32 * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(x: f32) -> [u8; 2] {
        half::f16::from_f32(x).to_le_bytes()
    }

    #[test]
    fn four_bit_blocks_put_low_nibbles_first() {
        let mut block = half(0.5).to_vec();
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let mut x = [0.0; 32];
        q4_0(&block, &mut x);
        assert_eq!(x[0], -4.0); // (0 - 8) * 0.5
        assert_eq!(x[15], 3.5); // (15 - 8) * 0.5
        assert_eq!(x[16], 3.5); // high nibble of byte 0 is 15
        assert_eq!(x[31], -4.0);

        let mut block = half(2.0).to_vec();
        block.extend(half(-1.0));
        block.extend((0..16u8).map(|j| j | (j << 4)));
        q4_1(&block, &mut x);
        assert_eq!(x[3], 5.0); // 3 * 2 - 1
        assert_eq!(x[19], 5.0);
    }

    #[test]
    fn five_bit_blocks_take_bit_j_of_qh() {
        // Element 0: nibble 0, fifth bit set -> 16; element 17: high nibble of
        // byte 1 (= 3), fifth bit clear -> 3; element 31: nibble 15 and bit 31 -> 31.
        let qh: u32 = 1 | (1 << 31);
        let mut qs = [0u8; 16];
        qs[1] = 3 << 4;
        qs[15] = 15 << 4;
        let mut block = half(1.0).to_vec();
        block.extend(qh.to_le_bytes());
        block.extend(qs);
        let mut x = [0.0; 32];
        q5_0(&block, &mut x);
        assert_eq!((x[0], x[17], x[31]), (0.0, -13.0, 15.0)); // q - 16

        let mut block = half(0.5).to_vec();
        block.extend(half(1.0));
        block.extend(qh.to_le_bytes());
        block.extend(qs);
        q5_1(&block, &mut x);
        assert_eq!((x[0], x[17], x[31]), (9.0, 2.5, 16.5)); // q * 0.5 + 1
    }

    #[test]
    fn eight_bit_blocks_are_signed() {
        let mut block = half(0.25).to_vec();
        block.extend((0..32i8).map(|j| (j - 16) as u8));
        let mut x = [0.0; 32];
        q8_0(&block, &mut x);
        assert_eq!(x[0], -4.0);
        assert_eq!(x[31], 3.75);
    }
}
