//! A Jinja template (lm-eval's doc_to_text) rendered against a doc: bounded by fuel.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use tinyeval_core::tasks::template::render;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else { return };
    let doc = json!({"text": "a <b>day</b>", "label": 0, "choices": ["a", "b"], "n": 3});
    let _ = render(template, &doc);
});
