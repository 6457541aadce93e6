//! Where a benchmark task comes from: core's built-in tasks, whose data files
//! are either bundled with the site (the demo benchmark, `{demo}` = `tasks/demo`)
//! or TinyHelen's files read from a URL base (`{tinyhelen}`: Leaner-GLUE,
//! Leaner-Pretrain), or a task YAML and data files the user uploads or gives
//! the URL of.

use tinyeval_core::tasks::data::task_docs_from;
use tinyeval_core::tasks::{BUILTIN_TASKS, OutputType, TaskConfig, TaskDocs, builtin_task};

use crate::browser::fetch::fetch_bytes;
use crate::model_loading::LocalFile;

/// Where the TinyHelen files (Leaner-GLUE's JSONL) are read from by default:
/// the Hugging Face dataset `EmpathYang/TinyHelen`.
pub const TINYHELEN_BASE: &str = "https://huggingface.co/datasets/EmpathYang/TinyHelen/resolve/main";

/// Where the site serves the demo benchmark's files (`public/tasks/demo`).
const DEMO_ROOT: &str = "tasks/demo";

/// A built-in task, and whether its data are bundled with the site.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSource {
    pub name: String,
    pub bundled: bool,
    pub multiple_choice: bool,
}

impl TaskSource {
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Core's built-in tasks (groups left out), bundled ones first.
pub fn builtin_tasks() -> Vec<TaskSource> {
    let mut tasks: Vec<TaskSource> = BUILTIN_TASKS
        .iter()
        .filter_map(|(name, _, yaml)| match builtin_task(name) {
            Some(Ok(config)) => Some(TaskSource {
                name: name.to_string(),
                bundled: yaml.contains("{demo}"),
                multiple_choice: config.output_type == OutputType::MultipleChoice,
            }),
            _ => None,
        })
        .collect();
    tasks.sort_by_key(|t| !t.bundled);
    tasks
}

/// A task ready to run: its configuration and its docs.
#[derive(Clone)]
pub struct LoadedTask {
    pub config: TaskConfig,
    pub docs: TaskDocs,
}

async fn fetch_docs(config: &TaskConfig) -> Result<TaskDocs, String> {
    let mut files = Vec::new();
    for paths in config.data_files().values() {
        for p in paths {
            files.push((p.clone(), fetch_bytes(p).await?));
        }
    }
    task_docs_from(config, |f| Ok(files.iter().find(|(p, _)| p == f).map(|(_, b)| b.clone()).unwrap_or_default()))
        .map_err(|e| e.to_string())
}

/// A built-in task with its docs: bundled files from the site, TinyHelen's from `tinyhelen_base`.
pub async fn load_task(source: &TaskSource, tinyhelen_base: &str) -> Result<LoadedTask, String> {
    let name = &source.name;
    let mut config = builtin_task(name).ok_or_else(|| format!("no built-in task `{name}`"))?.map_err(|e| e.to_string())?;
    let base = tinyhelen_base.trim().trim_end_matches('/').to_string();
    config.resolve_data_roots(&[("demo", DEMO_ROOT), ("tinyhelen", &base)]);
    let docs = fetch_docs(&config).await?;
    Ok(LoadedTask { config, docs })
}

/// `{demo}` and `{tinyhelen}` replaced by their roots in a data path.
fn under_root(path: &str, tinyhelen_base: &str) -> String {
    let base = tinyhelen_base.trim().trim_end_matches('/');
    [("demo", DEMO_ROOT), ("tinyhelen", base)].iter().fold(path.to_string(), |s, (name, root)| s.replace(&format!("{{{name}}}"), root))
}

/// A task YAML at `url` and its data files: data paths in the YAML are read
/// relative to the YAML's URL (as a browser resolves a link), except those
/// under a data root (`{tinyhelen}/…`, `{demo}/…`), read as the built-in tasks' are.
pub async fn load_from_url(url: &str, tinyhelen_base: &str) -> Result<LoadedTask, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("give the URL of a task YAML".into());
    }
    // The YAML's own URL may be relative to the page.
    let page = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let yaml_url = web_sys::Url::new_with_base(url, &page).map(|u| u.href()).map_err(|_| format!("`{url}` is not a URL"))?;
    let bytes = fetch_bytes(&yaml_url).await?;
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("{url}: not UTF-8 ({e})"))?;
    let mut config = TaskConfig::from_yaml(url, text).map_err(|e| e.to_string())?;
    let mut unresolved = None;
    config.map_data_files(|p| {
        if p.starts_with('{') {
            return under_root(p, tinyhelen_base);
        }
        match web_sys::Url::new_with_base(p, &yaml_url) {
            Ok(resolved) => resolved.href(),
            Err(_) => {
                unresolved.get_or_insert_with(|| format!("{url}: data file `{p}` is not a path or URL"));
                p.to_string()
            }
        }
    });
    if let Some(e) = unresolved {
        return Err(e);
    }
    let docs = fetch_docs(&config).await.map_err(|e| format!("{url}: data file {e}"))?;
    Ok(LoadedTask { config, docs })
}

/// A task YAML and its data files, uploaded: data paths in the YAML are matched
/// to the uploaded files by file name, except those under a data root
/// (`{tinyhelen}/…`, `{demo}/…`), which are read as the built-in tasks' are
/// when no uploaded file has their name.
pub async fn load_uploaded(files: &[LocalFile], tinyhelen_base: &str) -> Result<LoadedTask, String> {
    let base_name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let yaml = files
        .iter()
        .find(|f| f.path.ends_with(".yaml") || f.path.ends_with(".yml"))
        .ok_or("choose a task YAML (lm-eval-harness format) together with its data files")?;
    let yaml_name = base_name(&yaml.path);
    let text = std::str::from_utf8(&yaml.bytes).map_err(|e| format!("{}: not UTF-8 ({e})", yaml.path))?;
    let mut config = TaskConfig::from_yaml(&yaml_name, text).map_err(|e| e.to_string())?;
    let uploaded = |wanted: &str| files.iter().find(|f| base_name(&f.path) == base_name(wanted));
    // Paths under a data root that were not uploaded are read from the root.
    let mut to_fetch = Vec::new();
    config.map_data_files(|p| {
        if !p.starts_with('{') || uploaded(p).is_some() {
            return p.to_string();
        }
        let url = under_root(p, tinyhelen_base);
        to_fetch.push(url.clone());
        url
    });
    let mut fetched = Vec::new();
    for url in to_fetch {
        let bytes = fetch_bytes(&url).await.map_err(|e| format!("{yaml_name}: data file {e}"))?;
        fetched.push((url, bytes));
    }
    let docs = task_docs_from(&config, |wanted| {
        if let Some((_, b)) = fetched.iter().find(|(p, _)| p == wanted) {
            return Ok(b.clone());
        }
        uploaded(wanted).map(|f| f.bytes.to_vec()).ok_or_else(|| {
            tinyeval_core::Error::Input(format!("{yaml_name}: data file {wanted} was not uploaded (choose it together with the YAML)"))
        })
    })
    .map_err(|e| e.to_string())?;
    Ok(LoadedTask { config, docs })
}
