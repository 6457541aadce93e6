//! tokenizer.json (and a tokenizer_config.json from the same bytes), then
//! encoding and decoding a text taken from the input's tail.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::tokenizer::TextTokenizer;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().rposition(|&b| b == 0).unwrap_or(data.len());
    let (json, text) = data.split_at(split);
    if let Ok(tokenizer) = TextTokenizer::from_bytes("tokenizer.json", json, Some(json)) {
        let text = String::from_utf8_lossy(text);
        if let Ok(ids) = tokenizer.encode(&text) {
            let _ = tokenizer.decode(&ids);
            let _ = tokenizer.check_fits("tokenizer.json", 2000);
        }
    }
});
