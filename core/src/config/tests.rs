//! What the Llama-layout families' `config.json` readers accept and refuse:
//! rotary scaling in both config styles, sliding-window layers, and every
//! option that cannot run exactly, refused by name.

use serde_json::{Value, json};

use super::{Architecture, ModelConfig, NormPlacement, QkNorm, RopeScaling};

/// A tiny config of `model_type` with `changes` applied ("-" removes a key).
fn config(model_type: &str, changes: Value) -> Result<ModelConfig, String> {
    let mut c = json!({
        "model_type": model_type, "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
        "max_position_embeddings": 128
    });
    for (k, v) in changes.as_object().unwrap() {
        if v == "-" {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    ModelConfig::from_json("m/config.json", c.to_string().as_bytes()).map_err(|e| e.to_string())
}

fn refused(model_type: &str, changes: Value, expected: &[&str]) {
    let err = config(model_type, changes.clone()).expect_err(&format!("{model_type} {changes} should be refused"));
    assert!(err.starts_with("m/config.json: "), "{err}");
    for e in expected {
        assert!(err.contains(e), "{model_type} {changes}: {err:?} lacks {e:?}");
    }
}

fn scaling(model_type: &str, changes: Value) -> (f64, RopeScaling) {
    let c = config(model_type, changes).unwrap();
    let super::Positions::Rotary { theta, .. } = c.positions else { panic!("rotary") };
    (theta, c.extras.rope_scaling)
}

#[test]
fn other_rope_scaling_types_are_refused_by_name() {
    for family in ["llama", "qwen2", "qwen3", "olmo2"] {
        refused(family, json!({"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}), &["`rope_scaling.rope_type` = dynamic is not supported"]);
        refused(family, json!({"rope_scaling": {"type": "dynamic", "factor": 2.0}}), &["`rope_scaling.type` = dynamic"]);
        refused(family, json!({"rope_parameters": {"rope_type": "longrope", "rope_theta": 1e4}}), &["`rope_parameters.rope_type` = longrope"]);
        refused(family, json!({"rope_parameters": {"rope_type": "proportional"}}), &["proportional"]);
    }
    refused("gemma3_text", json!({"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}), &["`rope_scaling.rope_type` = dynamic"]);
    // GPT-NeoX reads no scaling at all.
    let neox = json!({"model_type": "gpt_neox", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 4, "max_position_embeddings": 64, "rope_scaling": {"rope_type": "linear", "factor": 2.0}});
    let err = ModelConfig::from_json("n.json", neox.to_string().as_bytes()).unwrap_err().to_string();
    assert!(err.contains("`rope_scaling`") && err.contains("not supported"), "{err}");
}

#[test]
fn rope_scaling_parameters_are_read_in_both_styles() {
    // transformers 4: top-level rope_theta, rope_scaling with `type` or `rope_type`.
    assert_eq!(scaling("llama", json!({"rope_theta": 5e5, "rope_scaling": {"type": "linear", "factor": 4}})), (5e5, RopeScaling::Linear { factor: 4.0 }));
    // transformers 5: one rope_parameters object.
    let llama3 = json!({"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192});
    let expected = RopeScaling::Llama3 { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_positions: 8192 };
    assert_eq!(scaling("llama", json!({"rope_parameters": llama3})), (5e5, expected));
    // A non-empty rope_scaling takes the place of rope_parameters; an empty or null one does not.
    let linear = json!({"rope_type": "linear", "factor": 2.0});
    assert_eq!(scaling("qwen2", json!({"rope_scaling": linear, "rope_parameters": {"rope_type": "default", "rope_theta": 7.0}})).1, RopeScaling::Linear { factor: 2.0 });
    assert_eq!(scaling("qwen2", json!({"rope_scaling": {}, "rope_parameters": {"rope_type": "default", "rope_theta": 7.0}})), (7.0, RopeScaling::None));
    assert_eq!(scaling("olmo2", json!({"rope_scaling": null, "rope_theta": 3.0})), (3.0, RopeScaling::None));
    // YaRN: transformers' defaults (beta 32/1, truncate, 0.1 ln(factor) + 1), and
    // original_max_position_embeddings from the top level first, else the object, else the context.
    let (_, yarn) = scaling("qwen3", json!({"rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}));
    let attention_factor = 0.1 * 4f64.ln() + 1.0;
    assert_eq!(yarn, RopeScaling::Yarn { factor: 4.0, original_max_positions: 32768, beta_fast: 32.0, beta_slow: 1.0, truncate: true, attention_factor });
    let (_, yarn) = scaling("llama", json!({"original_max_position_embeddings": 64, "rope_scaling": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 99, "beta_fast": 0, "mscale": 1.0, "mscale_all_dim": 2.0}}));
    let m = |s: f64| 0.1 * s * 2f64.ln() + 1.0;
    assert_eq!(yarn, RopeScaling::Yarn { factor: 2.0, original_max_positions: 64, beta_fast: 32.0, beta_slow: 1.0, truncate: true, attention_factor: m(1.0) / m(2.0) });
    let (_, yarn) = scaling("llama", json!({"rope_scaling": {"rope_type": "yarn", "factor": 2.0, "attention_factor": 0.5, "truncate": false}}));
    assert!(matches!(yarn, RopeScaling::Yarn { original_max_positions: 128, truncate: false, attention_factor: 0.5, .. }), "{yarn:?}");
}

#[test]
fn incomplete_or_inexact_rope_settings_are_refused_by_name() {
    refused("llama", json!({"rope_scaling": {"rope_type": "linear"}}), &["`rope_scaling.factor` is missing"]);
    refused("llama", json!({"rope_scaling": {"rope_type": "linear", "factor": "2"}}), &["`rope_scaling.factor`"]);
    refused("llama", json!({"rope_scaling": {"rope_type": "linear", "factor": -2.0}}), &["`rope_scaling.factor` is -2"]);
    refused("llama", json!({"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "high_freq_factor": 4.0}}), &["`rope_scaling.low_freq_factor` is missing"]);
    refused("llama", json!({"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 2.0, "high_freq_factor": 2.0}}), &["low_freq_factor"]);
    refused("llama", json!({"rope_scaling": {"rope_type": "yarn"}}), &["`rope_scaling.factor` is missing"]);
    refused("llama", json!({"rope_scaling": [1, 2]}), &["`rope_scaling` is [1,2], not an object"]);
    refused("qwen2", json!({"rope_parameters": {"rope_type": "linear", "factor": 2.0, "partial_rotary_factor": 0.5}}), &["`rope_parameters.partial_rotary_factor` = 0.5"]);
    refused("llama", json!({"partial_rotary_factor": 0.5}), &["partial_rotary_factor"]);
    // The shared fields, read beside the family's own, are named too.
    refused("llama", json!({"rope_theta": "big"}), &["`rope_theta`: invalid type: string \"big\""]);
    refused("qwen2", json!({"sliding_window": 1.5}), &["`sliding_window`"]);
}

#[test]
fn llama_biases_and_qwen_families() {
    let c = config("llama", json!({"attention_bias": true, "mlp_bias": true})).unwrap();
    assert!(c.extras.qkv_bias && c.extras.attention_out_bias && c.extras.mlp_bias);
    let c = config("qwen2", json!({})).unwrap();
    assert_eq!(c.architecture, Architecture::Qwen2);
    assert!(c.extras.qkv_bias && !c.extras.attention_out_bias && c.extras.qk_norm.is_none());
    assert_eq!(c.attention_windows, vec![None; 3], "no sliding window without use_sliding_window");
    let c = config("qwen2", json!({"use_sliding_window": true, "sliding_window": 16, "max_window_layers": 1})).unwrap();
    assert_eq!(c.attention_windows, vec![None, Some(16), Some(16)]);
    let types = json!(["sliding_attention", "full_attention", "sliding_attention"]);
    let c = config("qwen3", json!({"use_sliding_window": true, "sliding_window": 4, "layer_types": types})).unwrap();
    assert_eq!(c.attention_windows, vec![Some(4), None, Some(4)]);
    assert_eq!(c.extras.qk_norm, Some(QkNorm::PerHead));
    refused("qwen2", json!({"layer_types": types}), &["`use_sliding_window` is false"]);
    refused("qwen2", json!({"use_sliding_window": true, "layer_types": ["full_attention"]}), &["`layer_types` lists 1 layers but `num_hidden_layers` is 3"]);
    refused("qwen2", json!({"use_sliding_window": true, "layer_types": ["full_attention", "chunked_attention", "full_attention"]}), &["`layer_types` = chunked_attention"]);
    // Qwen3Config's head_dim is 128 unless given, not hidden_size / heads.
    assert_eq!(config("qwen3", json!({"head_dim": "-"})).unwrap().head_dim, 128);
    assert_eq!(config("qwen2", json!({"head_dim": "-"})).unwrap().head_dim, 8);
    let c = config("olmo2", json!({"attention_bias": true})).unwrap();
    assert_eq!((c.extras.qk_norm, c.extras.norm_placement, c.norm_eps), (Some(QkNorm::Whole), NormPlacement::Post, 1e-5));
    assert!(c.extras.qkv_bias && c.extras.attention_out_bias);
}

#[test]
fn gemma3_layers_scales_and_refusals() {
    let c = config("gemma3_text", json!({"num_hidden_layers": 6, "sliding_window": 8, "sliding_window_pattern": 3, "query_pre_attn_scalar": 16})).unwrap();
    assert_eq!(c.attention_windows, [Some(8), Some(8), None, Some(8), Some(8), None]);
    assert_eq!(c.extras.attention_scale, Some(0.25));
    assert_eq!(c.extras.embed_scale, Some(32f64.sqrt() as f32));
    assert!(c.extras.norm_adds_one && c.tie_embeddings);
    assert_eq!((c.extras.norm_placement, c.extras.qk_norm), (NormPlacement::Sandwich, Some(QkNorm::PerHead)));
    // transformers' defaults: global base 1e6, local base 1e4, every 6th layer global, tanh GELU.
    let c = config("gemma3_text", json!({})).unwrap();
    assert_eq!((scaling("gemma3_text", json!({})).0, c.extras.local_rope_theta), (1e6, Some(1e4)));
    assert_eq!(c.attention_windows, [Some(4096); 3]);
    assert_eq!(c.activation, super::Activation::GeluTanh);
    // transformers 4's keys and 5's nested objects give the same configuration.
    let legacy = config("gemma3_text", json!({"rope_theta": 5e5, "rope_local_base_freq": 2e4, "rope_scaling": {"rope_type": "linear", "factor": 8.0}})).unwrap();
    let nested = config("gemma3_text", json!({"rope_parameters": {
        "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 5e5},
        "sliding_attention": {"rope_type": "default", "rope_theta": 2e4}}})).unwrap();
    assert_eq!(legacy, nested);
    assert_eq!((legacy.extras.rope_scaling, legacy.extras.local_rope_theta), (RopeScaling::Linear { factor: 8.0 }, Some(2e4)));
    refused("gemma3_text", json!({"attn_logit_softcapping": 50.0}), &["`attn_logit_softcapping` = 50", "does not apply it"]);
    refused("gemma3_text", json!({"use_bidirectional_attention": true}), &["`use_bidirectional_attention`"]);
    refused("gemma3_text", json!({"rope_scaling": {"type": "linear", "factor": 8.0}}), &["`rope_scaling.type` = \"linear\""]);
    refused("gemma3_text", json!({"rope_parameters": {"rope_type": "default", "rope_theta": 1e4}}), &["rope_type"]);
    refused("gemma3_text", json!({"rope_parameters": {"sliding_attention": {"rope_type": "linear", "factor": 2.0}}}), &["`rope_parameters.sliding_attention.rope_type` = linear"]);
    refused("gemma3_text", json!({"final_logit_softcapping": 0.0}), &["`final_logit_softcapping` is 0"]);
    refused("gemma3_text", json!({"sliding_window_pattern": 0}), &["`sliding_window_pattern` is 0"]);
    refused("gemma3_text", json!({"sliding_window": null}), &["`sliding_window` is null"]);
}

#[test]
fn new_tensors_are_counted_as_parameters() {
    let plain = config("llama", json!({})).unwrap().num_parameters();
    let biased = config("llama", json!({"attention_bias": true, "mlp_bias": true})).unwrap().num_parameters();
    // Per layer: q (32) + k, v (16 each) + o (32) + gate, up (64 each) + down (32).
    assert_eq!(biased - plain, 3 * (32 + 16 + 16 + 32 + 64 + 64 + 32));
    let qwen3 = config("qwen3", json!({})).unwrap().num_parameters();
    assert_eq!(qwen3 - plain, 3 * 2 * 8, "two per-head norms a layer");
    let olmo2 = config("olmo2", json!({})).unwrap().num_parameters();
    assert_eq!(olmo2 - plain, 3 * (32 + 16), "norms over the whole q and k");
    let gemma = config("gemma3_text", json!({})).unwrap().num_parameters();
    let tied = config("llama", json!({"tie_word_embeddings": true})).unwrap().num_parameters();
    assert_eq!(gemma - tied, 3 * (2 * 32 + 2 * 8), "two more norms and the q/k norms a layer");
}
