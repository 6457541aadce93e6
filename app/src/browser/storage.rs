//! What the page keeps on this device (`localStorage`): people's ratings of
//! Leaner-Eval responses, and the judge's key when the user asks for it to be
//! remembered.

use tinyeval_core::leaner_eval::{HumanRating, Question, question_id};

use super::fetch::js_error;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The `localStorage` key of a rating: per model and question, so that a
/// reload (or another run of the same model) finds it again.
fn rating_key(model: &str, question: &Question) -> String {
    format!("tinyeval.leaner-eval.rating\u{1f}{model}\u{1f}{}", question_id(question))
}

pub fn stored_rating(model: &str, question: &Question) -> HumanRating {
    local_storage()
        .and_then(|s| s.get_item(&rating_key(model, question)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Keeps a rating on this device (an empty one is removed).
pub fn store_rating(model: &str, question: &Question, rating: &HumanRating) -> Result<(), String> {
    let storage = local_storage().ok_or("this browser keeps no localStorage; ratings last until the page is closed")?;
    let key = rating_key(model, question);
    let stored = if rating.is_empty() {
        storage.remove_item(&key)
    } else {
        storage.set_item(&key, &serde_json::to_string(rating).map_err(|e| e.to_string())?)
    };
    stored.map_err(|e| format!("the rating could not be kept on this device ({})", js_error(&e)))
}

/// Where the judge's key is kept when the user asks for it to be remembered.
const KEY_STORAGE: &str = "tinyeval.leaner-eval.judge-key";

/// The judge's key remembered on this device, if any.
pub fn remembered_key() -> Option<String> {
    local_storage()?.get_item(KEY_STORAGE).ok().flatten()
}

/// Remembers the key on this device (`Some`), or forgets it (`None`).
pub fn remember_key(key: Option<&str>) -> Result<(), String> {
    let storage = local_storage().ok_or("this browser keeps no localStorage")?;
    match key {
        Some(k) => storage.set_item(KEY_STORAGE, k),
        None => storage.remove_item(KEY_STORAGE),
    }
    .map_err(|e| js_error(&e))
}

