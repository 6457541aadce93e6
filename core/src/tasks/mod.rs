//! Tasks as data: a strict subset of lm-eval-harness's task YAML
//! ([`config`]), its templates ([`template`]), data files ([`data`]), few-shot
//! prompts ([`fewshot`], with Python's RNG in [`pyrandom`]), metrics
//! ([`metrics`]), the evaluator ([`evaluator`]), what it gives back
//! ([`records`]) and lm-eval's layouts of that ([`results`]).

pub mod config;
pub mod data;
pub mod evaluator;
pub mod fewshot;
pub mod metrics;
pub mod output_type;
pub mod pyrandom;
pub mod records;
pub mod results;
pub mod run_record;
pub mod template;

use std::collections::BTreeMap;

pub use config::{GroupConfig, OutputType, TaskConfig, TaskOrGroup};
pub use data::{DocOrigins, TaskDocs, parse_docs};
pub use evaluator::{EvalOptions, EvalProgress, SampleRecord, TaskResult, evaluate_task, evaluate_task_stepwise};

use crate::error::{Error, Result};

/// Built-in tasks and groups, one line each: `(name, file name, YAML)`. Data
/// file paths start with a root the caller resolves with
/// [`TaskConfig::resolve_data_roots`]: `{tinyhelen}` (the TinyHelen folder) or
/// `{demo}` (the demo benchmark, the repository's `public/tasks/demo`).
pub const BUILTIN_TASKS: &[(&str, &str, &str)] = &[
    ("demo_sentiment", "builtin/demo_sentiment.yaml", include_str!("builtin/demo_sentiment.yaml")),
    ("demo_yesno", "builtin/demo_yesno.yaml", include_str!("builtin/demo_yesno.yaml")),
    ("leaner_glue", "builtin/leaner_glue.yaml", include_str!("builtin/leaner_glue.yaml")),
    ("leaner_glue_cola", "builtin/leaner_glue_cola.yaml", include_str!("builtin/leaner_glue_cola.yaml")),
    ("leaner_glue_sst2", "builtin/leaner_glue_sst2.yaml", include_str!("builtin/leaner_glue_sst2.yaml")),
    ("leaner_glue_mrpc", "builtin/leaner_glue_mrpc.yaml", include_str!("builtin/leaner_glue_mrpc.yaml")),
    ("leaner_glue_qqp", "builtin/leaner_glue_qqp.yaml", include_str!("builtin/leaner_glue_qqp.yaml")),
    ("leaner_glue_mnli", "builtin/leaner_glue_mnli.yaml", include_str!("builtin/leaner_glue_mnli.yaml")),
    ("leaner_glue_mnli_mismatch", "builtin/leaner_glue_mnli_mismatch.yaml", include_str!("builtin/leaner_glue_mnli_mismatch.yaml")),
    ("leaner_glue_qnli", "builtin/leaner_glue_qnli.yaml", include_str!("builtin/leaner_glue_qnli.yaml")),
    ("leaner_glue_rte", "builtin/leaner_glue_rte.yaml", include_str!("builtin/leaner_glue_rte.yaml")),
    ("leaner_glue_wnli", "builtin/leaner_glue_wnli.yaml", include_str!("builtin/leaner_glue_wnli.yaml")),
    ("leaner_pretrain_ppl", "builtin/leaner_pretrain_ppl.yaml", include_str!("builtin/leaner_pretrain_ppl.yaml")),
    ("leaner_pretrain_ppl_book", "builtin/leaner_pretrain_ppl_book.yaml", include_str!("builtin/leaner_pretrain_ppl_book.yaml")),
    ("leaner_pretrain_ppl_code", "builtin/leaner_pretrain_ppl_code.yaml", include_str!("builtin/leaner_pretrain_ppl_code.yaml")),
    ("leaner_pretrain_ppl_conversation", "builtin/leaner_pretrain_ppl_conversation.yaml", include_str!("builtin/leaner_pretrain_ppl_conversation.yaml")),
    ("leaner_pretrain_ppl_math", "builtin/leaner_pretrain_ppl_math.yaml", include_str!("builtin/leaner_pretrain_ppl_math.yaml")),
    ("leaner_pretrain_ppl_textbook", "builtin/leaner_pretrain_ppl_textbook.yaml", include_str!("builtin/leaner_pretrain_ppl_textbook.yaml")),
    ("leaner_pretrain_ppl_web", "builtin/leaner_pretrain_ppl_web.yaml", include_str!("builtin/leaner_pretrain_ppl_web.yaml")),
    ("leaner_pretrain_ppl_wiki", "builtin/leaner_pretrain_ppl_wiki.yaml", include_str!("builtin/leaner_pretrain_ppl_wiki.yaml")),
];

/// The built-in task named `name`, parsed (`None` for unknown names and groups).
pub fn builtin_task(name: &str) -> Option<Result<TaskConfig>> {
    BUILTIN_TASKS.iter().find(|(n, _, _)| *n == name).and_then(|(_, file, yaml)| match TaskOrGroup::from_yaml(file, yaml) {
        Ok(TaskOrGroup::Task(t)) => Some(Ok(*t)),
        Ok(TaskOrGroup::Group(_)) => None,
        Err(e) => Some(Err(e)),
    })
}

/// Tasks and groups by name: the built-ins, then YAML files a user adds
/// (lm-eval's `--include_path`), which replace built-ins of the same name.
#[derive(Debug, Clone, Default)]
pub struct TaskRegistry {
    entries: BTreeMap<String, (String, TaskOrGroup)>,
}

/// Tasks to run, in order, and the groups that were asked for (with their subgroups).
#[derive(Debug, Clone, Default)]
pub struct TaskSelection {
    pub tasks: Vec<TaskConfig>,
    pub groups: Vec<GroupConfig>,
}

impl TaskRegistry {
    pub fn builtin() -> Result<Self> {
        let mut r = Self::default();
        for (_, file, yaml) in BUILTIN_TASKS {
            r.add_yaml(file, yaml)?;
        }
        Ok(r)
    }

    /// Adds a task or group YAML; `file` names it in errors and results.
    pub fn add_yaml(&mut self, file: &str, text: &str) -> Result<()> {
        let entry = TaskOrGroup::from_yaml(file, text)?;
        self.entries.insert(entry.name().to_string(), (file.to_string(), entry));
        Ok(())
    }

    /// Adds every `*.yaml`/`*.yml` file under `dir` (recursively, in name order).
    #[cfg(not(target_family = "wasm"))]
    pub fn include_path(&mut self, dir: &std::path::Path) -> Result<()> {
        let name = dir.display().to_string();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::bad_file(&name, e))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::bad_file(&name, e))?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let path = e.path();
            if path.is_dir() {
                self.include_path(&path)?;
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                let file = path.display().to_string();
                let bytes = crate::files::read_data_file(&path)?;
                let text = String::from_utf8(bytes).map_err(|e| Error::bad_file(&file, format!("not UTF-8: {e}")))?;
                self.add_yaml(&file, &text)?;
            }
        }
        Ok(())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&TaskOrGroup> {
        self.entries.get(name).map(|(_, e)| e)
    }

    /// The file a task or group came from.
    pub fn file_of(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|(f, _)| f.as_str())
    }

    /// Expands names (tasks or groups, groups recursively) into the tasks to run,
    /// each once, in the order asked.
    pub fn select(&self, names: &[&str]) -> Result<TaskSelection> {
        let mut sel = TaskSelection::default();
        for name in names {
            self.select_into(name, &mut sel, &mut Vec::new())?;
        }
        Ok(sel)
    }

    fn select_into(&self, name: &str, sel: &mut TaskSelection, path: &mut Vec<String>) -> Result<()> {
        if path.iter().any(|p| p == name) {
            return Err(Error::Input(format!("group `{name}` contains itself ({} → {name})", path.join(" → "))));
        }
        match self.get(name) {
            None => Err(Error::Input(format!(
                "unknown task or group `{name}` (known: {})",
                self.names().collect::<Vec<_>>().join(", ")
            ))),
            Some(TaskOrGroup::Task(t)) => {
                if !sel.tasks.iter().any(|x| x.task == t.task) {
                    sel.tasks.push((**t).clone());
                }
                Ok(())
            }
            Some(TaskOrGroup::Group(g)) => {
                path.push(name.to_string());
                for child in &g.task {
                    self.select_into(child, sel, path)?;
                }
                path.pop();
                if !sel.groups.iter().any(|x| x.group == g.group) {
                    sel.groups.push(g.clone());
                }
                Ok(())
            }
        }
    }
}

/// Task YAML files for lm-eval-harness (`tinyeval export-lm-eval`): each
/// selected task as it parsed, with its data roots already resolved by the
/// caller, and each group; `(file name, YAML)`.
pub fn export_lm_eval(selection: &TaskSelection) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for t in &selection.tasks {
        out.push((format!("{}.yaml", t.task), t.to_yaml()?));
    }
    for g in &selection.groups {
        out.push((format!("{}.yaml", g.group), g.to_yaml()?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tasks_parse() {
        let registry = TaskRegistry::builtin().unwrap();
        for (name, file, yaml) in BUILTIN_TASKS {
            let entry = TaskOrGroup::from_yaml(file, yaml).unwrap();
            assert_eq!(entry.name(), *name);
            if let TaskOrGroup::Group(g) = entry {
                // Every member of a built-in group is built in.
                registry.select(&[&g.group]).unwrap();
            }
        }
        let glue = registry.select(&["leaner_glue"]).unwrap();
        assert_eq!(glue.tasks.len(), 9);
        assert_eq!(registry.select(&["leaner_pretrain_ppl"]).unwrap().tasks.len(), 7);
        let e = registry.select(&["nope"]).unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("leaner_glue_cola"), "{e}");
    }

    #[test]
    fn unsupported_generation_kwargs_are_named() {
        let yaml = "task: g\ndataset_path: json\ndataset_kwargs: {data_files: a.jsonl}\ntest_split: train\noutput_type: generate_until\ndoc_to_text: q\ndoc_to_target: a\ngeneration_kwargs: {until: [x], num_beams: 2}\n";
        let e = TaskConfig::from_yaml("g.yaml", yaml).unwrap_err().to_string();
        assert!(e.contains("g.yaml") && e.contains("num_beams"), "{e}");
    }

    #[test]
    fn mnli_prompt_as_lm_eval_utils() {
        // lm_eval/tasks/glue/mnli/utils.py: a period is added unless the stripped hypothesis ends with one.
        let t = builtin_task("leaner_glue_mnli").unwrap().unwrap();
        let d = serde_json::json!({"premise": "P.", "hypothesis": " It rains ", "label": 0});
        assert_eq!(template::doc_to_text(&t, &d).unwrap(), "P.\nQuestion: It rains. True, False or Neither?\nAnswer:");
        let d = serde_json::json!({"premise": "P.", "hypothesis": "It rains.", "label": 0});
        assert_eq!(template::doc_to_text(&t, &d).unwrap(), "P.\nQuestion: It rains. True, False or Neither?\nAnswer:");
    }

    #[test]
    fn pretrain_documents_as_documented() {
        let math = builtin_task("leaner_pretrain_ppl_math").unwrap().unwrap();
        let d = serde_json::json!({"problem": "1+1?", "hints": ["Add.", "It is 2."]});
        assert_eq!(template::doc_to_target(&math, &d).unwrap(), "1+1?\nAdd.\nIt is 2.");
        let code = builtin_task("leaner_pretrain_ppl_code").unwrap().unwrap();
        let d = serde_json::json!({"prompt": "Write x.", "response": "x = 1\n"});
        assert_eq!(template::doc_to_target(&code, &d).unwrap(), "Write x.\nx = 1\n");
    }

    #[test]
    fn unknown_keys_are_named() {
        let yaml = "task: x\ndataset_path: json\ndataset_kwargs: {data_files: a.jsonl}\nvalidation_split: train\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_target: 0\ndoc_to_choice: [a, b]\nprocess_docs: foo\n";
        let e = TaskConfig::from_yaml("my.yaml", yaml).unwrap_err().to_string();
        assert!(e.contains("my.yaml") && e.contains("process_docs"), "{e}");
    }

    #[test]
    fn templates_targets_and_choices() {
        let t = builtin_task("leaner_glue_rte").unwrap().unwrap();
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
