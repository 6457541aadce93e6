#!/usr/bin/env python3
"""Goldens for the linear probe (core/src/probe.rs), from transformers'
hidden states and scikit-learn, never from tinyeval.

For slices of Leaner-GLUE (every k-th item, k = len // n) CoLA, MRPC, STS-B and MNLI (read from the TinyHelen
folder, never copied), with the model given by --model (default
public/models/llama-2k-1m-random; the Rust test reads it from the golden):
- features: `model(**tokenizer(text), output_hidden_states=True).hidden_states[-1]`
  (after the final norm) averaged over the text's tokens, one text at a time
  (no padding), the text being the task's fields joined by "\\n";
- `StandardScaler` fitted on the training features;
- `LogisticRegression(C=1.0, solver="lbfgs", tol=1e-12, max_iter=100000)`
  (binary for CoLA/MRPC, multinomial for MNLI) or `Ridge(alpha=1.0)` (STS-B);
- the evaluation items' probabilities (or values), predictions, and GLUE's
  metrics: sklearn's matthews_corrcoef, f1_score, accuracy_score; SciPy's
  pearsonr and spearmanr.

Writes core/tests/fixtures/analysis/probe_goldens.json (the first 3 training
features, the fitted coefficients, the evaluation outputs), checked by
core/tests/probe.rs. The TinyHelen folder is $TINYHELEN_DIR, else
../shared/data/tinyhelen.

    /root/venvs/tinyeval-ref/bin/python scripts/make_probe_goldens.py [--model public/models/tinyhelen-1m]   # about 20 s
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import scipy.stats
import sklearn
import torch
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from sklearn.preprocessing import StandardScaler
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/analysis/probe_goldens.json"
GLUE = Path(os.environ.get("TINYHELEN_DIR", ROOT.parent / "shared/data/tinyhelen")) / "data/leaner/glue"

# (task, fields, classes (0 = regression), train split, eval split, n_train, n_eval, metrics)
CASES = [
    ("cola", ["sentence"], 2, "train", "test", 200, 100, ["mcc"]),
    ("mrpc", ["sentence1", "sentence2"], 2, "train", "test", 200, 100, ["f1", "acc"]),
    ("stsb", ["sentence1", "sentence2"], 0, "train", "validation", 200, 100, ["pearson", "spearman"]),
    ("mnli", ["premise", "hypothesis"], 3, "validation_matched", "test_matched", 200, 100, ["acc"]),
]


def items(task, split, fields, n):
    rows = [json.loads(l) for l in (GLUE / f"{task}_{split}.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    rows = rows[:: max(1, len(rows) // n)][:n]  # a stride: some files are sorted by label
    return ["\n".join(r[f] for f in fields) for r in rows], np.array([float(r["label"]) for r in rows])


@torch.no_grad()
def features(model, tok, texts):
    out = []
    for t in texts:
        enc = tok(t, return_tensors="pt")
        ids = enc["input_ids"][:, : model.config.max_position_embeddings]
        h = model(input_ids=ids, output_hidden_states=True).hidden_states[-1][0]
        out.append(h.double().mean(0).numpy())
    return np.stack(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="public/models/llama-2k-1m-random", help="model folder, relative to the repository")
    args = ap.parse_args()
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(ROOT / args.model)
    model = AutoModelForCausalLM.from_pretrained(ROOT / args.model, dtype=torch.float32).eval()
    golden = {"sklearn": sklearn.__version__, "model": args.model, "cases": []}
    for task, fields, classes, train_split, eval_split, n_train, n_eval, metrics in CASES:
        xt, yt = items(task, train_split, fields, n_train)
        xe, ye = items(task, eval_split, fields, n_eval)
        ft, fe = features(model, tok, xt), features(model, tok, xe)
        scaler = StandardScaler().fit(ft)
        st, se = scaler.transform(ft), scaler.transform(fe)
        if classes == 0:
            clf = Ridge(alpha=1.0).fit(st, yt)
            proba = clf.predict(se)[:, None]
            pred = clf.predict(se)
            coef, intercept = clf.coef_[None, :], np.atleast_1d(clf.intercept_)
        else:
            clf = LogisticRegression(C=1.0, solver="lbfgs", tol=1e-12, max_iter=100000).fit(st, yt.astype(int))
            proba = clf.predict_proba(se)
            pred = clf.predict(se).astype(float)
            coef, intercept = clf.coef_, clf.intercept_
        values = {
            "acc": lambda: accuracy_score(ye, pred),
            "mcc": lambda: matthews_corrcoef(ye, pred),
            "f1": lambda: f1_score(ye, pred),
            "pearson": lambda: scipy.stats.pearsonr(ye, pred)[0],
            "spearman": lambda: scipy.stats.spearmanr(ye, pred)[0],
        }
        golden["cases"].append({
            "task": task, "train_split": train_split, "eval_split": eval_split,
            "n_train": n_train, "n_eval": n_eval,
            "train_features_head": ft[:3].tolist(),
            "coef": coef.tolist(), "intercept": intercept.tolist(),
            "eval_proba": proba.tolist(), "eval_pred": pred.tolist(),
            "metrics": {m: float(values[m]()) for m in metrics},
        })
        print(task, {m: round(float(values[m]()), 4) for m in metrics})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
