//! config.json: any bytes give a config or an error, never a panic or a huge allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::config::ModelConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = ModelConfig::from_json("config.json", data) {
        let _ = config.num_parameters();
        let _ = config.check_batch(8, config.max_positions);
    }
});
