//! tinyeval's dashboard: a Leptos client-side app running models in the browser.

mod backend;
mod components;
mod fetch;
mod model_loading;
mod scoring_run;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(components::App);
}
