//! Model-free contamination check: word n-grams (13 by default) shared between
//! a task's items and a corpus, as lm-eval-harness's decontamination defines
//! them (`lm_eval/decontamination/janitor.py` and `decontaminate.py`, 0.4.13):
//!
//! - normalisation is `Janitor.normalize_string`: `str.translate` with a table
//!   that maps ASCII `A`–`Z` to `a`–`z` and deletes `string.punctuation` (the
//!   32 ASCII punctuation characters). Nothing else changes: non-ASCII letters
//!   keep their case, and Unicode punctuation such as `’` or `—` stays;
//! - words are Python's `str.split()` (runs of Unicode whitespace), an n-gram
//!   is `n` consecutive words joined by one space (`word_ngrams`); a text of
//!   fewer than `n` words has no n-grams and so never overlaps;
//! - an item overlaps when one of its n-grams occurs in a corpus document;
//!   n-grams never span two corpus documents (lm-eval builds them per document).
//!
//! The task items are indexed (small), and the corpus is streamed through
//! [`OverlapIndex::scan`] one document at a time, so a large corpus never has
//! to be held in memory and the browser can feed it as it downloads. The whole
//! check of a task, from its docs and the corpus documents to the report that
//! the CLI and the page show, is `run` ([`overlap_report`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

mod run;

pub use run::{DOCUMENTS_PER_STEP, OverlapReport, OverlapRow, overlap_report, parse_corpus};

/// lm-eval's default n-gram size.
pub const DEFAULT_N: usize = 13;

/// Python's `string.punctuation`.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// `Janitor.normalize_string`: ASCII uppercase to lowercase, ASCII punctuation deleted.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !PUNCTUATION.contains(*c))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whitespace as Python's `str.split()` sees it: Rust's `char::is_whitespace`
/// (Unicode White_Space) plus U+001C..U+001F, which Python also splits on.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `text.split()`.
pub fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_space).filter(|w| !w.is_empty())
}

/// lm-eval's `word_ngrams(text, n)`: every run of `n` consecutive words, joined by a space.
pub fn word_ngrams(text: &str, n: usize) -> Vec<String> {
    let words: Vec<&str> = split_words(text).collect();
    if n == 0 || words.len() < n {
        return Vec::new();
    }
    words.windows(n).map(|w| w.join(" ")).collect()
}

/// One n-gram an item shares with the corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedNgram {
    pub ngram: String,
    /// Index (in [`OverlapIndex::scan`] order) of the first corpus document that contains it.
    pub first_document: usize,
}

/// The overlap of one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOverlap {
    /// The item's index among the texts given to [`OverlapIndex::new`].
    pub item: usize,
    /// Distinct n-grams of the item.
    pub ngrams: usize,
    /// Its n-grams found in the corpus, sorted.
    pub shared: Vec<SharedNgram>,
}

impl ItemOverlap {
    /// Share of the item's distinct n-grams found in the corpus (0 when it has none).
    pub fn fraction(&self) -> f64 {
        if self.ngrams == 0 { 0.0 } else { self.shared.len() as f64 / self.ngrams as f64 }
    }
}

/// The task items' n-grams, matched against corpus documents as they come.
pub struct OverlapIndex {
    n: usize,
    /// Normalised n-gram → the items that contain it.
    items_of: HashMap<String, Vec<usize>>,
    ngrams_per_item: Vec<usize>,
    /// Normalised n-gram → first corpus document containing it.
    found: HashMap<String, usize>,
    documents: usize,
}

impl OverlapIndex {
    /// Indexes the `n`-grams of each item (normalised first).
    pub fn new<S: AsRef<str>>(items: &[S], n: usize) -> Self {
        let mut items_of: HashMap<String, Vec<usize>> = HashMap::new();
        let mut ngrams_per_item = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let mut count = 0;
            for g in word_ngrams(&normalize(item.as_ref()), n) {
                let owners = items_of.entry(g).or_default();
                if owners.last() != Some(&i) {
                    owners.push(i);
                    count += 1;
                }
            }
            ngrams_per_item.push(count);
        }
        Self { n, items_of, ngrams_per_item, found: HashMap::new(), documents: 0 }
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// Corpus documents scanned so far.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// Matches one corpus document's n-grams against the items'.
    pub fn scan(&mut self, document: &str) {
        let doc = self.documents;
        self.documents += 1;
        let normalized = normalize(document);
        let words: Vec<&str> = split_words(&normalized).collect();
        if words.len() < self.n || self.n == 0 {
            return;
        }
        let mut key = String::new();
        for window in words.windows(self.n) {
            key.clear();
            for (j, w) in window.iter().enumerate() {
                if j > 0 {
                    key.push(' ');
                }
                key.push_str(w);
            }
            if self.items_of.contains_key(&key) && !self.found.contains_key(&key) {
                self.found.insert(key.clone(), doc);
            }
        }
    }

    /// Every item with its shared n-grams (items without any included).
    pub fn report(&self) -> Vec<ItemOverlap> {
        let mut shared: BTreeMap<usize, Vec<SharedNgram>> = BTreeMap::new();
        for (ngram, &first_document) in &self.found {
            for &item in &self.items_of[ngram] {
                shared.entry(item).or_default().push(SharedNgram { ngram: ngram.clone(), first_document });
            }
        }
        (0..self.ngrams_per_item.len())
            .map(|item| {
                let mut s = shared.remove(&item).unwrap_or_default();
                s.sort_by(|a, b| a.ngram.cmp(&b.ngram));
                ItemOverlap { item, ngrams: self.ngrams_per_item[item], shared: s }
            })
            .collect()
    }
}

/// A part of an item's text, and whether it lies in a shared n-gram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub text: String,
    pub shared: bool,
}

/// `text` cut into runs of words in a shared n-gram and runs of the rest,
/// whitespace kept. Normalisation maps characters one by one and keeps
/// whitespace, so the normalised words are the text's words that do not
/// normalise to nothing, in order.
pub fn highlight(text: &str, n: usize, shared: &[SharedNgram]) -> Vec<Segment> {
    // (byte range, normalised word or None for whitespace / all-punctuation words)
    let mut pieces: Vec<(usize, usize, Option<String>)> = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = is_python_space(c);
        if in_space.is_some_and(|s| s != space) {
            pieces.push((start, i, None));
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        pieces.push((start, text.len(), None));
    }
    for p in &mut pieces {
        let piece = &text[p.0..p.1];
        if !piece.starts_with(is_python_space) {
            let w = normalize(piece);
            p.2 = (!w.is_empty()).then_some(w);
        }
    }
    let word_pieces: Vec<usize> = (0..pieces.len()).filter(|&i| pieces[i].2.is_some()).collect();
    let words: Vec<&str> = word_pieces.iter().map(|&i| pieces[i].2.as_deref().unwrap_or_default()).collect();
    let wanted: HashSet<&str> = shared.iter().map(|s| s.ngram.as_str()).collect();
    let mut marked = vec![false; pieces.len()];
    if n > 0 && words.len() >= n {
        for s in 0..=words.len() - n {
            if wanted.contains(words[s..s + n].join(" ").as_str()) {
                // Every piece from the first word to the last, whitespace between included.
                for m in &mut marked[word_pieces[s]..=word_pieces[s + n - 1]] {
                    *m = true;
                }
            }
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for (p, &m) in pieces.iter().zip(&marked) {
        match out.last_mut() {
            Some(last) if last.shared == m => last.text.push_str(&text[p.0..p.1]),
            _ => out.push(Segment { text: text[p.0..p.1].to_string(), shared: m }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_items_never_overlap() {
        let mut index = OverlapIndex::new(&["one two three"], 3);
        index.scan("ONE, two; three!");
        assert_eq!(index.report()[0].shared.len(), 1);
        let mut index = OverlapIndex::new(&["one two"], 3);
        index.scan("one two");
        assert_eq!(index.report()[0].ngrams, 0);
        assert!(index.report()[0].shared.is_empty());
    }

    fn shared(ngrams: &[&str]) -> Vec<SharedNgram> {
        ngrams.iter().map(|g| SharedNgram { ngram: g.to_string(), first_document: 0 }).collect()
    }

    #[test]
    fn highlights_the_words_of_shared_ngrams_in_the_original_text() {
        let segments = highlight("Hi, there -- The Cat sat.\nNo", 3, &shared(&["the cat sat"]));
        let texts: Vec<(&str, bool)> = segments.iter().map(|s| (s.text.as_str(), s.shared)).collect();
        assert_eq!(texts, vec![("Hi, there -- ", false), ("The Cat sat.", true), ("\nNo", false)]);
    }

    #[test]
    fn an_all_punctuation_word_inside_an_ngram_is_highlighted_with_it() {
        let segments = highlight("a -- b c", 3, &shared(&["a b c"]));
        assert_eq!(segments, vec![Segment { text: "a -- b c".into(), shared: true }]);
    }
}
