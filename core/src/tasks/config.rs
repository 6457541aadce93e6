//! A task as data: the subset of lm-eval-harness's task YAML that tinyeval runs.
//! Any key outside this subset is an error naming the key and the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub use crate::tasks::output_type::OutputType;

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
    /// `exact_match`'s keyword arguments, as lm-eval passes them on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regexes_to_ignore: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_case: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_punctuation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_numbers: Option<bool>,
}

impl MetricConfig {
    pub fn exact_match_options(&self) -> crate::tasks::metrics::ExactMatchOptions {
        crate::tasks::metrics::ExactMatchOptions {
            regexes_to_ignore: self.regexes_to_ignore.clone().unwrap_or_default(),
            ignore_case: self.ignore_case.unwrap_or(false),
            ignore_punctuation: self.ignore_punctuation.unwrap_or(false),
            ignore_numbers: self.ignore_numbers.unwrap_or(false),
        }
    }
}

/// `generation_kwargs` keys tinyeval runs (lm-eval's HF model passes any other
/// key on to `model.generate`, which tinyeval cannot): `until`, the token budget
/// (`max_gen_toks`, or its aliases `max_new_tokens`, `max_tokens`,
/// `max_completion_tokens`, in lm-eval's order of priority), `do_sample`,
/// `temperature`, `top_p`.
pub const GENERATION_KWARGS: &[&str] =
    &["until", "max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens", "do_sample", "temperature", "top_p"];

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
        if let Some(kwargs) = &self.generation_kwargs {
            let map = kwargs
                .as_object()
                .ok_or_else(|| Error::bad_file(file, "generation_kwargs must be a mapping"))?;
            if let Some(bad) = map.keys().find(|k| !GENERATION_KWARGS.contains(&k.as_str())) {
                return Err(Error::bad_file(
                    file,
                    format!("generation_kwargs key `{bad}` is not supported (supported: {})", GENERATION_KWARGS.join(", ")),
                ));
            }
        }
        if self.output_type == OutputType::LoglikelihoodRolling && self.num_fewshot.unwrap_or(0) > 0 {
            return Err(Error::bad_file(file, "output_type loglikelihood_rolling takes no few-shot examples (num_fewshot must be 0)"));
        }
        for m in self.metric_list.iter().flatten() {
            let is_em = m.metric == "exact_match";
            if !is_em && (m.regexes_to_ignore.is_some() || m.ignore_case.is_some() || m.ignore_punctuation.is_some() || m.ignore_numbers.is_some()) {
                return Err(Error::bad_file(file, format!("metric `{}` takes no regexes_to_ignore/ignore_* options (only exact_match does)", m.metric)));
            }
            crate::tasks::metrics::check_metric(&m.metric, m.aggregation.as_deref(), self.output_type).map_err(|e| Error::bad_file(file, e))?;
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
        self.map_data_files(|f| {
            let mut s = f.to_string();
            for (name, root) in roots {
                s = s.replace(&format!("{{{name}}}"), root);
            }
            s
        });
    }

    /// Rewrites every data file path.
    pub fn map_data_files(&mut self, mut f: impl FnMut(&str) -> String) {
        let mut fix = |s: &mut String| *s = f(s);
        if let Some(k) = &mut self.dataset_kwargs {
            match &mut k.data_files {
                DataFiles::One(s) => fix(s),
                DataFiles::Many(v) => v.iter_mut().for_each(&mut fix),
                DataFiles::Splits(m) => m.values_mut().for_each(|v| match v {
                    OneOrMany::One(s) => fix(s),
                    OneOrMany::Many(v) => v.iter_mut().for_each(&mut fix),
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

    /// The YAML lm-eval reads for this task (as parsed, with defaults written
    /// out), in YAML's JSON form: every string is quoted, so that lm-eval's
    /// YAML 1.1 reader (PyYAML) never takes a choice such as `no` or `yes` for
    /// a boolean, as it would read them unquoted.
    pub fn to_yaml(&self) -> Result<String> {
        to_json_yaml(self, &self.task)
    }

    /// Every data file path, for callers that read them.
    pub fn data_file_paths(&self) -> Vec<String> {
        self.data_files().into_values().flatten().collect()
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

fn to_json_yaml<T: Serialize>(value: &T, name: &str) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::Input(format!("{name}: cannot write YAML: {e}")))
}

/// One entry of a group's `aggregate_metric_list` (lm-eval's `AggMetricConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggMetricConfig {
    pub metric: String,
    /// Only `mean` (of the subtasks' values), as in lm-eval.
    #[serde(default = "default_group_aggregation")]
    pub aggregation: String,
    #[serde(default = "default_true")]
    pub weight_by_size: bool,
    /// Filters to aggregate; tinyeval has only lm-eval's default filter `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_list: Option<Vec<String>>,
}

fn default_group_aggregation() -> String {
    "mean".into()
}

fn default_true() -> bool {
    true
}

/// A group of tasks (lm-eval's group YAML: `group`, `task`, optional
/// `group_alias`, `aggregate_metric_list`, `metadata`). Its tasks are named
/// (nested groups by name too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_alias: Option<String>,
    pub task: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_metric_list: Option<Vec<AggMetricConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl GroupConfig {
    pub fn from_yaml(file: &str, text: &str) -> Result<Self> {
        let config: GroupConfig =
            serde_norway::from_str(text).map_err(|e| Error::bad_file(file, format!("invalid group YAML: {e}")))?;
        for a in config.aggregate_metric_list.iter().flatten() {
            if a.aggregation != "mean" {
                return Err(Error::bad_file(file, format!("group aggregation `{}` is not supported (mean is)", a.aggregation)));
            }
            if let Some(bad) = a.filter_list.iter().flatten().find(|f| *f != "none") {
                return Err(Error::bad_file(file, format!("filter `{bad}` is not supported (tinyeval has only the filter `none`)")));
            }
        }
        if config.task.is_empty() {
            return Err(Error::bad_file(file, "a group needs at least one task"));
        }
        Ok(config)
    }

    /// As [`TaskConfig::to_yaml`].
    pub fn to_yaml(&self) -> Result<String> {
        to_json_yaml(self, &self.group)
    }

    pub fn version(&self) -> Value {
        self.metadata
            .as_ref()
            .and_then(|m| m.get("version"))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// A task YAML or a group YAML.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOrGroup {
    Task(Box<TaskConfig>),
    Group(GroupConfig),
}

impl TaskOrGroup {
    /// Parses a YAML file as a group if it has a top-level `group` key, else as a task.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self> {
        // lm-eval's `!function module.name` tags name Python code.
        if let Some((n, line)) = text.lines().enumerate().find(|(_, l)| l.contains("!function")) {
            let key = line.split(':').next().unwrap_or("").trim();
            return Err(Error::bad_file(
                file,
                format!("line {}: `{key}` is a Python function (!function), which tinyeval cannot run", n + 1),
            ));
        }
        let raw: Value =
            serde_norway::from_str(text).map_err(|e| Error::bad_file(file, format!("invalid YAML: {e}")))?;
        if raw.get("group").is_some() {
            Ok(TaskOrGroup::Group(GroupConfig::from_yaml(file, text)?))
        } else {
            Ok(TaskOrGroup::Task(Box::new(TaskConfig::from_yaml(file, text)?)))
        }
    }

    pub fn name(&self) -> &str {
        match self {
            TaskOrGroup::Task(t) => &t.task,
            TaskOrGroup::Group(g) => &g.group,
        }
    }
}
