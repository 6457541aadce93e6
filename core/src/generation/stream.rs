//! Streaming the new text: where the first stop string begins, and how much of
//! the decoded text is settled (no incomplete character at its end, no suffix
//! that may begin a stop string) and can be handed out.

/// The earliest occurrence of any non-empty stop string: (byte offset, stop string).
pub(super) fn find_stop<'s>(text: &str, stops: &'s [String]) -> Option<(usize, &'s str)> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|at| (at, s.as_str())))
        .min_by_key(|&(at, _)| at)
}

/// The text to hand out now: what follows the `emitted` bytes of `text` up to
/// where it is settled (all of it once `finished`); advances `emitted`. Nothing,
/// should the decoded text ever not extend what was handed out.
pub(super) fn next_piece(text: &str, emitted: &mut usize, finished: bool, stops: &[String]) -> String {
    let settled = if finished { text.len() } else { settled_len(text, stops) };
    match text.get(*emitted..settled) {
        Some(piece) if settled > *emitted => {
            *emitted = settled;
            piece.to_string()
        }
        _ => String::new(),
    }
}

/// How much of `text` (in bytes) can be handed out while generation goes on:
/// not a trailing run of U+FFFD (bytes of a character still incomplete) and not
/// a suffix that could be the start of a stop string.
fn settled_len(text: &str, stops: &[String]) -> usize {
    // The incomplete character may be the next one of a stop string, so the
    // stop-string check looks at the text before it.
    let complete = text.trim_end_matches('\u{FFFD}');
    let mut end = complete.len();
    for stop in stops {
        for k in (1..stop.len()).rev() {
            if stop.is_char_boundary(k) && complete.ends_with(&stop[..k]) {
                end = end.min(complete.len() - k);
                break;
            }
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::TextTokenizer;

    /// Streams the decoded prefixes of `ids` as the generator does: (pieces, final text).
    fn stream(tokenizer: &TextTokenizer, ids: &[u32], stops: &[String]) -> (Vec<String>, String) {
        let mut emitted = 0;
        let mut pieces = Vec::new();
        let mut text = String::new();
        for n in 1..=ids.len() {
            text = tokenizer.decode(&ids[..n]).unwrap();
            let mut finished = n == ids.len();
            if let Some((at, _)) = find_stop(&text, stops) {
                text.truncate(at);
                finished = true;
            }
            pieces.push(next_piece(&text, &mut emitted, finished, stops));
            if finished {
                break;
            }
        }
        (pieces, text)
    }

    #[test]
    fn characters_split_across_tokens_come_out_whole() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
        let text = "Café in Zürich 👩\u{200d}👩\u{200d}👧, ☃ and 日本語.";
        for model in ["gpt2", "llama-sp"] {
            let json = std::fs::read(dir.join(model).join("tokenizer.json")).unwrap();
            let tokenizer = TextTokenizer::from_bytes(model, &json, None).unwrap();
            let ids = tokenizer.encode_plain(text, false).unwrap();
            let whole = tokenizer.decode(&ids).unwrap();
            assert!(!whole.contains('\u{FFFD}'), "{model}: {whole:?}");
            // Some character must really be split, or this test shows nothing.
            let split = (1..ids.len()).any(|n| tokenizer.decode(&ids[..n]).unwrap().ends_with('\u{FFFD}'));
            assert!(split, "{model}: no character spans tokens");
            let (pieces, streamed) = stream(&tokenizer, &ids, &[]);
            assert_eq!(streamed, whole);
            assert_eq!(pieces.concat(), whole, "{model}");
            assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{model}: {pieces:?}");

            // A stop string spread over tokens: nothing of it is ever handed out.
            let stops = vec!["Zürich 👩".to_string()];
            let (pieces, streamed) = stream(&tokenizer, &ids, &stops);
            let expected = whole.split("Zürich 👩").next().unwrap();
            assert_eq!(streamed, expected, "{model}");
            assert_eq!(pieces.concat(), expected, "{model}: {pieces:?}");
        }
    }

    #[test]
    fn held_back_text() {
        let stops = vec!["\n\n".to_string(), "END".to_string()];
        assert_eq!(settled_len("abc", &stops), 3);
        assert_eq!(settled_len("abc\n", &stops), 3);
        assert_eq!(settled_len("abcEN", &stops), 3);
        assert_eq!(settled_len("abc\u{FFFD}\u{FFFD}", &stops), 3);
        assert_eq!(settled_len("a\u{FFFD}b", &stops), "a\u{FFFD}b".len());
        assert_eq!(settled_len("abcE\u{FFFD}", &stops), 3);
        assert_eq!(find_stop("xEND\n\ny", &stops), Some((1, "END")));
        assert_eq!(find_stop("x\n\nEND", &stops), Some((1, "\n\n")));
        assert_eq!(find_stop("x", &["".to_string()]), None);
    }
}
