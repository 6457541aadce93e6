"""The browser anchors of scripts/bench.py --browser: transformers.js and wllama in
the same headless Chromium as the page's rows, on the same weights, with their
log-probs checked against PyTorch (imported by bench.py).

- transformers.js (npm @huggingface/transformers, onnxruntime-web) on an ONNX
  export of the model (make_anchor_models.py), on its wasm execution provider
  with 1 thread and with all cores (threads need the page cross-origin
  isolated: e2e/bench_anchors.mjs serves it with COOP/COEP), and on its WebGPU
  execution provider. It scores the page's splitmix64 ids (B x T-1 positions,
  log-softmax statistics in JS) and returns every target log p: the check is
  the max |d log p| against PyTorch over all B x (T-1) of them.
- wllama (npm @wllama/wllama, llama.cpp in wasm) on an F32 GGUF of the same
  weights, 1 thread and all cores. wllama 3.x takes text prompts only and
  returns log-probs for the last position only, so its rows time prompt
  evaluation of B prompts of T-1 tokens (texts that transformers' tokenizer
  turns into exactly T-1 ids, checked against llama.cpp's prompt_n) and the
  check is the max |d log p| over each prompt's top-K last-position log-probs
  (token id and log p, from llama.cpp's sampler output) against PyTorch on
  those ids.

The npm packages live in bench/anchors/ (own package.json, not e2e's, so that
CI's test install does not fetch 500 MB), installed on first use with
`npm install --ignore-scripts` (onnxruntime-node's postinstall downloads
binaries, and the browser never uses it). The exported models go under
--cache-dir/anchors/<model>/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import make_anchor_models

ROOT = Path(__file__).resolve().parent.parent
ANCHORS = ROOT / "bench/anchors"
TOP_K = 8
LABELS = {
    ("tfjs", "wasm"): "transformers.js {v} (ONNX, wasm EP, {t})",
    ("tfjs", "webgpu"): "transformers.js {v} (ONNX, WebGPU EP: {a})",
    ("wllama", "wasm"): "wllama {v} (GGUF F32, wasm, {t}; prompt eval, last-position log-probs only)",
}


def ensure_npm() -> None:
    if (ANCHORS / "node_modules/@wllama/wllama").exists() and (ANCHORS / "node_modules/@huggingface/transformers").exists():
        return
    print("[installing bench/anchors' npm packages (once)]", file=sys.stderr, flush=True)
    subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ANCHORS, check=True)


def prompt_texts(tokenizer, rows: list[list[int]], n: int) -> list[tuple[str, list[int]]]:
    """For each row of random ids a text that the tokenizer turns into exactly n
    ids, with those ids. Ids whose piece is no whole UTF-8 text (byte-level BPE
    pieces of a multi-byte character) or a special token are dropped first:
    decoded alone they become U+FFFD. Decoding the rest and encoding again still
    merges some pieces, so the text is cut or extended (with the row's next
    usable pieces) until it encodes to n ids."""
    special = set(tokenizer.all_special_ids)
    out = []
    for row in rows:
        usable = [i for i in row if i not in special and "\ufffd" not in tokenizer.decode([i])]
        pool = iter(usable * 8)
        text = tokenizer.decode(usable[:n])
        for attempt in range(200):
            ids = tokenizer.encode(text, add_special_tokens=False)
            if len(ids) == n:
                break
            if len(ids) > n:
                # Cut a few more each time: a cut inside a word can re-merge.
                text = tokenizer.decode(ids[:n - attempt // 4])
            else:
                text += tokenizer.decode([next(pool)])
        else:
            raise RuntimeError(f"no text of exactly {n} tokens from {row[:8]}...")
        out.append((text, ids))
    return out


def torch_reference(folder: Path, ids: list[list[int]], prompt_ids: list[list[int]]) -> dict:
    """PyTorch float32: target log p of every position of `ids` (forward over
    T-1, as bench_torch) and the last-position log-probs of each prompt."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    x = torch.tensor(ids, dtype=torch.long)
    with torch.inference_mode():
        logp = model(input_ids=x[:, :-1], use_cache=False).logits.log_softmax(-1)
        target = logp.gather(-1, x[:, 1:, None])[..., 0].double().flatten().tolist()
        last = model(input_ids=torch.tensor(prompt_ids), use_cache=False).logits[:, -1].log_softmax(-1)
    return {"target_logp": target, "last_logp": last.double().numpy()}


def run_anchors(name: str, folder: Path, cache_dir: Path, batch: int, seq: int, warmup: int, repeats: int,
                seed: int, runs: str, splitmix64_ids) -> list[dict]:
    """Runs e2e/bench_anchors.mjs for `runs` (engine:device:threads, threads 0 =
    all cores) and returns one result per run, with `label` and
    `max_abs_dlogp` (against PyTorch) filled in."""
    from transformers import AutoTokenizer

    ensure_npm()
    out = cache_dir / "anchors" / folder.name
    check = make_anchor_models.make(folder, out)
    config = json.loads((folder / "config.json").read_text())
    ids = splitmix64_ids(seed, batch, seq, config["vocab_size"])
    prompts = prompt_texts(AutoTokenizer.from_pretrained(folder), ids, seq - 1)
    (out / "prompts.json").write_text(json.dumps({"texts": [t for t, _ in prompts], "ids": [i for _, i in prompts]}))
    ref = torch_reference(folder, ids, [i for _, i in prompts])
    cmd = ["node", str(ROOT / "e2e/bench_anchors.mjs"), "--models", str(out.parent), "--model", out.name,
           "--runs", runs, "--batch_size", str(batch), "--seq_len", str(seq), "--warmup", str(warmup),
           "--repeats", str(repeats), "--seed", str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT / "e2e")
    if proc.returncode != 0:
        print(f"[{' '.join(cmd)} failed: {proc.stderr.strip().splitlines()[-3:]}]", file=sys.stderr)
    results = []
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        if "error" in r:
            print(f"[{name} anchor {r['run']}: {r['error'][:600]}]", file=sys.stderr)
            continue
        engine, device, _ = r["run"].split(":")
        if engine == "tfjs":
            got = r.pop("target_logp")
            r["max_abs_dlogp"] = max(abs(a - b) for a, b in zip(got, ref["target_logp"]))
            r["onnxruntime_check"] = check  # the export's own check, before any browser ran
        else:
            if r["prompt_n"] != [seq - 1] * batch:
                print(f"[{name} wllama: llama.cpp evaluated {r['prompt_n']} prompt tokens, transformers' tokenizer "
                      f"{seq - 1}: the tokenizers disagree]", file=sys.stderr)
            # llama.cpp's top-K (id, log p) per prompt against PyTorch's log p of those ids.
            got = r["last_top_logprobs"]
            if any(len(g) < TOP_K for g in got):
                print(f"[{name} wllama: fewer than {TOP_K} log-probs returned]", file=sys.stderr)
            r["max_abs_dlogp"] = max((abs(lp - ref["last_logp"][b][i]) for b, g in enumerate(got) for i, lp in g),
                                     default=float("nan"))
            r["top_k"] = TOP_K
        threads = "1 thread" if r["threads"] == 1 else f"{r['threads']} threads"
        if r.get("threads", 1) > 1 and not r.get("cross_origin_isolated"):
            threads += " (not isolated: 1 in fact)"
        r["label"] = LABELS[(engine, device)].format(v=r.get("version") or "", t=threads,
                                                     a=(r.get("adapter") or "?").strip())
        r["label"] += "" if warmup else ", cold"
        results.append(r)
    return results
