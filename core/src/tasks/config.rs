//! A task as data: the subset of lm-eval-harness's task YAML that tinyeval runs.
//! Any key outside this subset is an error naming the key and the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    MultipleChoice,
    Loglikelihood,
    LoglikelihoodRolling,
    GenerateUntil,
}

/// `doc_to_text`, `doc_to_target` or `doc_to_choice`: a Jinja template (or a
/// field name of the doc), an integer, or a literal list of strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DocField {
    Index(i64),
    Template(String),
    List(Vec<String>),
}

/// `dataset_kwargs.data_files`, as the Hugging Face `json`/`csv` loaders take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataFiles {
    One(String),
    Many(Vec<String>),
    Splits(BTreeMap<String, OneOrMany>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetKwargs {
    pub data_files: DataFiles,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub higher_is_better: Option<bool>,
}

fn default_target_delimiter() -> String {
    " ".into()
}

fn default_fewshot_delimiter() -> String {
    "\n\n".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub task: String,
    /// lm-eval's grouping tag; kept, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Value>,
    /// `json` (JSON Lines or a JSON array) or `csv`.
    pub dataset_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_kwargs: Option<DatasetKwargs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_split: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_split: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_split: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fewshot_split: Option<String>,
    pub output_type: OutputType,
    pub doc_to_text: DocField,
    pub doc_to_target: DocField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_to_choice: Option<DocField>,
    #[serde(default = "default_target_delimiter")]
    pub target_delimiter: String,
    #[serde(default = "default_fewshot_delimiter")]
    pub fewshot_delimiter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_fewshot: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_list: Option<Vec<MetricConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_kwargs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub should_decontaminate: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_to_decontamination_query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl TaskConfig {
    /// Parses a task YAML; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self> {
        let config: TaskConfig =
            serde_norway::from_str(text).map_err(|e| Error::bad_file(file, format!("invalid task YAML: {e}")))?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &str) -> Result<()> {
        if !matches!(self.dataset_path.as_str(), "json" | "csv") {
            return Err(Error::bad_file(
                file,
                format!("dataset_path `{}` is not supported (json and csv are, with dataset_kwargs.data_files)", self.dataset_path),
            ));
        }
        if self.dataset_kwargs.is_none() {
            return Err(Error::bad_file(file, "dataset_kwargs.data_files is required"));
        }
        if self.output_type == OutputType::MultipleChoice && self.doc_to_choice.is_none() {
            return Err(Error::bad_file(file, "output_type multiple_choice needs doc_to_choice"));
        }
        if self.validation_split.is_none() && self.test_split.is_none() {
            return Err(Error::bad_file(file, "the task needs a test_split or a validation_split to evaluate"));
        }
        for m in self.metric_list.iter().flatten() {
            if crate::tasks::metrics::metric(&m.metric).is_none() {
                return Err(Error::bad_file(file, format!("metric `{}` is not supported", m.metric)));
            }
            if let Some(a) = &m.aggregation {
                if crate::tasks::metrics::aggregation(a).is_none() {
                    return Err(Error::bad_file(file, format!("aggregation `{a}` is not supported")));
                }
            }
        }
        Ok(())
    }

    /// The data files of each split. A single file or a list (no split named)
    /// is the `train` split, as the Hugging Face loaders do.
    pub fn data_files(&self) -> BTreeMap<String, Vec<String>> {
        match self.dataset_kwargs.as_ref().map(|k| &k.data_files) {
            None => BTreeMap::new(),
            Some(DataFiles::One(f)) => BTreeMap::from([("train".to_string(), vec![f.clone()])]),
            Some(DataFiles::Many(f)) => BTreeMap::from([("train".to_string(), f.clone())]),
            Some(DataFiles::Splits(m)) => m.iter().map(|(k, v)| (k.clone(), v.to_vec())).collect(),
        }
    }

    /// Replaces `{name}` in every data file path by its root (e.g. `{tinyhelen}`
    /// by the TinyHelen folder).
    pub fn resolve_data_roots(&mut self, roots: &[(&str, &str)]) {
        let fix = |s: &mut String| {
            for (name, root) in roots {
                *s = s.replace(&format!("{{{name}}}"), root);
            }
        };
        if let Some(k) = &mut self.dataset_kwargs {
            match &mut k.data_files {
                DataFiles::One(f) => fix(f),
                DataFiles::Many(v) => v.iter_mut().for_each(fix),
                DataFiles::Splits(m) => m.values_mut().for_each(|v| match v {
                    OneOrMany::One(f) => fix(f),
                    OneOrMany::Many(v) => v.iter_mut().for_each(fix),
                }),
            }
        }
    }

    /// The split evaluated: `test_split`, else `validation_split`.
    pub fn eval_split(&self) -> &str {
        self.test_split.as_deref().or(self.validation_split.as_deref()).unwrap_or("test")
    }

    /// The split few-shot examples come from, as lm-eval picks it:
    /// `fewshot_split`, else training, else validation, else test.
    pub fn fewshot_source_split(&self) -> Option<&str> {
        self.fewshot_split
            .as_deref()
            .or(self.training_split.as_deref())
            .or(self.validation_split.as_deref())
            .or(self.test_split.as_deref())
    }

    /// lm-eval removes the evaluated doc from the few-shot draw when
    /// `fewshot_split == test_split` (also when both are unset).
    pub fn fewshot_excludes_eval_doc(&self) -> bool {
        self.fewshot_split == self.test_split
    }

    /// `metadata.version`, as lm-eval reports it in `versions`.
    pub fn version(&self) -> Value {
        self.metadata
            .as_ref()
            .and_then(|m| m.get("version"))
            .cloned()
            .unwrap_or(Value::Null)
    }
}
