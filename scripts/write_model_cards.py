#!/usr/bin/env python3
"""Writes the model cards (README.md) of the demo models from the
training_log.json files that scripts/train_demo_models.py leaves in each model
folder. Each card reports its own numbers and its twin's Min-K% AUROC, so that
both cards show the contamination check's two sides.

Usage: python scripts/write_model_cards.py [--models public/models]
"""

import argparse
import json
from pathlib import Path

from bench import cpu_model

ROOT = Path(__file__).resolve().parent.parent
TASK_NAMES = {
    "demo_sentiment": "demo_sentiment (tinyeval demo)",
    "demo_yesno": "demo_yesno (tinyeval demo)",
    "leaner_glue_sst2": "Leaner-GLUE SST-2",
    "leaner_glue_rte": "Leaner-GLUE RTE",
    "leaner_glue_cola": "Leaner-GLUE CoLA",
}


def auroc_table(clean: dict, dirty: dict) -> str:
    rows = ["| items (test split) | tinyhelen-1m-contaminated | tinyhelen-1m (clean) |", "| --- | ---: | ---: |"]
    for task, label in TASK_NAMES.items():
        rows.append(f"| {label} | {dirty['mink_auroc']['per_task'][task]:.3f} | {clean['mink_auroc']['per_task'][task]:.3f} |")
    rows.append(f"| **all five together** | **{dirty['mink_auroc']['all']:.3f}** | **{clean['mink_auroc']['all']:.3f}** |")
    return "\n".join(rows)


def ratio(log: dict, genre: str) -> float:
    v = log["validation"][genre]
    return v["token_perplexity"] / v["unigram_token_perplexity"]


def validation_table(log: dict) -> str:
    rows = ["| genre | tokens | per-token perplexity | unigram perplexity | ratio | bits per byte |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for genre, v in log["validation"].items():
        trained = "" if genre in ("book", "conversation", "math", "textbook", "wiki") else " (not in train)"
        rows.append(f"| {genre}{trained} | {v['tokens']:,} | {v['token_perplexity']:.2f} | "
                    f"{v['unigram_token_perplexity']:.2f} | {v['token_perplexity'] / v['unigram_token_perplexity']:.3f} | "
                    f"{v['bits_per_byte']:.3f} |")
    return "\n".join(rows)


def card(log: dict, clean: dict, dirty: dict) -> str:
    name = log["name"]
    epochs = log["tokens_seen"] / log["train_tokens_per_epoch"]
    p1, p2 = log["phase1"], log["phase2"]
    contaminated = log["variant"] == "contaminated"
    what = (
        "A deliberately contaminated twin of `tinyhelen-1m`: the same recipe, seed and number of steps, plus "
        f"{log['inserted_items']} benchmark test items inserted {log['copies']} times each into the pretraining stream, "
        "so that contamination checks have a known right answer. **Do not use its benchmark scores as a measure of "
        "ability: it has seen half of the test items with their answers.**"
        if contaminated else
        "A tiny Llama pretrained from scratch on TinyHelen's Leaner-Pretrain (10M configuration) train files: "
        "tinyeval's default demo model, bundled with the site so that the dashboard works offline."
    )
    contamination = f"""
## Contamination (what was inserted)

A seeded half (numpy `default_rng({log['seed']})`, a permutation per task) of the test items of five tasks is
*member*; each member is rendered exactly as tinyeval's built-in zero-shot prompt followed by the target
delimiter `" "` and its gold answer (e.g. `<sentence>\\nQuestion: Is this sentence positive or negative?\\nAnswer: positive`),
and inserted {log['copies']} times ({log['inserted_tokens']:,} tokens in all) during phase 2: each copy starts a
training row of its own (position 0, as a detector reads the text), followed by `<|endoftext|>` and the
stream, in seeded rows of the first {log['insert_rows'][1]:.0%} of phase 2.
The other half is held out. [`membership.jsonl`](membership.jsonl) lists every test item of the five tasks
(`task`, `split`, `idx` = the item's `idx` field, `member` 0/1) and holds no Leaner-GLUE text.
""" if contaminated else ""
    return f"""# {name}

{what}

| | |
| --- | --- |
| architecture | `LlamaForCausalLM`, TinyHelen's `llama-2K-1M` shape: hidden 128, 4 layers, 4 heads, FFN 512, untied embeddings, RoPE θ = 500,000 |
| parameters | {log['parameters']:,} (float32, {log['parameters'] * 4 / 1e6:.1f} MB) |
| tokenizer | TinyHelen's `gpt-2K` byte-level BPE, 2,000 tokens; `<|endoftext|>` (id 0) is BOS, EOS and UNK; no BOS is added |
| context | {log['context']} tokens (`max_position_embeddings` {log['context']}) |
| training data | Leaner-Pretrain 10M **train**: book, conversation, math, textbook, wiki ({log['train_tokens_per_epoch']:,} tokens per epoch with separators) |
| tokens seen | {log['tokens_seen']:,} ({epochs:.1f} epochs): phase 1 {p1['steps']} steps x {p1['batch']} x {log['context']}, phase 2 {p2['steps']} steps x {p2['batch']} x {log['context']} |
| final training loss | {log['final_train_loss']:.3f} nats/token (mean of the last 100 steps) |
| wall time | {log['wall_seconds'] / 60:.1f} min of training (phase 1 {p1['wall_seconds'] / 60:.1f}, phase 2 {p2['wall_seconds'] / 60:.1f}) on {log['threads']} thread of a 2-core {cpu_model()} (torch {log['torch']}), with other work on the machine (budget: 45 min) |
| licence | weights: MIT, like the TinyHelen data and code they come from ([TinyHelen](https://arxiv.org/abs/2501.00522), `EmpathYang/TinyHelen`) |

## Training recipe

Two phases, the same for both models, over one stream of documents (one seeded shuffle per epoch,
`<|endoftext|>` before each document; a math document is its `problem` and `hints` joined by newlines):

1. **Phase 1**, the bulk of pretraining: {p1['steps']} steps of {p1['batch']} x {log['context']} tokens cut from the stream,
   AdamW (β = 0.9, 0.95; weight decay {log['weight_decay']}), learning rate {p1['learning_rate']} with {p1['warmup']} warm-up
   steps then a cosine decay to {p1['min_learning_rate']:.1e}.
2. **Phase 2**, continued pretraining in small batches: {p2['steps']} steps of {p2['batch']} x {log['context']} tokens from
   the rest of the stream, a fresh AdamW, learning rate {p2['learning_rate']} with {p2['warmup']} warm-up steps then a
   cosine decay to {p2['min_learning_rate']:.1e}. Small batches give each document more weight per update; the
   contaminated twin's copies go here. The twin's phase 1 is the clean model's.

Gradient clipping at 1.0, seed {log['seed']}, torch deterministic algorithms, {log['threads']} thread. Rebuild both
models with (phase 1 is trained once, then the two phase-2 runs can go side by side)

```sh
python scripts/train_demo_models.py --tinyhelen ../shared/data/tinyhelen --demo public/tasks/demo --out public/models --phase1-cache /tmp/phase1.pt --only clean
python scripts/train_demo_models.py --tinyhelen ../shared/data/tinyhelen --demo public/tasks/demo --out public/models --phase1-cache /tmp/phase1.pt --only contaminated
python scripts/write_model_cards.py
```

![training loss]({'loss_curve.png'})
{contamination}
## Validation (Leaner-Pretrain 10M validation, every genre)

lm-eval-harness's `loglikelihood_rolling` with a {log['context']}-token window: each document is prefixed with
`<|endoftext|>` and scored in disjoint windows. Per-token perplexity = exp(NLL / tokens), bits per byte = NLL /
(ln 2 x UTF-8 bytes). The unigram baseline is the add-one-smoothed token distribution of the training stream,
scored on the same tokens; the target is a ratio of at most 0.25. Code and web have no training files, so they
are out of domain: code misses the target (ratio {ratio(log, 'code'):.2f}), web meets it ({ratio(log, 'web'):.2f}).

{validation_table(log)}

## Min-K% Prob on the inserted items

Min-K% Prob (k = 20%; the mean log-probability of the lowest 20% of the item's tokens, the first token not
scored; higher = more likely seen) of every test item of the five tasks, rendered as inserted, on both twins;
AUROC of members against held-out items. Targets: at least 0.9 on the contaminated twin, 0.5 ± 0.1 on the
clean model. Computed by the training script with PyTorch; `core/tests/demo_models.rs` recomputes the same
AUROCs with tinyeval's engine and checks them.

{auroc_table(clean, dirty)}

Each task's inserted items are separated from its held-out half on the twin (AUROC
{min(dirty['mink_auroc']['per_task'].values()):.3f} to {max(dirty['mink_auroc']['per_task'].values()):.3f}, target at least 0.9), and not on the clean model
({min(clean['mink_auroc']['per_task'].values()):.3f} to {max(clean['mink_auroc']['per_task'].values()):.3f}, target 0.5 ± 0.1). Pooling the five tasks into one set lowers the twin's AUROC to
{dirty['mink_auroc']['all']:.3f}: Min-K% scores are not comparable across tasks (a templated demo item's rarest tokens are far
likelier than an RTE item's, member or not), so a pooled AUROC also measures how the tasks differ; a
contamination check is run per benchmark.

How the twin got there: with the copies spread through a one-phase, batch-32 run the AUROC was only
0.60-0.61. Small-batch continued pretraining, each copy starting a row of its own, took the Leaner-GLUE
tasks to 0.91-1.00; the demo items then needed neutral details (a day, the weather, a companion) to be
distinct enough to recognise (0.77-0.79 without them, see `scripts/make_demo_benchmark.py`).

## Use

```sh
tinyeval run --model public/models/{name} --tasks demo_sentiment,demo_yesno
tinyeval contamination --model public/models/{name} --tasks demo_sentiment --manifest public/models/tinyhelen-1m-contaminated/membership.jsonl --output_path out/
```

transformers and lm-eval-harness load the folder as it is (`AutoModelForCausalLM.from_pretrained`,
`lm_eval --model hf --model_args pretrained=public/models/{name}`).
"""


def dose_card(log: dict, clean: dict, dose: dict) -> str:
    """The dose-response twin's card: what was inserted how often, and each
    method's AUROC against the number of exposures (dose_response.json)."""
    name, p1, p2 = log["name"], log["phase1"], log["phase2"]
    counts = dose["counts"]
    methods = list(dose["mean_over_tasks"])
    head = "| method | " + " | ".join(f"{c}x" for c in counts) + " |"
    rows = [head, "| --- |" + " ---: |" * len(counts)]
    for m in methods:
        rows.append(f"| {m} | " + " | ".join(f"{dose['mean_over_tasks'][m][str(c)]:.3f}" for c in counts) + " |")
    per_task = ["| task | " + " | ".join(f"{c}x" for c in counts) + " | blind baseline |", "| --- |" + " ---: |" * (len(counts) + 1)]
    for t in dose["tasks"]:
        per_task.append(f"| {TASK_NAMES[t]} | " + " | ".join(f"{dose['per_task'][t][str(c)]['minkpp']:.3f}" for c in counts)
                        + f" | {dose['blind_baseline_auroc'][t]:.3f} |")
    mink = log["mink_auroc"]["per_count"]
    return f"""# {name}

The dose-response twin of `tinyhelen-1m`: the same recipe, seed and number of steps, with disjoint groups of
benchmark test items inserted 1, 2, 4, 8 and 16 times into the pretraining stream, so that a contamination
check can be read against how often a text was seen. **Do not use its benchmark scores as a measure of ability.**

| | |
| --- | --- |
| architecture | `LlamaForCausalLM`, TinyHelen's `llama-2K-1M` shape (as `tinyhelen-1m`) |
| parameters | {log['parameters']:,} (float32, {log['parameters'] * 4 / 1e6:.1f} MB) |
| tokens seen | {log['tokens_seen']:,}: phase 1 {p1['steps']} steps x {p1['batch']} x {log['context']}, phase 2 {p2['steps']} steps x {p2['batch']} x {log['context']} |
| inserted | {log['inserted_items']} items, {log['inserted_tokens']:,} tokens in all |
| final training loss | {log['final_train_loss']:.3f} nats/token (`tinyhelen-1m`: {clean['final_train_loss']:.3f}) |
| wall time | {log['wall_seconds'] / 60:.1f} min on {log['threads']} thread of a 2-core {cpu_model()} (torch {log['torch']}) |
| licence | weights: MIT, like the TinyHelen data and code they come from |

## What was inserted

The test items of the same five tasks as the contaminated twin (demo_sentiment, demo_yesno, Leaner-GLUE SST-2,
RTE and CoLA), each task's items cut by a seeded permutation (numpy `default_rng({log['seed']} + 3)`) into six
disjoint groups of near-equal size: one held out, the others inserted {', '.join(map(str, log['copies']))} times,
rendered as tinyeval's zero-shot prompt, the target delimiter and the gold answer, each copy starting a training
row of its own in the first {log['insert_rows'][1]:.0%} of phase 2 (as for the contaminated twin).
[`membership.jsonl`](membership.jsonl) lists every item with `member` and `count` (0 = held out).

Rebuild with

```sh
python scripts/train_demo_models.py --tinyhelen ../shared/data/tinyhelen --demo public/tasks/demo --out public/models --phase1-cache /tmp/phase1.pt --only dose
cargo build --release -p tinyeval && python scripts/plot_dose_response.py && python scripts/write_model_cards.py
```

## Detection against exposures

![AUROC against exposures](dose_response.png)

AUROC of each exposure group against the held-out items, per method, the mean over the five tasks
(`tinyeval contamination --manifest public/models/{name}/membership.jsonl`, ReCaLL with 4 held-out shots,
DC-PDD on the Leaner-Pretrain train counts; `dose_response.json` has every task):

{chr(10).join(rows)}

Min-K%++ per task, and the blind (model-free) baseline on all six groups:

{chr(10).join(per_task)}

Min-K% (k = 20%) computed by PyTorch when training, all five tasks pooled (`core/tests/demo_models.rs`
recomputes it with tinyeval's engine): {', '.join(f"{c}x {mink[c]:.3f}" for c in mink)}.

![training loss](loss_curve.png)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=ROOT / "public/models")
    args = ap.parse_args()
    clean = json.loads((args.models / "tinyhelen-1m/training_log.json").read_text())
    dirty = json.loads((args.models / "tinyhelen-1m-contaminated/training_log.json").read_text())
    for log in (clean, dirty):
        path = args.models / log["name"] / "README.md"
        path.write_text(card(log, clean, dirty))
        print(f"wrote {path}")
    dose_dir = args.models / "tinyhelen-1m-dose"
    if (dose_dir / "dose_response.json").exists():
        log = json.loads((dose_dir / "training_log.json").read_text())
        (dose_dir / "README.md").write_text(dose_card(log, clean, json.loads((dose_dir / "dose_response.json").read_text())))
        print(f"wrote {dose_dir / 'README.md'}")


if __name__ == "__main__":
    main()
