//! A GGUF file: header, metadata, tensor table, the config and tokenizer built
//! from it, and every tensor dequantized (the block readers of each type).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::gguf::GgufFile;

fuzz_target!(|data: &[u8]| {
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
