//! The files a user picks, and the files the page offers as downloads.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::fetch::js_error;

/// The files chosen in a file input, read into memory, with their paths
/// (relative to the chosen folder when a folder was picked).
pub async fn read_input_files(files: Option<web_sys::FileList>) -> Result<Vec<crate::model_loading::LocalFile>, String> {
    let Some(files) = files else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for i in 0..files.length() {
        let Some(file) = files.get(i) else { continue };
        // Set when a folder was picked (`webkitdirectory`).
        let relative = js_sys::Reflect::get(&file, &wasm_bindgen::JsValue::from_str("webkitRelativePath"))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let path = if relative.is_empty() { file.name() } else { relative };
        out.push(crate::model_loading::LocalFile { path, bytes: std::rc::Rc::new(super::fetch::read_file(&file).await?) });
    }
    Ok(out)
}

/// Offers `bytes` as a download named `filename`.
pub fn download(filename: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| js_error(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_error(&e))?;
    click_link(filename, &url)?;
    web_sys::Url::revoke_object_url(&url).map_err(|e| js_error(&e))
}

fn click_link(filename: &str, href: &str) -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| "not an anchor")?;
    a.set_href(href);
    a.set_download(filename);
    a.click();
    Ok(())
}

/// Draws an SVG onto an offscreen canvas (twice its size, for sharpness) and
/// offers the PNG as a download.
pub async fn download_png(filename: &str, svg: &str) -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let svg = if svg.contains("xmlns=") { svg.to_string() } else { svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1) };
    let url = format!("data:image/svg+xml;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&svg)));
    let image = web_sys::HtmlImageElement::new().map_err(|e| js_error(&e))?;
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        image.set_onload(Some(&resolve));
        image.set_onerror(Some(&reject));
    });
    image.set_src(&url);
    JsFuture::from(loaded).await.map_err(|_| "the chart could not be drawn as an image".to_string())?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| "not a canvas")?;
    canvas.set_width(1440);
    canvas.set_height(800);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|e| js_error(&e))?
        .ok_or("no 2D canvas")?
        .dyn_into()
        .map_err(|_| "not a 2D context")?;
    context
        .draw_image_with_html_image_element_and_dw_and_dh(&image, 0.0, 0.0, 1440.0, 800.0)
        .map_err(|e| js_error(&e))?;
    let png = canvas.to_data_url_with_type("image/png").map_err(|e| js_error(&e))?;
    click_link(filename, &png)
}

