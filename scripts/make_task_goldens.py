#!/usr/bin/env python3
"""Golden values of tinyeval's task evaluator, from lm-eval-harness itself.

Usage (from the repository root, in the reference venv, see README.md here):

    python scripts/make_task_goldens.py

Writes, under core/tests/fixtures/task_goldens/:

  pyrandom.json   Python's random.Random(seed): getrandbits(32), random() and
                  sample(range(n), k) (several calls on one generator, as
                  lm-eval's few-shot sampler does), for the Rust port in
                  core/src/tasks/pyrandom.rs.
  <task>_<n>shot.json
                  lm-eval 0.4.13 (simple_evaluate, model "hf" on CPU in float32,
                  batch size 1, fewshot_random_seed 1234, --limit LIMIT,
                  log_samples) on the built-in tasks core/src/tasks/builtin/
                  sst2.yaml and rte.yaml, with their data files resolved to the
                  TinyHelen folder ({tinyhelen} = $TINYHELEN_DIR, else
                  ../shared/data/tinyhelen) and the task renamed tinyeval_<task>
                  (so as not to clash with lm-eval's own glue tasks). Model:
                  public/models/llama-2k-1m-random. Layout: task, num_fewshot,
                  limit, model, versions, acc and acc_norm (aggregated), and per
                  sample: doc_id, target, per choice the context's length in
                  characters and zlib.crc32 of its UTF-8 bytes (no data text is
                  copied into the repository), the continuation, and the
                  log-likelihood lm-eval returned; with the sample's acc and
                  acc_norm.

Runs offline: HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1, a temporary datasets cache.
"""

import json
import os
import pathlib
import random
import sys
import tempfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/task_goldens"
MODEL = "public/models/llama-2k-1m-random"
LIMIT = 40
TASKS = ["sst2", "rte"]
SHOTS = [0, 2]


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


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pyrandom.json").write_text(json.dumps(pyrandom_fixture(), indent=1) + "\n")

    tinyhelen = pathlib.Path(os.environ.get("TINYHELEN_DIR", ROOT.parent / "shared/data/tinyhelen")).resolve()
    if not tinyhelen.is_dir():
        sys.exit(f"TinyHelen folder not found: {tinyhelen} (set TINYHELEN_DIR)")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tinyeval-task-goldens-"))
    os.environ["HF_DATASETS_CACHE"] = str(tmp / "datasets-cache")

    import lm_eval
    import numpy
    import torch
    import transformers
    from lm_eval.tasks import TaskManager

    yaml_dir = tmp / "tasks"
    yaml_dir.mkdir()
    for task in TASKS:
        text = (ROOT / f"core/src/tasks/builtin/{task}.yaml").read_text()
        text = text.replace("{tinyhelen}", str(tinyhelen)).replace(f"task: {task}\n", f"task: tinyeval_{task}\n")
        (yaml_dir / f"{task}.yaml").write_text(text)
    manager = TaskManager(include_path=str(yaml_dir))
    versions = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "0.4.13",
    }
    for task in TASKS:
        for shots in SHOTS:
            name = f"tinyeval_{task}"
            out = lm_eval.simple_evaluate(
                model="hf",
                model_args=f"pretrained={ROOT / MODEL},dtype=float32,device=cpu",
                tasks=[name],
                num_fewshot=shots,
                batch_size=1,
                limit=LIMIT,
                log_samples=True,
                task_manager=manager,
                random_seed=0,
                numpy_random_seed=1234,
                torch_random_seed=1234,
                fewshot_random_seed=1234,
            )
            res = out["results"][name]
            samples = []
            for s in sorted(out["samples"][name], key=lambda s: s["doc_id"]):
                choices = []
                for args, resp in zip(s["arguments"], s["filtered_resps"]):
                    ctx, cont = (args["arg_0"], args["arg_1"]) if isinstance(args, dict) else (args[0], args[1])
                    choices.append({
                        "context_chars": len(ctx),
                        "context_crc32": zlib.crc32(ctx.encode("utf-8")),
                        "continuation": cont,
                        "loglikelihood": float(resp[0]),
                        "is_greedy": bool(resp[1]),
                    })
                samples.append({
                    "doc_id": s["doc_id"],
                    "target": s["target"],
                    "choices": choices,
                    "acc": s["acc"],
                    "acc_norm": s["acc_norm"],
                })
            golden = {
                "task": task,
                "num_fewshot": shots,
                "limit": LIMIT,
                "model": MODEL,
                "versions": versions,
                "acc": res["acc,none"],
                "acc_norm": res["acc_norm,none"],
                "acc_stderr": res["acc_stderr,none"],
                "samples": samples,
            }
            path = OUT / f"{task}_{shots}shot.json"
            path.write_text(json.dumps(golden, indent=1) + "\n")
            print(f"{path.relative_to(ROOT)}: acc {golden['acc']:.4f} acc_norm {golden['acc_norm']:.4f}")


if __name__ == "__main__":
    main()
