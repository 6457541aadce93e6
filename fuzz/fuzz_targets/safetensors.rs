//! A safetensors shard's header and tensor table, and the shard index.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::weights::SafetensorsWeights;

fuzz_target!(|data: &[u8]| {
    let _ = SafetensorsWeights::from_shards("model", vec![("model.safetensors".into(), data.to_vec())]);
    let _ = SafetensorsWeights::shard_names_from_index("model.safetensors.index.json", data);
});
