#!/usr/bin/env python3
"""Goldens for Leaner-Eval's judge-free metrics (core/src/leaner_eval.rs),
computed here with Python's re, the `tokenizers` library and NumPy from the
definitions in that module's documentation, never from tinyeval.

Writes core/tests/fixtures/analysis/leaner_eval_goldens.json, checked by
core/tests/leaner_eval.rs:
- per response: n_tokens (TinyHelen's gpt-2K tokenizer, from
  public/models/llama-2k-1m-random/tokenizer.json, add_special_tokens=False),
  n_words, distinct-1/2, repetition-4, and the shares of words/tokens in two
  vocabularies: a small made-up one (`vocab_docs`), and the Leaner vocabulary
  of the Leaner-Pretrain train files (only its sizes and the shares are
  stored; the data stay in the TinyHelen folder);
- the means and standard errors (NumPy, ddof=1) over the responses.

The TinyHelen folder is $TINYHELEN_DIR, else ../shared/data/tinyhelen.

    /root/venvs/tinyeval-ref/bin/python scripts/make_leaner_eval_goldens.py
"""

import json
import os
import re
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/analysis/leaner_eval_goldens.json"
TINYHELEN = Path(os.environ.get("TINYHELEN_DIR", ROOT.parent / "shared/data/tinyhelen"))
TOKENIZER = Tokenizer.from_file(str(ROOT / "public/models/llama-2k-1m-random/tokenizer.json"))

WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")

RESPONSES = [
    "",
    "Yes.",
    "We wear seatbelts to stay safe. If the car stops fast, the seatbelt holds us in our seat.",
    "The cat is happy. The cat is happy. The cat is happy. The cat is happy. The cat is happy.",
    "I don't know, it’s 3 o'clock!! Quantum chromodynamics explains gluons; café naïve über.",
    "   \n\n  1 2 3 4 5 ... ??? ",
    "Playing outside is fun because you can run, jump and play with your friends in the sun.",
    "red red red red",
    "Ünïcödé wörds and ASCII words: Hello WORLD, hello world.",
]

VOCAB_DOCS = [
    "The cat is happy. We wear seatbelts to stay safe!",
    "Hello world, I don't know what to play outside.",
]


def words(text):
    return [w.replace("’", "'").lower() for w in WORD.findall(text)]


def distinct(ws, n):
    grams = [tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def metrics(text, vocab_words, vocab_tokens):
    ws = words(text)
    ids = TOKENIZER.encode(text, add_special_tokens=False).ids
    d4 = distinct(ws, 4)
    return {
        "n_tokens": len(ids),
        "n_words": len(ws),
        "distinct_1": distinct(ws, 1),
        "distinct_2": distinct(ws, 2),
        "repetition_4": None if d4 is None else 1.0 - d4,
        "leaner_word_share": sum(w in vocab_words for w in ws) / len(ws) if ws else None,
        "leaner_token_share": sum(t in vocab_tokens for t in ids) / len(ids) if ids else None,
    }


def aggregate(rows):
    out = {}
    for name in rows[0]:
        vals = np.array([r[name] for r in rows if r[name] is not None], dtype=np.float64)
        out[name] = {
            "mean": float(vals.mean()),
            "stderr": float(vals.std(ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else None,
            "n": int(len(vals)),
        }
    return out


def vocabulary(docs):
    ws, ts = set(), set()
    for d in docs:
        ws.update(words(d))
        ts.update(TOKENIZER.encode(d, add_special_tokens=False).ids)
    return ws, ts


def pretrain_document(doc):
    """The data README's convention (core/src/leaner_eval.rs `pretrain_document`)."""
    if isinstance(doc.get("text"), str):
        return doc["text"]
    if isinstance(doc.get("problem"), str):
        return "\n".join([doc["problem"]] + [h for h in doc.get("hints") or [] if isinstance(h, str)])
    if isinstance(doc.get("prompt"), str) and isinstance(doc.get("response"), str):
        return doc["prompt"] + "\n" + doc["response"]
    return None


def main():
    golden = {"responses": RESPONSES, "vocab_docs": VOCAB_DOCS, "words": [words(r) for r in RESPONSES]}
    vw, vt = vocabulary(VOCAB_DOCS)
    rows = [metrics(r, vw, vt) for r in RESPONSES]
    golden["small"] = {"vocab_words": len(vw), "vocab_tokens": len(vt), "metrics": rows, "aggregate": aggregate(rows)}
    train = TINYHELEN / "data/leaner/10M/train"
    docs = []
    for f in sorted(train.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = pretrain_document(json.loads(line))
                if d is not None:
                    docs.append(d)
    vw, vt = vocabulary(docs)
    rows = [metrics(r, vw, vt) for r in RESPONSES]
    golden["leaner_train"] = {"documents": len(docs), "vocab_words": len(vw), "vocab_tokens": len(vt), "metrics": rows}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(docs)} Leaner-Pretrain train documents, {len(vw)} words, {len(vt)} token ids")


if __name__ == "__main__":
    main()
