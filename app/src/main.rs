//! tinyeval's dashboard: a Leptos client-side app running models in the browser.
//! Views are in `components`; what they compute is in the other modules.

mod backend;
mod backend_probe;
mod bench_page;
mod components;
mod contamination;
mod export;
mod browser;
mod job;
mod leaner_eval_run;
mod memory;
mod model_files;
mod model_loading;
mod overlap;
mod plots;
mod pool;
mod finetune_run;
mod probe_run;
mod runs;
mod sample_rows;
mod state;
mod suites;
mod task_loading;

#[cfg(target_family = "wasm")]
unsafe extern "C" {
    /// The module's static constructors, synthesized by the linker (cubecl
    /// registers its kernels' parts through `inventory`). Called once, here:
    /// without an explicit call wasm-ld wraps *every* export in a call to it,
    /// so each call from JavaScript into the module (an event handler, a
    /// worker's message, a timer) ran all of them again. The page's profile
    /// (`e2e/profile_bench.mjs --flow benchmarks`) showed them as over half of
    /// its main-thread time, in tasks of seconds.
    fn __wasm_call_ctors();
}

fn main() {
    // SAFETY: main runs first, once per instance (the page, each worker), before
    // anything that reads what the constructors register.
    #[cfg(target_family = "wasm")]
    unsafe {
        __wasm_call_ctors()
    };
    console_error_panic_hook::set_once();
    // The same wasm runs the page's workers (see `pool`).
    if pool::worker::in_worker() {
        return pool::worker::serve();
    }
    match bench_page::requested() {
        // `?bench`: the page runs the scoring benchmark instead of the dashboard.
        Some(params) => leptos::mount::mount_to_body(move || bench_page::BenchPage(bench_page::BenchPageProps { params })),
        None => leptos::mount::mount_to_body(components::App),
    }
}
