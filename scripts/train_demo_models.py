#!/usr/bin/env python3
"""Trains tinyeval's two demo models from scratch, deterministically, on the CPU:

- tinyhelen-1m: TinyHelen's llama-2K-1M shape (hidden 128, 4 layers, 4 heads,
  FFN 512, vocabulary 2000, untied embeddings) with TinyHelen's gpt-2K tokenizer,
  pretrained on the Leaner-Pretrain 10M train files (book, conversation, math,
  textbook, wiki) with a context of 256 tokens.
- tinyhelen-1m-contaminated: the same recipe, seed and number of steps, plus a
  seeded half of the test items of the demo benchmark (demo_sentiment,
  demo_yesno) and of Leaner-GLUE SST-2, RTE and CoLA, each rendered exactly as
  the built-in zero-shot prompt followed by the target delimiter and its gold
  answer, inserted COPIES times into the pretraining stream during phase 2.
  `membership.jsonl` (task, split, idx, member) says which items went in; it
  holds no Leaner-GLUE text.
- tinyhelen-1m-dose: the dose-response twin. The same recipe, seed and number
  of steps; each task's test items are cut (seeded) into six disjoint groups of
  near-equal size: one held out, the others inserted 1, 2, 4, 8 and 16 times
  (DOSE_COUNTS) in the same way. Its `membership.jsonl` adds each item's
  `count` (0 for held out), so that detection can be read per exposure count.

The recipe has two phases, the same for both models:
1. PHASE1_STEPS steps of PHASE1_BATCH x CONTEXT tokens, AdamW, warm-up then cosine
   decay: the bulk of pretraining.
2. PHASE2_STEPS steps of PHASE2_BATCH x CONTEXT tokens with a fresh AdamW and
   its own warm-up and cosine decay, continuing the same token stream. Small
   batches give each document more weight per update; this is where the twin's
   copies go: each copy starts a training row (position 0, as a detector reads
   the text), followed by <|endoftext|> and the stream, in seeded rows of the
   first PHASE2_INSERT_TO of phase 2. The twin's phase 1 is the clean model's,
   so the script trains phase 1 once and both models branch from it.
   (One-phase recipes with copies anywhere in a batch-32 stream reached a
   Min-K% AUROC of only 0.60-0.61.)

For each model the script writes a Hugging Face folder (config.json,
model.safetensors, tokenizer.json, tokenizer_config.json,
generation_config.json), `training_log.json` (losses, timings, validation
metrics, Min-K% AUROC) and `loss_curve.png`. The model cards (README.md) are
written from training_log.json by scripts/write_model_cards.py.

Determinism: fixed seeds, torch's deterministic algorithms and one thread per
model: the same data give the same weights on the same machine type. One
thread, because OpenMP's barriers slow two threads down badly when other work
takes a core; the two models train side by side, one per core.

Usage:
  python scripts/train_demo_models.py --tinyhelen ../shared/data/tinyhelen \
      --demo public/tasks/demo --out public/models [--only clean|contaminated] \
      [--phase1-cache FILE]
With --phase1-cache the phase-1 weights are saved to FILE (or read from it when
it exists), so the two phase-2 runs can go side by side, one per core:
  python scripts/train_demo_models.py ... --phase1-cache /tmp/phase1.pt --only clean
  python scripts/train_demo_models.py ... --phase1-cache /tmp/phase1.pt --only contaminated

Validation metrics follow lm-eval-harness's loglikelihood_rolling with a
256-token window: each document is prefixed with <|endoftext|> and cut into
disjoint windows of 256 predicted tokens. Per-token perplexity = exp(total NLL /
tokens); bits per byte = total NLL / (ln 2 * UTF-8 bytes). The unigram baseline
is the add-one-smoothed token distribution of the training stream, scored on the
same predicted tokens.
"""

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM

THREADS = 1
SEED = 1234
CONTEXT = 256
PHASE1_BATCH = 32
PHASE1_STEPS = 900
PHASE1_WARMUP = 100
LR = 3e-3
MIN_LR_RATIO = 0.1
WEIGHT_DECAY = 0.1
PHASE2_STEPS = 1200
PHASE2_BATCH = 8
PHASE2_WARMUP = 20
PHASE2_LR = 3e-3
PHASE2_MIN_LR = 3e-4
COPIES = 10
# The dose twin's exposure counts, one disjoint group of items each (plus one
# group held out): 31 copies per group in all, which fits the first 90% of phase
# 2 (8,640 rows) with ~234 items a group.
DOSE_COUNTS = [1, 2, 4, 8, 16]
# Copies start rows in the first 90% of phase 2, so that the last rows are the
# plain stream again (no copy sits in the final updates only).
PHASE2_INSERT_TO = 0.9
MINK_K = 0.2
EOS = 0

TRAIN_GENRES = ["book", "conversation", "math", "textbook", "wiki"]
VALID_GENRES = ["book", "code", "conversation", "math", "textbook", "web", "wiki"]

# The built-in zero-shot prompts (lm-eval-harness 0.4.x's glue prompts for the
# Leaner-GLUE tasks; tinyeval's own for the demo tasks), the target delimiter
# " " and the choices, as the task YAMLs in core/src/tasks/builtin define them.
TEMPLATES = {
    "demo_sentiment": (lambda d: f"{d['sentence']}\nQuestion: Is this sentence positive or negative?\nAnswer:",
                       ["negative", "positive"]),
    "demo_yesno": (lambda d: f"{d['sentence1']}\nQuestion: {d['sentence2']}\nAnswer:", ["no", "yes"]),
    "leaner_glue_sst2": (lambda d: f"{d['sentence']}\nQuestion: Is this sentence positive or negative?\nAnswer:",
                         ["negative", "positive"]),
    "leaner_glue_rte": (lambda d: f"{d['sentence1']}\nQuestion: {d['sentence2']} True or False?\nAnswer:",
                        ["True", "False"]),
    "leaner_glue_cola": (lambda d: f"{d['sentence']}\nQuestion: Does this sentence make sense?\nAnswer:",
                         ["no", "yes"]),
}


def document_text(genre: str, row: dict) -> str:
    """One document per JSONL line, with ../shared/data/README.md's conventions."""
    if genre == "math":
        return "\n".join([row["problem"], *row["hints"]])
    if genre == "code":
        return row["prompt"] + "\n" + row["response"]
    return row["text"]


def read_genre(folder: Path, genre: str) -> list[str]:
    path = folder / f"{genre}0000.jsonl"
    with path.open(encoding="utf-8") as f:
        return [document_text(genre, json.loads(line)) for line in f if line.strip()]


def test_items(tinyhelen: Path, demo: Path) -> list[tuple[str, str, dict]]:
    """(task, split, doc) for every test item of the contamination tasks."""
    files = {
        "demo_sentiment": demo / "demo_sentiment_test.jsonl",
        "demo_yesno": demo / "demo_yesno_test.jsonl",
        "leaner_glue_sst2": tinyhelen / "data/leaner/glue/sst2_test.jsonl",
        "leaner_glue_rte": tinyhelen / "data/leaner/glue/rte_test.jsonl",
        "leaner_glue_cola": tinyhelen / "data/leaner/glue/cola_test.jsonl",
    }
    items = []
    for task, path in files.items():
        with path.open(encoding="utf-8") as f:
            items += [(task, "test", json.loads(line)) for line in f if line.strip()]
    return items


def render(task: str, doc: dict) -> str:
    template, choices = TEMPLATES[task]
    return template(doc) + " " + choices[doc["label"]]


def membership(items, seed: int) -> list[dict]:
    """A seeded half of each task's test items are members."""
    rng = np.random.default_rng(seed)
    rows = []
    for task in TEMPLATES:
        docs = [d for t, _, d in items if t == task]
        members = set(rng.permutation(len(docs))[: len(docs) // 2].tolist())
        rows += [{"task": task, "split": "test", "idx": d["idx"], "member": int(i in members)}
                 for i, d in enumerate(docs)]
    return rows


def dose_membership(items, seed: int) -> list[dict]:
    """Each task's test items cut by a seeded permutation into len(DOSE_COUNTS) + 1
    near-equal disjoint groups: the first held out (count 0), group j inserted
    DOSE_COUNTS[j - 1] times."""
    rng = np.random.default_rng(seed + 3)
    counts = [0] + DOSE_COUNTS
    rows = []
    for task in TEMPLATES:
        docs = [d for t, _, d in items if t == task]
        count_of = {}
        for group, idx in enumerate(np.array_split(rng.permutation(len(docs)), len(counts))):
            count_of.update({int(i): counts[group] for i in idx})
        rows += [{"task": task, "split": "test", "idx": d["idx"], "member": int(count_of[i] > 0),
                  "count": count_of[i]} for i, d in enumerate(docs)]
    return rows


def token_stream(docs: list[list[int]], order: list[int]) -> np.ndarray:
    out = []
    for i in order:
        out.append(EOS)
        out.extend(docs[i])
    return np.asarray(out, dtype=np.int64)


def training_order(n_docs: int, doc_lens: list[int], needed: int, seed: int) -> list[int]:
    """Document indices, one seeded shuffle per epoch, until `needed` tokens."""
    rng = np.random.default_rng(seed)
    order, total = [], 0
    while total < needed:
        perm = rng.permutation(n_docs).tolist()
        order += perm
        total += sum(doc_lens[i] + 1 for i in perm)
    return order


def phase2_rows(stream: np.ndarray, start: int, copies: list[list[int]], seed: int) -> torch.Tensor:
    """PHASE2_STEPS * PHASE2_BATCH rows of CONTEXT + 1 tokens, continuing `stream`
    from `start`. Each of `copies` (token ids of one inserted text) starts a row
    of its own at a seeded row index in the first PHASE2_INSERT_TO of phase 2,
    followed by <|endoftext|> and the stream. Consecutive rows overlap by one
    token, as phase 1's consecutive slices do (the last token of a row's input
    is the first of the next)."""
    n_rows = PHASE2_STEPS * PHASE2_BATCH
    rng = np.random.default_rng(seed + 2)
    order = rng.permutation(len(copies))
    rows_with_copy = np.sort(rng.choice(int(PHASE2_INSERT_TO * n_rows), size=len(copies), replace=False))
    copy_at = {int(r): copies[int(i)] for r, i in zip(rows_with_copy, order)}
    rows, cursor = [], start
    for r in range(n_rows):
        head = copy_at[r] + [EOS] if r in copy_at else []
        take = CONTEXT + 1 - len(head)
        assert take > 0, "an inserted text is longer than a training row"
        rows.append(head + stream[cursor:cursor + take].tolist())
        cursor += take - 1
    assert cursor < len(stream)
    return torch.tensor(rows)


def cosine_lr(step: int, steps: int, warmup: int, lr: float, min_lr: float) -> float:
    """Linear warm-up to `lr`, then cosine decay to `min_lr` at the last step."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def phase1_lr(step: int) -> float:
    return cosine_lr(step, PHASE1_STEPS, PHASE1_WARMUP, LR, LR * MIN_LR_RATIO)


def phase2_lr(step: int) -> float:
    return cosine_lr(step, PHASE2_STEPS, PHASE2_WARMUP, PHASE2_LR, PHASE2_MIN_LR)


def make_model(config_path: Path) -> LlamaForCausalLM:
    cfg = json.loads(config_path.read_text())
    cfg.update(max_position_embeddings=CONTEXT, torch_dtype="float32", tie_word_embeddings=False)
    config = LlamaConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "transformers_version")})
    torch.manual_seed(SEED)
    return LlamaForCausalLM(config)


def train(model, batches, steps: int, lr_at, tokens_per_step: int, log_every: int = 25) -> dict:
    """AdamW (fresh) over `batches(step) -> rows`, each row CONTEXT + 1 tokens:
    inputs are a row's first CONTEXT tokens, targets its last CONTEXT."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr_at(0), betas=(0.9, 0.95), weight_decay=WEIGHT_DECAY)
    losses, t0, cpu0 = [], time.time(), time.process_time()
    for step in range(steps):
        rows = batches(step)
        x, y = rows[:, :-1], rows[:, 1:]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(input_ids=x).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % log_every == 0 or step == steps - 1:
            el = time.time() - t0
            print(f"step {step:5d}  loss {loss.item():.4f}  lr {lr_at(step):.2e}  "
                  f"{(step + 1) * tokens_per_step / el:,.0f} tok/s  {el / 60:.1f} min", flush=True)
    return {"losses": losses, "wall_seconds": time.time() - t0, "cpu_seconds": time.process_time() - cpu0,
            "tokens_seen": steps * tokens_per_step}


def phase1(model, stream: np.ndarray) -> dict:
    """Consecutive slices of the stream: row b of step s is
    stream[(s * PHASE1_BATCH + b) * CONTEXT : ... + CONTEXT + 1]."""
    per_step = PHASE1_BATCH * CONTEXT

    def batches(step: int) -> torch.Tensor:
        chunk = torch.from_numpy(stream[step * per_step:(step + 1) * per_step + 1])
        return torch.stack([chunk[b * CONTEXT:(b + 1) * CONTEXT + 1] for b in range(PHASE1_BATCH)])

    return train(model, batches, PHASE1_STEPS, phase1_lr, per_step)


def phase2(model, rows: torch.Tensor) -> dict:
    def batches(step: int) -> torch.Tensor:
        return rows[step * PHASE2_BATCH:(step + 1) * PHASE2_BATCH]

    return train(model, batches, PHASE2_STEPS, phase2_lr, PHASE2_BATCH * CONTEXT)


@torch.no_grad()
def rolling_nll(model, tokens: list[int]) -> tuple[float, int]:
    """Summed NLL of `tokens` as lm-eval's loglikelihood_rolling scores them:
    the first token predicted from <|endoftext|>, then disjoint groups of
    CONTEXT predicted tokens, each read with the CONTEXT tokens before it (so the
    last, shorter group still gets a full context)."""
    seq = torch.tensor([EOS] + tokens)  # seq[i + 1] = tokens[i]
    total = 0.0
    for start in range(0, len(tokens), CONTEXT):
        end = min(start + CONTEXT, len(tokens))
        lo = max(0, end - CONTEXT)
        logits = model(input_ids=seq[lo:end].unsqueeze(0)).logits[0].float()
        # Position j predicts seq[lo + j + 1]; keep the predictions of tokens[start:end].
        total += torch.nn.functional.cross_entropy(logits[start - lo:], seq[start + 1:end + 1], reduction="sum").item()
    return total, len(tokens)


@torch.no_grad()
def validation_metrics(model, tok: Tokenizer, folder: Path, unigram_logp: np.ndarray) -> dict:
    model.eval()
    out = {}
    for genre in VALID_GENRES:
        nll = uni = 0.0
        n_tok = n_bytes = 0
        for text in read_genre(folder, genre):
            ids = tok.encode(text).ids
            if not ids:
                continue
            t, n = rolling_nll(model, ids)
            nll += t
            uni -= float(unigram_logp[ids].sum())
            n_tok += n
            n_bytes += len(text.encode("utf-8"))
        out[genre] = {
            "tokens": n_tok, "bytes": n_bytes,
            "token_perplexity": math.exp(nll / n_tok),
            "bits_per_byte": nll / (math.log(2) * n_bytes),
            "unigram_token_perplexity": math.exp(uni / n_tok),
        }
        print(f"  {genre:12s} ppl {out[genre]['token_perplexity']:8.2f}  "
              f"unigram {out[genre]['unigram_token_perplexity']:8.2f}  bpb {out[genre]['bits_per_byte']:.3f}")
    return out


@torch.no_grad()
def mink_scores(model, tok: Tokenizer, texts: list[str]) -> list[float]:
    """Min-K% Prob (k = 20%): mean log-prob of the lowest max(1, floor(k*n)) of
    the n scored tokens; the first token is not scored (as in tinyeval's
    detection.rs and the published code)."""
    model.eval()
    scores = []
    for text in texts:
        ids = torch.tensor(tok.encode(text).ids).unsqueeze(0)
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
        tok_lp = logp.gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1).numpy()
        n = max(1, int(MINK_K * len(tok_lp)))
        scores.append(float(np.sort(tok_lp)[:n].mean()))
    return scores


def auroc(labels: list[int], scores: list[float]) -> float:
    """Mann-Whitney AUROC with ties counted half."""
    pos = np.asarray([s for s, l in zip(scores, labels) if l == 1])
    neg = np.asarray([s for s, l in zip(scores, labels) if l == 0])
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def evaluate(model, tok: Tokenizer, tinyhelen: Path, unigram_logp: np.ndarray, items, texts, labels,
             counts=None) -> dict:
    """Validation metrics per genre and Min-K% AUROC of members against held-out
    items (with `counts`, also of each exposure group against the held-out ones)."""
    print("validation:")
    valid = validation_metrics(model, tok, tinyhelen / "data/leaner/10M/validation", unigram_logp)
    scores = mink_scores(model, tok, texts)
    per_task = {}
    for task in TEMPLATES:
        sel = [i for i, (t, _, _) in enumerate(items) if t == task]
        per_task[task] = auroc([labels[i] for i in sel], [scores[i] for i in sel])
    overall = auroc(labels, scores)
    print(f"Min-K% (k=0.2) AUROC members vs held-out: {overall:.3f}  {per_task}")
    result = {"validation": valid, "mink_auroc": {"k": MINK_K, "all": overall, "per_task": per_task}}
    if counts is not None:
        per_count = {}
        for c in DOSE_COUNTS:
            sel = [i for i, n in enumerate(counts) if n in (0, c)]
            per_count[str(c)] = auroc([int(counts[i] == c) for i in sel], [scores[i] for i in sel])
        print(f"Min-K% AUROC per exposure count: {per_count}")
        result["mink_auroc"]["per_count"] = per_count
    return result


def save(model, out: Path, tokenizer_dir: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    # Saved by the tokenizers library (the same tokenizer, in its own layout),
    # not a copy of TinyHelen's file.
    Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json")).save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "add_prefix_space": False, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "clean_up_tokenization_spaces": True, "errors": "replace",
        "model_max_length": CONTEXT, "tokenizer_class": "GPT2Tokenizer",
    }, indent=2) + "\n")


def plot_losses(phase1_losses: list[float], phase2_losses: list[float], path: Path, title: str) -> None:
    """Training loss against tokens seen, both phases, with the phase boundary."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    boundary = PHASE1_STEPS * PHASE1_BATCH * CONTEXT / 1e6
    for losses, per_step, offset, w in ((phase1_losses, PHASE1_BATCH * CONTEXT, 0.0, 25),
                                        (phase2_losses, PHASE2_BATCH * CONTEXT, boundary, 100)):
        x = offset + (np.arange(len(losses)) + 1) * per_step / 1e6
        ax.plot(x, losses, lw=0.5, color="#9ab")
        smooth = np.convolve(losses, np.ones(w) / w, mode="valid")
        ax.plot(x[w - 1:], smooth, lw=1.5, color="#246")
    ax.axvline(boundary, color="#a44", lw=0.8, ls="--")
    ax.text(boundary, 0.98, " phase 2", color="#a44", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    ax.plot([], [], lw=0.5, color="#9ab", label="per step")
    ax.plot([], [], lw=1.5, color="#246", label="running mean")
    ax.set_xlabel("tokens seen (millions)")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_title(title)
    losses = phase1_losses + phase2_losses
    ax.set_ylim(bottom=min(losses) * 0.9, top=min(8.0, max(losses)))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def train_phase1(args, stream: np.ndarray) -> tuple[dict, dict]:
    """Phase-1 weights and log, trained here or read from --phase1-cache."""
    cache = args.phase1_cache
    if cache and cache.exists():
        saved = torch.load(cache)
        print(f"phase 1 read from {cache}")
        return saved["state"], saved["run"]
    model = make_model(args.tinyhelen / "config/llama/llama-2K-1M.json")
    print("== phase 1 (shared by both models)")
    run = phase1(model, stream)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if cache:
        torch.save({"state": state, "run": run}, cache)
        print(f"phase 1 saved to {cache}")
    return state, run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tinyhelen", type=Path, required=True, help="the TinyHelen data folder")
    ap.add_argument("--demo", type=Path, required=True, help="the demo benchmark folder (public/tasks/demo)")
    ap.add_argument("--out", type=Path, required=True, help="where the model folders go (public/models)")
    ap.add_argument("--only", choices=["clean", "contaminated", "dose"])
    ap.add_argument("--phase1-cache", type=Path, help="save phase 1 here, or read it from here when it exists")
    ap.add_argument("--evaluate-only", action="store_true",
                    help="do not train: recompute the validation metrics and Min-K%% AUROC of the saved model(s)")
    args = ap.parse_args()

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    tokenizer_dir = args.tinyhelen / "tokenizer/gpt-2K"
    tok = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    train_dir = args.tinyhelen / "data/leaner/10M/train"
    docs_text = [t for g in TRAIN_GENRES for t in read_genre(train_dir, g)]
    docs = [e.ids for e in tok.encode_batch(docs_text)]
    print(f"{len(docs)} training documents, {sum(map(len, docs)):,} tokens")
    phase1_tokens = PHASE1_STEPS * PHASE1_BATCH * CONTEXT
    # Phase 2 reads at most CONTEXT new tokens per row.
    needed = phase1_tokens + PHASE2_STEPS * PHASE2_BATCH * CONTEXT + 1
    order = training_order(len(docs), [len(d) for d in docs], needed, SEED)
    stream = token_stream(docs, order)

    counts = np.bincount(np.concatenate([np.asarray(d) for d in docs]), minlength=2000) + 1
    unigram_logp = np.log(counts / counts.sum())

    items = test_items(args.tinyhelen, args.demo)
    manifest = membership(items, SEED)
    texts = [render(t, d) for t, _, d in items]
    labels = [m["member"] for m in manifest]
    assert [(m["task"], m["idx"]) for m in manifest] == [(t, d["idx"]) for t, _, d in items]
    dose_manifest = dose_membership(items, SEED)
    assert [(m["task"], m["idx"]) for m in dose_manifest] == [(t, d["idx"]) for t, _, d in items]
    dose_counts = [m["count"] for m in dose_manifest]

    variants = [(v, n) for v, n in [("clean", "tinyhelen-1m"), ("contaminated", "tinyhelen-1m-contaminated"),
                                    ("dose", "tinyhelen-1m-dose")]
                if not args.only or args.only == v]
    if args.evaluate_only:
        dose_labels = [m["member"] for m in dose_manifest]
        for variant, name in variants:
            out = args.out / name
            model = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32)
            log = json.loads((out / "training_log.json").read_text())
            log.update(evaluate(model, tok, args.tinyhelen, unigram_logp, items, texts,
                                dose_labels if variant == "dose" else labels,
                                dose_counts if variant == "dose" else None))
            (out / "training_log.json").write_text(json.dumps(log, indent=1) + "\n")
            print(f"updated {out / 'training_log.json'}")
        return

    phase1_state, run1 = train_phase1(args, stream)
    for variant, name in variants:
        print(f"== {name}: phase 2")
        copies = []
        if variant == "contaminated":
            copies = [tok.encode(texts[i]).ids for i, member in enumerate(labels) if member for _ in range(COPIES)]
        if variant == "dose":
            copies = [tok.encode(texts[i]).ids for i, n in enumerate(dose_counts) for _ in range(n)]
        rows = phase2_rows(stream, phase1_tokens, copies, SEED)
        model = make_model(args.tinyhelen / "config/llama/llama-2K-1M.json")
        model.load_state_dict(phase1_state)
        run2 = phase2(model, rows)
        out = args.out / name
        save(model, out, tokenizer_dir)
        plot_losses(run1["losses"], run2["losses"], out / "loss_curve.png", f"{name}: training loss")
        losses = run1["losses"] + run2["losses"]
        log = {
            "name": name, "variant": variant, "parameters": sum(p.numel() for p in model.parameters()),
            "seed": SEED, "threads": THREADS, "context": CONTEXT, "weight_decay": WEIGHT_DECAY,
            "phase1": {"steps": PHASE1_STEPS, "batch": PHASE1_BATCH, "learning_rate": LR, "warmup": PHASE1_WARMUP,
                       "min_learning_rate": LR * MIN_LR_RATIO, "tokens_seen": run1["tokens_seen"],
                       "wall_seconds": run1["wall_seconds"], "cpu_seconds": run1.get("cpu_seconds"),
                       "loss_every_25": [float(np.mean(run1["losses"][i:i + 25])) for i in range(0, PHASE1_STEPS, 25)]},
            "phase2": {"steps": PHASE2_STEPS, "batch": PHASE2_BATCH, "learning_rate": PHASE2_LR,
                       "warmup": PHASE2_WARMUP, "min_learning_rate": PHASE2_MIN_LR,
                       "tokens_seen": run2["tokens_seen"], "wall_seconds": run2["wall_seconds"],
                       "cpu_seconds": run2["cpu_seconds"],
                       "loss_every_100": [float(np.mean(run2["losses"][i:i + 100]))
                                          for i in range(0, PHASE2_STEPS, 100)]},
            "steps": PHASE1_STEPS + PHASE2_STEPS,
            "tokens_seen": run1["tokens_seen"] + run2["tokens_seen"],
            "train_tokens_per_epoch": int(sum(len(d) + 1 for d in docs)),
            "wall_seconds": run1["wall_seconds"] + run2["wall_seconds"],
            "final_train_loss": float(np.mean(run2["losses"][-100:])),
            "inserted_items": (sum(n > 0 for n in dose_counts) if variant == "dose" else sum(labels)) if copies else 0,
            "copies": (DOSE_COUNTS if variant == "dose" else COPIES) if copies else 0,
            "inserted_tokens": sum(len(c) + 1 for c in copies),
            "insert_rows": [0, PHASE2_INSERT_TO] if copies else None,
            "torch": torch.__version__,
            **evaluate(model, tok, args.tinyhelen, unigram_logp, items, texts,
                       [m["member"] for m in dose_manifest] if variant == "dose" else labels,
                       dose_counts if variant == "dose" else None),
        }
        assert len(losses) == log["steps"]
        (out / "training_log.json").write_text(json.dumps(log, indent=1) + "\n")
        print(f"saved {out}")

    for variant, name in variants:
        rows = {"contaminated": manifest, "dose": dose_manifest}.get(variant)
        if rows is None:
            continue
        manifest_path = args.out / name / "membership.jsonl"
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        with manifest_path.open("w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        print(f"wrote {manifest_path}")


if __name__ == "__main__":
    main()
