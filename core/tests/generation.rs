//! Generation against transformers and against its own properties.
//!
//! Greedy tokens must be those of transformers' `model.generate(do_sample=False)`
//! (the "greedy" section of each golden, written by `scripts/make_goldens.py`),
//! on the native CPU backend and, with `TINYEVAL_TEST_WGPU=1`, on native wgpu.
//! Everything else is checked through properties: the key/value cache gives the
//! logits of a full forward pass, a seed fixes the sample, a tiny top-p is
//! greedy, stop strings cut the text, the context bounds the generation.

mod common;

use common::{Golden, read_goldens, repo_root};
use tinyeval_core::generation::{GenerationConfig, Generator, StopReason, argmax};
use tinyeval_core::model::{Decoder, KvCache};
use tinyeval_core::{Device, LanguageModel, ModelFiles};

fn goldens() -> Vec<(String, Golden)> {
    let out = read_goldens(&repo_root().join("core/tests/fixtures/goldens"));
    assert!(out.len() >= 19, "expected the goldens of every reference model");
    for (name, golden) in &out {
        assert!(!golden.greedy.is_empty(), "{name}: no greedy goldens");
    }
    out
}

fn load(name: &str, golden: &Golden, device: &Device) -> LanguageModel {
    let model = LanguageModel::load(ModelFiles::from_dir(&repo_root().join(&golden.model)).unwrap(), device)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(model.config.max_positions, golden.context, "{name}: context");
    model
}

/// Runs a generator to the end: (tokens, streamed pieces joined, generation).
fn run(mut generator: Generator) -> (Vec<u32>, String, tinyeval_core::Generation) {
    let mut ids = Vec::new();
    let mut streamed = String::new();
    while let Some(t) = pollster::block_on(generator.next_token()).unwrap() {
        ids.push(t.id);
        streamed.push_str(&t.text);
    }
    assert!(pollster::block_on(generator.next_token()).unwrap().is_none(), "a generator that ended stays ended");
    let generation = generator.finish();
    assert_eq!(ids, generation.tokens);
    (ids, streamed, generation)
}

fn check_greedy(name: &str, golden: &Golden, device: &Device) {
    let model = load(name, golden, device);
    for g in &golden.greedy {
        let what = format!("{name}: greedy after {:?}", g.prompt);
        assert_eq!(model.tokenizer.encode(&g.prompt).unwrap(), g.prompt_tokens, "{what}: prompt tokens");
        let generator = Generator::new(&model, &g.prompt, &GenerationConfig::greedy(g.max_new_tokens)).unwrap();
        if let Some(eos) = golden.eos_token_id {
            assert!(generator.eos_tokens().contains(&eos), "{what}: stops at the tokenizer's eos {eos}");
        }
        let (tokens, streamed, generation) = run(generator);
        if tokens != g.generated_tokens {
            let step = tokens.iter().zip(&g.generated_tokens).take_while(|(a, b)| a == b).count();
            panic!(
                "{what}: ours {tokens:?}\ntransformers {:?}\nfirst difference at step {step} (transformers' top-2 logit margin there: {:?})",
                g.generated_tokens,
                g.top2_margins.get(step)
            );
        }
        let ended_with_eos = golden.eos_token_id.is_some() && g.generated_tokens.last() == golden.eos_token_id.as_ref();
        let expected_reason = if ended_with_eos { StopReason::Eos } else { StopReason::MaxNewTokens };
        assert_eq!(generation.stop_reason, expected_reason, "{what}: stop reason");
        assert_eq!(generation.prompt_tokens, g.prompt_tokens, "{what}");
        assert_eq!(generation.prompt_tokens_dropped, 0, "{what}");
        if !ended_with_eos {
            // transformers' decode keeps special tokens, as ours; an eos would be in its text only.
            assert_eq!(generation.text, g.generated_text, "{what}: text");
        }
        assert_eq!(streamed, generation.text, "{what}: streamed pieces");
    }
}

#[test]
fn greedy_matches_transformers_on_cpu() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        check_greedy(&name, &golden, &device);
    }
}

#[test]
fn greedy_matches_transformers_on_wgpu() {
    if std::env::var("TINYEVAL_TEST_WGPU").as_deref() != Ok("1") {
        eprintln!("skipped: set TINYEVAL_TEST_WGPU=1 to run on native wgpu");
        return;
    }
    let device = Device::wgpu_options().init().expect("a wgpu adapter (apt-get install mesa-vulkan-drivers)");
    for (name, golden) in goldens() {
        check_greedy(&name, &golden, &device);
    }
}

/// Next-token logits at every position of `tokens`, [seq][vocab].
fn logits(decoder: &Decoder, tokens: &[u32], cache: Option<&mut KvCache>) -> Vec<Vec<f32>> {
    let hidden = decoder.hidden_states(&[tokens.to_vec()], cache);
    let [_, seq, size] = hidden.dims();
    let logits = decoder.logits(hidden.reshape([seq, size]));
    let vocab = logits.dims()[1];
    let data = pollster::block_on(logits.into_data_async()).unwrap().try_to_vec::<f32>().unwrap();
    data.chunks(vocab).map(<[f32]>::to_vec).collect()
}

/// Up to `len` tokens: every greedy golden's prompt and continuation, one after the other.
fn long_sequence(golden: &Golden, len: usize) -> Vec<u32> {
    let all: Vec<u32> = golden
        .greedy
        .iter()
        .flat_map(|g| g.prompt_tokens.iter().chain(&g.generated_tokens).copied())
        .collect();
    all.into_iter().cycle().take(len).collect()
}

#[test]
fn cached_logits_match_a_full_forward_pass() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let model = load(&name, &golden, &device);
        // The whole context (GPT-Neo's local window is 8, so most positions are windowed).
        let tokens = long_sequence(&golden, golden.context.min(64));
        let full = logits(&model.decoder, &tokens, None);
        let mut cache = KvCache::default();
        let mut cached = Vec::new();
        let mut at = 0;
        // A prompt of 5, then single tokens and chunks of 2 and 3 against the cache.
        for chunk in [5, 1, 1, 2, 3, 1].into_iter().chain(std::iter::repeat(1)) {
            if at >= tokens.len() {
                break;
            }
            let end = (at + chunk).min(tokens.len());
            cached.extend(logits(&model.decoder, &tokens[at..end], Some(&mut cache)));
            assert_eq!(cache.len, end, "{name}: cache length");
            at = end;
        }
        let mut worst = 0.0f32;
        for (pos, (a, b)) in cached.iter().zip(&full).enumerate() {
            for (x, y) in a.iter().zip(b) {
                let diff = (x - y).abs();
                worst = worst.max(diff);
                assert!(diff <= 1e-4, "{name}: logits at position {pos}: cached {x}, full {y}");
            }
        }
        eprintln!("{name}: cached vs full forward, max abs difference {worst:.2e} over {} positions", tokens.len());
    }
}

fn sampling(temperature: f32, top_p: f32, seed: u64, max_new_tokens: usize) -> GenerationConfig {
    GenerationConfig {
        max_new_tokens,
        temperature,
        top_p,
        seed,
        stop: Vec::new(),
    }
}

#[test]
fn sampling_is_fixed_by_its_seed() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let model = load(&name, &golden, &device);
        let g = &golden.greedy[0];
        let sample = |seed: u64| {
            let generator = Generator::new(&model, &g.prompt, &sampling(1.0, 0.9, seed, 20)).unwrap();
            let (tokens, streamed, generation) = run(generator);
            assert_eq!(streamed, generation.text, "{name}: streamed pieces");
            tokens
        };
        let first = sample(42);
        assert_eq!(first.len(), 20, "{name}");
        assert_eq!(sample(42), first, "{name}: the same seed gives the same tokens");
        let others: Vec<Vec<u32>> = (0..4).map(sample).collect();
        assert!(others.iter().any(|o| *o != first), "{name}: four other seeds all gave the tokens of seed 42");
        assert!(others.iter().any(|o| *o != g.generated_tokens), "{name}: sampling gave the greedy tokens every time");
    }
}

#[test]
fn tiny_top_p_is_greedy() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let model = load(&name, &golden, &device);
        for g in &golden.greedy {
            for seed in [0, 1] {
                let generator = Generator::new(&model, &g.prompt, &sampling(1.3, 1e-6, seed, g.max_new_tokens)).unwrap();
                let (tokens, _, _) = run(generator);
                assert_eq!(tokens, g.generated_tokens, "{name}: top_p 1e-6 after {:?} (seed {seed})", g.prompt);
            }
        }
    }
}

/// A piece of the middle of `text` to use as a stop string: three characters
/// free of U+FFFD, or `None`.
fn stop_string_from(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    (chars.len() / 3..chars.len().saturating_sub(3))
        .map(|i| chars[i..i + 3].iter().collect::<String>())
        .find(|s: &String| !s.contains('\u{FFFD}') && !s.trim().is_empty())
}

#[test]
fn stop_strings_cut_the_text() {
    let device = Device::flex();
    let mut checked = 0;
    for (name, golden) in goldens() {
        let model = load(&name, &golden, &device);
        for g in &golden.greedy {
            let Some(stop) = stop_string_from(&g.generated_text) else { continue };
            // As lm-eval's generate_until: the text up to the first stop string.
            let expected = g.generated_text.split(stop.as_str()).next().unwrap();
            let mut config = GenerationConfig::greedy(g.max_new_tokens);
            config.stop = vec!["never appears \u{1F600}".into(), String::new(), stop.clone()];
            let (tokens, streamed, generation) = run(Generator::new(&model, &g.prompt, &config).unwrap());
            let what = format!("{name}: stop {stop:?} after {:?}", g.prompt);
            assert_eq!(generation.text, expected, "{what}");
            assert_eq!(streamed, expected, "{what}: streamed pieces hold back a possible stop string");
            assert_eq!(generation.stop_reason, StopReason::StopString(stop.clone()), "{what}");
            assert!(g.generated_tokens.starts_with(&tokens), "{what}: tokens are greedy's");
            // It stopped at the first token whose text completes the stop string.
            let before = model.tokenizer.decode(&tokens[..tokens.len() - 1]).unwrap();
            assert!(!before.contains(stop.as_str()), "{what}: went on after the stop string");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} stop strings checked");
}

#[test]
fn eos_stops_generation() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let model = load(&name, &golden, &device);
        let g = &golden.greedy[0];
        // Pretend that transformers' 6th greedy token is the end-of-sequence token.
        let eos = g.generated_tokens[5];
        let first = g.generated_tokens.iter().position(|&t| t == eos).unwrap();
        let mut generator = Generator::new(&model, &g.prompt, &GenerationConfig::greedy(g.max_new_tokens)).unwrap();
        generator.set_eos_tokens(vec![eos]);
        let (tokens, streamed, generation) = run(generator);
        assert_eq!(tokens, g.generated_tokens[..=first], "{name}: tokens up to and with the eos");
        assert_eq!(generation.stop_reason, StopReason::Eos, "{name}");
        assert_eq!(generation.text, model.tokenizer.decode(&tokens[..first]).unwrap(), "{name}: text without the eos");
        assert_eq!(streamed, generation.text, "{name}");
    }
}

/// Greedy tokens by full forward passes, no cache: at most `n`, while the input fits `context`.
fn greedy_without_cache(decoder: &Decoder, prompt: &[u32], n: usize, context: usize) -> Vec<u32> {
    let mut input = prompt.to_vec();
    let mut out = Vec::new();
    while out.len() < n && input.len() <= context {
        let next = argmax(logits(decoder, &input, None).last().unwrap()).unwrap();
        out.push(next);
        input.push(next);
    }
    out
}

#[test]
fn the_context_bounds_generation() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        if golden.context > 64 {
            continue; // the same code; the small models are enough
        }
        let model = load(&name, &golden, &device);
        let c = golden.context;
        let sequence = long_sequence(&golden, c + 5);
        let config = GenerationConfig::greedy(20);

        // Three positions left: the prompt's next token, then three more fed through the cache.
        let prompt = sequence[..c - 3].to_vec();
        let generator = Generator::from_tokens(&model.decoder, &model.tokenizer, prompt.clone(), &config).unwrap();
        let (tokens, _, generation) = run(generator);
        assert_eq!(generation.stop_reason, StopReason::ContextFull, "{name}");
        assert_eq!(tokens.len(), 4, "{name}: tokens until the context is full");
        assert_eq!(tokens, greedy_without_cache(&model.decoder, &prompt, 20, c), "{name}: cached greedy");

        // A prompt longer than the context keeps its last tokens and gives one token.
        let generator = Generator::from_tokens(&model.decoder, &model.tokenizer, sequence.clone(), &config).unwrap();
        let (tokens, _, generation) = run(generator);
        assert_eq!(generation.prompt_tokens_dropped, 5, "{name}");
        assert_eq!(generation.prompt_tokens, sequence[5..], "{name}");
        assert_eq!(generation.stop_reason, StopReason::ContextFull, "{name}");
        assert_eq!(tokens, greedy_without_cache(&model.decoder, &sequence[5..], 1, c), "{name}: the token after the kept prompt");
    }
}

#[test]
fn budgets_and_bad_settings() {
    let device = Device::flex();
    let (name, golden) = goldens().remove(0);
    let model = load(&name, &golden, &device);
    let (tokens, _, generation) = run(Generator::new(&model, "Hello", &GenerationConfig::greedy(0)).unwrap());
    assert!(tokens.is_empty());
    assert_eq!(generation.stop_reason, StopReason::MaxNewTokens);
    let (tokens, _, generation) = run(Generator::new(&model, "Hello", &GenerationConfig::greedy(3)).unwrap());
    assert_eq!(tokens.len(), 3);
    assert_eq!(generation.stop_reason, StopReason::MaxNewTokens);

    for bad in [sampling(-1.0, 1.0, 0, 5), sampling(f32::NAN, 1.0, 0, 5), sampling(1.0, 1.5, 0, 5), sampling(1.0, -0.1, 0, 5)] {
        assert!(Generator::new(&model, "Hello", &bad).is_err(), "{bad:?} is rejected");
    }

    let config: GenerationConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, GenerationConfig::default());
    assert_eq!((config.max_new_tokens, config.temperature, config.top_p), (64, 0.0, 1.0));
    let config: GenerationConfig = serde_json::from_str(r#"{"temperature": 0.7, "stop": ["\n"]}"#).unwrap();
    assert_eq!(config.temperature, 0.7);
    assert_eq!(config.stop, vec!["\n".to_string()]);
    assert_eq!(config.max_new_tokens, 64);
}

#[test]
fn generate_streams_what_it_returns() {
    let device = Device::flex();
    for (name, golden) in goldens() {
        let model = load(&name, &golden, &device);
        let g = golden.greedy.last().unwrap();
        let mut pieces = Vec::new();
        let config = GenerationConfig::greedy(g.max_new_tokens);
        let generation =
            pollster::block_on(tinyeval_core::generate(&model, &g.prompt, &config, |s| pieces.push(s.to_string()))).unwrap();
        assert_eq!(generation.tokens, g.generated_tokens, "{name}");
        assert_eq!(pieces.concat(), generation.text, "{name}");
        assert!(pieces.iter().all(|p| !p.is_empty()), "{name}: no empty pieces");
        // No piece ends in the middle of a character that the next one completes.
        for p in &pieces[..pieces.len().saturating_sub(1)] {
            assert!(!p.ends_with('\u{FFFD}'), "{name}: piece {p:?} held back nothing");
        }
    }
}
