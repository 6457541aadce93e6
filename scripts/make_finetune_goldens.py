#!/usr/bin/env python3
"""Goldens for tinyeval's fine-tuning (core/src/finetune/): the same protocol in
PyTorch + transformers, step for step.

The model is a checkpoint's base decoder (`AutoModel`, so the final norm and no
LM head) with a `score` Linear without bias on the last real token's final hidden
state, as transformers' `LlamaForSequenceClassification`; every tensor trained in
float32. The head starts from SplitMix64 normals (seeded with the run's seed) and
the same generator shuffles the training items each epoch, as tinyeval does;
the golden also stores that initial head and every text's token ids, so the
test can check both. Optimiser: `torch.optim.AdamW(foreach=False)`, weight decay
on every parameter, transformers' `get_linear_schedule_with_warmup` with
`ceil(warmup_ratio * steps)` warm-up steps, `clip_grad_norm_` on every gradient.

Writes core/tests/fixtures/finetune_goldens.json: for each case (a CoLA-like
classification and an STS-B regression on a few Leaner-GLUE items), the items,
options, initial head, per-step loss / learning rate / gradient norm, and the
validation predictions and metrics after training.

    /tmp/tinyeval-ref/bin/python scripts/make_finetune_goldens.py
"""

import json
import math
import os

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import matthews_corrcoef
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "core/tests/fixtures/models/llama-gqa")
GLUE = os.path.join(ROOT, "../shared/data/tinyhelen/data/leaner/glue")
OUT = os.path.join(ROOT, "core/tests/fixtures/finetune_goldens.json")
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def normal(self):
        u1 = ((self.next() >> 11) + 1) / 2**53
        u2 = (self.next() >> 11) / 2**53
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def permutation(self, n):
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next() % (i + 1)
            order[i], order[j] = order[j], order[i]
        return order


def subsample(items, limit):
    """tinyeval's probe::subsample: every k-th item, k = len // limit."""
    n = max(1, min(limit, len(items)))
    step = max(1, len(items) // n)
    return items[::step][:n]


def read(task, split, fields, limit):
    with open(os.path.join(GLUE, f"{task}_{split}.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [{"text": "\n".join(r[k] for k in fields), "label": r["label"]} for r in subsample(rows, limit)]


def run_case(name, task, fields, num_classes, opts):
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModel.from_pretrained(MODEL, dtype=torch.float32)
    model.eval()  # no dropout in these configs either way
    train = read(task, "train", fields, opts["n_train"])
    val = read(task, "validation", fields, opts["n_validation"])
    for items in (train, val):
        for it in items:
            it["ids"] = tok(it["text"])["input_ids"][: opts["max_length"]]
    outputs = 1 if num_classes == 0 else num_classes
    hidden = model.config.hidden_size
    rng = SplitMix64(opts["seed"])
    head = np.array([rng.normal() * opts["head_init_std"] for _ in range(outputs * hidden)], dtype=np.float64).astype(np.float32)
    score = torch.nn.Linear(hidden, outputs, bias=False)
    with torch.no_grad():
        score.weight.copy_(torch.from_numpy(head.reshape(outputs, hidden)))
    params = list(model.parameters()) + list(score.parameters())
    opt = torch.optim.AdamW(params, lr=opts["learning_rate"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=opts["weight_decay"], foreach=False)
    bs = opts["batch_size"]
    total = math.ceil(len(train) / bs) * opts["epochs"]
    warmup = math.ceil(opts["warmup_ratio"] * total)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)

    def forward(batch):
        lengths = [len(it["ids"]) for it in batch]
        longest = max(lengths)
        ids = torch.tensor([it["ids"] + [0] * (longest - len(it["ids"])) for it in batch])
        states = model(input_ids=ids).last_hidden_state  # causal: padding after a text cannot reach it
        last = states[torch.arange(len(batch)), torch.tensor(lengths) - 1]
        return score(last)

    steps = []
    for epoch in range(opts["epochs"]):
        order = rng.permutation(len(train))
        for start in range(0, len(order), bs):
            batch = [train[i] for i in order[start:start + bs]]
            lr = sched.get_last_lr()[0]
            out = forward(batch)
            if outputs == 1:
                loss = torch.nn.functional.mse_loss(out.squeeze(-1), torch.tensor([float(it["label"]) for it in batch]))
            else:
                loss = torch.nn.functional.cross_entropy(out, torch.tensor([int(it["label"]) for it in batch]))
            opt.zero_grad()
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(params, opts["max_grad_norm"])
            opt.step()
            sched.step()
            steps.append({"step": len(steps) + 1, "epoch": epoch + 1, "loss": loss.item(), "lr": lr, "grad_norm": norm.item()})

    with torch.no_grad():
        preds = []
        for start in range(0, len(val), bs):
            out = forward(val[start:start + bs])
            preds += out.squeeze(-1).tolist() if outputs == 1 else out.argmax(-1).tolist()
    gold = [it["label"] for it in val]
    if outputs == 1:
        metrics = {"pearson": float(pearsonr(gold, preds)[0]), "spearman": float(spearmanr(gold, preds)[0])}
    else:
        metrics = {"mcc": float(matthews_corrcoef(gold, preds))}
    print(f"{name}: {len(steps)} steps, loss {steps[0]['loss']:.5f} -> {steps[-1]['loss']:.5f}, "
          f"clipped on {sum(s['grad_norm'] > opts['max_grad_norm'] for s in steps)} steps, {metrics}")
    return {
        "task": task, "options": opts, "train": train, "validation": val, "initial_head": head.tolist(),
        "steps": steps, "validation_predictions": preds, "validation_metrics": metrics,
    }


def main():
    common = {"seed": 7, "epochs": 4, "batch_size": 4, "max_length": 24, "weight_decay": 0.01,
              "warmup_ratio": 0.1, "max_grad_norm": 1.0, "head_init_std": 0.02}
    cases = {
        "cola": run_case("cola", "cola", ["sentence"], 2,
                         {**common, "learning_rate": 1e-3, "n_train": 64, "n_validation": 32,
                          # about half the steps' norms are above 2: both sides of clipping
                          "max_grad_norm": 2.0}),
        "stsb": run_case("stsb", "stsb", ["sentence1", "sentence2"], 0,
                         {**common, "learning_rate": 1e-3, "epochs": 2, "n_train": 32, "n_validation": 32}),
    }
    golden = {"model": "core/tests/fixtures/models/llama-gqa", "torch": torch.__version__,
              "transformers": __import__("transformers").__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
