//! A task's docs, read from bytes: JSON Lines, a JSON array, or CSV with a header.
//! Errors name the file and the line.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tasks::config::TaskConfig;

/// The docs of each split of a task.
pub type TaskDocs = BTreeMap<String, Vec<Value>>;

/// Where a doc came from, for errors found after parsing (a missing field, a
/// target of the wrong type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocOrigin {
    pub file: String,
    /// 1-based; for a JSON array, the line where the array's item starts is not
    /// tracked, so it is the item's index + 1.
    pub line: usize,
}

/// The origin of each doc of each split, parallel to [`TaskDocs`].
pub type DocOrigins = BTreeMap<String, Vec<DocOrigin>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// JSON Lines, or one JSON array of objects.
    Json,
    Csv,
}

impl DataFormat {
    /// From a task's `dataset_path` (`json` or `csv`).
    pub fn from_dataset_path(path: &str) -> Result<Self> {
        match path {
            "json" => Ok(DataFormat::Json),
            "csv" => Ok(DataFormat::Csv),
            other => Err(Error::Input(format!("dataset_path `{other}` is not supported (json and csv are)"))),
        }
    }
}

/// Reads the docs of one data file.
pub fn parse_docs(file: &str, bytes: &[u8], format: DataFormat) -> Result<Vec<Value>> {
    Ok(parse_docs_with_lines(file, bytes, format)?.into_iter().map(|(d, _)| d).collect())
}

/// Reads the docs of one data file with the line each starts on. A file
/// without any doc is an error.
pub fn parse_docs_with_lines(file: &str, bytes: &[u8], format: DataFormat) -> Result<Vec<(Value, usize)>> {
    let docs = match format {
        DataFormat::Json => parse_json(file, bytes)?,
        DataFormat::Csv => parse_csv(file, bytes)?,
    };
    if docs.is_empty() {
        return Err(Error::bad_file(file, "the file has no docs (it is empty)"));
    }
    Ok(docs)
}

fn parse_json(file: &str, bytes: &[u8]) -> Result<Vec<(Value, usize)>> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::bad_file(file, format!("not UTF-8: {e}")))?;
    if text.trim_start().starts_with('[') {
        let docs: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| Error::bad_file(file, format!("line {}: invalid JSON: {e}", e.line())))?;
        for (i, d) in docs.iter().enumerate() {
            if !d.is_object() {
                return Err(Error::bad_file(file, format!("item {i} of the array is not an object")));
            }
        }
        return Ok(docs.into_iter().enumerate().map(|(i, d)| (d, i + 1)).collect());
    }
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let doc: Value = serde_json::from_str(line)
            .map_err(|e| Error::bad_file(file, format!("line {}: invalid JSON: {e}", i + 1)))?;
        if !doc.is_object() {
            return Err(Error::bad_file(file, format!("line {}: not a JSON object", i + 1)));
        }
        docs.push((doc, i + 1));
    }
    Ok(docs)
}

/// A CSV cell as the Hugging Face csv loader (pandas) types it: integer, float,
/// empty = null, else string.
fn csv_value(cell: &str) -> Value {
    if cell.is_empty() {
        Value::Null
    } else if let Ok(i) = cell.parse::<i64>() {
        Value::from(i)
    } else if let Ok(f) = cell.parse::<f64>() {
        serde_json::Number::from_f64(f).map(Value::Number).unwrap_or_else(|| Value::String(cell.into()))
    } else {
        Value::String(cell.into())
    }
}

fn parse_csv(file: &str, bytes: &[u8]) -> Result<Vec<(Value, usize)>> {
    std::str::from_utf8(bytes).map_err(|e| Error::bad_file(file, format!("not UTF-8: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let line_of = |e: &csv::Error| e.position().map(|p| p.line()).unwrap_or(0);
    let headers = reader
        .headers()
        .map_err(|e| Error::bad_file(file, format!("line {}: {e}", line_of(&e))))?
        .clone();
    let mut docs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::bad_file(file, format!("line {}: {e}", line_of(&e))))?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let doc: serde_json::Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, c)| (h.to_string(), csv_value(c)))
            .collect();
        docs.push((Value::Object(doc), line));
    }
    Ok(docs)
}

/// Reads every split of a task from the filesystem (its data files already
/// resolved, see [`TaskConfig::resolve_data_roots`]); relative paths are taken
/// from `base`.
#[cfg(not(target_family = "wasm"))]
pub fn load_task_docs(config: &TaskConfig, base: &std::path::Path) -> Result<TaskDocs> {
    Ok(load_task_docs_with_origins(config, base)?.0)
}

/// [`load_task_docs`], with where each doc came from.
#[cfg(not(target_family = "wasm"))]
pub fn load_task_docs_with_origins(config: &TaskConfig, base: &std::path::Path) -> Result<(TaskDocs, DocOrigins)> {
    task_docs_with_origins(config, |f| {
        let path = base.join(f);
        crate::files::read_data_file(&path).map(|b| (path.display().to_string(), b))
    })
}

/// Builds [`TaskDocs`] from files already read (the browser's way): `read`
/// returns the bytes of a data file path.
pub fn task_docs_from(config: &TaskConfig, mut read: impl FnMut(&str) -> Result<Vec<u8>>) -> Result<TaskDocs> {
    Ok(task_docs_with_origins(config, |f| Ok((f.to_string(), read(f)?)))?.0)
}

/// Builds [`TaskDocs`] and [`DocOrigins`]: `read` returns a data file's name
/// (as errors should show it) and bytes.
pub fn task_docs_with_origins(
    config: &TaskConfig,
    mut read: impl FnMut(&str) -> Result<(String, Vec<u8>)>,
) -> Result<(TaskDocs, DocOrigins)> {
    let format = DataFormat::from_dataset_path(&config.dataset_path)?;
    let mut docs = TaskDocs::new();
    let mut origins = DocOrigins::new();
    for (split, files) in config.data_files() {
        let (mut split_docs, mut split_origins) = (Vec::new(), Vec::new());
        for f in files {
            let (name, bytes) = read(&f)?;
            for (doc, line) in parse_docs_with_lines(&name, &bytes, format)? {
                split_docs.push(doc);
                split_origins.push(DocOrigin { file: name.clone(), line });
            }
        }
        docs.insert(split.clone(), split_docs);
        origins.insert(split, split_origins);
    }
    Ok((docs, origins))
}
