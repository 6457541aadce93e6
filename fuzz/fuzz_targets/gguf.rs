//! A GGUF file: header, metadata, tensor table, the config and tokenizer built
//! from it, and every tensor dequantized (the block readers of each type);
//! the header read from the file's first half alone (as the page reads it
//! before the rest), and the file in small pieces (as loading frees them).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::file_bytes::FileBytes;
use tinyeval_core::gguf::GgufFile;
use tinyeval_core::memory::MemoryNeed;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(header)) = GgufFile::parse_header("model.gguf", data[..data.len() / 2].to_vec(), data.len() as u64) {
        let _ = MemoryNeed::of_gguf(&header);
    }
    let pieces = FileBytes::from_pieces(data.chunks(97).map(<[u8]>::to_vec).collect());
    if let Ok(gguf) = GgufFile::parse("model.gguf", pieces) {
        for t in gguf.tensors() {
            let _ = gguf.tensor_f32(&t.name);
        }
    }
    if let Ok(gguf) = GgufFile::parse("model.gguf", data.to_vec()) {
        if let Ok(config) = gguf.model_config() {
            let _ = config.check_backed_by("model.gguf", gguf.tensor_data_bytes());
        }
        let _ = gguf.tokenizer();
        // `parse` checked every tensor lies in the file, so each is at most a
        // dozen times the input's size once dequantized.
        for t in gguf.tensors() {
            let _ = gguf.tensor_f32(&t.name);
        }
    }
});
