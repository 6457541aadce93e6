//! The "Permalink" button and the link it makes, for any view whose runs a
//! link can carry (settings and aggregate numbers, never texts or keys).

use leptos::prelude::*;

use crate::export::{Permalink, permalink_url};

#[component]
pub fn PermalinkButton(
    /// What the link carries, built when the button is pressed.
    make: impl Fn() -> Permalink + Send + Sync + 'static,
    /// The link shown (the caller empties it when what it carries changes).
    link: RwSignal<String>,
    #[prop(into)] disabled: Signal<bool>,
    /// The text above the link.
    caption: &'static str,
    /// Test ids of the button and of the link's field (also its element id).
    button_id: &'static str,
    link_id: &'static str,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let make_link = move |_| match permalink_url(&make()) {
        Ok(url) => {
            error.set(None);
            link.set(url);
        }
        Err(e) => error.set(Some(e)),
    };
    view! {
        <div class="actions">
            <button class="secondary" data-testid=button_id on:click=make_link disabled=disabled>"Permalink"</button>
            {move || (!link.get().is_empty()).then(|| view! {
                <label for=link_id>{caption}</label>
                <input id=link_id class="wide" readonly data-testid=link_id prop:value=move || link.get() />
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
