//! Each token of a scored text, coloured by its log-probability, and a table of the numbers.

use leptos::prelude::*;
use tinyeval_core::TextScores;

/// Background hue for a log-probability: red for surprising tokens, green for expected ones.
fn heat(logprob: Option<f32>) -> String {
    match logprob {
        None => "background: transparent".into(),
        Some(lp) => {
            // Scale on log p from -12 (red) to 0 (green).
            let t = ((lp as f64 + 12.0) / 12.0).clamp(0.0, 1.0);
            format!("background: hsl({:.0} 70% 50% / 0.35)", t * 120.0)
        }
    }
}

/// How a byte-level token reads: `Ġ` is a space, `Ċ` a newline.
fn display_token(s: &str) -> String {
    s.replace('Ġ', "␣").replace('Ċ', "↵").replace('▁', "␣")
}

#[component]
pub fn TokenView(scores: TextScores) -> impl IntoView {
    let total: f64 = scores.logprobs.iter().flatten().map(|&x| x as f64).sum();
    let scored = scores.logprobs.iter().flatten().count();
    let mean = if scored > 0 { total / scored as f64 } else { 0.0 };
    let rows: Vec<(usize, String, u32, Option<f32>)> = scores
        .token_strs
        .iter()
        .zip(&scores.tokens)
        .zip(&scores.logprobs)
        .enumerate()
        .map(|(i, ((s, &id), &lp))| (i, display_token(s), id, lp))
        .collect();
    let chips = rows.clone();
    view! {
        <p data-testid="summary">
            {format!("{} tokens · total log p {total:.4} · mean log p {mean:.4} · perplexity {:.2}", scores.tokens.len(), (-mean).exp())}
        </p>
        <div class="chips" aria-label="Tokens coloured by log-probability">
            {chips
                .into_iter()
                .map(|(_, s, _, lp)| {
                    let title = lp.map(|x| format!("log p = {x:.4}")).unwrap_or_else(|| "first token: not predicted".into());
                    view! { <span class="chip" style=heat(lp) title=title>{s}</span> }
                })
                .collect_view()}
        </div>
        <table data-testid="token-table">
            <thead>
                <tr><th scope="col">"#"</th><th scope="col">"token"</th><th scope="col">"id"</th><th scope="col">"log p"</th></tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|(i, s, id, lp)| {
                        let exact = lp.map(|x| x.to_string()).unwrap_or_default();
                        let shown = lp.map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into());
                        view! {
                            <tr data-testid="token-row" data-logprob=exact data-token-id=id.to_string()>
                                <td>{i}</td><td><code>{s}</code></td><td>{id}</td><td>{shown}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
