//! What a model needs in memory, known before its weights are read: a GGUF
//! header parsed from the file's first bytes (and asking for more while the
//! header goes on), and the f32 weights it implies, checked against every
//! fixture's tensors and its configuration's parameter count; and loading a
//! GGUF file held in small pieces (freed as the tensors in them are read)
//! gives the same model as loading it whole.

mod common;

use std::path::PathBuf;

use common::{check_scores, read_goldens, repo_root};
use safetensors::SafeTensors;
use tinyeval_core::config::ModelConfig;
use tinyeval_core::file_bytes::FileBytes;
use tinyeval_core::gguf::GgufFile;
use tinyeval_core::memory::MemoryNeed;
use tinyeval_core::{Device, LanguageModel};

fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo_root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext) || (ext.is_empty() && p.is_dir()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir}");
    out
}

/// The header from the fewest leading bytes (doubling from 64) that hold it.
fn header_from_prefix(name: &str, bytes: &[u8]) -> (GgufFile, usize) {
    let mut n = 64;
    loop {
        let n_now = n.min(bytes.len());
        match GgufFile::parse_header(name, bytes[..n_now].to_vec(), bytes.len() as u64).unwrap() {
            Some(h) => return (h, n_now),
            None => {
                assert!(n_now < bytes.len(), "{name}: the whole file and still no header");
                n *= 2;
            }
        }
    }
}

#[test]
fn a_gguf_header_read_from_the_first_bytes_gives_the_f32_weights_of_every_tensor() {
    for path in files_in("core/tests/fixtures/gguf", "gguf") {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let full = GgufFile::parse(&name, bytes.clone()).unwrap();
        let (header, read) = header_from_prefix(&name, &bytes);
        assert!(read < bytes.len(), "{name}: the header should not need the whole file");
        assert_eq!(header.tensors(), full.tensors(), "{name}");
        assert_eq!(header.model_config().unwrap(), full.model_config().unwrap(), "{name}");
        let need = MemoryNeed::of_gguf(&header);
        assert_eq!(need.file_bytes, bytes.len() as u64, "{name}");
        let elements: u64 = full.tensors().iter().map(|t| t.num_elements()).sum();
        assert_eq!(need.weight_bytes, 4 * elements, "{name}");
        // Every tensor is one the decoder loads: the configuration counts the same parameters.
        let config = full.model_config().unwrap();
        assert_eq!(MemoryNeed::of_config(&config, 0).weight_bytes, need.weight_bytes, "{name}: {:?}", config.architecture);
        // A header cannot read tensor data.
        let first = &full.tensors()[0].name;
        assert!(header.tensor_f32(first).is_err(), "{name}: {first}");
    }
}

#[test]
fn a_safetensors_checkpoint_needs_four_bytes_for_each_parameter_its_config_declares() {
    for dir in files_in("core/tests/fixtures/models", "") {
        let name = dir.display().to_string();
        let config = ModelConfig::from_json(&name, &std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut elements: u64 = 0;
        for (tensor, view) in st.tensors() {
            // A tied head stored anyway is read once, as the embedding.
            if config.tie_embeddings && tensor == "lm_head.weight" {
                continue;
            }
            elements += view.shape().iter().product::<usize>() as u64;
        }
        let need = MemoryNeed::of_config(&config, bytes.len() as u64);
        assert_eq!(need.weight_bytes, 4 * elements, "{name}");
        assert_eq!(need.total(), bytes.len() as u64 + 4 * elements, "{name}");
    }
}

#[test]
fn a_broken_header_is_an_error_naming_the_file_not_a_request_for_more() {
    let path = repo_root().join("core/tests/fixtures/gguf/llama-gqa-q4_0.gguf");
    let bytes = std::fs::read(path).unwrap();
    let (_, read) = header_from_prefix("m.gguf", &bytes);
    // The file itself ends inside its header: truncated, however much is given.
    let cut = bytes[..read / 2].to_vec();
    let err = GgufFile::parse_header("cut.gguf", cut.clone(), cut.len() as u64).err().expect("a cut header is an error");
    assert!(err.to_string().starts_with("cut.gguf: truncated GGUF file"), "{err}");
    // Not a GGUF file: known from the first bytes.
    let mut bad = bytes[..64].to_vec();
    bad[..4].copy_from_slice(b"NOPE");
    let err = GgufFile::parse_header("bad.gguf", bad, bytes.len() as u64).err().expect("a bad magic number is an error");
    assert!(err.to_string().contains("bad.gguf: not a GGUF file"), "{err}");
    // An absurd tensor count in a long file is refused, not reserved.
    let mut absurd = bytes[..64].to_vec();
    absurd[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = GgufFile::parse_header("absurd.gguf", absurd, bytes.len() as u64).err().expect("an absurd count is an error");
    assert!(err.to_string().contains("absurd.gguf: truncated or corrupt GGUF file"), "{err}");
}

#[test]
fn a_gguf_file_in_pieces_loads_the_same_model_as_the_whole_file() {
    let device = Device::flex();
    for (name, golden) in read_goldens(&repo_root().join("core/tests/fixtures/gguf")) {
        let bytes = std::fs::read(repo_root().join(&golden.model)).unwrap();
        // 1000 bytes: pieces that split the header, the alignment and most tensors.
        let pieces: Vec<Vec<u8>> = bytes.chunks(1000).map(<[u8]>::to_vec).collect();
        let model = LanguageModel::load_gguf(name.clone(), FileBytes::from_pieces(pieces), &device).unwrap_or_else(|e| panic!("{name}: {e}"));
        let worst = check_scores(&name, &golden, &model);
        eprintln!("{name} in pieces: max abs difference {worst:.2e}");
    }
}
