#!/usr/bin/env python3
"""Write tinyeval's reference models: a random demo model and tiny test models.

Usage (from the repository root):

    python scripts/make_reference_models.py [--tinyhelen-dir DIR]

The TinyHelen data folder is taken from --tinyhelen-dir, else $TINYHELEN_DIR,
else ../shared/data/tinyhelen relative to the repository root.

Writes:
  public/models/llama-2k-1m-random/        random LlamaForCausalLM, exactly the
                                           TinyHelen llama-2K-1M shape, float32,
                                           with the gpt-2K tokenizer (6.3 MB).
  core/tests/fixtures/models/<name>/       tiny random models, one per
                                           architecture quirk (see MODELS below).

Every folder holds config.json, model.safetensors, generation_config.json,
tokenizer.json and tokenizer_config.json.

Determinism: all weights are drawn from numpy's PCG64 Generator (seeded per
model, stable across platforms) in float64 and cast to float32, so the output
does not depend on torch's CPU RNG kernels. torch.manual_seed is set as well.
The llama-sp tokenizer is trained by the `tokenizers` BPE trainer, which is
deterministic for a given input; the script checks this by training twice.

Config styles: transformers 5 writes rotary settings as `rope_parameters`
({"rope_theta", "partial_rotary_factor", "rope_type", scaling keys}; Gemma 3
nests one per layer type). Checkpoints on the Hub written by transformers 4 use
the legacy top-level keys instead (`rope_theta` and `rope_scaling`, whose type
may be spelled `type`, for Llama, Qwen and OLMo; `rotary_pct` +
`rotary_emb_base` for GPT-NeoX/Pythia; `rope_theta`, `rope_local_base_freq`,
`rope_scaling` and `sliding_window_pattern` for Gemma 3; `torch_dtype` instead
of `dtype`). To exercise both, some folders are rewritten to the legacy style
(the style column of model_specs: "legacy", or "legacy-type" for the `type`
spelling); the script reloads every config with transformers and asserts that
the effective settings are what was intended, and for the newer families
(CHECKS) that each quirk changes the logits.

Made with (see scripts/requirements-reference.txt): Python 3.11.7,
torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3, safetensors 0.8.0,
numpy 2.4.6.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GenerationConfig,
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoConfig,
    GPTNeoForCausalLM,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    Olmo2Config,
    Olmo2ForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

REPO = Path(__file__).resolve().parent.parent
PUBLIC_MODELS = REPO / "public" / "models"
FIXTURE_MODELS = REPO / "core" / "tests" / "fixtures" / "models"


def tinyhelen_dir(arg: str | None) -> Path:
    d = arg or os.environ.get("TINYHELEN_DIR") or str(REPO / ".." / "shared" / "data" / "tinyhelen")
    p = Path(d).resolve()
    if not (p / "tokenizer" / "gpt-2K" / "tokenizer.json").is_file():
        sys.exit(f"TinyHelen data not found at {p} (use --tinyhelen-dir or TINYHELEN_DIR)")
    return p


# --------------------------------------------------------------------------
# weights


def is_norm(module: torch.nn.Module) -> bool:
    name = type(module).__name__
    return isinstance(module, torch.nn.LayerNorm) or name.endswith("RMSNorm")


def randomize(model: torch.nn.Module, seed: int, std: float, emb_std: float, norm_jitter: bool,
              bias_std: float) -> None:
    """Overwrite every parameter from a seeded numpy Generator.

    Linear/embedding weights ~ N(0, std) (embeddings and lm_head ~ N(0, emb_std)).
    If norm_jitter: norm weights ~ U(0.5, 1.5), all biases ~ N(0, bias_std);
    otherwise norm weights = 1 and biases = 0 (the standard HF init).
    Parameters are visited in named_parameters() order (tied ones once).
    """
    rng = np.random.default_rng(seed)
    owners = {}
    for mname, module in model.named_modules():
        for pname, _ in module.named_parameters(recurse=False):
            owners[f"{mname}.{pname}" if mname else pname] = module
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied parameters appear once
            module = owners[name]
            shape = tuple(p.shape)
            if is_norm(module):
                if name.endswith("weight"):
                    v = rng.uniform(0.5, 1.5, shape) if norm_jitter else np.ones(shape)
                else:
                    v = rng.normal(0.0, bias_std, shape) if norm_jitter else np.zeros(shape)
            elif name.endswith("bias"):
                v = rng.normal(0.0, bias_std, shape) if norm_jitter else np.zeros(shape)
            elif isinstance(module, torch.nn.Embedding) or "lm_head" in name or "embed_out" in name:
                v = rng.normal(0.0, emb_std, shape)
            else:
                v = rng.normal(0.0, std, shape)
            p.copy_(torch.from_numpy(v.astype(np.float32)))


# --------------------------------------------------------------------------
# tokenizers


def compact_tokenizer_json(out: Path) -> None:
    """Re-save tokenizer.json through the tokenizers library without indentation.

    transformers writes it pretty-printed (~120 KB for gpt-2K); the compact form
    is the same document at about half the size, which matters for fixtures
    that repeat it in every model folder.
    """
    path = out / "tokenizer.json"
    Tokenizer.from_file(str(path)).save(str(path), pretty=False)


def save_gpt2k_tokenizer(th: Path, out: Path) -> None:
    """Re-save TinyHelen's gpt-2K tokenizer through transformers."""
    tok = AutoTokenizer.from_pretrained(str(th / "tokenizer" / "gpt-2K"))
    tok.save_pretrained(str(out))
    compact_tokenizer_json(out)
    # No special_tokens_map.json: tokenizer_config.json names the special tokens,
    # and transformers 5 neither writes nor needs it.


def resave_with_model_tokenizer(out: Path) -> None:
    """Re-save a folder's tokenizer through the class transformers picks for its model type.

    transformers 5 loads a qwen2 checkpoint's tokenizer as Qwen2Tokenizer
    whatever tokenizer_config.json names (MODELS_WITH_INCORRECT_HUB_TOKENIZER_CLASS),
    and that class rebuilds the pre-tokenizer Qwen's way (NFC, Qwen's split
    regex, byte-level). Re-saved through it, tokenizer.json is what transformers
    runs, in the layout of Qwen's own tokenizer.json files.
    """
    AutoTokenizer.from_pretrained(str(out)).save_pretrained(str(out))
    compact_tokenizer_json(out)


def llama_sp_tokenizer_json(th: Path, vocab_size: int = 1000, n_docs: int = 3000) -> str:
    """Train a Llama-2-style (SentencePiece BPE with byte fallback) tokenizer.json.

    Layout follows meta-llama/Llama-2's tokenizer.json: normalizer
    Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer, BPE(byte_fallback,
    fuse_unk, unk "<unk>"), ids 0..2 = <unk> <s> </s>, ids 3..258 = <0x00>..<0xFF>,
    post-processor TemplateProcessing "<s> $A", decoder Replace("▁"," ") +
    ByteFallback + Fuse + Strip(1 leading space).
    Training uses a Metaspace pre-tokenizer so no merge crosses a word start,
    which makes the trained merges valid for the pre-tokenizer-less layout.
    """
    path = th / "data" / "leaner" / "10M" / "train" / "wiki0000.jsonl"
    texts = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n_docs:
                break
            texts.append(json.loads(line)["text"])

    # The trainer's own limit_alphabet breaks ties between equally frequent
    # characters nondeterministically, so pick the alphabet here: the 100 most
    # frequent characters (ties by code point), everything else byte-falls back.
    # Control characters (newline, tab) are left out, as in Llama's vocabulary,
    # so they are written as byte tokens (<0x0A>, <0x09>).
    counts: dict[str, int] = {}
    for text in texts:
        for ch in text.replace(" ", "▁"):
            if ord(ch) >= 32:
                counts[ch] = counts.get(ch, 0) + 1
    counts["▁"] = counts.get("▁", 0) + len(texts)
    alphabet = [ch for ch, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:100]]

    specials = ["<unk>", "<s>", "</s>"]
    t = Tokenizer(models.BPE(unk_token="<unk>"))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - 256, special_tokens=specials, initial_alphabet=alphabet,
        limit_alphabet=len(alphabet), show_progress=False,
    )
    t.train_from_iterator(texts, trainer=trainer)
    trained = json.loads(t.to_str())["model"]
    tvocab = sorted(trained["vocab"].items(), key=lambda kv: kv[1])
    vocab = {s: i for i, s in enumerate(specials)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece, _ in tvocab:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    assert len(vocab) == vocab_size, len(vocab)

    added = [
        {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, s in enumerate(specials)
    ]
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>",
            "continuing_subword_prefix": None, "end_of_word_suffix": None,
            "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
            "vocab": vocab, "merges": trained["merges"],
        },
    }
    # Round-trip through the library so the file is in its canonical form.
    return Tokenizer.from_str(json.dumps(doc, ensure_ascii=False)).to_str(pretty=True)


def save_llama_sp_tokenizer(tok_json: str, out: Path) -> None:
    backend = Tokenizer.from_str(tok_json)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        add_bos_token=True, add_eos_token=False, model_max_length=64,
        clean_up_tokenization_spaces=False,
    )
    tok.save_pretrained(str(out))
    compact_tokenizer_json(out)
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    # transformers 5 writes "TokenizersBackend", which transformers 4 cannot
    # load; "PreTrainedTokenizerFast" loads tokenizer.json as-is in both.
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg["add_bos_token"] = True
    cfg["add_eos_token"] = False
    write_json(out / "tokenizer_config.json", cfg)


# --------------------------------------------------------------------------
# configs


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def to_legacy_config(path: Path, type_key: str = "rope_type") -> None:
    """Rewrite a transformers-5 config.json with transformers-4 (Hub) keys.

    Rotary scaling goes to a top-level `rope_scaling` object (its type under
    `type_key`: transformers 4 accepted `type` as well as `rope_type`). Gemma 3's
    per-layer-type `rope_parameters` become `rope_theta` (global layers),
    `rope_local_base_freq` (sliding layers) and `rope_scaling` (global layers),
    and its `layer_types` the `sliding_window_pattern` they follow.
    """
    cfg = json.loads(path.read_text())
    rope = cfg.pop("rope_parameters", None) or {}
    if cfg["model_type"] == "gemma3_text":
        sliding, rope = rope["sliding_attention"], dict(rope["full_attention"])
        assert sliding["rope_type"] == "default", sliding
        cfg["rope_local_base_freq"] = sliding["rope_theta"]
        types = cfg.pop("layer_types")
        pattern = types.index("full_attention") + 1
        assert types == ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(len(types))], types
        cfg["sliding_window_pattern"] = pattern
        cfg.pop("_sliding_window_pattern", None)  # transformers 5's private copy
    if cfg["model_type"] == "gpt_neox":
        assert rope.get("rope_type", "default") == "default", rope
        cfg.pop("rope_theta", None)
        cfg["rotary_emb_base"] = rope["rope_theta"]  # Pythia's spelling
        cfg["rotary_pct"] = rope.get("partial_rotary_factor", 1.0)
    else:
        cfg["rope_theta"] = rope.pop("rope_theta")
        if rope.get("rope_type", "default") == "default":
            cfg["rope_scaling"] = None
        else:
            rope[type_key] = rope.pop("rope_type")
            cfg["rope_scaling"] = rope
    if cfg["model_type"] in ("qwen2", "qwen3"):
        cfg.pop("layer_types", None)  # derived from use_sliding_window and max_window_layers
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    write_json(path, cfg)


def check_config(path: Path, want: dict) -> None:
    """transformers reads back what was intended; `rope_parameters` is compared key by key."""
    cfg = AutoConfig.from_pretrained(str(path))
    rope = dict(getattr(cfg, "rope_parameters", None) or {})
    for k, v in want.items():
        got = rope.get(k) if k in ("rope_theta", "partial_rotary_factor") else getattr(cfg, k)
        if k == "partial_rotary_factor" and got is None:
            got = 1.0
        if k == "rope_parameters":
            got = {key: {kk: got[key].get(kk) for kk in v[key]} if isinstance(v[key], dict) else got.get(key) for key in v}
        assert got == v, f"{path}: {k} = {got!r}, expected {v!r}"


def check_matters(path: Path, what: str, change) -> None:
    """The fixture exercises `what`: the same weights with change(config) applied
    give other logits on a 60-token input (so a decoder that ignored it would fail)."""
    def logits(cfg):
        model = AutoModelForCausalLM.from_pretrained(str(path), config=cfg, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        ids = (torch.arange(1, 61) * 37 % 2000).unsqueeze(0)
        with torch.no_grad():
            return model(input_ids=ids).logits
    cfg = AutoConfig.from_pretrained(str(path))
    changed = copy.deepcopy(cfg)
    change(changed)
    d = (logits(cfg) - logits(changed)).abs().max().item()
    assert d > 1e-2, f"{path.name}: {what} does not change the logits ({d})"
    print(f"  {what}: changing it moves the logits by up to {d:.3g}")


# --------------------------------------------------------------------------
# models

GPT2K = dict(vocab_size=2000, bos_token_id=0, eos_token_id=0)

# name -> (model class, config, seed, weight std, embedding std, jitter norms/biases,
#          save dtype, config style, what check_config must read back)
def model_specs():
    llama_gqa = dict(
        hidden_size=32, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0), rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
        initializer_range=0.2, **GPT2K,
    )
    neox = dict(
        hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=64, hidden_act="gelu", layer_norm_eps=1e-5,
        tie_word_embeddings=False, attention_bias=True, initializer_range=0.2, **GPT2K,
    )
    return {
        "llama-gqa": (LlamaForCausalLM, LlamaConfig(**llama_gqa), 101, 0.2, 0.5, True,
                      torch.float32, "v5", dict(rope_theta=10000.0, num_key_value_heads=2)),
        "llama-bf16": (LlamaForCausalLM, LlamaConfig(**llama_gqa), 101, 0.2, 0.5, True,
                       torch.bfloat16, "legacy", dict(rope_theta=10000.0)),
        "llama-f16": (LlamaForCausalLM, LlamaConfig(**llama_gqa), 101, 0.2, 0.5, True,
                      torch.float16, "v5", dict(rope_theta=10000.0)),
        "gpt2": (GPT2LMHeadModel, GPT2Config(
            n_embd=32, n_layer=2, n_head=4, n_positions=64, n_inner=None,
            activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True,
            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, initializer_range=0.2, **GPT2K,
        ), 102, 0.2, 0.5, True, torch.float32, "v5", dict(n_positions=64)),
        "gpt-neo": (GPTNeoForCausalLM, GPTNeoConfig(
            hidden_size=32, num_layers=2, num_heads=4, attention_types=[[["global", "local"], 1]],
            window_size=8, max_position_embeddings=64, activation_function="gelu_new",
            intermediate_size=None, layer_norm_epsilon=1e-5, tie_word_embeddings=True,
            resid_dropout=0.0, embed_dropout=0.0, attention_dropout=0.0,
            initializer_range=0.15, **GPT2K,
        ), 103, 0.15, 0.5, True, torch.float32, "v5", dict(window_size=8)),
        "gpt-neox": (GPTNeoXForCausalLM, GPTNeoXConfig(
            rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.25),
            use_parallel_residual=True, **neox,
        ), 104, 0.2, 0.5, True, torch.float32, "legacy",
            dict(rope_theta=10000.0, partial_rotary_factor=0.25, use_parallel_residual=True)),
        "gpt-neox-seq": (GPTNeoXForCausalLM, GPTNeoXConfig(
            rope_parameters=dict(rope_type="default", rope_theta=20000.0, partial_rotary_factor=1.0),
            use_parallel_residual=False, **neox,
        ), 105, 0.2, 0.5, True, torch.float32, "v5",
            dict(rope_theta=20000.0, partial_rotary_factor=1.0, use_parallel_residual=False)),
        **new_family_specs(),
    }


def new_family_specs():
    """Qwen 2, Qwen 3, Gemma 3, OLMo 2 and Llama with scaled rotary positions:
    each one's quirks set so that they matter (see CHECKS)."""
    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=64, initializer_range=0.2, **GPT2K)
    llama = dict(small, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu")
    gemma = dict(small, head_dim=16, query_pre_attn_scalar=24, sliding_window=8, rms_norm_eps=1e-6,
                 tie_word_embeddings=True, hidden_activation="gelu_pytorch_tanh", pad_token_id=0)
    llama3 = dict(rope_type="llama3", rope_theta=10000.0, factor=8.0, low_freq_factor=1.0,
                  high_freq_factor=4.0, original_max_position_embeddings=64)
    yarn = dict(rope_type="yarn", rope_theta=10000.0, factor=4.0, original_max_position_embeddings=64,
                truncate=False)
    return {
        # q/k/v biases; layer 1 sliding (window 8), layer 0 global.
        "qwen2": (Qwen2ForCausalLM, Qwen2Config(
            **small, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
            use_sliding_window=True, sliding_window=8, max_window_layers=1,
            rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
        ), 107, 0.2, 0.5, True, torch.float32, "v5",
            dict(layer_types=["full_attention", "sliding_attention"], sliding_window=8, rope_theta=1000000.0)),
        # Per-head q/k norms; head_dim 16 with hidden 32 and 4 heads (not hidden / heads).
        "qwen3": (Qwen3ForCausalLM, Qwen3Config(
            **small, head_dim=16, rms_norm_eps=1e-6, tie_word_embeddings=True,
            hidden_act="silu", rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
        ), 108, 0.2, 0.5, True, torch.float32, "legacy", dict(head_dim=16, rope_theta=1000000.0)),
        # Six layers, every third global (linear-scaled rotary base 1e6), the others
        # sliding (window 8, base 1e4); final logits soft-capped at 15 (they reach about 30).
        "gemma3": (Gemma3ForCausalLM, Gemma3TextConfig(
            **{**gemma, "num_hidden_layers": 6}, sliding_window_pattern=3, final_logit_softcapping=15.0,
            rope_parameters={"full_attention": dict(rope_type="linear", factor=4.0, rope_theta=1000000.0),
                             "sliding_attention": dict(rope_type="default", rope_theta=10000.0)},
        ), 109, 0.2, 0.5, True, torch.float32, "v5",
            dict(layer_types=["sliding_attention", "sliding_attention", "full_attention"] * 2,
                 rope_parameters={"full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 1000000.0},
                                  "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})),
        # transformers 4's keys: rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern.
        "gemma3-legacy": (Gemma3ForCausalLM, Gemma3TextConfig(
            **{**gemma, "num_hidden_layers": 3}, sliding_window_pattern=3,
            rope_parameters={"full_attention": dict(rope_type="linear", factor=8.0, rope_theta=500000.0),
                             "sliding_attention": dict(rope_type="default", rope_theta=20000.0)},
        ), 110, 0.2, 0.5, True, torch.float32, "legacy",
            dict(layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                 rope_parameters={"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 500000.0},
                                  "sliding_attention": {"rope_type": "default", "rope_theta": 20000.0}})),
        # Norms after attention and MLP; q/k norms over the whole projections; untied head.
        "olmo2": (Olmo2ForCausalLM, Olmo2Config(
            **small, rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
            rope_parameters=dict(rope_type="default", rope_theta=10000.0),
        ), 111, 0.2, 0.5, True, torch.float32, "v5", dict(tie_word_embeddings=False)),
        # Llama 3.1 scaling, legacy rope_scaling: wavelengths 6.3 (kept), 63 (smoothed), 628, 6283 (divided).
        "llama-rope-llama3": (LlamaForCausalLM, LlamaConfig(**llama, rope_parameters=llama3),
                              112, 0.2, 0.5, True, torch.float32, "legacy",
                              dict(rope_parameters={k: llama3[k] for k in llama3})),
        "llama-rope-linear": (LlamaForCausalLM, LlamaConfig(
            **llama, rope_parameters=dict(rope_type="linear", rope_theta=10000.0, factor=4.0)),
            115, 0.2, 0.5, True, torch.float32, "v5",
            dict(rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0})),
        # YaRN (legacy `type` spelling, untruncated ramp), head_dim 16, with q/k/v/o and MLP biases.
        "llama-rope-yarn": (LlamaForCausalLM, LlamaConfig(
            **{**llama, "num_attention_heads": 2, "num_key_value_heads": 1}, attention_bias=True, mlp_bias=True,
            rope_parameters=yarn), 114, 0.2, 0.5, True, torch.float32, "legacy-type",
            dict(rope_parameters={k: yarn[k] for k in yarn}, attention_bias=True, mlp_bias=True)),
    }


def no_rope_scaling(cfg) -> None:
    params = cfg.rope_parameters.get("full_attention", cfg.rope_parameters)
    theta = params["rope_theta"]
    params.clear()
    params.update(rope_type="default", rope_theta=theta)


def set_sliding_theta(cfg) -> None:
    cfg.rope_parameters["sliding_attention"]["rope_theta"] = cfg.rope_parameters["full_attention"]["rope_theta"]


# name -> what each quirk is and how to switch it off (check_matters asserts it changes the logits)
CHECKS = {
    "qwen2": [("sliding_window", lambda c: setattr(c, "sliding_window", 1000))],
    "gemma3": [("sliding_window", lambda c: setattr(c, "sliding_window", 1000)),
               ("final_logit_softcapping", lambda c: setattr(c, "final_logit_softcapping", None)),
               ("query_pre_attn_scalar", lambda c: setattr(c, "query_pre_attn_scalar", 16)),
               ("the sliding layers' rotary base", set_sliding_theta),
               ("rope scaling", no_rope_scaling)],
    "gemma3-legacy": [("rope scaling", no_rope_scaling)],
    "llama-rope-llama3": [("rope scaling", no_rope_scaling)],
    "llama-rope-linear": [("rope scaling", no_rope_scaling)],
    "llama-rope-yarn": [("rope scaling", no_rope_scaling)],
}


def save_model(model, out: Path, dtype: torch.dtype, gen: GenerationConfig) -> None:
    model.generation_config = gen
    model = model.to(dtype)
    model.save_pretrained(str(out), safe_serialization=True)
    (out / "model.safetensors").chmod(0o644)  # safetensors writes 0600


def fresh(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def make_demo(th: Path) -> None:
    out = fresh(PUBLIC_MODELS / "llama-2k-1m-random")
    src = json.loads((th / "config" / "llama" / "llama-2K-1M.json").read_text())
    keep = {k: v for k, v in src.items()
            if k not in ("architectures", "transformers_version", "torch_dtype", "model_type")}
    cfg = LlamaConfig(**keep)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).eval()
    # Standard HF init for Llama: N(0, initializer_range) for Linear/Embedding, RMSNorm = 1.
    randomize(model, seed=0, std=cfg.initializer_range, emb_std=cfg.initializer_range,
              norm_jitter=False, bias_std=0.0)
    save_model(model, out, torch.float32, GenerationConfig(bos_token_id=0, eos_token_id=0))
    # Keep the source config's (transformers 4) key layout, as TinyHelen's real checkpoints have.
    to_legacy_config(out / "config.json")
    cfgj = json.loads((out / "config.json").read_text())
    for k, v in src.items():
        if k in ("transformers_version", "torch_dtype"):
            continue
        assert cfgj.get(k) == v, (k, cfgj.get(k), v)
    assert cfgj["torch_dtype"] == "float32"
    check_config(out, dict(rope_theta=500000.0, hidden_size=128, num_hidden_layers=4,
                           num_attention_heads=4, intermediate_size=512, vocab_size=2000,
                           max_position_embeddings=1024, tie_word_embeddings=False))
    save_gpt2k_tokenizer(th, out)
    n = sum(p.numel() for p in model.parameters())
    print(f"{out.relative_to(REPO)}: {n} parameters")


def make_fixtures(th: Path) -> None:
    for name, (cls, cfg, seed, std, emb_std, jitter, dtype, style, want) in model_specs().items():
        out = fresh(FIXTURE_MODELS / name)
        torch.manual_seed(seed)
        model = cls(cfg).eval()
        randomize(model, seed, std, emb_std, jitter, bias_std=0.1)
        save_model(model, out, dtype, GenerationConfig(bos_token_id=0, eos_token_id=0))
        if style == "legacy":
            to_legacy_config(out / "config.json")
        elif style == "legacy-type":
            to_legacy_config(out / "config.json", type_key="type")
        check_config(out, want)
        for what, change in CHECKS.get(name, []):
            check_matters(out, what, change)
        save_gpt2k_tokenizer(th, out)
        if cfg.model_type == "qwen2":
            resave_with_model_tokenizer(out)
        n = sum(p.numel() for p in model.parameters())
        print(f"{out.relative_to(REPO)}: {n} parameters, {dtype}, {style} config")

    # Llama with a SentencePiece-style byte-fallback tokenizer.
    out = fresh(FIXTURE_MODELS / "llama-sp")
    tj = llama_sp_tokenizer_json(th)
    tj2 = llama_sp_tokenizer_json(th)
    assert tj == tj2, "tokenizer training is not deterministic"
    cfg = LlamaConfig(
        vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=64,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0), rms_norm_eps=1e-5,
        tie_word_embeddings=False, hidden_act="silu", bos_token_id=1, eos_token_id=2, initializer_range=0.2,
    )
    torch.manual_seed(106)
    model = LlamaForCausalLM(cfg).eval()
    randomize(model, 106, 0.2, 0.5, True, bias_std=0.1)
    save_model(model, out, torch.float32, GenerationConfig(bos_token_id=1, eos_token_id=2))
    check_config(out, dict(rope_theta=10000.0, num_key_value_heads=1, vocab_size=1000))
    save_llama_sp_tokenizer(tj, out)
    print(f"{out.relative_to(REPO)}: {sum(p.numel() for p in model.parameters())} parameters, "
          f"tokenizer sha256 {hashlib.sha256(tj.encode()).hexdigest()[:16]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tinyhelen-dir")
    args = ap.parse_args()
    th = tinyhelen_dir(args.tinyhelen_dir)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    make_demo(th)
    make_fixtures(th)


if __name__ == "__main__":
    main()
