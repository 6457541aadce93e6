//! Model files the user picked or dropped, kept as the browser's `File`
//! handles and read only when the model loads: a GGUF header or a
//! `config.json` first, to know what the model needs in memory, then each
//! weight file once, straight into the buffer core takes over (never a second
//! copy of a large file in the page).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser::fetch::js_error;

/// A model file the user chose: its path relative to the chosen folder, and its handle.
#[derive(Clone)]
pub struct ChosenFile {
    pub path: String,
    pub file: web_sys::File,
}

impl ChosenFile {
    pub fn size(&self) -> u64 {
        self.file.size() as u64
    }

    pub async fn read(&self) -> Result<Vec<u8>, String> {
        crate::browser::fetch::read_file(&self.file).await
    }
}

/// The files chosen in a file input, with their paths (relative to the
/// chosen folder when a folder was picked); nothing is read.
pub fn chosen_files(files: Option<&web_sys::FileList>) -> Vec<ChosenFile> {
    let Some(files) = files else { return Vec::new() };
    (0..files.length())
        .filter_map(|i| files.get(i))
        .map(|file| {
            // Set when a folder was picked (`webkitdirectory`).
            let relative = js_sys::Reflect::get(&file, &JsValue::from_str("webkitRelativePath"))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            let path = if relative.is_empty() { file.name() } else { relative };
            ChosenFile { path, file }
        })
        .collect()
}

/// Whether a file in a dropped folder is one a model is loaded from (other
/// files, such as a model card or PyTorch weights, are not read).
fn is_model_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    matches!(lower.as_str(), "config.json" | "tokenizer.json" | "tokenizer_config.json" | "model.safetensors.index.json")
        || lower.ends_with(".safetensors")
        || lower.ends_with(".gguf")
}

/// What was dropped onto a model slot, taken from the drop event while the
/// browser still lets it be read (it empties the `DataTransfer` afterwards):
/// folders and files as file-system entries, or plain files where the browser
/// gives no entry (a `DataTransfer` made by a script).
pub struct Dropped {
    entries: Vec<web_sys::FileSystemEntry>,
    files: Vec<web_sys::File>,
}

impl Dropped {
    /// Takes the drop's items; call it inside the drop event's handler.
    pub fn take(data: &web_sys::DataTransfer) -> Self {
        let items = data.items();
        let mut dropped = Dropped { entries: Vec::new(), files: Vec::new() };
        for item in (0..items.length()).filter_map(|i| items.get(i)).filter(|item| item.kind() == "file") {
            match item.webkit_get_as_entry() {
                Ok(Some(entry)) => dropped.entries.push(entry),
                _ => dropped.files.extend(item.get_as_file().ok().flatten()),
            }
        }
        dropped
    }

    /// The dropped files, and the model files at the top of each dropped folder.
    pub async fn files(self) -> Result<Vec<ChosenFile>, String> {
        let mut out: Vec<ChosenFile> = self.files.into_iter().map(|file| ChosenFile { path: file.name(), file }).collect();
        for entry in &self.entries {
            // Chromium's entries are `DirectoryEntry`/`FileEntry` objects: ask, rather than test the class.
            if entry.is_directory() {
                let dir: &web_sys::FileSystemDirectoryEntry = entry.unchecked_ref();
                let before = out.len();
                for child in directory_entries(dir).await? {
                    if child.is_file() && is_model_file(&child.name()) {
                        out.push(file_of_entry(child.unchecked_ref()).await?);
                    }
                }
                if out.len() == before {
                    return Err(format!(
                        "{}: no model files in this folder (a Hugging Face model folder has config.json, tokenizer.json and model.safetensors; or drop a .gguf file)",
                        entry.name()
                    ));
                }
            } else if entry.is_file() {
                out.push(file_of_entry(entry.unchecked_ref()).await?);
            }
        }
        if out.is_empty() {
            return Err("nothing to read: drop a .gguf file, or a model folder (config.json, tokenizer.json, model.safetensors) or its files".into());
        }
        Ok(out)
    }
}

/// Waits for a callback-style file-system call: `call(on_success, on_error)`.
async fn callback_result(call: impl FnOnce(&js_sys::Function, &js_sys::Function)) -> Result<JsValue, JsValue> {
    let mut call = Some(call);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await
}

/// Every entry of a folder (`readEntries` gives them a batch at a time, then an empty batch).
async fn directory_entries(dir: &web_sys::FileSystemDirectoryEntry) -> Result<Vec<web_sys::FileSystemEntry>, String> {
    let reader = dir.create_reader();
    let mut all = Vec::new();
    loop {
        let batch = callback_result(|ok, err| {
            if let Err(e) = reader.read_entries_with_callback_and_callback(ok, err) {
                let _ = err.call1(&JsValue::NULL, &e);
            }
        })
        .await
        .map_err(|e| format!("{}: cannot list the folder ({})", dir.name(), js_error(&e)))?;
        let batch: js_sys::Array = batch.unchecked_into();
        if batch.length() == 0 {
            return Ok(all);
        }
        all.extend(batch.iter().map(|e| e.unchecked_into::<web_sys::FileSystemEntry>()));
    }
}

/// A file of a dropped folder, with its path inside the drop (`tinyhelen-1m/config.json`).
async fn file_of_entry(entry: &web_sys::FileSystemFileEntry) -> Result<ChosenFile, String> {
    let path = entry.full_path().trim_start_matches('/').to_string();
    let file: web_sys::File = callback_result(|ok, err| entry.file_with_callback_and_callback(ok, err))
        .await
        .map_err(|e| format!("{path}: cannot read it ({})", js_error(&e)))?
        .unchecked_into();
    Ok(ChosenFile { path, file })
}
