//! Tasks as data: a strict subset of lm-eval-harness's task YAML
//! ([`config`]), its templates ([`template`]), data files ([`data`]), few-shot
//! prompts ([`fewshot`], with Python's RNG in [`pyrandom`]), metrics
//! ([`metrics`]) and the evaluator ([`evaluator`]).

pub mod config;
pub mod data;
pub mod evaluator;
pub mod fewshot;
pub mod metrics;
pub mod pyrandom;
pub mod template;

pub use config::{OutputType, TaskConfig};
pub use data::{TaskDocs, parse_docs};
pub use evaluator::{EvalOptions, EvalProgress, SampleRecord, TaskResult, evaluate_task, evaluate_task_stepwise};

/// Built-in tasks: `(name, file name, YAML)`. Their data file paths start with
/// `{tinyhelen}`, the TinyHelen folder, which the caller resolves with
/// [`TaskConfig::resolve_data_roots`].
pub const BUILTIN_TASKS: &[(&str, &str, &str)] = &[
    ("sst2", "builtin/sst2.yaml", include_str!("builtin/sst2.yaml")),
    ("rte", "builtin/rte.yaml", include_str!("builtin/rte.yaml")),
];

/// The built-in task named `name`, parsed.
pub fn builtin_task(name: &str) -> Option<crate::Result<TaskConfig>> {
    BUILTIN_TASKS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, file, yaml)| TaskConfig::from_yaml(file, yaml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tasks_parse() {
        for (name, _, _) in BUILTIN_TASKS {
            let t = builtin_task(name).unwrap().unwrap();
            assert_eq!(&t.task, name);
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        let yaml = "task: x\ndataset_path: json\ndataset_kwargs: {data_files: a.jsonl}\nvalidation_split: train\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_target: 0\ndoc_to_choice: [a, b]\nprocess_docs: foo\n";
        let e = TaskConfig::from_yaml("my.yaml", yaml).unwrap_err().to_string();
        assert!(e.contains("my.yaml") && e.contains("process_docs"), "{e}");
    }

    #[test]
    fn templates_targets_and_choices() {
        let t = builtin_task("rte").unwrap().unwrap();
        let doc = serde_json::json!({"sentence1": "A.", "sentence2": "B.", "label": 1});
        assert_eq!(template::doc_to_text(&t, &doc).unwrap(), "A.\nQuestion: B. True or False?\nAnswer:");
        assert_eq!(template::doc_to_target(&t, &doc).unwrap(), 1);
        let ex = [&doc];
        let ctx = fewshot::fewshot_context(&t, &doc, &ex).unwrap();
        assert_eq!(ctx, "A.\nQuestion: B. True or False?\nAnswer: False\n\nA.\nQuestion: B. True or False?\nAnswer:");
        assert_eq!(
            template::parse_python_literal("['a', \"b\\n\", 3]").unwrap(),
            serde_json::json!(["a", "b\n", 3])
        );
    }

    #[test]
    fn data_formats() {
        let j = parse_docs("x.jsonl", b"{\"a\": 1}\n\n{\"a\": 2}\n", data::DataFormat::Json).unwrap();
        assert_eq!(j.len(), 2);
        let a = parse_docs("x.json", b"[{\"a\": 1}]", data::DataFormat::Json).unwrap();
        assert_eq!(a[0]["a"], 1);
        let e = parse_docs("x.jsonl", b"{\"a\": 1}\n{oops\n", data::DataFormat::Json).unwrap_err().to_string();
        assert!(e.contains("x.jsonl") && e.contains("line 2"), "{e}");
        let c = parse_docs("x.csv", b"s,label\n\"hi, there\",1\n", data::DataFormat::Csv).unwrap();
        assert_eq!(c[0], serde_json::json!({"s": "hi, there", "label": 1}));
        let e = parse_docs("x.csv", b"s,label\na,1,2\n", data::DataFormat::Csv).unwrap_err().to_string();
        assert!(e.contains("x.csv") && e.contains("line 2"), "{e}");
    }
}
