"""Scoring throughput: tinyeval's native backends side by side with PyTorch.

For each model, in one invocation on one machine:

- PyTorch: transformers in float32, ``torch.set_num_threads(os.cpu_count())``,
  ``torch.inference_mode()``; the forward over the first T-1 tokens of B
  sequences, then log_softmax, gather of the T-1 next tokens, mean and variance
  of log p and argmax over the vocabulary (what tinyeval's ``score_batch``
  computes and reads back).
- tinyeval: ``tinyeval bench`` (a subprocess) with ``--backend cpu`` (burn
  flex) and ``--backend wgpu`` when a Vulkan/Metal/DX12 adapter exists (on a
  machine without a GPU that may be mesa's lavapipe/llvmpipe: a CPU emulating a
  GPU).

Both sides score the same token ids (splitmix64 from ``--seed``, as in
cli/src/bench.rs) with the same weights, and the script checks that their mean
log-probs agree. Throughput is B x T tokens per second, from the median of
``--repeats`` timed runs after one warm-up (wgpu: ``--wgpu-repeats`` runs; for
SmolLM2 on a software adapter a batch takes about two minutes, so it gets one
cold run and no warm-up). ``--single-thread`` adds PyTorch and tinyeval's cpu
backend on one thread each (``RAYON_NUM_THREADS=1``): on a machine that other
work keeps busy, PyTorch's OpenMP threads slow down badly when a core is taken,
so the one-thread rows are the steadier per-core comparison.

With the CPU backend comes ``tinyeval logprobs`` on varied real texts (the
first ``--real-texts`` documents of each of Leaner-Pretrain validation's wiki,
textbook and web files; ``--tinyhelen`` or ``$TINYHELEN_DIR``), its scored
tokens per second of wall time less loading, and its ratio to ``tinyeval
bench``'s synthetic batch.

``--browser`` adds the page's ``?bench`` mode (app/src/bench_page.rs) in
headless Chromium through ``e2e/bench.mjs``, on WebGPU (here Chromium's
SwiftShader software adapter) and on the CPU backend with one Web Worker and
with one a core (each worker's wasm on one thread; its ratio is to PyTorch on
as many threads); build the site first (scripts/build-site.sh).
With it come the anchors (bench_anchors.py; ``--no-anchors`` skips them):
transformers.js on an ONNX export of the same weights (wasm execution provider
on 1 thread and on all cores, WebGPU execution provider) and wllama on an F32
GGUF of them (1 thread, all cores), in the same Chromium with the same B and T,
each with its max |d log p| against PyTorch; the table adds every row's ratio
to transformers.js on wasm (its faster thread setting). wllama 3.x returns
last-position log-probs only and takes text, so its rows time prompt
evaluation of B prompts of T-1 tokens, not full scoring.

Models: the demo model (public/models/tinyhelen-1m) and, when a GGUF of
SmolLM2-135M is given (``--smollm2-gguf`` or ``$TINYEVAL_BENCH_SMOLLM2_GGUF``),
SmolLM2-135M: transformers loads the GGUF (dequantized to float32) once and
saves it with ``save_pretrained`` under ``--cache-dir`` (outside the
repository), and both sides load that folder.

Usage (from the repository root, after ``cargo build --release -p tinyeval``):

    /root/venvs/tinyeval-ref/bin/python scripts/bench.py \\
        --smollm2-gguf /path/to/SmolLM2-135M-Instruct.Q4_1.gguf
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
MASK64 = (1 << 64) - 1


def splitmix64_ids(seed: int, batch: int, seq: int, vocab: int) -> list[list[int]]:
    """The token ids of cli/src/bench.rs `token_ids`."""
    state = seed & MASK64
    rows = []
    for _ in range(batch):
        row = []
        for _ in range(seq):
            state = (state + 0x9E3779B97F4A7C15) & MASK64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            z ^= z >> 31
            row.append(z % vocab)
        rows.append(row)
    return rows


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def vulkan_adapters() -> list[str]:
    """Device names from `vulkaninfo --summary`, if it is installed."""
    if not shutil.which("vulkaninfo"):
        return []
    try:
        out = subprocess.run(["vulkaninfo", "--summary"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split("=", 1)[1].strip() for line in out.splitlines() if line.strip().startswith("deviceName")]


def smollm2_folder(gguf: Path, cache_dir: Path) -> Path:
    """SmolLM2's GGUF dequantized to float32 by transformers and saved as a model folder (once)."""
    out = cache_dir / "smollm2-135m"
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"[converting {gguf} to {out} (once)]", file=sys.stderr)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The tensors are plain float32 now; only the GGUF marker stops save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(out)
    return out


def bench_torch(folder: Path, batch: int, seq: int, repeats: int, seed: int, threads: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    load_s = time.perf_counter() - t0
    vocab = model.config.vocab_size
    ids = torch.tensor(splitmix64_ids(seed, batch, seq, vocab), dtype=torch.long)
    inputs, targets = ids[:, :-1], ids[:, 1:]

    def score():
        with torch.inference_mode():
            logits = model(input_ids=inputs, use_cache=False).logits  # [B, T-1, V] float32
            logp = logits.log_softmax(-1)
            target_logp = logp.gather(-1, targets[..., None])[..., 0]
            p = logp.exp()
            mean = (p * logp).sum(-1)
            var = (p * (logp - mean[..., None]).square()).sum(-1)
            greedy = logits.argmax(-1) == targets
            # The host copy tinyeval reads back.
            return torch.stack([target_logp, mean, var, greedy.float()], -1).numpy().copy()

    t = time.perf_counter()
    stats = score()
    warmup_s = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        score()
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    del model
    return {
        "backend": "pytorch",
        "threads": torch.get_num_threads(),
        "load_s": load_s,
        "warmup_s": warmup_s,
        "times_s": times,
        "median_s": median,
        "tokens_per_s": batch * seq / median,
        "mean_logprob": float(stats[..., 0].astype("float64").mean()),
        "mean_entropy": -float(stats[..., 1].astype("float64").mean()),
    }


def bench_cli(cli: Path, model: Path, backend: str, batch: int, seq: int, warmup: int, repeats: int, seed: int,
              threads: int | None = None) -> dict | None:
    cmd = [str(cli), "bench", "--model", str(model), "--backend", backend, "--batch_size", str(batch),
           "--seq_len", str(seq), "--warmup", str(warmup), "--repeats", str(repeats), "--seed", str(seed)]
    env = dict(os.environ)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"[{' '.join(cmd)} failed: {proc.stderr.strip().splitlines()[-1:]}]", file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def bench_browser(model: Path, batch: int, seq: int, warmup: int, repeats: int, seed: int,
                  backends: str) -> list[dict]:
    """e2e/bench.mjs: the built site's `?bench` page in headless Chromium, one
    result per backend (webgpu, cpu). A model outside the site is mounted."""
    try:
        url = model.resolve().relative_to((ROOT / "public").resolve()).as_posix() + "/"
        mount = []
    except ValueError:
        url, mount = "bench-model/", ["--mount", f"/bench-model/={model}"]
    cmd = ["node", str(ROOT / "e2e/bench.mjs"), "--model", url, *mount, "--backends", backends,
           "--batch_size", str(batch), "--seq_len", str(seq), "--warmup", str(warmup),
           "--repeats", str(repeats), "--seed", str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT / "e2e")
    if proc.returncode != 0:
        print(f"[{' '.join(cmd)} failed: {proc.stderr.strip().splitlines()[-3:]}]", file=sys.stderr)
        return []
    out = []
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        if "error" in r:
            print(f"[browser {r['backend']}: {r['error']}]", file=sys.stderr)
        else:
            out.append(r)
    return out


def real_texts(tinyhelen: Path, out: Path, per_genre: int) -> Path:
    """Varied real texts: the first ``per_genre`` documents of Leaner-Pretrain
    10M validation's wiki, textbook and web files (a few words to whole
    articles, so short texts and rolling windows mix), as logprobs' JSONL."""
    lines = []
    for genre in ("wiki", "textbook", "web"):
        with open(tinyhelen / f"data/leaner/10M/validation/{genre}0000.jsonl", encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n >= per_genre:
                    break
                lines.append(json.dumps({"text": json.loads(line)["text"]}))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def bench_logprobs(cli: Path, model: Path, texts: Path, load_s: float) -> dict | None:
    """``tinyeval logprobs`` (cpu, default batch) on ``texts``: scored tokens per
    second of wall time less the model's load time (as ``tinyeval bench`` measured it)."""
    start = time.perf_counter()
    proc = subprocess.run([str(cli), "logprobs", "--model", str(model), "--input", str(texts)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"[tinyeval logprobs failed: {proc.stderr.strip()[-300:]}]", file=sys.stderr)
        return None
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    scored = sum(sum(1 for lp in r["logprobs"] if lp is not None) for r in rows)
    seconds = max(wall - load_s, 1e-9)
    return {"texts": len(rows), "scored_tokens": scored, "seconds": seconds, "tokens_per_s": scored / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", type=Path, default=ROOT / "target/release/tinyeval")
    ap.add_argument("--smollm2-gguf", type=Path, default=os.environ.get("TINYEVAL_BENCH_SMOLLM2_GGUF"))
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache/tinyeval-bench")
    ap.add_argument("--backends", default="cpu,wgpu", help="tinyeval backends, comma-separated (cpu, wgpu, ndarray)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up (CPU paths)")
    ap.add_argument("--wgpu-repeats", type=int, default=1, help="timed runs on wgpu")
    ap.add_argument("--single-thread", action="store_true",
                    help="also compare PyTorch and tinyeval's cpu backend on one thread each (robust on a busy machine)")
    ap.add_argument("--browser", action="store_true",
                    help="also run the built site (dist/, scripts/build-site.sh) in headless Chromium, on WebGPU and on "
                         "the CPU backend (its Web Workers: one, and one a core), compared with PyTorch on as many threads")
    ap.add_argument("--browser-large-backends", default="cpu:1,cpu",
                    help="browser backends for SmolLM2 (Chromium's software WebGPU, SwiftShader, scores the demo model "
                         "at ~130 tokens/s, so SmolLM2 would take about half an hour: add webgpu on a real GPU)")
    ap.add_argument("--no-anchors", action="store_true",
                    help="with --browser, skip the transformers.js and wllama rows (bench_anchors.py)")
    ap.add_argument("--anchor-runs", default="tfjs:wasm:1,tfjs:wasm:0,tfjs:webgpu:1,wllama:wasm:1,wllama:wasm:0",
                    help="anchor runs for the demo model, engine:device:threads (0: all cores)")
    ap.add_argument("--anchor-large-runs", default="tfjs:wasm:1,tfjs:wasm:0,wllama:wasm:1,wllama:wasm:0",
                    help="anchor runs for SmolLM2 (transformers.js on SwiftShader WebGPU would take about half an "
                         "hour: add tfjs:webgpu:1 on a real GPU)")
    ap.add_argument("--tinyhelen", type=Path, default=Path(os.environ.get("TINYHELEN_DIR", ROOT.parent / "shared/data/tinyhelen")),
                    help="TinyHelen's data folder, for the logprobs row on real texts")
    ap.add_argument("--real-texts", type=int, default=100, help="documents per genre for the logprobs row (demo model)")
    ap.add_argument("--real-texts-large", type=int, default=4, help="documents per genre for the logprobs row (SmolLM2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write every result here")
    args = ap.parse_args()

    import torch
    import transformers

    if not args.cli.exists():
        sys.exit(f"{args.cli} not found: run `cargo build --release -p tinyeval` first")
    adapters = vulkan_adapters()
    backends = [b for b in args.backends.split(",") if b]
    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torch_threads": os.cpu_count(),
        "vulkan_adapters": adapters,
        "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}")
    print(f"torch {machine['torch']} (threads {machine['torch_threads']}), transformers {machine['transformers']}")
    print(f"vulkan adapters: {', '.join(adapters) or 'none found'}; load average {machine['load_average'][0]:.2f}")
    print(f"B={args.batch_size} sequences x T={args.seq_len} tokens; median of {args.repeats} runs after a warm-up "
          f"(wgpu: {args.wgpu_repeats}; SmolLM2 on wgpu: no warm-up)\n")

    models = [("tinyhelen-1m", ROOT / "public/models/tinyhelen-1m")]
    if args.smollm2_gguf:
        models.append(("SmolLM2-135M", smollm2_folder(args.smollm2_gguf, args.cache_dir)))
    else:
        print("[no --smollm2-gguf: SmolLM2-135M skipped]\n", file=sys.stderr)

    cores = os.cpu_count() or 1
    results = []
    rows = []

    def add(name: str, label: str, r: dict, ref: dict) -> None:
        if "mean_logprob" in r and abs(r["mean_logprob"] - ref["mean_logprob"]) > 1e-3:
            print(f"[warning: {name} {label}: mean log-prob {r['mean_logprob']:.6f} vs PyTorch {ref['mean_logprob']:.6f}]",
                  file=sys.stderr)
        if r.get("max_abs_dlogp", 0) > 1e-3:
            print(f"[warning: {name} {label}: max |d log p| {r['max_abs_dlogp']:.2e} against PyTorch]", file=sys.stderr)
        results.append({"model": name, "path": label, **r})
        rows.append((name, label, r["tokens_per_s"], r["tokens_per_s"] / ref["tokens_per_s"], r))

    for i, (name, folder) in enumerate(models):
        ref = bench_torch(folder, args.batch_size, args.seq_len, args.repeats, args.seed, cores)
        add(name, f"PyTorch {torch.__version__.split('+')[0]}, {cores} threads", ref, ref)
        for backend in backends:
            if backend == "wgpu":
                if not adapters and shutil.which("vulkaninfo"):
                    continue
                # A batch of a 100M+ model takes minutes on a software adapter: one cold run only.
                warmup = 1 if i == 0 else 0
                r = bench_cli(args.cli, folder, backend, args.batch_size, args.seq_len, warmup, args.wgpu_repeats, args.seed)
                label = f"tinyeval wgpu ({adapters[0] if adapters else 'adapter'}){'' if warmup else ', cold'}"
            else:
                r = bench_cli(args.cli, folder, backend, args.batch_size, args.seq_len, 1, args.repeats, args.seed)
                label = f"tinyeval {backend} (burn {'flex' if backend == 'cpu' else backend}), {r['threads'] if r else '?'} threads"
            if r is not None:
                add(name, label, r, ref)
                if backend == "cpu" and (args.tinyhelen / "data/leaner/10M/validation").is_dir():
                    # The real workload beside the synthetic batch: varied texts through `tinyeval logprobs`.
                    per_genre = args.real_texts if i == 0 else args.real_texts_large
                    texts = real_texts(args.tinyhelen, args.cache_dir / f"real_texts_{per_genre}.jsonl", per_genre)
                    lp = bench_logprobs(args.cli, folder, texts, r.get("load_s", 0.0))
                    if lp is not None:
                        add(name, f"tinyeval logprobs, real texts ({lp['texts']} Leaner-Pretrain docs, "
                                  f"{lp['scored_tokens']:,} tokens): {lp['tokens_per_s'] / r['tokens_per_s']:.2f}x tinyeval bench", lp, ref)
        ref1 = None
        if (args.single_thread or args.browser) and cores > 1:
            ref1 = bench_torch(folder, args.batch_size, args.seq_len, args.repeats, args.seed, 1)
            add(name, f"PyTorch {torch.__version__.split('+')[0]}, 1 thread", ref1, ref1)
        if args.single_thread and cores > 1:
            r = bench_cli(args.cli, folder, "cpu", args.batch_size, args.seq_len, 1, args.repeats, args.seed, threads=1)
            if r is not None:
                add(name, "tinyeval cpu (burn flex), 1 thread", r, ref1)
        if args.browser:
            # A 100M+ model takes minutes per batch in the browser: one cold run only.
            warmup, repeats = (1, args.repeats) if i == 0 else (0, 1)
            browser_backends = "webgpu,cpu:1,cpu" if i == 0 else args.browser_large_backends
            for r in bench_browser(folder, args.batch_size, args.seq_len, warmup, repeats, args.seed, browser_backends):
                cold = "" if warmup else ", cold"
                if r["backend"] == "cpu":
                    # Each worker's wasm runs on one thread: compare with PyTorch on as many.
                    n = r["threads"]
                    add(name, f"browser CPU (wasm, burn flex, {n} worker{'s' if n > 1 else ''}{cold})", r,
                        (ref1 or ref) if n == 1 else ref)
                else:
                    add(name, f"browser WebGPU ({r['adapter'].removeprefix('WebGPU · ')}{cold})", r, ref)
            if not args.no_anchors:
                import bench_anchors

                # Like the page's rows, but a warm-up first for SmolLM2 too (about 20 s a batch).
                runs = args.anchor_runs if i == 0 else args.anchor_large_runs
                for r in bench_anchors.run_anchors(name, folder, args.cache_dir, args.batch_size, args.seq_len, 1,
                                                   repeats, args.seed, runs, splitmix64_ids):
                    one = r["threads"] == 1 and r["device"] == "wasm"
                    add(name, r["label"] + ("" if i == 0 else ", one run"), r, (ref1 or ref) if one else ref)

    print(f"load average after: {os.getloadavg()[0]:.2f}\n")
    # The anchor each row is also compared with: transformers.js on wasm, its faster thread setting.
    tfjs_best = {}
    for name, _, tps, _, r in rows:
        if r.get("run", "").startswith("tfjs:wasm:"):
            tfjs_best[name] = max(tfjs_best.get(name, 0.0), tps)
    print("| model | path | tokens/s | ratio to PyTorch (same threads) | ratio to transformers.js wasm (best) "
          "| max abs Δ log p vs PyTorch |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, label, tps, ratio, r in rows:
        to_tfjs = f"{tps / tfjs_best[name]:.2f}" if name in tfjs_best else "-"
        dlogp = f"{r['max_abs_dlogp']:.1e}" if "max_abs_dlogp" in r else "-"
        print(f"| {name} | {label} | {tps:,.0f} | {ratio:.2f} | {to_tfjs} | {dlogp} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "args": {k: str(v) for k, v in vars(args).items()},
                                         "results": results}, indent=1))


if __name__ == "__main__":
    main()
