#!/usr/bin/env python3
"""Golden values of tinyeval's task evaluator, from lm-eval-harness itself.

Usage (from the repository root, in the reference venv, see README.md here;
needs a release build of the CLI, `cargo build --release -p tinyeval`):

    python scripts/make_task_goldens.py [--model public/models/llama-2k-1m-random] [--limit 40]

The tasks lm-eval runs are tinyeval's own, exported by
`tinyeval export-lm-eval` (so this also checks that lm-eval 0.4.13 runs the
exported YAML as it is): built-in Leaner-GLUE and Leaner-Pretrain tasks, and
the test tasks in core/tests/fixtures/tasks/ (a loglikelihood and a
generate_until task), with {tinyhelen} = $TINYHELEN_DIR, else
../shared/data/tinyhelen.

Writes, under core/tests/fixtures/task_goldens/:

  bootstrap.json  lm-eval's bootstrap_stderr (--bootstrap_iters) of mcc and
                  f1, and sklearn's mcc and f1, on seeded (gold, pred) pairs.
  pyrandom.json   Python's random.Random(seed): getrandbits(32), random() and
                  sample(range(n), k) (several calls on one generator, as
                  lm-eval's few-shot sampler does), for the Rust port in
                  core/src/tasks/pyrandom.rs.
  <task>_<n>shot.json
                  lm-eval 0.4.13 (simple_evaluate, model "hf" on CPU in float32,
                  batch size 1, fewshot_random_seed 1234, --bootstrap_iters
                  (default 10000), --limit LIMIT, log_samples) on one task. Layout: task,
                  num_fewshot, limit, model, versions, `results` (lm-eval's
                  results entry of the task: metrics, stderrs), `bootstrap`
                  (for weighted_perplexity and bits_per_byte, which lm-eval
                  reports without a stderr: lm_eval.api.metrics.bootstrap_stderr
                  of the per-doc items, as tinyeval computes
                  it, same iterations), and per sample: doc_id, target, doc_hash, prompt_hash,
                  target_hash (lm-eval's), per request the context's length in
                  characters and zlib.crc32 of its UTF-8 bytes (no data text is
                  copied into the repository), the continuation (multiple
                  choice), the response (log-likelihood and is_greedy, or the
                  generated text), and the sample's metrics.

The model (a folder) is an argument, so the goldens can be remade for another
model (e.g. public/models/tinyhelen-1m); the Rust tests read the model from
each golden file.

Runs offline: HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1, a temporary datasets cache.
"""

import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/task_goldens"
TEST_TASKS = ROOT / "core/tests/fixtures/tasks"

GENRES = ["book", "code", "conversation", "math", "textbook", "web", "wiki"]
# (task, shots, limit or None for --limit)
RUNS = (
    [("leaner_glue_sst2", s, None) for s in (0, 2)]
    + [("leaner_glue_rte", s, None) for s in (0, 2)]
    + [("leaner_glue_cola", 0, None), ("leaner_glue_mrpc", 0, None), ("leaner_glue_mnli", 2, None)]
    + [("leaner_glue_qqp", 0, None), ("leaner_glue_qnli", 0, None), ("leaner_glue_wnli", 0, None),
       ("leaner_glue_mnli_mismatch", 0, None)]
    # Few docs per genre: book and conversation docs are whole books and
    # dialogues (tens of context windows each).
    + [(f"leaner_pretrain_ppl_{g}", 0, 4) for g in GENRES]
    + [("tinyeval_ll_sst2", 0, None), ("tinyeval_gen_sst2", 0, 12)]
)


def pyrandom_fixture():
    cases = []
    for seed in [0, 1, 42, 1234, 2**32 + 5, 2**40 + 7, -5]:
        r = random.Random(seed)
        bits = [r.getrandbits(32) for _ in range(5)]
        floats = [r.random() for _ in range(3)]
        r = random.Random(seed)
        samples = []
        for n, k in [(10, 3), (67, 3), (2490, 3), (2490, 1), (5, 5), (100, 30), (1000, 7), (22, 21), (3, 0)]:
            samples.append({"n": n, "k": k, "result": r.sample(range(n), k)})
        cases.append({"seed": seed, "getrandbits32": bits, "random": floats, "samples": samples})
    return cases


def bootstrap_fixture(iters):
    """lm-eval's bootstrap_stderr of mcc and f1 on seeded (gold, pred) pairs,
    with sklearn's values: the trained-model-free check of tinyeval's
    bootstrap (a random model's CoLA/MRPC predictions are one class, where
    mcc and f1 are 0 in every replicate)."""
    from lm_eval.api.metrics import bootstrap_stderr, f1_score, matthews_corrcoef

    cases = []
    for seed, n, classes in [(7, 50, 2), (8, 120, 2), (9, 60, 3)]:
        r = random.Random(seed)
        items = []
        for _ in range(n):
            g = r.randrange(classes)
            items.append((g, g if r.random() < 0.6 else r.randrange(classes)))
        case = {"seed": seed, "items": items, "iters": iters,
                "mcc": float(matthews_corrcoef(items)),
                "mcc_stderr": float(bootstrap_stderr(matthews_corrcoef, items, iters))}
        if classes == 2:
            case["f1"] = float(f1_score(items))
            case["f1_stderr"] = float(bootstrap_stderr(f1_score, items, iters))
        cases.append(case)
    return cases


def text_fingerprint(text):
    return {"chars": len(text), "crc32": zlib.crc32(text.encode("utf-8"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="public/models/llama-2k-1m-random", help="model folder, relative to the repository")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--tinyeval", default=str(ROOT / "target/release/tinyeval"))
    ap.add_argument("--only", default=None, help="comma-separated task names to remake")
    # lm-eval's default is 100000; its procedure (chunks of 1000 replicates,
    # chunk i drawn with random.Random(i)) is the same at any count, and
    # sklearn's mcc/f1 100000 times take minutes per task.
    ap.add_argument("--bootstrap_iters", type=int, default=10000)
    args = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pyrandom.json").write_text(json.dumps(pyrandom_fixture(), indent=1) + "\n")

    tinyhelen = pathlib.Path(os.environ.get("TINYHELEN_DIR", ROOT.parent / "shared/data/tinyhelen")).resolve()
    if not tinyhelen.is_dir():
        sys.exit(f"TinyHelen folder not found: {tinyhelen} (set TINYHELEN_DIR)")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tinyeval-task-goldens-"))
    os.environ["HF_DATASETS_CACHE"] = str(tmp / "datasets-cache")

    os.environ["DISABLE_MULTIPROC"] = "1"
    (OUT / "bootstrap.json").write_text(json.dumps(bootstrap_fixture(args.bootstrap_iters), indent=1) + "\n")
    del os.environ["DISABLE_MULTIPROC"]

    runs = RUNS
    if args.only:
        keep = set(args.only.split(","))
        runs = [r for r in RUNS if r[0] in keep]
    if not runs:
        return
    yaml_dir = tmp / "tasks"
    names = sorted({t for t, _, _ in runs})
    subprocess.run(
        [args.tinyeval, "export-lm-eval", "--tasks", ",".join(names), "--include_path", str(TEST_TASKS),
         "--output_path", str(yaml_dir)],
        check=True, env={**os.environ, "TINYHELEN_DIR": str(tinyhelen)},
    )

    import lm_eval
    import numpy
    import torch
    import transformers
    from lm_eval.api.metrics import bits_per_byte, bootstrap_stderr, weighted_perplexity
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(yaml_dir))
    versions = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "0.4.13",
    }
    for name, shots, limit in runs:
        limit = limit or args.limit
        out = lm_eval.simple_evaluate(
            model="hf",
            model_args=f"pretrained={ROOT / args.model},dtype=float32,device=cpu",
            tasks=[name],
            num_fewshot=shots,
            batch_size=1,
            limit=limit,
            log_samples=True,
            task_manager=manager,
            bootstrap_iters=args.bootstrap_iters,
            random_seed=0,
            numpy_random_seed=1234,
            torch_random_seed=1234,
            fewshot_random_seed=1234,
        )
        res = out["results"][name]
        samples = []
        raw = {}
        for s in sorted(out["samples"][name], key=lambda s: s["doc_id"]):
            requests = []
            for args_, resp in zip(s["arguments"], s["filtered_resps"]):
                args_ = list(args_.values()) if isinstance(args_, dict) else list(args_)
                req = {"arg0": text_fingerprint(args_[0])}
                if len(args_) > 1 and isinstance(args_[1], str):
                    req["continuation"] = args_[1]
                if isinstance(resp, (list, tuple)):
                    req["loglikelihood"] = float(resp[0])
                    req["is_greedy"] = bool(resp[1])
                elif isinstance(resp, str):
                    req["generated"] = resp
                else:
                    req["loglikelihood"] = float(resp)
                requests.append(req)
            metrics = {}
            for m in s["metrics"]:
                v = s[m]
                # numpy scalars (argmax's pred) as plain numbers.
                metrics[m] = [x.item() if hasattr(x, "item") else x for x in v] if isinstance(v, (list, tuple)) else float(v)
                raw.setdefault(m, []).append(v)
            samples.append({
                "doc_id": s["doc_id"],
                "target": str(s["target"]),
                "doc_hash": s["doc_hash"],
                "prompt_hash": s["prompt_hash"],
                "target_hash": s["target_hash"],
                "requests": requests,
                "metrics": metrics,
            })
        bootstrap = {}
        os.environ["DISABLE_MULTIPROC"] = "1"
        for m, agg in [("word_perplexity", weighted_perplexity), ("byte_perplexity", weighted_perplexity),
                       ("bits_per_byte", bits_per_byte)]:
            if m in raw:
                bootstrap[m] = bootstrap_stderr(agg, [tuple(x) for x in raw[m]], iters=args.bootstrap_iters)
        del os.environ["DISABLE_MULTIPROC"]
        golden = {
            "task": name,
            "num_fewshot": shots,
            "limit": limit,
            "bootstrap_iters": args.bootstrap_iters,
            "model": args.model,
            "versions": versions,
            "results": {k: v for k, v in res.items() if k not in ("alias", "name")},
            "bootstrap": bootstrap,
            "samples": samples,
        }
        path = OUT / f"{name}_{shots}shot.json"
        path.write_text(json.dumps(golden, indent=1) + "\n")
        shown = {k: v for k, v in res.items() if "," in k and "stderr" not in k}
        print(f"{path.relative_to(ROOT)}: {shown}", flush=True)


if __name__ == "__main__":
    main()
