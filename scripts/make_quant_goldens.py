#!/usr/bin/env python3
"""Write the golden of GGUF block dequantization: random valid blocks of every
tensor type tinyeval reads, and the float32 values gguf-py gives them.

Usage (from the repository root, in the reference virtual environment with
the `gguf` package installed; see scripts/requirements-reference.txt):

    python scripts/make_quant_goldens.py

Writes core/tests/fixtures/gguf_blocks.json (core/tests/gguf_quants.rs reads
it). Not in core/tests/fixtures/gguf/, whose every .json is a model golden.

Layout: `versions`, then `types`, one entry per type name (F32, F16, BF16,
Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K):
  id            ggml type id
  block_elems   elements per block, block_bytes: bytes per block
                (gguf.GGML_QUANT_SIZES)
  blocks_hex    the blocks, back to back, as hex
  values        gguf.quants.dequantize(blocks, type) (the function transformers
                loads GGUF files with), float32 values written as the exact
                Python floats they widen to

The blocks are random bytes (numpy default_rng(seed 20261201)) except their
f16 scale fields (d, dmin, m): the first block of each type has small
typical scales (as real weights have, about 1e-3 to 1e-1), the others random
f16 bit patterns with the exponent kept below 31, so every finite f16 occurs
(subnormals, zero, negative, up to 65504) but never inf or NaN. F32 and BF16
values are random bit patterns kept finite the same way.

Because every value is a product (and difference) of a few float32 numbers,
which gguf-py computes in a fixed order in float32, an implementation that
does the same operations in the same order gives the same bits; the Rust test
asserts bit equality.

Made with Python 3.11.7, numpy 2.4.6, gguf 0.19.0.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path

import gguf
import numpy as np

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "core/tests/fixtures/gguf_blocks.json"
T = gguf.GGMLQuantizationType

# type -> (number of blocks, byte offsets of its f16 scale fields in a block)
TYPES = {
    T.F32: (64, []),
    T.F16: (64, []),
    T.BF16: (64, []),
    T.Q4_0: (8, [0]),
    T.Q4_1: (8, [0, 2]),
    T.Q5_0: (8, [0]),
    T.Q5_1: (8, [0, 2]),
    T.Q8_0: (8, [0]),
    T.Q2_K: (3, [80, 82]),   # scales[16], qs[64], d, dmin
    T.Q3_K: (3, [108]),      # hmask[32], qs[64], scales[12], d
    T.Q4_K: (3, [0, 2]),     # d, dmin, scales[12], qs[128]
    T.Q5_K: (3, [0, 2]),     # d, dmin, scales[12], qh[32], qs[128]
    T.Q6_K: (3, [208]),      # ql[128], qh[64], scales[16], d
}


def finite_f16_bits(rng: np.random.Generator, n: int) -> np.ndarray:
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    inf_or_nan = (bits & 0x7C00) == 0x7C00
    bits[inf_or_nan] &= np.uint16(~0x4000 & 0xFFFF)  # exponent 31 -> 15
    return bits


def typical_f16_bits(rng: np.random.Generator, n: int) -> np.ndarray:
    values = rng.uniform(1e-3, 1e-1, size=n) * rng.choice([-1.0, 1.0], size=n)
    return values.astype(np.float16).view(np.uint16)


def blocks_for(rng: np.random.Generator, qtype: T) -> np.ndarray:
    n_blocks, scale_offsets = TYPES[qtype]
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint32).astype(np.uint8)
    if qtype == T.F16:
        raw = finite_f16_bits(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    elif qtype == T.BF16:
        bits = rng.integers(0, 1 << 16, size=n_blocks, dtype=np.uint32).astype(np.uint16)
        bits[(bits & 0x7F80) == 0x7F80] &= np.uint16(~0x4000 & 0xFFFF)
        raw = bits.view(np.uint8).reshape(n_blocks, 2)
    elif qtype == T.F32:
        bits = rng.integers(0, 1 << 32, size=n_blocks, dtype=np.uint64).astype(np.uint32)
        bits[(bits & 0x7F800000) == 0x7F800000] &= np.uint32(~0x40000000 & 0xFFFFFFFF)
        raw = bits.view(np.uint8).reshape(n_blocks, 4)
    for off in scale_offsets:
        scales = np.concatenate([typical_f16_bits(rng, 1), finite_f16_bits(rng, n_blocks - 1)])
        raw[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
    return raw


def main() -> None:
    rng = np.random.default_rng(20261201)
    types = {}
    for qtype in TYPES:
        raw = blocks_for(rng, qtype)
        values = gguf.quants.dequantize(raw.reshape(-1), qtype)
        assert values.dtype == np.float32 and np.isfinite(values).all(), qtype
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        assert values.size == raw.shape[0] * block_elems
        types[qtype.name] = {
            "id": int(qtype),
            "block_elems": block_elems,
            "block_bytes": block_bytes,
            "blocks_hex": raw.tobytes().hex(),
            "values": [float(v) for v in values.ravel()],
        }
    golden = {
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "gguf": importlib.metadata.version("gguf")},
        "types": types,
    }
    OUT.write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(REPO)}: {len(types)} types, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
