//! Fetching files over HTTP, relative to the page, with errors that name the URL.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: request failed: {e:?}"))?;
    let response: Response = response.dyn_into().map_err(|_| format!("{url}: not an HTTP response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {} {}", response.status(), response.status_text()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?)
        .await
        .map_err(|e| format!("{url}: cannot read the body: {e:?}"))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// `Ok(None)` on 404, for optional files.
pub async fn fetch_optional(url: &str) -> Result<Option<Vec<u8>>, String> {
    match fetch_bytes(url).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.contains("HTTP 404") => Ok(None),
        Err(e) => Err(e),
    }
}
