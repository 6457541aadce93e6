//! GGUF models against transformers: the fixtures and goldens in
//! core/tests/fixtures/gguf/ come from `scripts/make_gguf_fixtures.py`
//! (transformers loading each .gguf itself, dequantizing and rebuilding the
//! tokenizer from the metadata). Also: the parser on hand-made files, and
//! clear errors for broken ones.

mod common;

use std::path::PathBuf;

use common::{Golden, check_scores, read_goldens, repo_root};
use tinyeval_core::gguf::{GgufFile, MetaValue};
use tinyeval_core::scoring::{ScoreRequest, score_batch};
use tinyeval_core::{Device, Error, LanguageModel};

fn fixtures() -> PathBuf {
    repo_root().join("core/tests/fixtures/gguf")
}

/// Every fixture scripts/make_gguf_fixtures.py writes (its VARIANTS); a
/// missing golden fails the test rather than shrinking it.
const FIXTURES: [&str; 13] = [
    "gemma3-sp-q8_0",
    "gpt2-1k-q8_0",
    "llama-gqa-q4_0",
    "llama-gqa-q5_k_m",
    "llama-gqa-q8_0",
    "llama-k-q4_k_m",
    "llama-k-tied-q2_k",
    "llama-k-tied-q5_k_m",
    "llama-sp-f32",
    "llama-sp-q4_1",
    "llama-sp-q4_k_m",
    "qwen2-q8_0",
    "qwen3-hd128-q8_0",
];

fn goldens() -> Vec<(String, Golden)> {
    let out = read_goldens(&fixtures());
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, FIXTURES, "the GGUF goldens in core/tests/fixtures/gguf/");
    out
}

fn check_model(name: &str, golden: &Golden, device: &Device) -> f64 {
    let model = LanguageModel::load_path(&repo_root().join(&golden.model), device).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(model.config.tie_embeddings, golden.tie_word_embeddings.unwrap(), "{name}: tied embeddings");
    assert_eq!(model.config.bos_token_id, golden.bos_token_id, "{name}: bos");
    assert_eq!(model.config.eos_token_id, golden.eos_token_id, "{name}: eos");
    assert_eq!(model.tokenizer.eos_token_id, golden.eos_token_id, "{name}: tokenizer eos");
    check_scores(name, golden, &model)
}

#[test]
fn every_gguf_fixture_matches_transformers_on_cpu() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let worst = check_model(&name, &golden, &device);
        eprintln!("{name}: max abs difference {worst:.2e}");
    }
}

/// The same on native wgpu (software Vulkan is enough) when
/// `TINYEVAL_TEST_WGPU=1`: the dequantized weights go through the GPU kernels.
#[test]
fn every_gguf_fixture_matches_transformers_on_wgpu() {
    if std::env::var("TINYEVAL_TEST_WGPU").as_deref() != Ok("1") {
        eprintln!("skipped: set TINYEVAL_TEST_WGPU=1 to run on native wgpu");
        return;
    }
    let device = Device::wgpu_options().init().expect("a wgpu adapter (apt-get install mesa-vulkan-drivers)");
    for (name, golden) in goldens() {
        let worst = check_model(&name, &golden, &device);
        eprintln!("{name} (wgpu): max abs difference {worst:.2e}");
    }
}

#[test]
fn f32_gguf_gives_the_safetensors_model_exactly() {
    // llama-sp-f32.gguf is llama-sp's weights with q/k permuted by the converter:
    // un-permuted, the decoder must compute the same numbers as from safetensors.
    let device = Device::flex();
    let from_gguf = LanguageModel::load_path(&fixtures().join("llama-sp-f32.gguf"), &device).unwrap();
    let from_st = LanguageModel::load_path(&repo_root().join("core/tests/fixtures/models/llama-sp"), &device).unwrap();
    // The file stores rms_norm_eps as f32 (1e-5 becomes 9.9999997e-6); the
    // norm adds it to f32 values, so the computation is the same.
    assert_eq!(from_gguf.config.norm_eps as f32, from_st.config.norm_eps as f32);
    let mut config = from_gguf.config.clone();
    config.norm_eps = from_st.config.norm_eps;
    assert_eq!(config, from_st.config);
    let tokens: Vec<u32> = from_st.tokenizer.encode("Once upon a time, there was a little girl.").unwrap();
    let request = ScoreRequest { context: vec![tokens[0]], continuation: tokens[1..].to_vec() };
    let a = pollster::block_on(score_batch(&from_gguf.decoder, std::slice::from_ref(&request))).unwrap();
    let b = pollster::block_on(score_batch(&from_st.decoder, &[request])).unwrap();
    assert_eq!(a, b);
}

// ---- hand-made files ----

/// A GGUF writer for tests: `kv` values are (key, type id, encoded value).
struct Builder {
    version: u32,
    kv: Vec<(String, u32, Vec<u8>)>,
    tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)>,
    alignment: usize,
}

fn gguf_string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u64).to_le_bytes().to_vec();
    out.extend(s.as_bytes());
    out
}

impl Builder {
    fn new(version: u32) -> Self {
        Self { version, kv: Vec::new(), tensors: Vec::new(), alignment: 32 }
    }

    fn kv(mut self, key: &str, ty: u32, value: Vec<u8>) -> Self {
        self.kv.push((key.into(), ty, value));
        self
    }

    fn tensor(mut self, name: &str, dims: &[u64], ty: u32, data: Vec<u8>) -> Self {
        self.tensors.push((name.into(), dims.to_vec(), ty, data));
        self
    }

    fn build(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kv.len() as u64).to_le_bytes());
        for (k, ty, v) in &self.kv {
            out.extend(gguf_string(k));
            out.extend(ty.to_le_bytes());
            out.extend(v);
        }
        let mut offset = 0u64;
        let mut offsets = Vec::new();
        for (name, dims, ty, data) in &self.tensors {
            out.extend(gguf_string(name));
            out.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(ty.to_le_bytes());
            out.extend(offset.to_le_bytes());
            offsets.push(offset);
            offset += (data.len() as u64).div_ceil(self.alignment as u64) * self.alignment as u64;
        }
        out.resize(out.len().div_ceil(self.alignment) * self.alignment, 0);
        let start = out.len();
        for ((_, _, _, data), off) in self.tensors.iter().zip(offsets) {
            out.resize(start + off as usize, 0);
            out.extend(data);
        }
        out
    }
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn parses_every_metadata_type_in_v2_and_v3() {
    for version in [2, 3] {
        let mut array = 4u32.to_le_bytes().to_vec(); // array of uint32
        array.extend(3u64.to_le_bytes());
        for v in [7u32, 8, 9] {
            array.extend(v.to_le_bytes());
        }
        let mut strings = 8u32.to_le_bytes().to_vec(); // array of strings
        strings.extend(2u64.to_le_bytes());
        strings.extend(gguf_string("a b"));
        strings.extend(gguf_string("ü"));
        let bytes = Builder::new(version)
            .kv("u8", 0, vec![200])
            .kv("i8", 1, vec![0xff])
            .kv("u16", 2, 60000u16.to_le_bytes().to_vec())
            .kv("i16", 3, (-2i16).to_le_bytes().to_vec())
            .kv("u32", 4, 70000u32.to_le_bytes().to_vec())
            .kv("i32", 5, (-3i32).to_le_bytes().to_vec())
            .kv("f32", 6, 1.5f32.to_le_bytes().to_vec())
            .kv("bool", 7, vec![1])
            .kv("string", 8, gguf_string("héllo"))
            .kv("array", 9, array)
            .kv("strings", 9, strings)
            .kv("u64", 10, (1u64 << 40).to_le_bytes().to_vec())
            .kv("i64", 11, (-5i64).to_le_bytes().to_vec())
            .kv("f64", 12, 0.25f64.to_le_bytes().to_vec())
            .tensor("w", &[2, 3], 0, f32_bytes(&[0., 1., 2., 3., 4., 5.]))
            .tensor("v", &[2], 1, [half::f16::from_f32(0.5), half::f16::from_f32(-2.0)].iter().flat_map(|h| h.to_le_bytes()).collect())
            .build();
        let g = GgufFile::parse("test.gguf", bytes).unwrap();
        assert_eq!(g.version, version);
        assert_eq!(g.get("u8"), Some(&MetaValue::U8(200)));
        assert_eq!(g.get("i8"), Some(&MetaValue::I8(-1)));
        assert_eq!(g.get("u16"), Some(&MetaValue::U16(60000)));
        assert_eq!(g.get("i16"), Some(&MetaValue::I16(-2)));
        assert_eq!(g.get("u32"), Some(&MetaValue::U32(70000)));
        assert_eq!(g.get("i32"), Some(&MetaValue::I32(-3)));
        assert_eq!(g.get("f32"), Some(&MetaValue::F32(1.5)));
        assert_eq!(g.get("bool"), Some(&MetaValue::Bool(true)));
        assert_eq!(g.get("string"), Some(&MetaValue::String("héllo".into())));
        assert_eq!(g.get("array"), Some(&MetaValue::Array(vec![MetaValue::U32(7), MetaValue::U32(8), MetaValue::U32(9)])));
        assert_eq!(
            g.get("strings"),
            Some(&MetaValue::Array(vec![MetaValue::String("a b".into()), MetaValue::String("ü".into())]))
        );
        assert_eq!(g.get("u64"), Some(&MetaValue::U64(1 << 40)));
        assert_eq!(g.get("i64"), Some(&MetaValue::I64(-5)));
        assert_eq!(g.get("f64"), Some(&MetaValue::F64(0.25)));
        let w = g.tensor_f32("w").unwrap().unwrap();
        assert_eq!(w.shape, vec![3, 2], "ggml dims [2, 3] are a PyTorch [3, 2]");
        assert_eq!(w.data, vec![0., 1., 2., 3., 4., 5.]);
        assert_eq!(g.tensor_f32("v").unwrap().unwrap().data, vec![0.5, -2.0]);
        assert!(g.tensor_f32("absent").unwrap().is_none());
    }
}

#[test]
fn honours_general_alignment() {
    let bytes = Builder { alignment: 64, ..Builder::new(3) }
        .kv("general.alignment", 4, 64u32.to_le_bytes().to_vec())
        .tensor("a", &[3], 0, f32_bytes(&[1., 2., 3.]))
        .tensor("b", &[2], 0, f32_bytes(&[4., 5.]))
        .build();
    let g = GgufFile::parse("aligned.gguf", bytes).unwrap();
    assert_eq!(g.alignment, 64);
    assert_eq!(g.tensor_info("b").unwrap().offset, 64);
    assert_eq!(g.tensor_f32("b").unwrap().unwrap().data, vec![4., 5.]);
}

fn err_string<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unsupported_tensor_type_names_the_tensor_and_type() {
    // IQ4_NL (type 20): 18-byte blocks of 32 elements.
    let bytes = Builder::new(3).tensor("blk.0.attn_q.weight", &[32, 1], 20, vec![0; 18]).build();
    let g = GgufFile::parse("i-quant.gguf", bytes).unwrap();
    let msg = err_string(g.tensor_f32("blk.0.attn_q.weight"));
    assert!(msg.contains("i-quant.gguf") && msg.contains("blk.0.attn_q.weight") && msg.contains("IQ4_NL"), "{msg}");
}

/// The mixed-type fixtures hold the types their goldens say (as llama.cpp's
/// quantize tool would pick them), so the k-quant and fallback paths are
/// the ones the scores above went through.
#[test]
fn mixed_fixtures_hold_the_tensor_types_their_goldens_name() {
    let mut seen = std::collections::BTreeSet::new();
    for name in FIXTURES {
        let golden: serde_json::Value = serde_json::from_slice(&std::fs::read(fixtures().join(format!("{name}.json"))).unwrap()).unwrap();
        let Some(types) = golden["gguf"]["tensor_types"].as_object() else { continue };
        let g = GgufFile::parse(name, std::fs::read(fixtures().join(format!("{name}.gguf"))).unwrap()).unwrap();
        assert_eq!(g.tensors().len(), types.len(), "{name}: tensor count");
        for (tensor, ty) in types {
            let info = g.tensor_info(tensor).unwrap_or_else(|| panic!("{name}: no tensor {tensor}"));
            assert_eq!(tinyeval_core::gguf::ggml_type_name(info.ggml_type), ty.as_str().unwrap(), "{name}: {tensor}");
            seen.insert(ty.as_str().unwrap().to_string());
        }
    }
    let want = ["F32", "Q2_K", "Q3_K", "Q4_K", "Q5_0", "Q5_1", "Q5_K", "Q6_K", "Q8_0"];
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), want, "types the mixed fixtures cover");
}

#[test]
fn k_quant_rows_must_hold_whole_blocks() {
    // A Q4_K tensor with rows of 128 elements (its blocks are 256): named, not read.
    let bytes = Builder::new(3).tensor("blk.0.ffn_down.weight", &[128, 2], 12, vec![0; 144]).build();
    let msg = err_string(GgufFile::parse("rows.gguf", bytes));
    assert_eq!(msg, "rows.gguf: tensor `blk.0.ffn_down.weight` (Q4_K) has rows of 128 elements, not a multiple of the block size 256");
    // Whole blocks dequantize (all-zero Q6_K blocks: q = -32 times a zero scale).
    let bytes = Builder::new(3).tensor("w", &[256, 2], 14, vec![0; 2 * 210]).build();
    let t = GgufFile::parse("ok.gguf", bytes).unwrap().tensor_f32("w").unwrap().unwrap();
    assert_eq!((t.shape, t.data.len()), (vec![2, 256], 512));
}

#[test]
fn a_truncated_k_quant_file_is_an_error_naming_the_tensor() {
    let bytes = std::fs::read(fixtures().join("llama-k-q4_k_m.gguf")).unwrap();
    // `output.weight` (Q6_K) is the last tensor: cut 1 byte, then half of it away.
    for cut in [1, 200_000] {
        let msg = err_string(GgufFile::parse("cut.gguf", bytes[..bytes.len() - cut].to_vec()));
        assert!(msg.starts_with("cut.gguf: truncated GGUF file: tensor `output.weight` (Q6_K, dims [256, 2000])"), "{msg}");
    }
    let msg = err_string(LanguageModel::load_gguf("cut.gguf", bytes[..bytes.len() - 1].to_vec(), &Device::flex()));
    assert!(msg.contains("cut.gguf: truncated GGUF file"), "{msg}");
}

#[test]
fn broken_files_give_clear_errors() {
    let path = fixtures().join("llama-gqa-q8_0.gguf");
    let bytes = std::fs::read(&path).unwrap();

    // Cut inside the tensor data.
    let msg = err_string(GgufFile::parse("cut.gguf", bytes[..bytes.len() - 1000].to_vec()));
    assert!(msg.starts_with("cut.gguf: truncated GGUF file: tensor `"), "{msg}");

    // Cut inside the metadata (the token list).
    let msg = err_string(GgufFile::parse("cut.gguf", bytes[..2000].to_vec()));
    assert!(msg.starts_with("cut.gguf: truncated GGUF file: metadata `tokenizer.ggml.tokens`"), "{msg}");

    // Cut inside the header.
    let msg = err_string(GgufFile::parse("cut.gguf", bytes[..10].to_vec()));
    assert!(msg.contains("truncated GGUF file") && msg.contains("the tensor count"), "{msg}");

    // Not a GGUF file at all.
    let msg = err_string(GgufFile::parse("model.bin", b"PK\x03\x04 a zip file".to_vec()));
    assert!(msg.contains("model.bin: not a GGUF file"), "{msg}");

    // An unsupported version.
    let mut v1 = bytes.clone();
    v1[4..8].copy_from_slice(&1u32.to_le_bytes());
    let msg = err_string(GgufFile::parse("old.gguf", v1));
    assert!(msg.contains("old.gguf: GGUF version 1 is not supported"), "{msg}");

    // An absurd tensor count.
    let mut huge = bytes.clone();
    huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    let msg = err_string(GgufFile::parse("huge.gguf", huge));
    assert!(msg.contains("huge.gguf: truncated or corrupt GGUF file"), "{msg}");

    // Through the loader: the file name is in the message.
    let dir = std::env::temp_dir().join(format!("tinyeval-gguf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let msg = err_string(LanguageModel::load_path(&cut, &Device::flex()));
    assert!(msg.contains("cut.gguf: truncated GGUF file"), "{msg}");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let msg = err_string(LanguageModel::load_path(&text, &Device::flex()));
    assert!(msg.contains("notes.txt: neither a model folder nor a GGUF file"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_metadata_and_other_architectures_are_named() {
    let bytes = Builder::new(3).kv("general.architecture", 8, gguf_string("mamba")).build();
    let msg = err_string(GgufFile::parse("mamba.gguf", bytes).unwrap().model_config());
    assert!(msg.contains("mamba.gguf") && msg.contains("mamba (GGUF; llama, qwen2, qwen3, gemma3, gpt2 are supported)"), "{msg}");

    let bytes = Builder::new(3)
        .kv("general.architecture", 8, gguf_string("llama"))
        .kv("llama.block_count", 4, 2u32.to_le_bytes().to_vec())
        .build();
    let msg = err_string(GgufFile::parse("partial.gguf", bytes).unwrap().model_config());
    assert_eq!(msg, "partial.gguf: metadata `llama.embedding_length` is missing");

    // Llama 3.1+ rotary scaling (per-dimension factors) is refused, not ignored.
    let u32v = |v: u32| v.to_le_bytes().to_vec();
    let bytes = Builder::new(3)
        .kv("general.architecture", 8, gguf_string("llama"))
        .kv("llama.embedding_length", 4, u32v(64))
        .kv("llama.block_count", 4, u32v(1))
        .kv("llama.feed_forward_length", 4, u32v(128))
        .kv("llama.attention.head_count", 4, u32v(4))
        .tensor("rope_freqs.weight", &[8], 0, f32_bytes(&[1.0; 8]))
        .build();
    let msg = err_string(GgufFile::parse("llama3.gguf", bytes).unwrap().model_config());
    assert!(msg.starts_with("llama3.gguf: `rope_freqs.weight` = present is not supported: rotary scaling"), "{msg}");
}

/// Regression: a file the `gguf` fuzz target found, whose tokenizer scores hold
/// NaN, made building its merges panic ("comparison does not implement a total
/// order"); it must give a tokenizer or an error.
#[test]
fn a_gguf_with_nan_scores_does_not_panic() {
    let path = common::repo_root().join("core/tests/fixtures/fuzz/gguf-nan-scores.gguf");
    let bytes = std::fs::read(&path).unwrap();
    if let Ok(gguf) = tinyeval_core::gguf::GgufFile::parse("model.gguf", bytes) {
        if let Ok(config) = gguf.model_config() {
            let _ = config.check_backed_by("model.gguf", gguf.tensor_data_bytes());
        }
        let _ = gguf.tokenizer();
    }
}
