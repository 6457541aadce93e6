#!/usr/bin/env python3
"""Goldens for the membership checks' newer methods, written from the papers'
formulas with NumPy, scikit-learn and transformers, never from tinyeval:

- ReCaLL (Xie et al. 2024): LL(x | P) / LL(x), the mean log-likelihood of x's
  tokens read after a non-member prefix P over x's own mean log-likelihood;
- DC-PDD (Zhang et al. 2024): the mean over first occurrences of
  min(p * -ln f, a), f = (count + 1) / (total + V);
- the blind baseline: scikit-learn's CountVectorizer() + LogisticRegression(C=1)
  (exact newton-cholesky solver) on stratified folds drawn by SplitMix64 (the rule in
  core/src/membership/blind_baseline.rs), out-of-fold P(member) and AUROC;
- ReCaLL end to end on the demo model: transformers' log-probs of demo items
  after a prefix of other items, cut from the left to the 256-token context as
  lm-eval cuts.

Writes core/tests/fixtures/membership_goldens.json, checked by core/tests/membership.rs.

    python scripts/make_membership_goldens.py
"""

import json
import platform
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from tokenizers import Tokenizer
from transformers import LlamaForCausalLM

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/membership_goldens.json"
MODEL = ROOT / "public/models/tinyhelen-1m-contaminated"
MASK = 2**64 - 1


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def recall(lp, cond):
    return float(np.mean(f32(cond)) / np.mean(f32(lp)))


def dc_pdd(ids, lp, counts, cap):
    counts = np.asarray(counts, dtype=np.float64)
    freq = (counts + 1) / (counts.sum() + len(counts))
    first, seen = [], set()
    for i, t in enumerate(ids):
        if t not in seen:
            seen.add(t)
            first.append(i)
    p = np.exp(f32(lp)[first])
    alpha = p * -np.log(freq[np.asarray(ids)[first]])
    return float(np.mean(np.minimum(alpha, cap)))


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def folds_of(labels, k, seed):
    rng, fold = SplitMix64(seed), [0] * len(labels)
    for cls in (True, False):
        idx = [i for i, l in enumerate(labels) if l == cls]
        for i in range(len(idx) - 1, 0, -1):
            j = rng.next() % (i + 1)
            idx[i], idx[j] = idx[j], idx[i]
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


def blind(texts, labels, k, seed):
    k = min(k, sum(labels), len(labels) - sum(labels))
    fold = folds_of(labels, k, seed)
    scores = [None] * len(texts)
    y = np.asarray(labels, dtype=int)
    for f in range(k):
        train = [i for i in range(len(texts)) if fold[i] != f]
        test = [i for i in range(len(texts)) if fold[i] == f]
        vec = CountVectorizer()
        x = vec.fit_transform([texts[i] for i in train])
        # newton-cholesky: scikit-learn's exact solver (lbfgs stops on a relative
        # decrease of 64 eps, ~1e-6 from the minimiser in the probabilities).
        clf = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(x, y[train])
        for i, p in zip(test, clf.predict_proba(vec.transform([texts[i] for i in test]))[:, 1]):
            scores[i] = float(p)
    return {"texts": texts, "labels": labels, "folds": k, "seed": seed, "fold": fold, "scores": scores,
            "auroc": float(roc_auc_score(labels, scores))}


def demo_items(task, n):
    rows = [json.loads(l) for l in open(ROOT / f"public/tasks/demo/{task}_test.jsonl", encoding="utf-8")][:n]
    if task == "demo_sentiment":
        return [f"{d['sentence']}\nQuestion: Is this sentence positive or negative?\nAnswer: {['negative', 'positive'][d['label']]}" for d in rows]
    return [f"{d['sentence1']}\nQuestion: {d['sentence2']}\nAnswer: {['no', 'yes'][d['label']]}" for d in rows]


@torch.no_grad()
def model_recall_cases():
    """Each text's tokens alone and after the prefix (its tokens appended to the
    prefix's, cut from the left to 256 + 1 tokens); ReCaLL = mean log-prob of
    every text token after the prefix / mean log-prob of the text's tokens 2..n."""
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    model = LlamaForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    context = model.config.max_position_embeddings
    texts = demo_items("demo_sentiment", 12) + demo_items("demo_yesno", 6)
    cases = []
    for shots in ([texts[0]], texts[1:4], texts[4:12]):  # short, mid, longer than the context
        prefix = "\n\n".join(shots)
        p_ids = tok.encode(prefix).ids
        for text in texts[12:]:
            ids = tok.encode(text).ids
            lp_alone = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1], -1)
            alone = lp_alone.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1).numpy()
            full = (p_ids + ids)[-(context + 1):]
            inp = full[:-1]
            lp = torch.log_softmax(model(torch.tensor([inp])).logits[0], -1)
            cond = np.array([lp[len(inp) - len(ids) + j, ids[j]].item() for j in range(len(ids))])
            cases.append({"prefix": shots, "text": text, "prefix_tokens": len(p_ids), "tokens": len(ids),
                          "recall": float(np.mean(cond.astype(np.float64)) / np.mean(alone.astype(np.float64)))})
    return cases


def main():
    rng = np.random.default_rng(20261201)
    recall_cases, dc_cases = [], []
    for n in [1, 2, 5, 17, 64, 300]:
        lp = -rng.gamma(2.0, 1.5, n).astype(np.float32)
        cond = -rng.gamma(2.0, 1.8, n + 1).astype(np.float32)
        recall_cases.append({"logprobs": f32(lp).tolist(), "conditional": f32(cond).tolist(), "recall": recall(lp, cond)})
    for n, vocab, cap in [(1, 10, 0.01), (6, 5, 0.01), (40, 50, 0.5), (200, 2000, 0.01), (200, 2000, 10.0), (500, 300, 2.0)]:
        ids = rng.integers(0, vocab, n).tolist()
        lp = np.log(rng.uniform(1e-4, 1.0, n)).astype(np.float32)
        counts = rng.integers(0, 1000, vocab)
        counts[rng.integers(0, vocab, vocab // 3)] = 0
        dc_cases.append({"ids": ids, "logprobs": f32(lp).tolist(), "counts": counts.tolist(), "cap": cap,
                         "dcpdd": dc_pdd(ids, lp, counts, cap)})

    # Blind baseline: a set whose members and non-members differ in their words, one that does
    # not (labels alternate over demo items), and one too small for 5 folds.
    words_a = "river stone castle winter king sword ancient dragon".split()
    words_b = "phone app online video startup email screen digital".split()
    common = "the a of and was in it to is very".split()
    biased_texts, biased_labels = [], []
    for i in range(90):
        member = i % 3 != 0
        own = words_a if member else words_b
        other = words_b if member else words_a
        w = list(rng.choice(common, 6)) + list(rng.choice(own, 3)) + list(rng.choice(other, 1))
        rng.shuffle(w)
        biased_texts.append(" ".join(w).capitalize() + ".")
        biased_labels.append(member)
    demo = demo_items("demo_sentiment", 80)
    blind_cases = [
        blind(biased_texts, biased_labels, 5, 0),
        blind(demo, [i % 2 == 0 for i in range(80)], 5, 7),
        blind(demo[:7], [True, False, True, False, True, False, False], 5, 3),
    ]

    versions = {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                "torch": torch.__version__}
    out = {"versions": versions, "recall": recall_cases, "dcpdd": dc_cases, "blind": blind_cases,
           "model_recall": model_recall_cases()}
    OUT.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(recall_cases)} ReCaLL, {len(dc_cases)} DC-PDD, "
          f"{len(blind_cases)} blind-baseline and {len(out['model_recall'])} model ReCaLL cases; "
          f"blind AUROC {[round(c['auroc'], 3) for c in blind_cases]}")


if __name__ == "__main__":
    main()
