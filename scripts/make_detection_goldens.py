#!/usr/bin/env python3
"""Goldens for the pretraining-data detection scores and their metrics.

Writes core/tests/fixtures/detection_goldens.json, checked by
core/tests/detection.rs. Everything expected here is computed with NumPy
(scores, from the formulas in core/src/detection.rs's docs), Python's zlib
(compressed lengths) and scikit-learn (ROC curve, AUROC), never from tinyeval.

Inputs are generated with a fixed NumPy seed: per-token log-probs, and the mean
and variance of log p under the predicting distribution, as float32 (what
tinyeval's scoring returns), for texts of many lengths; scores and labels for
the metrics, with ties.

    /root/venvs/tinyeval-ref/bin/python scripts/make_detection_goldens.py
"""

import json
import platform
import zlib
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/detection_goldens.json"
KS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.9, 1.0]


def f32_list(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def token_scores(rng, n):
    mean = rng.uniform(-9.0, -0.5, n).astype(np.float32)
    var = rng.uniform(0.05, 6.0, n).astype(np.float32)
    logprobs = -np.abs(mean + np.sqrt(var) * rng.standard_normal(n)).astype(np.float32)
    return logprobs, mean, var


def loss(lp):
    """Mean negative log-likelihood L, in float64 from the float32 log-probs."""
    return -np.mean(np.asarray(lp, dtype=np.float64))


def k_len(n, k):
    return max(1, int(n * k))


def mink(lp, k):
    lp = np.asarray(lp, dtype=np.float64)
    return float(np.mean(np.sort(lp)[: k_len(len(lp), k)]))


def minkpp(lp, mean, var, k):
    lp, mean, var = (np.asarray(a, dtype=np.float64) for a in (lp, mean, var))
    z = (lp - mean) / np.sqrt(var)
    return float(np.mean(np.sort(z)[: k_len(len(z), k)]))


def texts():
    fixture = [json.loads(l)["text"] for l in open(ROOT / "core/tests/fixtures/texts.jsonl", encoding="utf-8")]
    rng = np.random.default_rng(1)
    words = ("the of and to in a is that for it as was with be by on not he this are or his "
             "from at which but have an they you were her she there Paris Étienne 東京").split()
    generated = [" ".join(rng.choice(words, n)) for n in (3, 20, 100, 400, 2000)]
    return fixture + generated + ["abc" * 1000, "Once upon a time. " * 50]


def lcg_bytes(n, seed, alphabet):
    """`n` bytes of `alphabet` (ASCII) picked by the top bits of a 64-bit LCG
    (Knuth's MMIX constants); tests/detection.rs builds the same bytes."""
    out, x = bytearray(), seed
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(ord(alphabet[(x >> 33) % len(alphabet)]))
    return bytes(out)


def main():
    rng = np.random.default_rng(20240611)
    all_texts = texts()
    zlib_cases = [{"text": t, "zlib_len": len(zlib.compress(t.encode("utf-8")))} for t in all_texts]

    cases = []
    for i, n in enumerate([1, 2, 3, 4, 5, 7, 10, 19, 37, 100, 257, 1000]):
        lp, mean, var = token_scores(rng, n)
        lower, _, _ = token_scores(rng, max(1, n + rng.integers(-2, 3)))
        ref, _, _ = token_scores(rng, n)
        text = all_texts[i % len(all_texts)] or "x"
        zl = len(zlib.compress(text.encode("utf-8")))
        L = loss(lp)
        cases.append({
            "logprobs": f32_list(lp), "mean": f32_list(mean), "var": f32_list(var),
            "lowercase_logprobs": f32_list(lower), "reference_logprobs": f32_list(ref),
            "text": text, "zlib_len": zl,
            "expected": {
                "loss": float(-L),
                "ppl": float(-np.exp(L)),
                "zlib": float(-L / zl),
                "lowercase": float(loss(lower) / L),
                "ref": float(loss(ref) - L),
                "mink": {str(k): mink(lp, k) for k in KS},
                "minkpp": {str(k): minkpp(lp, mean, var, k) for k in KS},
                "k_len": {str(k): k_len(n, k) for k in KS},
            },
        })

    roc_cases = []
    for n, ties in [(2, False), (3, True), (10, False), (10, True), (57, True), (200, False), (500, True), (1000, True)]:
        labels = rng.random(n) < 0.5
        labels[0], labels[-1] = True, False  # both classes
        scores = rng.standard_normal(n) + 0.7 * labels
        if ties:
            scores = np.round(scores, 1)
        fpr, tpr, thr = roc_curve(labels, scores)
        fpr_all, tpr_all, thr_all = roc_curve(labels, scores, drop_intermediate=False)
        roc_cases.append({
            "scores": scores.tolist(), "labels": labels.tolist(),
            "auroc": float(roc_auc_score(labels, scores)),
            "roc_all": {"fpr": fpr_all.tolist(), "tpr": tpr_all.tolist(),
                        "thresholds": [None if np.isinf(t) else float(t) for t in thr_all]},
            "roc_dropped": {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                            "thresholds": [None if np.isinf(t) else float(t) for t in thr]},
            # Min-K%++'s get_metrics: tpr at the last point with fpr <= threshold.
            "tpr_at_1_fpr": float(tpr[np.where(fpr <= 0.01)[0][-1]]),
            "tpr_at_5_fpr": float(tpr[np.where(fpr <= 0.05)[0][-1]]),
            # Min-K%'s sweep: acc = max(1 - (fpr + (1 - tpr)) / 2).
            "best_accuracy": float(np.max(1 - (fpr + (1 - tpr)) / 2)),
            "mean": float(np.mean(scores)),
            "stderr": float(np.std(scores, ddof=1) / np.sqrt(n)),
        })

    # Long inputs (past zlib's 32 KiB window and 16383-symbol blocks), built on
    # both sides from a 64-bit LCG instead of stored.
    zlib_generated = []
    for n, seed, alphabet in [(70000, 1, "ab"), (150000, 2, "abcdefgh ij\n"), (100000, 3, "".join(map(chr, range(32, 127)))),
                              (300000, 4, "aaaaaaab"), (40000, 5, "ab")]:
        zlib_generated.append({"n": n, "seed": seed, "alphabet": alphabet,
                               "zlib_len": len(zlib.compress(lcg_bytes(n, seed, alphabet)))})

    versions = {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                "zlib": zlib.ZLIB_RUNTIME_VERSION}
    OUT.write_text(json.dumps({"versions": versions, "ks": KS, "zlib": zlib_cases, "zlib_generated": zlib_generated, "cases": cases, "roc": roc_cases}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(cases)} score cases, {len(roc_cases)} ROC cases, {len(zlib_cases)} texts")


if __name__ == "__main__":
    main()
