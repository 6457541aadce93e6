#!/usr/bin/env python3
"""Compute tinyeval's golden values with PyTorch + Hugging Face transformers.

Usage (from the repository root, after scripts/make_reference_models.py):

    python scripts/make_goldens.py [--only MODEL ...]

For every model folder in public/models/* and core/tests/fixtures/models/*
it writes core/tests/fixtures/goldens/<name>.json, and for the two tokenizers
(gpt-2K and llama-sp) core/tests/fixtures/goldens/tokenizer_<name>.json; and
core/tests/fixtures/rope_goldens.json, transformers' rotary frequencies for the
scaled rope types of published configs (ROPE_CASES; `--rope` writes only it).
Texts come from core/tests/fixtures/texts.jsonl.

Model golden layout:
  model       repo-relative folder
  versions    python, torch, transformers, tokenizers, numpy, lm_eval
  context     the context length lm-eval uses (config n_positions /
              max_position_embeddings / n_ctx)
  texts       one entry per text of texts.jsonl, in order:
                text, tokens = tokenizer(text)["input_ids"] (the tokenizer's own
                special-token handling), token_strs, and logprobs / mean / var.
                Entry j belongs to the distribution that predicted token j from
                tokens[:j], so entry 0 is null. With float32 logits z (from
                transformers, eager attention), logp = log_softmax(z) in float64,
                logprobs[j] = logp[token_j], mean[j] = sum(p * logp),
                var[j] = sum(p * logp^2) - mean[j]^2.
                A text longer than `context` is cut to its first `context`
                tokens and carries "truncated_to": context and
                "n_tokens_full"; its tokens/logprobs are for the cut list.
  rolling     one entry per text: lm-eval-harness loglikelihood_rolling.
                tokens = lm-eval HFLM.tok_encode(text) (tokenizer.encode(text)
                with default special-token handling in lm-eval 0.4.13),
                prefix_token = HFLM.prefix_token_id (bos_token_id, else
                eos_token_id), windows from get_rolling_token_windows(tokens,
                prefix_token, max_seq_len=context, context_len=1) mapped through
                make_disjoint_window. Each window: input (the ids fed to the
                model: (ctx + cont)[-(context+1):][:-1]) and n_pred (score the
                last n_pred positions). logprobs: per predicted token, in order
                (float64 log_softmax of float32 logits); total: their float64 sum.
                lm_eval_total: what lm-eval's own HFLM.loglikelihood_rolling
                returned for the same model (float32 softmax and sums), as a
                cross-check (null if lm_eval is not installed).
  greedy      model.generate(do_sample=False, max_new_tokens=20, use_cache=True,
                pad_token_id=eos): prompt, prompt_tokens (tokenizer(prompt)),
                generated_tokens (new tokens only; ends with eos if produced),
                generated_text = tokenizer.decode(generated_tokens) (transformers
                defaults: special tokens kept), top2_margins: per step, the gap
                between the largest and second-largest float32 logit (a small
                margin means a float32 implementation may legitimately differ).

Tokenizer golden layout: per text, ids (tokenizers' Tokenizer.from_file(...)
.encode(t, add_special_tokens=True).ids), ids_no_special
(add_special_tokens=False), tokens (their strings), decode = decode(ids) with
the library default skip_special_tokens=True, decode_keep_special =
decode(ids, skip_special_tokens=False).

Made with (see scripts/requirements-reference.txt): Python 3.11.7,
torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3, numpy 2.4.6,
lm-eval 0.4.13.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import tokenizers
import torch
import transformers
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

try:  # lm-eval's own window functions; reimplemented below if not installed
    import lm_eval
    from lm_eval.utils import get_rolling_token_windows, make_disjoint_window
    HAVE_LM_EVAL = True
except ImportError:  # pragma: no cover
    lm_eval = None
    HAVE_LM_EVAL = False

    def get_rolling_token_windows(token_list, prefix_token, max_seq_len, context_len):
        """Copy of lm_eval.utils.get_rolling_token_windows (lm-eval 0.4.13)."""
        assert 1 <= context_len <= max_seq_len
        if not token_list:
            return
        pred_len = max_seq_len - context_len + 1
        predicted = 0
        first_seq_len = min(max_seq_len, len(token_list))
        yield [prefix_token] + token_list[: first_seq_len - 1], token_list[:first_seq_len]
        predicted += first_seq_len
        while predicted < len(token_list):
            window_pred_len = min(len(token_list) - predicted, pred_len)
            window_end = predicted + window_pred_len
            yield (
                token_list[window_end - max_seq_len - 1: window_end - 1],
                token_list[window_end - window_pred_len: window_end],
            )
            predicted += window_pred_len

    def make_disjoint_window(pair):
        """Copy of lm_eval.utils.make_disjoint_window (lm-eval 0.4.13)."""
        a, b = pair
        return a[: len(a) - (len(b) - 1)], b


REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "core" / "tests" / "fixtures"
GOLDENS = FIXTURES / "goldens"
PROMPTS = ["Once upon a time", "The cat sat on the", "Hello world",
           "Caf\u00e9 in Z\u00fcrich \U0001F469\u200D\U0001F469\u200D\U0001F467"]
MAX_NEW_TOKENS = 20


def versions() -> dict:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "lm_eval": getattr(lm_eval, "__version__", None) if HAVE_LM_EVAL else None,
    }


def context_length(config, tok) -> int:
    """lm-eval's resolve_max_length for these configs."""
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        if getattr(config, attr, None):
            return int(getattr(config, attr))
    return int(tok.model_max_length)


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def logits_of(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids], dtype=torch.long))
    z = out.logits[0]
    assert z.dtype == torch.float32
    return z


def stats(z: torch.Tensor, targets: list[int]):
    """Per row of float32 logits z: (logp[target], mean, var) in float64."""
    logp = torch.log_softmax(z.double(), dim=-1)
    p = logp.exp()
    mean = (p * logp).sum(-1)
    var = (p * logp * logp).sum(-1) - mean * mean
    lp = logp[torch.arange(len(targets)), torch.tensor(targets, dtype=torch.long)]
    return lp.tolist(), mean.tolist(), var.tolist()


def score_text(model, tok, text: str, ctx: int) -> dict:
    ids = tok(text)["input_ids"]
    entry = {"text": text}
    if len(ids) > ctx:
        entry["truncated_to"] = ctx
        entry["n_tokens_full"] = len(ids)
        ids = ids[:ctx]
    entry["tokens"] = ids
    entry["token_strs"] = tok.convert_ids_to_tokens(ids)
    if not ids:
        entry.update(logprobs=[], mean=[], var=[])
        return entry
    lps, means, vars_ = [None], [None], [None]
    if len(ids) > 1:
        z = logits_of(model, ids)[:-1]
        lp, m, v = stats(z, ids[1:])
        lps += lp
        means += m
        vars_ += v
    entry.update(logprobs=lps, mean=means, var=vars_)
    return entry


def lm_eval_prefix_token(tok) -> int:
    # HFLM.prefix_token_id without a custom prefix token
    return tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id


def lm_eval_tok_encode(tok, text: str) -> list[int]:
    # HFLM.tok_encode(text) with add_special_tokens=None and add_bos_token=None
    kwargs = {}
    if text.startswith(tok.decode(lm_eval_prefix_token(tok))):
        kwargs["add_special_tokens"] = False
    return tok.encode(text, **kwargs)


def rolling(model, tok, text: str, ctx: int) -> dict:
    tokens = lm_eval_tok_encode(tok, text)
    prefix = lm_eval_prefix_token(tok)
    windows = list(map(make_disjoint_window, get_rolling_token_windows(
        token_list=tokens, prefix_token=prefix, max_seq_len=ctx, context_len=1)))
    out_windows, lps = [], []
    for context, cont in windows:
        inp = (context + cont)[-(ctx + 1):][:-1]
        z = logits_of(model, inp)[len(inp) - len(cont):]
        lp, _, _ = stats(z, cont)
        out_windows.append({"input": inp, "n_pred": len(cont)})
        lps += lp
    assert len(lps) == len(tokens)
    return {"text": text, "tokens": tokens, "prefix_token": prefix, "max_seq_len": ctx,
            "windows": out_windows, "logprobs": lps, "total": float(np.sum(lps, dtype=np.float64))}


def lm_eval_totals(model, tok, texts: list[str]) -> list[float | None]:
    if not HAVE_LM_EVAL:
        return [None] * len(texts)
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=1, device="cpu")
    reqs = [Instance(request_type="loglikelihood_rolling", doc={}, arguments=(t,), idx=i)
            for i, t in enumerate(texts)]
    return [float(x) for x in lm.loglikelihood_rolling(reqs, disable_tqdm=True)]


def greedy(model, tok, prompt: str) -> dict:
    ids = tok(prompt)["input_ids"]
    eos = tok.eos_token_id
    with torch.no_grad():
        out = model.generate(
            input_ids=torch.tensor([ids], dtype=torch.long),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            do_sample=False, max_new_tokens=MAX_NEW_TOKENS, use_cache=True,
            pad_token_id=eos, eos_token_id=eos,
            output_scores=True, return_dict_in_generate=True,
        )
    new = out.sequences[0, len(ids):].tolist()
    margins = []
    for s in out.scores:
        top = torch.topk(s[0].float(), 2).values
        margins.append(float(top[0] - top[1]))
    if eos in new:
        assert new.index(eos) == len(new) - 1
    return {"prompt": prompt, "prompt_tokens": ids, "max_new_tokens": MAX_NEW_TOKENS,
            "generated_tokens": new, "generated_text": tok.decode(new), "top2_margins": margins}


def model_golden(folder: Path, texts: list[str]) -> dict:
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(
        str(folder), dtype=torch.float32, attn_implementation="eager").eval()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    ctx = context_length(model.config, tok)
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    for t in texts:  # the two tokenizer stacks agree on every text
        assert tok(t)["input_ids"] == raw.encode(t, add_special_tokens=True).ids, (folder, t)
    roll = [rolling(model, tok, t, ctx) for t in texts]
    for r, tot in zip(roll, lm_eval_totals(model, tok, texts)):
        r["lm_eval_total"] = tot
        if tot is not None:
            assert abs(tot - r["total"]) <= 1e-3 * max(1.0, abs(r["total"])), (folder, r["text"][:20], tot, r["total"])
    return {
        "model": folder.relative_to(REPO).as_posix(),
        "versions": versions(),
        "architecture": model.config.architectures[0],
        "context": ctx,
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "texts": [score_text(model, tok, t, ctx) for t in texts],
        "rolling": roll,
        "greedy": [greedy(model, tok, p) for p in PROMPTS],
    }


def tokenizer_golden(path: Path, texts: list[str], source: Path | None) -> dict:
    tok = Tokenizer.from_file(str(path))
    out = []
    for t in texts:
        enc = tok.encode(t, add_special_tokens=True)
        ids_ns = tok.encode(t, add_special_tokens=False).ids
        out.append({
            "text": t, "ids": enc.ids, "ids_no_special": ids_ns, "tokens": enc.tokens,
            "decode": tok.decode(enc.ids),
            "decode_keep_special": tok.decode(enc.ids, skip_special_tokens=False),
        })
    g = {"tokenizer": path.relative_to(REPO).as_posix(), "versions": versions(),
         "vocab_size": tok.get_vocab_size(), "texts": out}
    if source is not None:  # the re-saved file encodes exactly like TinyHelen's original
        src = Tokenizer.from_file(str(source))
        g["matches_source_tokenizer"] = all(
            src.encode(t).ids == e["ids"] and src.decode(e["ids"]) == e["decode"]
            for t, e in zip(texts, out))
        assert g["matches_source_tokenizer"]
    return g


# Rotary settings of published models (and one with every YaRN option set):
# config kwargs for LlamaConfig. The frequencies are LlamaRotaryEmbedding's.
ROPE_CASES = {
    "llama3.2-1b": dict(hidden_size=2048, num_attention_heads=32, max_position_embeddings=131072,
                        rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=32.0, low_freq_factor=1.0,
                                             high_freq_factor=4.0, original_max_position_embeddings=8192)),
    "qwen2.5-7b-yarn": dict(hidden_size=3584, num_attention_heads=28, max_position_embeddings=32768,
                            rope_parameters=dict(rope_type="yarn", rope_theta=1000000.0, factor=4.0,
                                                 original_max_position_embeddings=32768)),
    "yarn-every-option": dict(hidden_size=1024, num_attention_heads=16, max_position_embeddings=4096,
                              rope_parameters=dict(rope_type="yarn", rope_theta=10000.0, factor=8.0,
                                                   original_max_position_embeddings=512, truncate=False, beta_fast=16,
                                                   beta_slow=2, mscale=0.707, mscale_all_dim=1.0)),
    "gemma3-4b-global-linear": dict(hidden_size=2560, num_attention_heads=8, head_dim=256, max_position_embeddings=131072,
                                    rope_parameters=dict(rope_type="linear", rope_theta=1000000.0, factor=8.0)),
}


def rope_goldens() -> dict:
    """core/tests/fixtures/rope_goldens.json: per case, the config's rope_parameters,
    head_dim, and transformers' inv_freq (float32, as exact decimal strings of
    their values) and attention factor."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    out = {"versions": versions(), "cases": {}}
    for name, kwargs in ROPE_CASES.items():
        config = LlamaConfig(**kwargs)
        rotary = LlamaRotaryEmbedding(config)
        assert rotary.inv_freq.dtype == torch.float32
        out["cases"][name] = {
            "rope_parameters": kwargs["rope_parameters"],
            "head_dim": config.head_dim,
            "max_position_embeddings": config.max_position_embeddings,
            "inv_freq": [float(x) for x in rotary.inv_freq.tolist()],
            "attention_factor": float(rotary.attention_scaling),
        }
    return out


def tinyhelen_dir() -> Path:
    d = os.environ.get("TINYHELEN_DIR") or str(REPO / ".." / "shared" / "data" / "tinyhelen")
    return Path(d).resolve()


def deterministic_quiet_torch() -> None:
    """One thread, a fixed seed, and no library chatter (shared by the golden scripts)."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    warnings.filterwarnings("ignore")
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    transformers.logging.set_verbosity_error()


def fixture_texts() -> list:
    """The texts of core/tests/fixtures/texts.jsonl."""
    return [json.loads(line)["text"] for line in
            (FIXTURES / "texts.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description="tinyeval's golden values from transformers")
    ap.add_argument("--only", nargs="+", metavar="MODEL",
                    help="only these model folders (by name); the tokenizer goldens are then left as they are")
    ap.add_argument("--rope", action="store_true", help="only core/tests/fixtures/rope_goldens.json")
    args = ap.parse_args()
    deterministic_quiet_torch()
    if args.rope or not args.only:
        write_json(FIXTURES / "rope_goldens.json", rope_goldens())
        print("rope_goldens.json")
    if args.rope:
        return
    texts = fixture_texts()
    GOLDENS.mkdir(parents=True, exist_ok=True)
    folders = sorted((REPO / "public" / "models").iterdir()) + sorted((FIXTURES / "models").iterdir())
    for folder in folders:
        if not (folder / "config.json").is_file() or (args.only and folder.name not in args.only):
            continue
        g = model_golden(folder, texts)
        write_json(GOLDENS / f"{folder.name}.json", g)
        print(f"goldens/{folder.name}.json: context {g['context']}, "
              f"greedy {[len(x['generated_tokens']) for x in g['greedy']]}", flush=True)

    if args.only:
        return
    src = tinyhelen_dir() / "tokenizer" / "gpt-2K" / "tokenizer.json"
    for name, path, source in [
        ("gpt-2K", REPO / "public" / "models" / "llama-2k-1m-random" / "tokenizer.json",
         src if src.is_file() else None),
        ("llama-sp", FIXTURES / "models" / "llama-sp" / "tokenizer.json", None),
    ]:
        write_json(GOLDENS / f"tokenizer_{name}.json", tokenizer_golden(path, texts, source))
        print(f"goldens/tokenizer_{name}.json")


if __name__ == "__main__":
    main()
