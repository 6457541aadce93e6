//! Task data: JSON Lines / JSON arrays and CSV, and Leaner-Eval's and
//! Leaner-Pretrain's JSONL files.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::leaner_eval::{parse_pretrain_documents, parse_questions};
use tinyeval_core::tasks::data::{DataFormat, parse_docs};

fuzz_target!(|data: &[u8]| {
    let _ = parse_docs("data.jsonl", data, DataFormat::from_dataset_path("json").unwrap());
    let _ = parse_docs("data.csv", data, DataFormat::from_dataset_path("csv").unwrap());
    let _ = parse_questions("questions.jsonl", data);
    let _ = parse_pretrain_documents("train.jsonl", data);
});
