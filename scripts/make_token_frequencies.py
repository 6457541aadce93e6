#!/usr/bin/env python3
"""DC-PDD's default reference corpus for the page: the token counts of the
Leaner-Pretrain 10M train files (book, conversation, math, textbook, wiki)
under TinyHelen's gpt-2K tokenizer, counted with Hugging Face's `tokenizers`
(one document per JSONL line: `text`; math `problem` and `hints` joined by
newlines, as core's parse_pretrain_documents reads them; no special tokens are
added, the tokenizer adds none).

Writes public/data/token_frequencies_gpt-2K_leaner-pretrain-10M-train.json:
{"tokenizer", "corpus", "documents", "total", "counts": [one per id]}. The
numbers are counts, not text. core/tests/membership_data.rs checks that
tinyeval counts the same from the files.

    python scripts/make_token_frequencies.py --tinyhelen ../shared/data/tinyhelen
"""

import argparse
import json
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "public/data/token_frequencies_gpt-2K_leaner-pretrain-10M-train.json"
GENRES = ["book", "conversation", "math", "textbook", "wiki"]


def document(row: dict) -> str:
    if "text" in row:
        return row["text"]
    if "problem" in row:
        return "\n".join([row["problem"], *row.get("hints", [])])
    return row["prompt"] + "\n" + row["response"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tinyhelen", type=Path, required=True)
    args = ap.parse_args()
    tok = Tokenizer.from_file(str(args.tinyhelen / "tokenizer/gpt-2K/tokenizer.json"))
    docs = []
    for g in GENRES:
        with (args.tinyhelen / f"data/leaner/10M/train/{g}0000.jsonl").open(encoding="utf-8") as f:
            docs += [document(json.loads(l)) for l in f if l.strip()]
    counts = np.zeros(tok.get_vocab_size(), dtype=np.int64)
    for e in tok.encode_batch(docs):
        np.add.at(counts, e.ids, 1)
    OUT.write_text(json.dumps({
        "tokenizer": "TinyHelen gpt-2K",
        "corpus": "Leaner-Pretrain 10M train: " + ", ".join(f"{g}0000.jsonl" for g in GENRES),
        "documents": len(docs), "total": int(counts.sum()), "counts": counts.tolist(),
    }) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(docs)} documents, {counts.sum():,} tokens")


if __name__ == "__main__":
    main()
