#!/usr/bin/env python3
"""Goldens for the 13-gram overlap check (core/src/overlap.rs), from
lm-eval-harness 0.4.13's own decontamination code: `Janitor.normalize_string`
and `word_ngrams` (lm_eval/decontamination/janitor.py), and the matching of
`decontaminate.get_train_overlap` (a lookup of the task docs' n-grams, then
each corpus document's n-grams looked up in it).

Writes core/tests/fixtures/analysis/overlap_goldens.json, checked by
core/tests/overlap.rs. The texts are made up here (tricky whitespace,
punctuation, non-ASCII case); no task data is copied.

    /root/venvs/tinyeval-ref/bin/python scripts/make_overlap_goldens.py
"""

import json
from collections import defaultdict
from pathlib import Path

import lm_eval
from lm_eval.decontamination.janitor import Janitor, word_ngrams

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core/tests/fixtures/analysis/overlap_goldens.json"

janitor = Janitor()  # ngram_n=13, delete_chars=string.punctuation

TEXTS = [
    "The Quick, brown fox -- jumps over the lazy dog!",
    "  tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeeds\x1cfile\x1dgroup\x1erecord\x1funit  ",
    "ÉCOLE Ärger Straße naïve café — “quoted” ‘single’ it’s don't",
    "no\u00a0break\u2003em\u3000ideographic\u2028line\u0085nel\u200bzero-width",
    "a.b,c;d:e!f?g'h\"i(j)k[l]m{n}o<p>q/r\\s|t~u`v@w#x$y%z^&*_+=-",
    "",
    "   ",
    "ΣΊΣΥΦΟΣ Ωμέγα İstanbul KELVIN\u212a",
]

ITEMS = [
    "Question: Is the sky blue during a clear day because of Rayleigh scattering of sunlight? Answer: True",
    "A short item with fewer than thirteen words.",
    "The cat sat on the mat, and then the cat went to sleep on the warm mat by the fire.",
    "Nothing in this item appears anywhere in the corpus at all, not one single run of words.",
    "the cat sat on the mat and then the cat went to sleep on the warm mat by the door",
]

CORPUS = [
    "Once upon a time. THE CAT SAT ON THE MAT -- AND THEN THE CAT WENT TO SLEEP ON THE WARM MAT by the fire!",
    "Is the sky blue during a clear day because of Rayleigh scattering of sunlight? Most people think so.",
    "question is the sky blue during a clear day because of rayleigh scattering",
    "of sunlight answer true",
    "A completely unrelated document that shares nothing with the items above.",
]


def overlap(items, corpus, n):
    """decontaminate.get_train_overlap's matching, on in-memory documents."""
    lookup = defaultdict(set)
    for i, doc in enumerate(items):
        for g in word_ngrams(janitor.normalize_string(doc), n):
            lookup[g].add(i)
    first_doc = {}
    for d, doc in enumerate(corpus):
        for g in word_ngrams(janitor.normalize_string(doc), n):
            if g in lookup and g not in first_doc:
                first_doc[g] = d
    out = []
    for i, doc in enumerate(items):
        grams = set(word_ngrams(janitor.normalize_string(doc), n))
        shared = sorted(g for g in grams if g in first_doc)
        out.append({
            "item": i,
            "ngrams": len(grams),
            "shared": [{"ngram": g, "first_document": first_doc[g]} for g in shared],
        })
    return out


def main():
    golden = {
        "lm_eval_version": lm_eval.__version__,
        "normalize": [{"text": t, "normalized": janitor.normalize_string(t),
                       "words": janitor.normalize_string(t).split(),
                       "ngrams3": list(word_ngrams(janitor.normalize_string(t), 3))} for t in TEXTS],
        "items": ITEMS,
        "corpus": CORPUS,
        "overlap13": overlap(ITEMS, CORPUS, 13),
        "overlap5": overlap(ITEMS, CORPUS, 5),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
