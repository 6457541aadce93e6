//! One worker of the pool, seen from the page: starting it, and calls that
//! are answered by id (a call's future resolves when the worker's reply with
//! its id comes back, or fails when the worker stops).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, ErrorEvent, MessageEvent, Url, Worker, WorkerOptions, WorkerType};

use super::message;
use crate::browser::fetch::js_error;

/// The module script a worker starts with: it waits for the page's
/// wasm-bindgen script and compiled module, and starts them; the wasm's
/// `main` then answers for itself (id 0, "ready"). Nothing else arrives
/// before that answer, so no message meets a worker without a handler.
const BOOTSTRAP: &str = r#"
self.onmessage = async (event) => {
  self.onmessage = null;
  try {
    const bindings = await import(event.data.glue);
    await bindings.default({ module_or_path: event.data.module });
  } catch (e) {
    self.postMessage({ id: 0, ok: false, error: "cannot start the worker: " + ((e && e.message) || e) });
  }
};
"#;

/// Replies awaited, by call id.
type Pending = Rc<RefCell<HashMap<u32, Function>>>;

pub struct WorkerLink {
    worker: Worker,
    pending: Pending,
    next_id: Cell<u32>,
    ready: Promise,
    /// Why the worker stopped, once it has.
    stopped: Rc<RefCell<Option<String>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for WorkerLink {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// The URL of the page's wasm-bindgen script (Trunk preloads it).
fn glue_url() -> Result<String, String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link = document
        .query_selector("link[rel=modulepreload][href*='tinyeval-app']")
        .ok()
        .flatten()
        .ok_or("the page's script is not named in a modulepreload link")?;
    link.dyn_into::<web_sys::HtmlLinkElement>().map(|l| l.href()).map_err(|_| "not a link".to_string())
}

fn bootstrap_url() -> Result<String, String> {
    thread_local! {
        static URL: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    if let Some(url) = URL.with_borrow(|u| u.clone()) {
        return Ok(url);
    }
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&Array::of1(&BOOTSTRAP.into()), &options).map_err(|e| js_error(&e))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| js_error(&e))?;
    URL.with_borrow_mut(|u| *u = Some(url.clone()));
    Ok(url)
}

/// A promise and the function that resolves it.
fn promise() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
    (promise, resolve.expect("the executor runs at once"))
}

impl WorkerLink {
    pub fn spawn() -> Result<WorkerLink, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(&bootstrap_url()?, &options).map_err(|e| js_error(&e))?;
        let pending: Pending = Rc::new(RefCell::new(HashMap::new()));
        let stopped = Rc::new(RefCell::new(None));
        let (ready, resolve_ready) = promise();
        pending.borrow_mut().insert(0, resolve_ready);

        let replies = pending.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let id = message::number(&data, "id").unwrap_or(-1.0) as u32;
            if let Some(resolve) = replies.borrow_mut().remove(&id) {
                let _ = resolve.call1(&JsValue::NULL, &data);
            }
        });
        // A worker that stops (a trap, out of memory) fails every call waiting on it.
        let (waiting, why) = (pending.clone(), stopped.clone());
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            let text = format!("a worker stopped: {}", event.message());
            *why.borrow_mut() = Some(text.clone());
            let failed = message::object(&[("ok", false.into()), ("error", text.into())]);
            for (_, resolve) in waiting.borrow_mut().drain() {
                let _ = resolve.call1(&JsValue::NULL, &failed);
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let start = message::object(&[("glue", glue_url()?.into()), ("module", wasm_bindgen::module())]);
        worker.post_message(&start).map_err(|e| js_error(&e))?;
        Ok(WorkerLink { worker, pending, next_id: Cell::new(1), ready, stopped, _on_message: on_message, _on_error: on_error })
    }

    /// Resolves when the worker's wasm is running and listening.
    pub async fn ready(&self) -> Result<(), String> {
        let reply = JsFuture::from(self.ready.clone()).await.map_err(|e| js_error(&e))?;
        message::ok(&reply).map(|_| ())
    }

    /// Calls awaiting their reply.
    pub fn in_flight(&self) -> usize {
        self.pending.borrow().len()
    }

    /// Sends `request` (its `transfer` list moved, not copied) with a new id;
    /// the reply, or its error.
    pub async fn call(&self, request: &Object, transfer: &Array) -> Result<JsValue, String> {
        if let Some(why) = self.stopped.borrow().clone() {
            return Err(why);
        }
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1).max(1));
        js_sys::Reflect::set(request, &"id".into(), &id.into()).map_err(|e| js_error(&e))?;
        let (reply, resolve) = promise();
        self.pending.borrow_mut().insert(id, resolve);
        if let Err(e) = self.worker.post_message_with_transfer(request, transfer) {
            self.pending.borrow_mut().remove(&id);
            return Err(js_error(&e));
        }
        let reply = JsFuture::from(reply).await.map_err(|e| js_error(&e))?;
        message::ok(&reply)
    }
}
