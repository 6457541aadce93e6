//! The worker's side: the wasm's `main` in a Web Worker runs [`serve`], which
//! answers the page's calls: `load` (build this worker's copy of the model
//! on burn's CPU backend) and `score` (one batch, through core's
//! `score_batch`, the function the page's own decoder uses).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Uint32Array};
use tinyeval_core::scoring::score_batch;
use tinyeval_core::{Device, LanguageModel};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::message::{self, ModelBytes};
use super::wire;

/// Whether this wasm instance runs in a Web Worker (not a page).
pub fn in_worker() -> bool {
    js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>().is_ok()
}

/// Listens for the page's calls, and says it is ready (call id 0).
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let model: Rc<RefCell<Option<Rc<LanguageModel>>>> = Rc::new(RefCell::new(None));
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let id = message::number(&data, "id").unwrap_or(0.0);
        let (model, scope) = (model.clone(), reply_to.clone());
        // Calls come one at a time (the page awaits each worker's answer), so
        // each runs to its end before the next message is read.
        wasm_bindgen_futures::spawn_local(async move {
            let (reply, transfer) = match answer(&data, &model).await {
                Ok((fields, transfer)) => (message::reply(id, &fields), transfer),
                Err(e) => (message::failure(id, &e), Array::new()),
            };
            let _ = scope.post_message_with_transfer(&reply, &transfer);
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&message::reply(0.0, &[]));
}

type Answer = (Vec<(&'static str, JsValue)>, Array);

async fn answer(data: &JsValue, model: &RefCell<Option<Rc<LanguageModel>>>) -> Result<Answer, String> {
    match message::text(data, "kind")?.as_str() {
        "load" => {
            let bytes = ModelBytes::from_message(data)?;
            *model.borrow_mut() = Some(Rc::new(bytes.load(&Device::flex())?));
            Ok((Vec::new(), Array::new()))
        }
        "score" => {
            let ids: Uint32Array = message::field(data, "requests")?;
            let requests = wire::decode_requests(&ids.to_vec())?;
            let model = model.borrow().clone().ok_or("no model loaded in this worker")?;
            let scores = score_batch(&model.decoder, &requests).await.map_err(|e| e.to_string())?;
            let (lengths, values) = wire::encode_scores(&scores);
            let (lengths, values) = (Uint32Array::from(lengths.as_slice()), Float32Array::from(values.as_slice()));
            let transfer = Array::of2(&lengths.buffer(), &values.buffer());
            Ok((vec![("lengths", lengths.into()), ("values", values.into())], transfer))
        }
        other => Err(format!("unknown call {other:?}")),
    }
}
