//! Dequantizing GGUF blocks against gguf-py: core/tests/fixtures/gguf_blocks.json
//! holds random valid blocks of every tensor type tinyeval reads and the
//! float32 values `gguf.quants.dequantize` (what transformers loads GGUF files
//! with) gives them (scripts/make_quant_goldens.py).
//!
//! The values must be bit-identical, not merely close: each is one or two
//! float32 products and a difference, and tinyeval performs the same float32
//! operations in gguf-py's order, so any difference is a layout mistake.

mod common;

use std::collections::BTreeMap;

use common::repo_root;
use serde::Deserialize;
use tinyeval_core::gguf::{GgmlType, dequantize};

#[derive(Deserialize)]
struct Blocks {
    id: u32,
    block_elems: usize,
    block_bytes: usize,
    blocks_hex: String,
    values: Vec<f64>,
}

#[derive(Deserialize)]
struct Golden {
    types: BTreeMap<String, Blocks>,
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn golden() -> Golden {
    let path = repo_root().join("core/tests/fixtures/gguf_blocks.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/make_quant_goldens.py)", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_type_dequantizes_to_gguf_py_bits() {
    let golden = golden();
    for ty in GgmlType::ALL {
        let g = golden.types.get(ty.name()).unwrap_or_else(|| panic!("the golden has no {} blocks", ty.name()));
        assert_eq!(g.id, ty.id(), "{}: type id", ty.name());
        assert_eq!((g.block_elems, g.block_bytes), ty.block(), "{}: block size", ty.name());
        let raw = unhex(&g.blocks_hex);
        assert!(raw.len() >= g.block_bytes, "{}: no blocks", ty.name());
        let ours = dequantize(ty, &raw);
        assert_eq!(ours.len(), g.values.len(), "{}: number of values", ty.name());
        for (i, (&x, &want)) in ours.iter().zip(&g.values).enumerate() {
            let want = want as f32;
            assert_eq!(
                x.to_bits(),
                want.to_bits(),
                "{}: element {i} (block {}, element {} of it): ours {x:e}, gguf-py {want:e}",
                ty.name(),
                i / g.block_elems,
                i % g.block_elems
            );
        }
    }
    assert_eq!(golden.types.len(), GgmlType::ALL.len(), "the golden has types tinyeval does not list");
}

#[test]
fn partial_blocks_are_left_out_not_read_past() {
    // dequantize only reads whole blocks; GgufFile::tensor_f32 passes exact
    // lengths (and a file too short for its tensors fails to parse, see gguf.rs).
    for ty in GgmlType::ALL {
        let (elems, bytes) = ty.block();
        assert_eq!(dequantize(ty, &vec![0; bytes + bytes / 2]).len(), elems, "{}", ty.name());
        assert!(dequantize(ty, &vec![0; bytes - 1]).is_empty() || bytes == 1, "{}", ty.name());
    }
}
