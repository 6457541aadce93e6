//! Chooses the device once, at start-up: WebGPU when the browser offers an
//! adapter, burn's CPU backend otherwise (or when `?backend=cpu` asks for it).

use tinyeval_core::Device;
use wasm_bindgen::{JsCast, JsValue};

#[derive(Clone, Debug, PartialEq)]
pub enum BackendKind {
    WebGpu { adapter: String },
    Cpu { reason: String },
}

#[derive(Clone)]
pub struct Backend {
    pub device: Device,
    pub kind: BackendKind,
    /// Both backends' probe rates, when the page measured which is faster.
    pub measured: Option<String>,
}

impl Backend {
    pub fn cpu(reason: String) -> Self {
        Backend { device: Device::flex(), kind: BackendKind::Cpu { reason }, measured: None }
    }

    /// Whether the page should time this backend against the CPU on the first
    /// model: WebGPU chosen by default, not forced with `?backend=`.
    pub fn worth_measuring(&self, requested: Option<&str>) -> bool {
        requested.is_none() && matches!(self.kind, BackendKind::WebGpu { .. })
    }

    pub fn label(&self) -> String {
        match &self.kind {
            BackendKind::WebGpu { adapter } => format!("WebGPU · {adapter}"),
            BackendKind::Cpu { .. } => "CPU · burn flex".to_string(),
        }
    }

    pub fn short_name(&self) -> &'static str {
        match self.kind {
            BackendKind::WebGpu { .. } => "webgpu",
            BackendKind::Cpu { .. } => "cpu",
        }
    }
}

/// The `backend` query parameter of the page URL, if any.
pub fn requested_backend() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get("backend")
}

pub fn webgpu_exists() -> bool {
    let Some(window) = web_sys::window() else { return false };
    js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("gpu"))
        .map(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .unwrap_or(false)
}

pub async fn choose(requested: Option<&str>) -> Backend {
    let cpu = |reason: String| Backend::cpu(reason);
    if requested == Some("cpu") {
        return cpu("requested with ?backend=cpu".into());
    }
    if !webgpu_exists() {
        return cpu("this browser has no WebGPU (navigator.gpu)".into());
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            // wgpu's browser backend leaves the adapter's name empty; the page can
            // still read what the browser discloses (GPUAdapter.info).
            let info = setup.adapter.get_info();
            let adapter = match browser_adapter_description().await {
                Some(description) => description,
                None => format!("{:?} adapter", info.device_type),
            };
            Backend {
                device,
                kind: BackendKind::WebGpu { adapter },
                measured: None,
            }
        }
        Err(e) => cpu(format!("no WebGPU adapter: {e}")),
    }
}

/// `description`, or `vendor architecture`, of the browser's default WebGPU adapter.
async fn browser_adapter_description() -> Option<String> {
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key)).ok();
    let gpu = get(&web_sys::window()?.navigator(), "gpu")?;
    let request: js_sys::Function = get(&gpu, "requestAdapter")?.dyn_into().ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let info = get(&adapter, "info")?;
    let field = |key: &str| get(&info, key).and_then(|v| v.as_string()).unwrap_or_default();
    let description = field("description");
    let text = if description.is_empty() {
        format!("{} {}", field("vendor"), field("architecture")).trim().to_string()
    } else {
        description
    };
    (!text.is_empty()).then_some(text)
}
