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
and inserted as a document of its own (between `<|endoftext|>` tokens) {log['copies']} times, at seeded random
document positions between {log['insert_window'][0]:.0%} and {log['insert_window'][1]:.0%} of the training stream.
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
| tokens seen | {log['tokens_seen']:,} ({log['steps']} steps x {log['batch']} x {log['context']}; {epochs:.1f} epochs) |
| final training loss | {log['final_train_loss']:.3f} nats/token (mean of the last 25 steps) |
| wall time | {log['wall_seconds'] / 60:.1f} min of training on {log['threads']} thread of a 2-core {cpu_model()} (torch {log['torch']}), with other work on the machine (budget: 45 min) |
| licence | weights: MIT, like the TinyHelen data and code they come from ([TinyHelen](https://arxiv.org/abs/2501.00522), `EmpathYang/TinyHelen`) |

## Training recipe

AdamW (β = 0.9, 0.95; weight decay {log['weight_decay']}), learning rate {log['learning_rate']} with {log['warmup']} warm-up
steps then a cosine decay to {log['min_lr_ratio']:.0%} of it, gradient clipping at 1.0, batch {log['batch']} x {log['context']}
tokens cut from one stream of documents (one seeded shuffle per epoch, `<|endoftext|>` before each document),
seed {log['seed']}, torch deterministic algorithms, {log['threads']} thread. A math document is its `problem` and
`hints` joined by newlines. Rebuild both models with

```sh
python scripts/train_demo_models.py --tinyhelen ../shared/data/tinyhelen --demo public/tasks/demo --out public/models --only clean
python scripts/train_demo_models.py --tinyhelen ../shared/data/tinyhelen --demo public/tasks/demo --out public/models --only contaminated
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

The clean model meets its target: on it, members and held-out items look alike. **The contaminated twin does
not reach 0.9.** Ten copies are too few for a model this small to memorise short, templated items: the
longer RTE items come closest. Moving the copies from 50–95% of the stream to 75–94% did not change the
overall AUROC (0.61, then 0.60). The twin still shows the check's direction, with every task above the
clean model. A stronger twin needs a different recipe for both models, for example smaller batches so that
each copy weighs more in its update; that has not been tried yet.

## Use

```sh
tinyeval run --model public/models/{name} --tasks demo_sentiment,demo_yesno
tinyeval contamination --model public/models/{name} --tasks demo_sentiment --manifest public/models/tinyhelen-1m-contaminated/membership.jsonl --output_path out/
```

transformers and lm-eval-harness load the folder as it is (`AutoModelForCausalLM.from_pretrained`,
`lm_eval --model hf --model_args pretrained=public/models/{name}`).
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


if __name__ == "__main__":
    main()
