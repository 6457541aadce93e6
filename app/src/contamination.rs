//! Contamination checks on the page: the inputs turned into core's
//! `membership` types (core parses the sets and manifests and runs the check:
//! `membership::run_check`), and what the views draw from a `CheckReport`
//! (curves, rankings, the k sweep and the dose response).

use std::collections::BTreeMap;

use tinyeval_core::TextScores;
use tinyeval_core::detection::{self, DetectionInput, Method, ScoredTokens, TokenFrequencies};
use tinyeval_core::leaner_eval::parse_pretrain_documents;
use tinyeval_core::membership::{CheckItem, CheckOptions, CheckReport, RecallPrefix, count_tokens, parse_labelled_set};
use tinyeval_core::LanguageModel;

use crate::model_loading::{BuiltinModel, LocalFile};
use crate::plots::Curve;
use crate::plots::lines::Line;

/// DC-PDD's default reference corpus: the token counts of Leaner-Pretrain
/// 10M train under TinyHelen's gpt-2K tokenizer (the demo models' tokenizer).
pub const DEFAULT_FREQUENCIES_URL: &str = "data/token_frequencies_gpt-2K_leaner-pretrain-10M-train.json";
pub const DEFAULT_FREQUENCIES_NAME: &str = "Leaner-Pretrain 10M train, counted with TinyHelen's gpt-2K tokenizer";

/// A labelled set as the page checks it: core's parser, and a label on every
/// line (an unlabelled set has no ROC; `tinyeval detect` scores one).
pub fn labelled_set(file: &str, bytes: &[u8]) -> Result<Vec<CheckItem>, String> {
    let items = parse_labelled_set(file, bytes).map_err(|e| e.to_string())?;
    match items.iter().find(|i| i.member.is_none()) {
        Some(i) => Err(format!("{file}: line {}: `label` must be 0 or 1 (this view needs labelled sets; `tinyeval detect` scores unlabelled ones)", i.id)),
        None => Ok(items),
    }
}

/// The membership manifest to offer: the target model's own when it is a
/// bundled model with one, else (while none is set) the first bundled model's.
pub fn manifest_for(models: &[BuiltinModel], target: Option<&str>, current: &str) -> Option<String> {
    let own = target.and_then(|t| models.iter().find(|m| m.name == t)?.membership.clone());
    let url = own.or_else(|| if current.is_empty() { models.iter().find_map(|m| m.membership.clone()) } else { None })?;
    Some(format!("models/{url}"))
}

/// How many of the items are members.
pub fn members(items: &[CheckItem]) -> usize {
    items.iter().filter(|i| i.member == Some(true)).count()
}

/// DC-PDD's token frequencies from the user's files: one JSON counts table
/// (`{"counts": [...]}`), or corpus files (JSONL documents as Leaner-Pretrain's;
/// any other file is one text) counted with the model's tokenizer.
pub fn frequencies_from_files(model: &LanguageModel, files: &[LocalFile]) -> Result<TokenFrequencies, String> {
    if let [table] = files
        && table.path.ends_with(".json")
    {
        return TokenFrequencies::parse_table(&table.path, &table.bytes).map_err(|e| e.to_string());
    }
    let mut documents = Vec::new();
    for f in files {
        if f.path.ends_with(".jsonl") {
            documents.extend(parse_pretrain_documents(&f.path, &f.bytes).map_err(|e| e.to_string())?);
        } else {
            documents.push(String::from_utf8(f.bytes.to_vec()).map_err(|_| format!("{}: not valid UTF-8", f.path))?);
        }
    }
    if documents.is_empty() {
        return Err("dcpdd: the chosen corpus has no documents".into());
    }
    count_tokens(model, &documents).map_err(|e| e.to_string())
}

/// The bundled token counts (DC-PDD's default reference corpus).
pub async fn fetch_default_frequencies() -> Result<TokenFrequencies, String> {
    let bytes = crate::browser::fetch::fetch_bytes(DEFAULT_FREQUENCIES_URL).await?;
    TokenFrequencies::parse_table(DEFAULT_FREQUENCIES_URL, &bytes).map_err(|e| e.to_string())
}

/// What DC-PDD will use, said before a check: the user's files, the bundled
/// table (when it fits the vocabulary of size `vocab`), or what is missing.
/// The flag is set when DC-PDD cannot run as things are.
pub fn dcpdd_note(vocab: Option<usize>, files: &[String], table: Option<&Result<TokenFrequencies, String>>) -> (String, bool) {
    if !files.is_empty() {
        let what = if files.len() == 1 && files[0].ends_with(".json") { "a counts table" } else { "counted with the target model's tokenizer when the check starts" };
        return (format!("DC-PDD's reference corpus: {} ({what})", files.join(", ")), false);
    }
    match (table, vocab) {
        (None, _) => ("Reading the bundled token counts…".into(), false),
        (Some(Err(e)), _) => (format!("The bundled token counts could not be read ({e}): choose a corpus or a counts table for DC-PDD"), true),
        (Some(Ok(_)), None) => ("Load a target model: DC-PDD's corpus must be counted with its tokenizer".into(), true),
        (Some(Ok(t)), Some(v)) if t.counts.len() == v => {
            (format!("DC-PDD's reference corpus: {DEFAULT_FREQUENCIES_NAME} ({} tokens; bundled with the site)", crate::backend_probe::rate(t.total as f64)), false)
        }
        (Some(Ok(t)), Some(v)) => (
            format!(
                "This model's vocabulary has {v} tokens and the bundled counts are for gpt-2K's {}: DC-PDD needs a corpus of its own. \
                 Choose JSONL or text files (counted with this model's tokenizer) or a counts table (JSON {{\"counts\": [...]}})",
                t.counts.len()
            ),
            true,
        ),
    }
}

/// DC-PDD's frequencies for a check: the user's files if chosen, else the
/// bundled table (`table`, fetched now if it has not been) when it fits the model.
pub async fn check_frequencies(model: &LanguageModel, files: &[LocalFile], table: Option<Result<TokenFrequencies, String>>) -> Result<TokenFrequencies, String> {
    if !files.is_empty() {
        return frequencies_from_files(model, files);
    }
    let table = match table {
        Some(t) => t,
        None => fetch_default_frequencies().await,
    };
    match dcpdd_note(Some(model.config.vocab_size), &[], Some(&table)) {
        (problem, true) => Err(format!("dcpdd: {problem}")),
        _ => table,
    }
}

/// What the form holds, before it is checked.
pub struct CheckForm {
    pub methods: Vec<Method>,
    pub k: String,
    pub batch_size: String,
    pub recall_shots: String,
    pub frequencies: Option<TokenFrequencies>,
}

/// Core's options from the form (core checks the rest: the reference model,
/// enough non-members for the shots, the frequencies' size).
pub fn check_options(form: CheckForm) -> Result<CheckOptions, String> {
    let k: f64 = match form.k.trim().parse() {
        Ok(v) if v > 0.0 && v <= 1.0 => v,
        _ => return Err("k must be a number in (0, 1], e.g. 0.2".into()),
    };
    if form.methods.is_empty() {
        return Err("choose at least one method".into());
    }
    let recall = if form.methods.contains(&Method::Recall) {
        let shots = form.recall_shots.trim().parse::<usize>().map_err(|_| "ReCaLL's shots must be a whole number, e.g. 4".to_string())?;
        Some(RecallPrefix::NonMembers { shots })
    } else {
        None
    };
    Ok(CheckOptions {
        methods: form.methods,
        k,
        recall,
        frequencies: form.frequencies,
        batch_size: form.batch_size.trim().parse::<usize>().unwrap_or(8).max(1),
        ..CheckOptions::default()
    })
}

/// The status line of a finished check.
pub fn summary_text(report: &CheckReport) -> String {
    format!("{} texts ({} members) checked with {} method(s)", report.items.len(), members(&report.items), report.outcomes.len())
}

/// Which items ReCaLL's prefix took (they were left out of the check).
pub fn prefix_note(report: &CheckReport) -> Option<String> {
    if report.prefix_items.is_empty() {
        return None;
    }
    let ids: Vec<&str> = report.prefix_items.iter().map(|i| i.id.as_str()).collect();
    Some(format!(
        "ReCaLL's prefix: {} non-member(s) ({}) were joined as the prefix and left out of the check, for every method",
        ids.len(),
        ids.join(", ")
    ))
}

/// The ROC curve of each method with metrics, then the blind baseline's.
pub fn roc_curves(report: &CheckReport) -> Vec<Curve> {
    let curve = |name: String, m: &tinyeval_core::statistics::DetectionMetrics| Curve {
        name: format!("{name} (AUROC {:.3})", m.auroc),
        fpr: m.roc.fpr.clone(),
        tpr: m.roc.tpr.clone(),
    };
    let mut curves: Vec<Curve> = report.metrics.iter().filter_map(|(m, s)| Some(curve(m.name().to_string(), &s.as_ref().ok()?.metrics))).collect();
    if let Some(Ok((_, b))) = &report.blind {
        curves.push(curve("blind baseline".into(), &b.metrics));
    }
    curves
}

/// The methods that scored every item.
pub fn scored_methods(report: &CheckReport) -> Vec<Method> {
    report.outcomes.iter().filter(|o| o.scores.is_ok()).map(|o| o.method).collect()
}

fn method_scores<'a>(report: &'a CheckReport, method: &str) -> Option<&'a [f64]> {
    report.outcomes.iter().find(|o| o.method.name() == method)?.scores.as_ref().ok().map(Vec::as_slice)
}

/// `(item index, score)` of `method`, highest first (NaN last).
pub fn ranking(report: &CheckReport, method: &str) -> Vec<(usize, f64)> {
    let Some(scores) = method_scores(report, method) else { return Vec::new() };
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].is_nan().cmp(&scores[b].is_nan()).then(scores[b].total_cmp(&scores[a])));
    idx.into_iter().map(|i| (i, scores[i])).collect()
}

/// The members' and the non-members' scores of `method`.
pub fn member_groups(report: &CheckReport, method: &str) -> Option<(Vec<f64>, Vec<f64>)> {
    let scores = method_scores(report, method)?;
    let pick = |m: bool| report.items.iter().zip(scores).filter(|(i, _)| i.member == Some(m)).map(|(_, &s)| s).collect();
    Some((pick(true), pick(false)))
}

/// How the page names an item's label.
pub fn member_label(item: &CheckItem) -> &'static str {
    match item.member {
        Some(true) => "member",
        Some(false) => "non-member",
        None => "unknown",
    }
}

/// One line per method of the AUROC-against-k sweep.
pub fn k_sweep_lines(report: &CheckReport) -> Vec<Line> {
    report
        .k_sweep
        .iter()
        .map(|s| Line { name: s.method.name().to_string(), points: s.ks.iter().copied().zip(s.aurocs.iter().copied()).collect() })
        .collect()
}

/// The dose response as a chart draws it: the exposure counts (categories)
/// and one line per method, x = the count's position.
pub fn dose_lines(report: &CheckReport) -> (Vec<String>, Vec<Line>) {
    let counts: Vec<String> = report.dose.iter().map(|d| format!("{}×", d.count)).collect();
    let mut by_method: BTreeMap<usize, Line> = BTreeMap::new();
    for (x, row) in report.dose.iter().enumerate() {
        for (name, auroc) in &row.aurocs {
            let order = report.outcomes.iter().position(|o| o.method.name() == name).unwrap_or(usize::MAX);
            by_method.entry(order).or_insert_with(|| Line { name: name.clone(), points: Vec::new() }).points.push((x as f64, *auroc));
        }
    }
    (counts, by_method.into_values().collect())
}

/// Each dose row's AUROC of each of `methods` (None where it could not be computed).
pub fn dose_cells(report: &CheckReport, methods: &[String]) -> Vec<Vec<Option<f64>>> {
    report
        .dose
        .iter()
        .map(|row| methods.iter().map(|m| row.aurocs.iter().find(|(n, _)| n == m).map(|(_, a)| *a)).collect())
        .collect()
}

/// The method the histogram and ranking show after a check: the one shown
/// before if it was scored, else the first scored.
pub fn method_to_show(report: &CheckReport, shown: &str) -> String {
    let scored = scored_methods(report);
    match scored.iter().find(|m| m.name() == shown).or(scored.first()) {
        Some(m) => m.name().to_string(),
        None => String::new(),
    }
}

/// The scores of one passage (no labels): the methods that need only the passage itself.
pub fn passage_scores(text: &str, scores: &TextScores, k: f64) -> Vec<(Method, Result<f64, String>)> {
    let target = ScoredTokens::from_text_scores(scores);
    let input = DetectionInput { text, target: &target, lowercase: None, reference: None, conditional: None, dc_pdd: None };
    Method::SELF_CONTAINED.into_iter().map(|m| (m, detection::score(m, &input, k).map_err(|e| e.to_string()))).collect()
}
