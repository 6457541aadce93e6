"""K-quant quantizers in NumPy, and llama.cpp's per-tensor type rule, for the
GGUF fixtures (imported by make_gguf_fixtures.py).

gguf-py (0.19) dequantizes the k-quants but cannot quantize them, so this
module writes Q2_K, Q3_K, Q4_K, Q5_K and Q6_K blocks itself. It is NOT
llama.cpp's quantizer: llama.cpp searches each sub-block's scale and minimum
(`make_qx_quants`, `make_qkx2_quants`) to minimise the weighted error; here a
sub-block's scale is simply its range over the number of levels (its
absolute maximum for the symmetric Q3_K and Q6_K), the super-block's f16
`d`/`dmin` the largest of those over the 6-bit (Q3_K: 5-bit, Q2_K: 4-bit)
maximum, and each value rounds to the nearest level. The blocks are valid
and close to the weights (`quantize` checks the error against gguf-py's
dequantization), which is all the fixtures need: the goldens come from
transformers loading the written file, so what matters is that tinyeval reads
the same blocks the same way.

Block layouts (what each byte is) are as `block_q*_K` in ggml-common.h and as
core/src/gguf/quantization/k_quants.rs describes them.

`llama_cpp_type` is llama.cpp's `llama_tensor_get_type` (src/llama-quant.cpp)
for the file types the fixtures use, Q4_K_M, Q5_K_M and Q2_K, on a model
without experts, including its fallback for rows that are not a multiple of
256 (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0).
"""

from __future__ import annotations

import gguf
import numpy as np

QK_K = 256
T = gguf.GGMLQuantizationType


def _f16(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x rounded to f16: (its bytes as uint8 [..., 2], its value as float32)."""
    h = x.astype(np.float16)
    return h.reshape(*h.shape, 1).view(np.uint8), h.astype(np.float32)


def _levels(x: np.ndarray, scale: np.ndarray, offset: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """round((x + offset) / scale) clipped to [lo, hi]; 0 where the scale is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(scale > 0, np.rint((x + offset) / scale), 0)
    return np.clip(q, lo, hi).astype(np.int32)


def _asymmetric(xs: np.ndarray, nmax: int, scale_max: int):
    """Per sub-block (last axis) scale and minimum for x = d*sc*q - dmin*m:
    returns the f16 d/dmin bytes, sc, m (integers <= scale_max) and q."""
    mn = np.minimum(xs.min(axis=-1), 0)  # llama.cpp keeps the minimum <= 0
    scale = (xs.max(axis=-1) - mn) / nmax
    d_bytes, d = _f16(scale.max(axis=-1) / scale_max)
    dmin_bytes, dmin = _f16((-mn).max(axis=-1) / scale_max)
    sc = _levels(scale, d[:, None], 0, 0, scale_max)
    m = _levels(-mn, dmin[:, None], 0, 0, scale_max)
    eff_scale = (d[:, None] * sc)[..., None].astype(np.float32)
    eff_min = (dmin[:, None] * m)[..., None].astype(np.float32)
    q = _levels(xs, eff_scale, eff_min, 0, nmax)
    return d_bytes, dmin_bytes, sc, m, q


def _symmetric(xs: np.ndarray, qmax: int, scale_max: int):
    """Per sub-block scale for x = d*sc*q with q in [-qmax-1, qmax]: the f16 d
    bytes, sc (0..scale_max) and q."""
    scale = np.abs(xs).max(axis=-1) / qmax
    d_bytes, d = _f16(scale.max(axis=-1) / scale_max)
    sc = _levels(scale, d[:, None], 0, 0, scale_max)
    eff = (d[:, None] * sc)[..., None].astype(np.float32)
    q = _levels(xs, eff, 0, -qmax - 1, qmax)
    return d_bytes, sc, q


def _pack_crumbs(q: np.ndarray) -> np.ndarray:
    """2-bit values of 256 elements -> qs[64]: each half of 128 elements uses 32
    bytes, element 32*s + j of the half in bits 2s..2s+2 of byte j."""
    q = q.reshape(-1, 2, 4, 32).astype(np.uint8)
    return (q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)).reshape(-1, 64)


def _pack_nibbles(q: np.ndarray) -> np.ndarray:
    """4-bit values of 256 elements -> qs[128]: each 64 elements use 32 bytes,
    the first 32 elements in the low nibbles, the next 32 in the high ones."""
    q = q.reshape(-1, 4, 2, 32).astype(np.uint8)
    return (q[:, :, 0] | (q[:, :, 1] << 4)).reshape(-1, 128)


def _pack_bit_planes(bits: np.ndarray) -> np.ndarray:
    """One bit per element of 256 -> 32 bytes: element e is bit e // 32 of byte e % 32."""
    bits = bits.reshape(-1, 8, 32).astype(np.uint8)
    return np.bitwise_or.reduce(bits << np.arange(8, dtype=np.uint8)[None, :, None], axis=1)


def _pack_scale_min_k4(sc: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Eight 6-bit scales and minimums -> 12 bytes (get_scale_min_k4's layout)."""
    sc, m = sc.astype(np.uint8), m.astype(np.uint8)
    out = np.zeros((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = sc[:, :4] | ((sc[:, 4:] >> 4) << 6)
    out[:, 4:8] = m[:, :4] | ((m[:, 4:] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:] & 0x0F) | ((m[:, 4:] & 0x0F) << 4)
    return out


def quantize_q2_k(x: np.ndarray) -> np.ndarray:
    """scales[16] (scale | min << 4), qs[64], f16 d, f16 dmin."""
    d, dmin, sc, m, q = _asymmetric(x.reshape(-1, 16, 16), 3, 15)
    scales = (sc | (m << 4)).astype(np.uint8)
    return np.concatenate([scales, _pack_crumbs(q), d, dmin], axis=1)


def quantize_q3_k(x: np.ndarray) -> np.ndarray:
    """hmask[32], qs[64] (low 2 bits), scales[12] (6-bit, + 32), f16 d."""
    d, sc, q = _symmetric(x.reshape(-1, 16, 16), 3, 31)
    u = (q + 4).reshape(-1, QK_K)  # 0..7; the high bit set means "no -4"
    s6 = (sc + 32).astype(np.uint8)
    scales = np.zeros((s6.shape[0], 12), dtype=np.uint8)
    scales[:, 0:8] = (s6[:, :8] & 0x0F) | ((s6[:, 8:] & 0x0F) << 4)
    high = (s6 >> 4).reshape(-1, 4, 4)  # [k // 4, k % 4]
    scales[:, 8:12] = high[:, 0] | (high[:, 1] << 2) | (high[:, 2] << 4) | (high[:, 3] << 6)
    return np.concatenate([_pack_bit_planes(u >> 2), _pack_crumbs(u & 3), scales, d], axis=1)


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """f16 d, f16 dmin, scales[12], qs[128]."""
    d, dmin, sc, m, q = _asymmetric(x.reshape(-1, 8, 32), 15, 63)
    return np.concatenate([d, dmin, _pack_scale_min_k4(sc, m), _pack_nibbles(q)], axis=1)


def quantize_q5_k(x: np.ndarray) -> np.ndarray:
    """f16 d, f16 dmin, scales[12], qh[32] (fifth bits), qs[128] (low 4 bits)."""
    d, dmin, sc, m, q = _asymmetric(x.reshape(-1, 8, 32), 31, 63)
    q = q.reshape(-1, QK_K)
    return np.concatenate([d, dmin, _pack_scale_min_k4(sc, m), _pack_bit_planes(q >> 4), _pack_nibbles(q & 15)], axis=1)


def quantize_q6_k(x: np.ndarray) -> np.ndarray:
    """ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] int8, f16 d."""
    d, sc, q = _symmetric(x.reshape(-1, 16, 16), 31, 127)
    u = (q + 32).reshape(-1, 2, 128).astype(np.uint8)  # per half of 128
    low, high = u & 0x0F, u >> 4
    ql = (low[:, :, :64] | (low[:, :, 64:] << 4)).reshape(-1, 128)
    h = high.reshape(-1, 2, 4, 32)
    qh = (h[:, :, 0] | (h[:, :, 1] << 2) | (h[:, :, 2] << 4) | (h[:, :, 3] << 6)).reshape(-1, 64)
    return np.concatenate([ql, qh, sc.astype(np.int8).view(np.uint8), d], axis=1)


K_QUANTIZERS = {T.Q2_K: quantize_q2_k, T.Q3_K: quantize_q3_k, T.Q4_K: quantize_q4_k,
                T.Q5_K: quantize_q5_k, T.Q6_K: quantize_q6_k}

# Largest |error| / (max |x| of the row) accepted from the quantizers above:
# about half a quantization step of the coarsest sub-block scale.
MAX_RELATIVE_ERROR = {T.Q2_K: 0.35, T.Q3_K: 0.2, T.Q4_K: 0.08, T.Q5_K: 0.04, T.Q6_K: 0.03}


def quantize(t: np.ndarray, qtype: T) -> np.ndarray:
    """A 2-D float32 tensor [rows, cols] as bytes [rows, cols / block * block_bytes]."""
    if qtype not in K_QUANTIZERS:
        return gguf.quants.quantize(t, qtype)
    rows, cols = t.shape
    assert cols % QK_K == 0, (t.shape, qtype)
    raw = K_QUANTIZERS[qtype](t.astype(np.float32).reshape(-1, QK_K))
    assert raw.shape[1] == gguf.GGML_QUANT_SIZES[qtype][1], (qtype, raw.shape)
    raw = raw.reshape(rows, -1)
    back = gguf.quants.dequantize(raw, qtype)
    err = np.abs(back - t).max() / max(float(np.abs(t).max()), 1e-30)
    assert err <= MAX_RELATIVE_ERROR[qtype], (qtype, err)
    return raw


def _use_more_bits(i_layer: int, n_layers: int) -> bool:
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


FTYPE_DEFAULT = {"Q4_K_M": T.Q4_K, "Q5_K_M": T.Q5_K, "Q2_K": T.Q2_K}
FILE_TYPE = {"Q4_K_M": gguf.LlamaFileType.MOSTLY_Q4_K_M, "Q5_K_M": gguf.LlamaFileType.MOSTLY_Q5_K_M,
             "Q2_K": gguf.LlamaFileType.MOSTLY_Q2_K}
FALLBACK = {T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0, T.Q2_K: T.Q4_0, T.Q3_K: T.Q4_0}


def llama_cpp_type(name: str, shape: tuple[int, ...], ftype: str, *, layer: int | None, n_layers: int,
                   n_gqa: int, tied: bool) -> T:
    """The type llama.cpp's quantize tool gives tensor `name` (PyTorch shape
    [rows, cols]) for `ftype`: 1-D tensors and norms stay F32, the position
    embedding too; the output (or the token embedding when tied) is Q6_K
    (Q8_0 if its rows are not whole 256-blocks); Q4_K_M/Q5_K_M give attn_v and
    ffn_down Q6_K in the layers use_more_bits picks; Q2_K gives attn_v
    (Q4_K with 4+ query heads per key head), ffn_down and attn_output Q3_K;
    everything else the file type's base type, falling back by row length."""
    if len(shape) < 2 or name.endswith("_norm.weight") or name == "position_embd.weight":
        return T.F32
    base = FTYPE_DEFAULT[ftype]
    cols = shape[-1]
    new = base
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        new = T.Q8_0 if cols % gguf.GGML_QUANT_SIZES[base][0] else T.Q6_K
    elif name == "token_embd.weight":
        new = base
    elif ".attn_v." in name or ".attn_qkv." in name:
        if ftype == "Q2_K":
            new = T.Q4_K if n_gqa >= 4 else T.Q3_K
        elif _use_more_bits(layer, n_layers):
            new = T.Q6_K
    elif ".ffn_down." in name:
        if ftype == "Q2_K":
            new = T.Q3_K
        elif _use_more_bits(layer, n_layers):
            new = T.Q6_K
    elif ".attn_output." in name and ftype == "Q2_K":
        new = T.Q3_K
    if new in FALLBACK and cols % QK_K:
        new = FALLBACK[new]
    return new
