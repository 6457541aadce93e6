//! Byte-level BPE vocabularies (`tokenizer.ggml.model = "gpt2"`): GPT-2's
//! byte alphabet and the pre-tokenizer `tokenizer.ggml.pre` names.

use serde_json::{Value, json};

use super::TokenizerParts;

/// GPT-2's byte-to-character table (`bytes_to_unicode`): printable bytes map
/// to themselves, the others to U+0100 onwards.
pub(super) fn byte_alphabet() -> Vec<char> {
    let printable = |b: u32| (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
    let mut next = 256;
    (0..256u32)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).expect("Latin-1")
            } else {
                let c = char::from_u32(next).expect("U+0100..");
                next += 1;
                c
            }
        })
        .collect()
}

/// transformers' `byte_level_tokenizer`: the tokens, re-spelled in the byte
/// alphabet where a file wrote them plainly, the file's merges, a
/// pre-tokenizer from `tokenizer.ggml.pre`; add_bos_token defaults to false.
pub(super) fn parts(tokens: &[&str], merges: Vec<(String, String)>, pre: &str) -> TokenizerParts {
    let alphabet = byte_alphabet();
    let spelled: std::collections::HashSet<char> = alphabet.iter().copied().collect();
    let vocab_tokens = tokens
        .iter()
        .map(|t| {
            if t.chars().all(|c| spelled.contains(&c)) {
                t.to_string()
            } else {
                t.bytes().map(|b| alphabet[b as usize]).collect()
            }
        })
        .collect();
    TokenizerParts {
        vocab_tokens,
        merges,
        normalizer: Value::Null,
        pre_tokenizer: pre_tokenizer(pre),
        decoder: json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
        bpe_options: json!({"unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false}),
        default_add_bos: false,
    }
}

const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen 2's (and Qwen 3's): Llama 3's with single digits (`\p{N}`, not `\p{N}{1,3}`).
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen 3.5's: Qwen 2's with combining marks (`\p{M}`) kept with letters.
const QWEN35_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const TEKKEN_SPLIT: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const GPT4O_SPLIT: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The pre-tokenizer of a byte-level vocabulary, from `tokenizer.ggml.pre`.
///
/// As transformers (`GGUF_PRE_TOKENIZER_SPLITS`): the Llama-3, Qwen 2,
/// Qwen 3.5, Tekken and GPT-4o families split with their own regex before a
/// regex-free ByteLevel; anything else (`gpt-2`, `default`, ...) gets GPT-2's
/// ByteLevel. One addition: `smollm` also splits every digit apart first, as
/// SmolLM's own tokenizer.json and llama.cpp do. transformers' GGUF loader
/// leaves that split out; for SmolLM2 it makes no difference (its merges never
/// join a digit to anything), but the split is what the vocabulary was
/// trained with.
fn pre_tokenizer(pre: &str) -> Value {
    let gpt2 = json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    let split = match pre {
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0" | "lfm2"
        | "jina-v5-nano" | "dbrx" | "smaug-bpe" => LLAMA3_SPLIT,
        // llama.cpp's converter names Qwen 2, 2.5 and 3 vocabularies `qwen2`.
        "qwen2" | "deepseek-r1-qwen" | "kormo" | "f2llmv2" | "megrez" => QWEN2_SPLIT,
        "qwen35" => QWEN35_SPLIT,
        "tekken" => TEKKEN_SPLIT,
        "gpt-4o" | "llama4" | "kanana2" | "talkie" | "minimax-m2" => GPT4O_SPLIT,
        "smollm" => {
            return json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true},
                gpt2,
            ]});
        }
        _ => return gpt2,
    };
    json!({"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": false},
        {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
    ]})
}
