#!/usr/bin/env python3
"""Write tinyeval's GGUF test fixtures and their goldens.

Usage (from the repository root, in the reference virtual environment with
the `gguf` package installed; see scripts/requirements-reference.txt):

    python scripts/make_gguf_fixtures.py

Converts two of the tiny safetensors fixture models to GGUF the way llama.cpp's
convert_hf_to_gguf.py does for a Llama model, and writes, into
core/tests/fixtures/gguf/:

  llama-sp-f32.gguf    llama-sp (SentencePiece tokenizer, untied lm_head, one
                       key/value head) with every tensor F32
  llama-sp-q4_1.gguf   the same, 2-D weights in Q4_1
  llama-gqa-q8_0.gguf  llama-gqa (byte-level BPE tokenizer gpt-2K, tied
                       embedding, 2 key/value heads) with 2-D weights in Q8_0
  llama-gqa-q4_0.gguf  the same in Q4_0

and beside each `<name>.json`, the golden transformers computes after loading
the GGUF itself (`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)`,
which dequantizes to float32, and `AutoTokenizer.from_pretrained(dir,
gguf_file=...)`, which rebuilds a tokenizer from the GGUF metadata). The golden
layout is make_goldens.py's (its docstring), with `model` the repo-relative
.gguf path and an extra `gguf` entry describing the file.

What the conversion does, as llama.cpp's converter:
- metadata `llama.*` from config.json, `general.file_type`, and the tokenizer
  under `tokenizer.ggml.*`;
- q_proj and k_proj rows permuted for llama.cpp's interleaved RoPE:
  `w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2)` (k with the
  key/value head count);
- names: token_embd, blk.N.attn_{q,k,v,output}, blk.N.ffn_{gate,up,down},
  blk.N.{attn,ffn}_norm, output_norm, output (only when untied);
- 1-D tensors (norm weights) stay F32, every 2-D tensor is quantized with
  gguf-py's reference quantizers (gguf.quants.quantize), including the
  embedding (llama.cpp's own quantize tool picks per-tensor types; one type for
  all keeps the fixtures simple).

Tokenizers:
- gpt-2K (llama-gqa): `tokenizer.ggml.model = "gpt2"`, `pre = "gpt-2"`, tokens
  (byte-level spelled) and merges from tokenizer.json, `<|endoftext|>` marked
  CONTROL, bos = eos = unk = 0, no add_bos_token key (gpt-2K's
  tokenizer_config has none).
- llama-sp: written as a SentencePiece `tokenizer.model` converts: `model =
  "llama"`, `pre = "default"`, tokens in id order, token types (UNKNOWN for
  <unk>, CONTROL for <s> and </s>, BYTE for <0xXX>, NORMAL otherwise), scores
  (0 for unknown/control/byte pieces, -id for the others, so later merges
  score lower) and NO merges: readers have to rebuild them from the scores,
  as they must for real Llama/Mistral files. add_bos_token = true,
  add_eos_token = false, bos 1, eos 2, unk 0.

Made with Python 3.11.7, torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3,
numpy 2.4.6, gguf 0.19.0.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from safetensors.numpy import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_goldens as mg  # noqa: E402  (reuse the golden functions)

REPO = mg.REPO
MODELS = mg.FIXTURES / "models"
OUT = mg.FIXTURES / "gguf"

VARIANTS = [
    # (fixture model, file name, quantization of 2-D tensors)
    ("llama-sp", "llama-sp-f32", gguf.GGMLQuantizationType.F32),
    ("llama-sp", "llama-sp-q4_1", gguf.GGMLQuantizationType.Q4_1),
    ("llama-gqa", "llama-gqa-q8_0", gguf.GGMLQuantizationType.Q8_0),
    ("llama-gqa", "llama-gqa-q4_0", gguf.GGMLQuantizationType.Q4_0),
]

FILE_TYPE = {
    gguf.GGMLQuantizationType.F32: gguf.LlamaFileType.ALL_F32,
    gguf.GGMLQuantizationType.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0,
    gguf.GGMLQuantizationType.Q4_1: gguf.LlamaFileType.MOSTLY_Q4_1,
    gguf.GGMLQuantizationType.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
}


def permute(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def gguf_tensors(folder: Path, config: dict) -> list[tuple[str, np.ndarray]]:
    sd = load_file(str(folder / "model.safetensors"))
    n_head, n_kv = config["num_attention_heads"], config["num_key_value_heads"]
    out = [("token_embd.weight", sd["model.embed_tokens.weight"])]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out += [
            (f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"]),
            (f"blk.{i}.attn_q.weight", permute(sd[p + "self_attn.q_proj.weight"], n_head, n_head)),
            (f"blk.{i}.attn_k.weight", permute(sd[p + "self_attn.k_proj.weight"], n_head, n_kv)),
            (f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"]),
            (f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"]),
            (f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"]),
            (f"blk.{i}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"]),
            (f"blk.{i}.ffn_up.weight", sd[p + "mlp.up_proj.weight"]),
            (f"blk.{i}.ffn_down.weight", sd[p + "mlp.down_proj.weight"]),
        ]
    out.append(("output_norm.weight", sd["model.norm.weight"]))
    if not config.get("tie_word_embeddings", False):
        out.append(("output.weight", sd["lm_head.weight"]))
    return [(name, np.ascontiguousarray(t, dtype=np.float32)) for name, t in out]


def add_tokenizer(w: gguf.GGUFWriter, folder: Path) -> None:
    tj = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    tc = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    tokens = [None] * len(vocab)
    for tok, i in vocab.items():
        tokens[i] = tok
    assert all(t is not None for t in tokens)
    special = {t["id"] for t in tj["added_tokens"] if t["special"]}
    if tj["pre_tokenizer"] and tj["pre_tokenizer"]["type"] == "ByteLevel":
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("gpt-2")
        w.add_token_list(tokens)
        w.add_token_types([gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL
                           for i in range(len(tokens))])
        merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
        w.add_token_merges(merges)
        unk = tc.get("unk_token")
        if unk is not None:
            w.add_unk_token_id(vocab[unk])
    else:
        unk_id = vocab[tc["unk_token"]]
        types, scores = [], []
        for i, t in enumerate(tokens):
            if i == unk_id:
                types.append(gguf.TokenType.UNKNOWN)
                scores.append(0.0)
            elif i in special:
                types.append(gguf.TokenType.CONTROL)
                scores.append(0.0)
            elif re.fullmatch(r"<0x[0-9A-F]{2}>", t):
                types.append(gguf.TokenType.BYTE)
                scores.append(0.0)
            else:
                types.append(gguf.TokenType.NORMAL)
                scores.append(-float(i))
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_unk_token_id(unk_id)
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    if "add_bos_token" in tc:
        w.add_add_bos_token(tc["add_bos_token"])
    if "add_eos_token" in tc:
        w.add_add_eos_token(tc["add_eos_token"])


def write_gguf(folder: Path, path: Path, qtype: gguf.GGMLQuantizationType) -> None:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(folder.name)
    w.add_context_length(config["max_position_embeddings"])
    w.add_embedding_length(config["hidden_size"])
    w.add_block_count(config["num_hidden_layers"])
    w.add_feed_forward_length(config["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(config["num_key_value_heads"])
    w.add_rope_freq_base(config["rope_parameters"]["rope_theta"])
    w.add_layer_norm_rms_eps(config["rms_norm_eps"])
    w.add_file_type(FILE_TYPE[qtype])
    w.add_vocab_size(config["vocab_size"])
    w.add_rope_dimension_count(head_dim)
    add_tokenizer(w, folder)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, t in gguf_tensors(folder, config):
        if t.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, t)
        else:
            w.add_tensor(name, gguf.quants.quantize(t, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_golden(path: Path, texts: list[str], qtype) -> dict:
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
    return {
        "model": path.relative_to(REPO).as_posix(),
        "versions": mg.versions() | {"gguf": importlib.metadata.version("gguf")},
        "gguf": {"quantization": qtype.name,
                 "tokenizer_pre_tokenizer": backend.get("pre_tokenizer"),
                 "tokenizer_normalizer": backend.get("normalizer"),
                 "tokenizer_post_processor": backend.get("post_processor")},
        "architecture": model.config.architectures[0] if model.config.architectures else "LlamaForCausalLM",
        "context": ctx,
        "tie_word_embeddings": bool(model.config.tie_word_embeddings),
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "texts": [mg.score_text(model, tok, t, ctx) for t in texts],
        "rolling": roll,
        "greedy": [mg.greedy(model, tok, p) for p in mg.PROMPTS],
    }


def main() -> None:
    mg.deterministic_quiet_torch()
    texts = mg.fixture_texts()
    OUT.mkdir(parents=True, exist_ok=True)
    for model_name, name, qtype in VARIANTS:
        path = OUT / f"{name}.gguf"
        write_gguf(MODELS / model_name, path, qtype)
        g = gguf_golden(path, texts, qtype)
        mg.write_json(OUT / f"{name}.json", g)
        print(f"gguf/{name}.gguf: {path.stat().st_size} bytes; context {g['context']}", flush=True)


if __name__ == "__main__":
    main()
