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
    let pieces = read_body_checked(url, response, on_progress, &|_, _| Ok(true), None).await?;
    Ok(joined(pieces))
}

/// One buffer of `pieces` (moved, not copied, when there is one).
fn joined(mut pieces: Vec<Vec<u8>>) -> Vec<u8> {
    if pieces.len() == 1 {
        return pieces.pop().unwrap_or_default();
    }
    pieces.concat()
}

/// [`read_body`] into pieces of `piece_len` bytes (one piece if `None`),
/// showing `check` the first piece's bytes so far after each chunk until it
/// answers `Ok(true)` (it has seen enough, e.g. a GGUF header); on `Err` the
/// download is cancelled, so nothing more is read or held.
async fn read_body_checked(
    url: &str,
    response: &Response,
    on_progress: &dyn Fn(u64, Option<u64>),
    check: &Check<'_>,
    piece_len: Option<usize>,
) -> Result<Vec<Vec<u8>>, String> {
    let total = declared_length(response);
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: cannot read the body"))?;
    let piece_len = piece_len.unwrap_or(usize::MAX);
    // Each piece of exactly the size it will have: growing a Vec of a large
    // file would copy it, and for a moment hold it twice.
    let capacity = |done: u64| total.map_or(0, |t| t.saturating_sub(done).min(piece_len as u64) as usize);
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut piece = Vec::with_capacity(capacity(0));
    let mut done = 0u64;
    let mut satisfied = false;
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
        let mut at = 0u32;
        while at < value.length() {
            let take = (value.length() - at).min((piece_len - piece.len()).min(u32::MAX as usize) as u32);
            let filled = piece.len();
            piece.resize(filled + take as usize, 0);
            value.subarray(at, at + take).copy_to(&mut piece[filled..]);
            at += take;
            done += u64::from(take);
            if piece.len() == piece_len {
                pieces.push(std::mem::replace(&mut piece, Vec::with_capacity(capacity(done))));
            }
        }
        on_progress(done, total);
        if !satisfied {
            let first = pieces.first().unwrap_or(&piece);
            satisfied = check(total, first).inspect_err(|_| {
                let _ = reader.cancel();
            })?;
        }
    }
    if !piece.is_empty() || pieces.is_empty() {
        pieces.push(piece);
    }
    Ok(pieces)
}

/// Sees a download's declared size (`Content-Length`) and its first bytes
/// so far (none before the body is read); `Ok(false)` asks to see more.
pub type Check<'a> = dyn Fn(Option<u64>, &[u8]) -> Result<bool, String> + 'a;

/// A downloaded file, in pieces, and whether it came from the browser's cache.
pub struct Download {
    pub pieces: Vec<Vec<u8>>,
    pub from_cache: bool,
}

impl Download {
    /// The file as one buffer.
    pub fn bytes(self) -> Vec<u8> {
        joined(self.pieces)
    }
}

async fn open_cache() -> Option<web_sys::Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME)).await.ok()?.dyn_into().ok()
}

/// `check(declared size, no bytes)`, before any of the body is read; on
/// `Err` the body is cancelled, so nothing more is downloaded or held.
fn check_declared(response: &Response, check: &Check<'_>) -> Result<bool, String> {
    check(declared_length(response), &[]).inspect_err(|_| {
        if let Some(body) = response.body() {
            let _ = body.cancel();
        }
    })
}

/// Fetches `url` through Cache Storage: from the cache when it holds it, else
/// over the network (with progress), then stored. `Ok(None)` on 404.
/// `check` sees the size the response declares before its body is read, then
/// the first bytes as they come until it has seen enough ([`Check`]), and can
/// refuse the file (one too large for the page). The body is read into pieces
/// of `piece_len` bytes (one piece if `None`).
pub async fn fetch_cached(
    url: &str,
    on_progress: &dyn Fn(u64, Option<u64>),
    check: &Check<'_>,
    piece_len: Option<usize>,
) -> Result<Option<Download>, String> {
    let cache = open_cache().await;
    let read = async |response: &Response| -> Result<Vec<Vec<u8>>, String> {
        let satisfied = check_declared(response, check)?;
        let check: &Check<'_> = if satisfied { &|_, _| Ok(true) } else { check };
        read_body_checked(url, response, on_progress, check, piece_len).await
    };
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                let pieces = read(&response).await?;
                return Ok(Some(Download { pieces, from_cache: true }));
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
    let pieces = read(&response).await?;
    if let Some(cache) = &cache {
        // A full cache (quota) only costs the next visit a download.
        let _ = put_in_cache(cache, url, &pieces).await;
    }
    Ok(Some(Download { pieces, from_cache: false }))
}

/// Stores a downloaded file's pieces in the cache as one response.
async fn put_in_cache(cache: &web_sys::Cache, url: &str, pieces: &[Vec<u8>]) -> Result<(), String> {
    let init = web_sys::ResponseInit::new();
    init.set_status(200);
    let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
    let len: usize = pieces.iter().map(Vec::len).sum();
    headers.set("content-length", &len.to_string()).map_err(|e| js_error(&e))?;
    init.set_headers(&headers);
    // Views into wasm memory, not copies (`Uint8Array::from`), spare a copy
    // of a large file. SAFETY: nothing between making the views and the Blob
    // constructor (which copies them) allocates in wasm memory, so it cannot
    // grow and move under them; the views are not used after.
    let parts = js_sys::Array::new();
    for piece in pieces {
        parts.push(unsafe { Uint8Array::view(piece) }.as_ref());
    }
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|e| js_error(&e))?;
    let stored = Response::new_with_opt_blob_and_init(Some(&blob), &init).map_err(|e| format!("{url}: cannot cache ({})", js_error(&e)))?;
    JsFuture::from(cache.put_with_str(url, &stored)).await.map_err(|e| js_error(&e))?;
    Ok(())
}

/// Empties the model cache.
pub async fn clear_cache() -> Result<(), String> {
    let caches = web_sys::window().ok_or("no window")?.caches().map_err(|e| js_error(&e))?;
    JsFuture::from(caches.delete(CACHE_NAME)).await.map_err(|e| js_error(&e))?;
    Ok(())
}

/// The bytes of a file the user picked or dropped.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    read_slice(file, 0, file.size() as u64).await
}

/// A picked or dropped file in pieces of `piece_len` bytes, each read into
/// its own buffer (nothing joins them: loading frees each as it goes).
pub async fn read_pieces(file: &web_sys::File, piece_len: u64) -> Result<Vec<Vec<u8>>, String> {
    let len = file.size() as u64;
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < len {
        let to = (at + piece_len).min(len);
        pieces.push(read_slice(file, at, to).await?);
        at = to;
    }
    Ok(pieces)
}

/// Bytes `start..end` of a picked or dropped file, read in slices of 16 MiB
/// into one buffer of the exact size, so that a large file is held once in
/// the wasm heap and never whole in JavaScript's.
pub async fn read_slice(file: &web_sys::File, start: u64, end: u64) -> Result<Vec<u8>, String> {
    const SLICE: u64 = 16 << 20;
    let end = end.min(file.size() as u64);
    let mut out = Vec::with_capacity(end.saturating_sub(start) as usize);
    let mut at = start;
    while at < end {
        let to = (at + SLICE).min(end);
        let cannot = |e: JsValue| format!("{}: cannot read the file ({})", file.name(), js_error(&e));
        let blob = file.slice_with_f64_and_f64(at as f64, to as f64).map_err(cannot)?;
        let buffer = JsFuture::from(blob.array_buffer()).await.map_err(cannot)?;
        let part = Uint8Array::new(&buffer);
        let filled = out.len();
        out.resize(filled + part.length() as usize, 0);
        part.copy_to(&mut out[filled..]);
        at = to;
    }
    Ok(out)
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

