//! Each token of a scored text, coloured by its log-probability, with the
//! lowest k% marked (the tokens Min-K% averages), and a table of the numbers.

use leptos::prelude::*;

use super::column_heads::ColumnHeads;
use tinyeval_core::TextScores;
use tinyeval_core::detection::k_count;

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

/// Indices of the lowest `k` fraction of the scored tokens (Min-K%'s count).
pub fn lowest_k(logprobs: &[Option<f32>], k: f64) -> Vec<usize> {
    let mut scored: Vec<(usize, f32)> = logprobs.iter().enumerate().filter_map(|(i, lp)| lp.map(|x| (i, x))).collect();
    let Ok(count) = k_count(scored.len(), k) else { return Vec::new() };
    if scored.is_empty() {
        return Vec::new();
    }
    scored.sort_by(|a, b| a.1.total_cmp(&b.1));
    scored.into_iter().take(count).map(|(i, _)| i).collect()
}

#[component]
pub fn TokenView(
    scores: TextScores,
    /// Mark the lowest `k` fraction of tokens.
    #[prop(optional)]
    k: Option<f64>,
    /// Show the per-token table too.
    #[prop(optional)]
    table: bool,
) -> impl IntoView {
    let total: f64 = scores.logprobs.iter().flatten().map(|&x| x as f64).sum();
    let scored = scores.logprobs.iter().flatten().count();
    let mean = if scored > 0 { total / scored as f64 } else { 0.0 };
    let marked = k.map(|k| lowest_k(&scores.logprobs, k)).unwrap_or_default();
    let rows: Vec<(usize, String, u32, Option<f32>, bool)> = scores
        .token_strs
        .iter()
        .zip(&scores.tokens)
        .zip(&scores.logprobs)
        .enumerate()
        .map(|(i, ((s, &id), &lp))| (i, display_token(s), id, lp, marked.contains(&i)))
        .collect();
    let chips = rows.clone();
    let legend = k.map(|k| {
        view! {
            <p class="legend">
                <span class="chip lowk">"outlined"</span>
                {format!(" = the lowest {:.0}% of log-probabilities ({} of {scored} tokens); colour from red (log p ≤ −12) to green (log p = 0)", k * 100.0, marked.len())}
            </p>
        }
    });
    view! {
        <p data-testid="summary">
            {format!("{} tokens · total log p {total:.4} · mean log p {mean:.4} · perplexity {:.2}", scores.tokens.len(), (-mean).exp())}
        </p>
        {legend}
        <div class="chips" aria-label="Tokens coloured by log-probability" data-testid="heatmap">
            {chips
                .into_iter()
                .map(|(_, s, _, lp, low)| {
                    let title = lp.map(|x| format!("log p = {x:.4}")).unwrap_or_else(|| "first token: not predicted".into());
                    view! { <span class=if low { "chip lowk" } else { "chip" } data-lowk=low.to_string() style=heat(lp) title=title>{s}</span> }
                })
                .collect_view()}
        </div>
        {table.then(|| view! {
            <details open>
                <summary>"Every token"</summary>
                <div class="scroll">
                    <table data-testid="token-table">
                        <ColumnHeads names=&["#", "token", "id", "log p"] />
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|(i, s, id, lp, _)| {
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
                </div>
            </details>
        })}
    }
}
