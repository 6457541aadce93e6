//! Fetching files over HTTP, relative to the page, with errors that name the URL;
//! downloads with progress, kept in the browser's Cache Storage so that a second
//! visit reads them from there.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Response, ReadableStreamDefaultReader};

/// The Cache Storage cache holding downloaded model files.
pub const CACHE_NAME: &str = "tinyeval-models-v1";

async fn get(url: &str) -> Result<Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: request failed ({})", js_error(&e)))?;
    response.dyn_into().map_err(|_| format!("{url}: not an HTTP response"))
}

/// A JavaScript error's message.
pub fn js_error(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

fn http_error(url: &str, response: &Response) -> String {
    format!("{url}: HTTP {} {}", response.status(), response.status_text())
}

pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = get(url).await?;
    if !response.ok() {
        return Err(http_error(url, &response));
    }
    read_body(url, &response, &|_, _| {}).await
}

/// `Ok(None)` on 404, for optional files.
pub async fn fetch_optional(url: &str) -> Result<Option<Vec<u8>>, String> {
    let response = get(url).await?;
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(http_error(url, &response));
    }
    Ok(Some(read_body(url, &response, &|_, _| {}).await?))
}

/// The size a response declares (`Content-Length`), when the server sends it.
fn declared_length(response: &Response) -> Option<u64> {
    response.headers().get("content-length").ok().flatten().and_then(|s| s.trim().parse::<u64>().ok())
}

/// Reads a response's body chunk by chunk, calling `on_progress(bytes read, total)`
/// (the total from `Content-Length`, when the server sends it).
async fn read_body(url: &str, response: &Response, on_progress: &dyn Fn(u64, Option<u64>)) -> Result<Vec<u8>, String> {
    let total = declared_length(response);
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: cannot read the body"))?;
    let mut out = Vec::with_capacity(total.unwrap_or(0) as usize);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{url}: the download broke off ({})", js_error(&e)))?;
        if Reflect::get(&chunk, &JsValue::from_str("done")).map(|d| d.is_truthy()).unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(|| format!("{url}: the body is not bytes"))?;
        let start = out.len();
        out.resize(start + value.length() as usize, 0);
        value.copy_to(&mut out[start..]);
        on_progress(out.len() as u64, total);
    }
    Ok(out)
}

/// A downloaded file, and whether it came from the browser's cache.
pub struct Download {
    pub bytes: Vec<u8>,
    pub from_cache: bool,
}

async fn open_cache() -> Option<web_sys::Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME)).await.ok()?.dyn_into().ok()
}

/// `check(declared size)`, before any of the body is read; on `Err` the body is
/// cancelled, so nothing more is downloaded or held.
fn check_declared(response: &Response, check: &dyn Fn(Option<u64>) -> Result<(), String>) -> Result<(), String> {
    check(declared_length(response)).inspect_err(|_| {
        if let Some(body) = response.body() {
            let _ = body.cancel();
        }
    })
}

/// Fetches `url` through Cache Storage: from the cache when it holds it, else
/// over the network (with progress), then stored. `Ok(None)` on 404.
/// `check` sees the size the response declares before its body is read, and
/// can refuse it (a file too large for the page).
pub async fn fetch_cached(
    url: &str,
    on_progress: &dyn Fn(u64, Option<u64>),
    check: &dyn Fn(Option<u64>) -> Result<(), String>,
) -> Result<Option<Download>, String> {
    let cache = open_cache().await;
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                check_declared(&response, check)?;
                let bytes = read_body(url, &response, on_progress).await?;
                return Ok(Some(Download { bytes, from_cache: true }));
            }
        }
    }
    let response = get(url).await?;
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(http_error(url, &response));
    }
    check_declared(&response, check)?;
    let bytes = read_body(url, &response, on_progress).await?;
    if let Some(cache) = &cache {
        let copy = Uint8Array::from(&bytes[..]);
        let init = web_sys::ResponseInit::new();
        init.set_status(200);
        let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
        headers.set("content-length", &bytes.len().to_string()).map_err(|e| js_error(&e))?;
        init.set_headers(&headers);
        let stored = Response::new_with_opt_buffer_source_and_init(Some(&copy), &init)
            .map_err(|e| format!("{url}: cannot cache ({})", js_error(&e)))?;
        // A full cache (quota) only costs the next visit a download.
        let _ = JsFuture::from(cache.put_with_str(url, &stored)).await;
    }
    Ok(Some(Download { bytes, from_cache: false }))
}

/// Empties the model cache.
pub async fn clear_cache() -> Result<(), String> {
    let caches = web_sys::window().ok_or("no window")?.caches().map_err(|e| js_error(&e))?;
    JsFuture::from(caches.delete(CACHE_NAME)).await.map_err(|e| js_error(&e))?;
    Ok(())
}

/// The bytes of a file the user picked or dropped.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{}: cannot read the file ({})", file.name(), js_error(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// POSTs a JSON body; the HTTP status and the reply's text.
pub async fn post_json(url: &str, body: &str, key: &str) -> Result<(u16, String), String> {
    let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
    headers.set("Content-Type", "application/json").map_err(|e| js_error(&e))?;
    if !key.is_empty() {
        headers.set("Authorization", &format!("Bearer {key}")).map_err(|e| format!("the key cannot be sent as a header ({})", js_error(&e)))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| {
            format!(
                "judge: POST {url}: request failed ({}); is the endpoint running, and does it allow requests from this page (CORS)?",
                js_error(&e)
            )
        })?
        .dyn_into()
        .map_err(|_| format!("POST {url}: not an HTTP response"))?;
    let text = JsFuture::from(response.text().map_err(|e| js_error(&e))?)
        .await
        .map_err(|e| format!("POST {url}: cannot read the reply ({})", js_error(&e)))?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

