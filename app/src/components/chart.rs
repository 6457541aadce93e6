//! A chart (an SVG string from [`crate::plots`]) with buttons to save it as SVG or PNG.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::files::{download, download_png};
use crate::export::standalone_svg;

/// The theme's text and background colours, for charts saved as files.
fn theme_colours() -> (&'static str, &'static str) {
    let dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .map(|m| m.matches())
        .unwrap_or(false);
    if dark { ("#e6e8eb", "#1e2125") } else { ("#1b1f24", "#ffffff") }
}

#[component]
pub fn Chart(
    /// The SVG, or why there is none.
    svg: Signal<Option<Result<String, String>>>,
    /// File name for downloads, without extension.
    name: &'static str,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let save_svg = move |_| {
        if let Some(Ok(svg)) = svg.get_untracked() {
            let (ink, paper) = theme_colours();
            if let Err(e) = download(&format!("{name}.svg"), "image/svg+xml", standalone_svg(&svg, ink, paper).as_bytes()) {
                problem.set(Some(e));
            }
        }
    };
    let save_png = move |_| {
        if let Some(Ok(svg)) = svg.get_untracked() {
            let (ink, paper) = theme_colours();
            spawn_local(async move {
                if let Err(e) = download_png(&format!("{name}.png"), &standalone_svg(&svg, ink, paper)).await {
                    problem.set(Some(e));
                }
            });
        }
    };
    // The SVG goes into the page as markup: only what charts are drawn with may be in it.
    let svg = Signal::derive(move || svg.get().map(|r| r.and_then(|s| crate::plots::check_svg(&s).map(|_| s))));
    view! {
        {move || match svg.get() {
            None => None,
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{format!("Cannot draw the chart: {e}")}</p> }.into_any()),
            Some(Ok(s)) => Some(
                view! {
                    <figure class="chart" data-testid=format!("chart-{name}")>
                        <div inner_html=s></div>
                        <figcaption class="actions">
                            <button class="secondary" data-testid=format!("save-svg-{name}") on:click=save_svg>"Save SVG"</button>
                            <button class="secondary" data-testid=format!("save-png-{name}") on:click=save_png>"Save PNG"</button>
                            {move || problem.get().map(|e| view! { <span class="error">{e}</span> })}
                        </figcaption>
                    </figure>
                }
                .into_any(),
            ),
        }}
    }
}
