//! A task or group YAML, and (for tasks) its prompts rendered against a small doc.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use tinyeval_core::tasks::TaskOrGroup;
use tinyeval_core::tasks::template::{doc_to_choice, doc_to_target, doc_to_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(TaskOrGroup::Task(task)) = TaskOrGroup::from_yaml("task.yaml", text) {
        let doc = json!({"sentence": "a good day", "label": 1, "choices": ["no", "yes"], "question": "why?"});
        let _ = doc_to_text(&task, &doc);
        let _ = doc_to_target(&task, &doc);
        let _ = doc_to_choice(&task, &doc);
    }
});
