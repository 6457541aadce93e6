//! SentencePiece BPE vocabularies with byte fallback (`tokenizer.ggml.model =
//! "llama"`), as transformers rebuilds them: `LlamaTokenizer`'s layout for
//! most architectures, `GemmaTokenizer`'s for gemma, gemma2 and gemma3.

use std::collections::HashMap;

use serde_json::json;

use super::TokenizerParts;

/// transformers' `sentencepiece_tokenizer` with `LlamaTokenizer`: Metaspace
/// pre-tokenizer (prepend "▁" to the first word, no split), the file's merges
/// or merges rebuilt from the scores; add_bos_token defaults to true.
pub(super) fn llama_parts(tokens: &[&str], merges: Vec<(String, String)>) -> TokenizerParts {
    TokenizerParts {
        vocab_tokens: tokens.iter().map(|t| t.to_string()).collect(),
        merges,
        normalizer: serde_json::Value::Null,
        pre_tokenizer: json!({"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "first", "split": false}),
        decoder: json!({"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]}),
        bpe_options: json!({"unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true}),
        default_add_bos: true,
    }
}

/// Python's `str.isspace` (Unicode White_Space plus the separators U+001C..U+001F).
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// transformers' `gemma_tokenizer` with `GemmaTokenizer`: spaces become "▁" in
/// a normalizer (no prefix is added), a pre-tokenizer that splits on spaces
/// (none are left after the normalizer), a decoder without Llama's strip.
///
/// Two fixes for Gemma files, as transformers makes them: a token of only
/// whitespace containing a space (llama.cpp stores Gemma's "▁▁" tokens as real
/// spaces) is spelled as that many "▁"; and merges, which Gemma files lack,
/// are rebuilt ordered by the tokens' position in the file rather than by
/// their scores, which for Gemma do not follow its merge order. The file's
/// merges are used where it has them. `unk_token` is GemmaTokenizer's
/// `<unk>` when the vocabulary has it (every Gemma vocabulary does).
pub(super) fn gemma_parts(tokens: &[&str], merges: Option<Vec<(String, String)>>) -> TokenizerParts {
    let respelled: Vec<String> = tokens
        .iter()
        .map(|t| {
            if t.contains(' ') && t.chars().all(py_isspace) {
                "\u{2581}".repeat(t.chars().count())
            } else {
                t.to_string()
            }
        })
        .collect();
    let merges = merges.unwrap_or_else(|| {
        let refs: Vec<&str> = respelled.iter().map(String::as_str).collect();
        let positions: Vec<f64> = (0..refs.len()).map(|i| -(i as f64)).collect();
        merges_from_scores(&refs, &positions)
    });
    let unk = respelled.iter().any(|t| t == "<unk>").then_some("<unk>");
    TokenizerParts {
        vocab_tokens: respelled,
        merges,
        normalizer: json!({"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}),
        pre_tokenizer: json!({"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": false}),
        decoder: json!({"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
        ]}),
        bpe_options: json!({"unk_token": unk, "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true}),
        default_add_bos: true,
    }
}

/// transformers' `generate_merges(vocab, vocab_scores)` for a SentencePiece
/// vocabulary without merges: every split of a token into two tokens of the
/// vocabulary, ordered by the merged token's score (best first), then by the
/// lengths of the two parts (longer first), ties kept in vocabulary order.
pub fn merges_from_scores(tokens: &[&str], scores: &[f64]) -> Vec<(String, String)> {
    // {token: last id}, and {token: last score} in first-occurrence order: Python dicts.
    let mut vocab: HashMap<&str, usize> = HashMap::with_capacity(tokens.len());
    for (i, &t) in tokens.iter().enumerate() {
        vocab.insert(t, i);
    }
    let mut order: Vec<&str> = Vec::with_capacity(tokens.len());
    let mut score_of: HashMap<&str, f64> = HashMap::with_capacity(tokens.len());
    for (&t, &s) in tokens.iter().zip(scores) {
        if score_of.insert(t, s).is_none() {
            order.push(t);
        }
    }
    let mut merges: Vec<(&str, &str, f64)> = Vec::new();
    for t in order {
        let score = score_of[t];
        let mut local: Vec<(&str, &str, f64)> = t
            .char_indices()
            .skip(1)
            .map(|(i, _)| (&t[..i], &t[i..]))
            .filter(|(l, r)| vocab.contains_key(l) && vocab.contains_key(r))
            .map(|(l, r)| (l, r, score))
            .collect();
        local.sort_by_key(|&(l, r, _)| (vocab[l], vocab[r]));
        merges.extend(local);
    }
    let key = |m: &(&str, &str, f64)| (m.2, m.0.chars().count(), m.1.chars().count());
    // Descending and stable, as Python's sorted(..., reverse=True). Scores
    // compare by `total_cmp`: a file's NaN scores must still give a total order
    // (the sort panics otherwise; found by the `gguf` fuzz target).
    merges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0).then(kb.1.cmp(&ka.1)).then(kb.2.cmp(&ka.2))
    });
    merges.into_iter().map(|(l, r, _)| (l.to_string(), r.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_follow_scores_then_lengths() {
        let tokens = ["a", "b", "c", "ab", "abc", "bc"];
        let scores = [0.0, 0.0, 0.0, -1.0, -3.0, -2.0];
        let merges = merges_from_scores(&tokens, &scores);
        let merges: Vec<(&str, &str)> = merges.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        // ab (-1), bc (-2), then abc (-3): a+bc and ab+c tie on score; longer left part first.
        assert_eq!(merges, vec![("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")]);
    }

    #[test]
    fn gemma_respells_space_tokens_and_merges_by_position() {
        // "▁▁" is stored as two spaces; "bc" comes before "ab" in the file, so
        // its merge ranks first whatever the scores would say.
        let tokens = ["<unk>", "a", "b", "c", "\u{2581}", "bc", "ab", "  ", "\t"];
        let parts = gemma_parts(&tokens, None);
        assert_eq!(parts.vocab_tokens[7], "\u{2581}\u{2581}");
        assert_eq!(parts.vocab_tokens[8], "\t", "no space in it: kept");
        let merges: Vec<(&str, &str)> = parts.merges.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(merges, vec![("b", "c"), ("a", "b"), ("\u{2581}", "\u{2581}")]);
        assert_eq!(parts.bpe_options["unk_token"], "<unk>");
    }
}
