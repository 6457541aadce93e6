#!/usr/bin/env python3
"""The dose-response figures of the demo twin tinyhelen-1m-dose: runs
`tinyeval contamination` (the release binary; build it first with
`cargo build --release -p tinyeval`) on the twin with its manifest for the five
tasks and every method, then writes, into the model folder,

- dose_response.json: per task, each exposure count's AUROC against the
  held-out items per method, as tinyeval reported it (`dose_response` of
  contamination_summary.json), and the mean over the five tasks;
- dose_response.png: AUROC against exposures (log2 axis), one line per method,
  the mean over the five tasks (matplotlib).

The model card (scripts/write_model_cards.py) and the README show both.

    python scripts/plot_dose_response.py [--tinyeval target/release/tinyeval]
"""

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "public/models/tinyhelen-1m-dose"
TASKS = ["demo_sentiment", "demo_yesno", "leaner_glue_sst2", "leaner_glue_rte", "leaner_glue_cola"]
METHODS = ["loss", "zlib", "lowercase", "mink", "minkpp", "recall", "dcpdd"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tinyeval", type=Path, default=ROOT / "target/release/tinyeval")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([str(args.tinyeval), "contamination", "--model", str(MODEL), "--tasks", ",".join(TASKS),
                        "--manifest", str(MODEL / "membership.jsonl"), "--methods", ",".join(METHODS),
                        "--recall_shots", "4", "--bootstrap", "0", "--output_path", out], check=True, cwd=ROOT)
        summary = json.loads((Path(out) / "contamination_summary.json").read_text())
    per_task = {t: {str(row["count"]): dict(row["aurocs"]) for row in summary["tasks"][t]["dose_response"]} for t in TASKS}
    counts = sorted({int(c) for t in per_task.values() for c in t}, key=int)
    mean = {m: {str(c): sum(per_task[t][str(c)][m] for t in TASKS) / len(TASKS) for c in counts} for m in METHODS}
    blind = {t: summary["tasks"][t]["blind_baseline"]["metrics"]["auroc"] for t in TASKS}
    (MODEL / "dose_response.json").write_text(json.dumps({
        "tasks": TASKS, "counts": counts, "per_task": per_task, "mean_over_tasks": mean,
        "blind_baseline_auroc": blind, "how": "tinyeval contamination --recall_shots 4 --bootstrap 0 (scripts/plot_dose_response.py)",
    }, indent=1) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for m in METHODS:
        ax.plot(counts, [mean[m][str(c)] for c in counts], marker="o", lw=1.5, label=m)
    ax.axhline(0.5, color="#888", lw=0.8, ls="--")
    ax.text(counts[0], 0.51, "chance", color="#888", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_xlabel("times each item was in the training data")
    ax.set_ylabel("AUROC against held-out items")
    ax.set_title("tinyhelen-1m-dose: detection against exposures (mean of 5 tasks)", fontsize=10)
    ax.set_ylim(0.4, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(MODEL / "dose_response.png")
    print(f"wrote {MODEL / 'dose_response.json'} and dose_response.png")
    for m in METHODS:
        print(f"{m:10s} " + "  ".join(f"{c:>2}x {mean[m][str(c)]:.3f}" for c in counts))


if __name__ == "__main__":
    main()
