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

fn main() {
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
