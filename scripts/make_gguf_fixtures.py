#!/usr/bin/env python3
"""Write tinyeval's GGUF test fixtures and their goldens.

Usage (from the repository root, in the reference virtual environment with
the `gguf` package installed; see scripts/requirements-reference.txt):

    python scripts/make_gguf_fixtures.py [--only NAME ...]

Converts tiny models to GGUF as llama.cpp's convert_hf_to_gguf.py does
(gguf_archs.py says what that involves per architecture), quantizes them
(gguf-py's quantizers, or gguf_kquants.py's for the k-quants, with the
per-tensor types llama.cpp's quantize tool picks for a file type), and writes
into core/tests/fixtures/gguf/ each `<name>.gguf` and beside it `<name>.json`,
the golden transformers computes after loading the GGUF itself
(`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)`, which
dequantizes to float32 with gguf-py, and `AutoTokenizer.from_pretrained(dir,
gguf_file=...)`, which rebuilds a tokenizer from the metadata). The golden
layout is make_goldens.py's (its docstring), with `model` the repo-relative
.gguf path and an extra `gguf` entry: the quantization (a type, or a llama.cpp
file type with `tensor_types`, each tensor's type), and transformers'
pre-tokenizer, normalizer and post-processor.

The files (sources in core/tests/fixtures/models/ unless said):

  llama-sp-f32        llama-sp (SentencePiece, untied, one key/value head), F32
  llama-sp-q4_1       the same, 2-D weights Q4_1
  llama-gqa-q8_0      llama-gqa (byte-level BPE gpt-2K, tied, 2 kv heads), Q8_0
  llama-gqa-q4_0      the same, Q4_0
  llama-sp-q4_k_m     llama-sp through llama.cpp's Q4_K_M rule: its rows of 32
                      and 64 are no whole 256-blocks, so every k-quant falls
                      back as llama.cpp's does (Q4_K -> Q5_0, Q6_K -> Q8_0):
                      Q5_0 and Q8_0, as real Q4_K_M files of tiny models are
  llama-gqa-q5_k_m    llama-gqa through Q5_K_M: Q5_1 and Q8_0 likewise
  llama-k-q4_k_m      llama-k (generated below: hidden 256, intermediate 512,
                      2 layers, 4 heads of 64, 2 kv heads, gpt-2K, untied):
                      Q4_K, with Q6_K for the output and for attn_v and
                      ffn_down of layer 1 (llama.cpp's use_more_bits picks
                      layer 1 of 2)
  llama-k-tied-q5_k_m llama-k with the embedding tied: Q5_K, Q6_K for the
                      token embedding (llama.cpp quantizes a tied embedding as
                      the output) and layer 1's attn_v and ffn_down
  llama-k-tied-q2_k   the same through Q2_K: Q2_K, with Q3_K for attn_v,
                      attn_output and ffn_down and Q6_K for the embedding
  gpt2-1k-q8_0        gpt2-1k (generated below from gpt2: Conv1D layout, fused
                      qkv, learned positions), Q8_0
  qwen2-q8_0          qwen2 (q/k/v biases, tied; its tokenizer's Qwen split
                      becomes `pre = "qwen2"`), Q8_0. A GGUF has no sliding
                      window for qwen2 (neither transformers nor llama.cpp
                      reads one), so every layer attends fully here
  qwen3-hd128-q8_0    qwen3-hd128 (generated below: query/key norms), Q8_0
  gemma3-sp-q8_0      gemma3-sp (generated below: sandwich norms stored + 1,
                      sliding window 8 on five of six layers, SentencePiece
                      vocabulary rebuilt by transformers' Gemma builder), Q8_0

The generated models (llama-k, qwen3-hd128, gemma3-sp) have NumPy weights
(`randomize`: seeds 1234, 3 and 6, in parameter-name order: linear weights
N(0, 1/fan_in), embeddings and biases N(0, 0.1^2), norm weights N(1, 0.1^2),
Gemma's N(0, 0.1^2)); each is written with save_pretrained into a temporary
folder (not committed; llama-k is 7 MB) with the tokenizer files of a fixture
model, then converted. Why qwen3 and gemma3 are not the fixtures of
core/tests/fixtures/models is in their functions' docstrings: transformers'
GGUF loader reads too little of those architectures' metadata to rebuild
them (head size, attention scale, layer pattern, rotary scaling, soft-cap).

gpt2-1k is the gpt2 fixture with 1024 positions: its position table's first
64 rows are gpt2's, the other 960 N(0, 0.02^2) draws (seed 1024).
transformers' GGUF loader does not read `gpt2.context_length` (it maps it to
`n_ctx`, which GPT2Config no longer has), so it builds every GGUF GPT-2 with
GPT2Config's default 1024 positions and cannot load a file with fewer; real
GPT-2 files have 1024.

Tokenizers as gguf_archs.add_tokenizer writes them: byte-level BPE as
`gpt2` with `pre` named from the tokenizer.json's pre-tokenizer (gpt-2K:
"gpt-2"), tokens, merges, special tokens CONTROL; SentencePiece as `llama`
with scores and no merges (readers rebuild them, as for real Llama files).

Made with Python 3.11.7, torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3,
numpy 2.4.6, gguf 0.19.0.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sys
import tempfile
from pathlib import Path

import gguf
import numpy as np
import torch
from safetensors.numpy import load_file, save_file
from transformers import (AutoModelForCausalLM, AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig,
                          LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gguf_archs  # noqa: E402
import make_goldens as mg  # noqa: E402  (reuse the golden functions)

REPO = mg.REPO
MODELS = mg.FIXTURES / "models"
OUT = mg.FIXTURES / "gguf"
T = gguf.GGMLQuantizationType

VARIANTS = [
    # (source model, file name, one type for every 2-D tensor or a llama.cpp file type)
    ("llama-sp", "llama-sp-f32", T.F32),
    ("llama-sp", "llama-sp-q4_1", T.Q4_1),
    ("llama-gqa", "llama-gqa-q8_0", T.Q8_0),
    ("llama-gqa", "llama-gqa-q4_0", T.Q4_0),
    ("llama-sp", "llama-sp-q4_k_m", "Q4_K_M"),
    ("llama-gqa", "llama-gqa-q5_k_m", "Q5_K_M"),
    ("llama-k", "llama-k-q4_k_m", "Q4_K_M"),
    ("llama-k-tied", "llama-k-tied-q5_k_m", "Q5_K_M"),
    ("llama-k-tied", "llama-k-tied-q2_k", "Q2_K"),
    ("gpt2-1k", "gpt2-1k-q8_0", T.Q8_0),
    ("qwen2", "qwen2-q8_0", T.Q8_0),
    ("qwen3-hd128", "qwen3-hd128-q8_0", T.Q8_0),
    ("gemma3-sp", "gemma3-sp-q8_0", T.Q8_0),
]


def make_llama_k(folder: Path, tied: bool) -> None:
    """The generated k-quant model (see the docstring)."""
    config = LlamaConfig(vocab_size=2000, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=64,
                         rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=tied,
                         bos_token_id=0, eos_token_id=0)
    model = LlamaForCausalLM(config)
    randomize(model, 1234)
    model.save_pretrained(folder)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(MODELS / "llama-gqa" / f, folder / f)


def randomize(model: torch.nn.Module, seed: int, norm_mean: float = 1.0) -> None:
    """NumPy draws for every parameter, in name order: linear weights
    N(0, 1/fan_in), embeddings N(0, 0.1^2), norm weights N(norm_mean, 0.1^2),
    biases N(0, 0.1^2)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                x = rng.normal(norm_mean, 0.1, size=p.shape)
            elif name.endswith("embed_tokens.weight") or p.ndim == 1:
                x = rng.normal(0.0, 0.1, size=p.shape)
            else:
                x = rng.normal(0.0, 1.0 / np.sqrt(p.shape[1]), size=p.shape)
            p.copy_(torch.from_numpy(x.astype(np.float32)))


def make_qwen3_hd128(folder: Path) -> None:
    """Qwen 3 with 128-wide heads, the only width transformers' GGUF loader
    builds (it does not read `qwen3.attention.key_length` and keeps
    Qwen3Config's default; every published Qwen 3 has 128), and the qwen2
    fixture's tokenizer (Qwen's split; the NFC normalizer a GGUF cannot carry)."""
    config = Qwen3Config(vocab_size=2000, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=128, max_position_embeddings=64,
                         rms_norm_eps=1e-6, rope_theta=1_000_000.0, tie_word_embeddings=True,
                         bos_token_id=0, eos_token_id=0)
    model = Qwen3ForCausalLM(config)
    randomize(model, 3)
    model.save_pretrained(folder)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(MODELS / "qwen2" / f, folder / f)


def make_gemma3_sp(folder: Path) -> None:
    """Gemma 3 as a GGUF can describe it: head_dim 256 with
    query_pre_attn_scalar 256 (transformers' GGUF loader keeps that default;
    llama.cpp scales by 1/sqrt(head_dim)), every sixth layer global (both fix
    the pattern at 6), sliding window 8, no rotary scaling or soft-cap
    (transformers reads neither from a GGUF), and llama-sp's SentencePiece
    vocabulary (written as the `llama` tokenizer transformers rebuilds with
    its Gemma builder). Norm weights are centred on 0 (Gemma's 1 + w)."""
    config = Gemma3TextConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=6,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=256, query_pre_attn_scalar=256,
                              sliding_window=8, max_position_embeddings=64, rms_norm_eps=1e-6,
                              rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1_000_000.0},
                                               "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0}},
                              tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = Gemma3ForCausalLM(config)
    randomize(model, 6, norm_mean=0.0)
    model.save_pretrained(folder)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(MODELS / "llama-sp" / f, folder / f)


def make_gpt2_1k(folder: Path) -> None:
    """gpt2 with 1024 positions (see the docstring)."""
    folder.mkdir(parents=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copy(MODELS / "gpt2" / f, folder / f)
    config = json.loads((MODELS / "gpt2" / "config.json").read_text(encoding="utf-8"))
    config["n_positions"] = 1024
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    sd = load_file(str(MODELS / "gpt2" / "model.safetensors"))
    wpe = sd["transformer.wpe.weight"]
    extra = np.random.default_rng(1024).normal(0.0, 0.02, size=(1024 - wpe.shape[0], wpe.shape[1]))
    sd["transformer.wpe.weight"] = np.concatenate([wpe, extra.astype(np.float32)])
    save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt"})


def gguf_golden(path: Path, texts: list[str], quant, tensor_types: dict[str, str]) -> dict:
    # transformers wants a folder and a file name in it; use a scratch copy so
    # that nothing it may cache lands in the repository.
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(path, Path(tmp) / path.name)
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(
            tmp, gguf_file=path.name, dtype=torch.float32, attn_implementation="eager").eval()
        backend = json.loads(tok.backend_tokenizer.to_str())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    ctx = mg.context_length(model.config, tok)
    roll = [mg.rolling(model, tok, t, ctx) for t in texts]
    for r, tot in zip(roll, mg.lm_eval_totals(model, tok, texts)):
        r["lm_eval_total"] = tot
        if tot is not None:
            assert abs(tot - r["total"]) <= 1e-3 * max(1.0, abs(r["total"])), (path, r["text"][:20], tot, r["total"])
    quantization = {"quantization": quant} if isinstance(quant, str) else {"quantization": quant.name}
    if isinstance(quant, str):
        quantization["tensor_types"] = tensor_types
    return {
        "model": path.relative_to(REPO).as_posix(),
        "versions": mg.versions() | {"gguf": importlib.metadata.version("gguf")},
        "gguf": quantization | {
            "tokenizer_pre_tokenizer": backend.get("pre_tokenizer"),
            "tokenizer_normalizer": backend.get("normalizer"),
            "tokenizer_post_processor": backend.get("post_processor")},
        "architecture": model.config.architectures[0] if model.config.architectures else type(model).__name__,
        "context": ctx,
        "tie_word_embeddings": bool(model.config.tie_word_embeddings),
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "texts": [mg.score_text(model, tok, t, ctx) for t in texts],
        "rolling": roll,
        "greedy": [mg.greedy(model, tok, p) for p in mg.PROMPTS],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="file names (without .gguf) to write")
    args = parser.parse_args()
    mg.deterministic_quiet_torch()
    texts = mg.fixture_texts()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as generated:
        generated = Path(generated)
        make_llama_k(generated / "llama-k", tied=False)
        make_llama_k(generated / "llama-k-tied", tied=True)
        make_gpt2_1k(generated / "gpt2-1k")
        make_qwen3_hd128(generated / "qwen3-hd128")
        make_gemma3_sp(generated / "gemma3-sp")
        for source, name, quant in VARIANTS:
            if args.only and name not in args.only:
                continue
            folder = generated / source if (generated / source).is_dir() else MODELS / source
            path = OUT / f"{name}.gguf"
            tensor_types = gguf_archs.write_gguf(folder, path, quant)
            g = gguf_golden(path, texts, quant, tensor_types)
            mg.write_json(OUT / f"{name}.json", g)
            kinds = sorted(set(tensor_types.values()))
            print(f"gguf/{name}.gguf: {path.stat().st_size} bytes; context {g['context']}; {', '.join(kinds)}", flush=True)


if __name__ == "__main__":
    main()
