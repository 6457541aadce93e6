#!/usr/bin/env python3
"""Writes tinyeval's own demo benchmark: two small tasks in simple language, in
the JSONL shape of Leaner-GLUE (same field names as Hugging Face's GLUE,
`label`, `idx`), so the dashboard has a benchmark offline on first visit.

- demo_sentiment: is a short review positive (1) or negative (0)?
  Fields: sentence, label, idx.  (Shape of SST-2.)
- demo_yesno: a yes/no question about a two-sentence story; yes = 1, no = 0.
  Fields: sentence1 (the story), sentence2 (the question), label, idx.

Every item is built from a seeded random draw over small word lists, so the
files are the same on every run. Labels are balanced over all items (about
half and half in each split, after a seeded shuffle) and no
text appears twice across splits.

Usage: python scripts/make_demo_benchmark.py [--out public/tasks/demo] [--seed 20261125]
"""

import argparse
import json
import random
from pathlib import Path

SPLITS = {"train": 200, "validation": 100, "test": 200}

THINGS = ["movie", "book", "song", "game", "show", "story", "cake", "park",
          "trip", "toy", "class", "party", "school", "shop", "lunch"]
PARTS = ["end", "start", "music", "people", "food", "colors", "words",
         "pictures", "room", "teacher", "idea", "day"]
GOOD = ["good", "great", "nice", "fun", "happy", "beautiful", "funny", "kind",
        "wonderful", "sweet", "bright", "warm", "clean", "smart"]
BAD = ["bad", "boring", "sad", "ugly", "slow", "poor", "terrible", "awful",
       "dark", "cold", "dirty", "long", "hard", "loud"]
GOOD_FEEL = ["happy", "glad", "smile", "laugh"]
BAD_FEEL = ["sad", "angry", "tired", "want to leave"]
GOOD_WANT = ["I want to go again.", "I will tell my friends about it.",
             "I would like to see it one more time.", "It was the best part of my week."]
BAD_WANT = ["I do not want to go again.", "I will not tell my friends about it.",
            "I wanted my money back.", "It was the worst part of my week."]

NAMES = [("Tom", "He"), ("Anna", "She"), ("Sam", "He"), ("Lily", "She"),
         ("Ben", "He"), ("Mia", "She"), ("Jack", "He"), ("Emma", "She"),
         ("Max", "He"), ("Lucy", "She"), ("Leo", "He"), ("Zoe", "She")]
COLORS = ["red", "blue", "green", "yellow", "white", "black", "brown", "pink"]
OBJECTS = ["ball", "hat", "book", "cup", "box", "bag", "kite", "car", "pen", "toy"]
PLACES = ["park", "shop", "school", "beach", "farm", "zoo", "river", "library"]
ANIMALS = ["dog", "cat", "bird", "fish", "horse", "cow", "duck", "rabbit"]
TIMES = ["morning", "afternoon", "evening"]
FOODS = ["apple", "cake", "bread", "egg", "banana", "cookie", "sandwich", "orange"]


def review(rng: random.Random, positive: bool) -> str:
    thing, part = rng.choice(THINGS), rng.choice(PARTS)
    adj, adj2 = rng.sample(GOOD if positive else BAD, 2)
    feel = rng.choice(GOOD_FEEL if positive else BAD_FEEL)
    want = rng.choice(GOOD_WANT if positive else BAD_WANT)
    form = rng.randrange(4)
    if form == 0:
        return f"The {thing} was {adj}, and the {part} was {adj2}."
    if form == 1:
        return f"This {thing} made me {feel}. The {part} was very {adj}."
    if form == 2:
        # Negation flips the word's polarity: "not good" is negative.
        neg = rng.choice(BAD if positive else GOOD)
        return f"The {thing} was not {neg} at all. {want}"
    return f"I think the {thing} is {adj}. {want}"


def a_or_an(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def story(rng: random.Random, answer_yes: bool) -> tuple[str, str]:
    (a, a_pron), (b, _) = rng.sample(NAMES, 2)
    form = rng.randrange(4)
    if form == 0:
        color, other_color = rng.sample(COLORS, 2)
        obj = rng.choice(OBJECTS)
        text = f"{a} has a {color} {obj}. {a_pron} gives it to {b}."
        q = rng.choice([
            (f"Does {b} have the {obj} now?", f"Does {a} still have the {obj}?"),
            (f"Is the {obj} {color}?", f"Is the {obj} {other_color}?"),
        ])
    elif form == 1:
        place, other_place = rng.sample(PLACES, 2)
        animal, other_animal = rng.sample(ANIMALS, 2)
        time = rng.choice(TIMES)
        text = f"{a} went to the {place} in the {time}. {a_pron} saw a {animal} there."
        q = rng.choice([
            (f"Did {a} see a {animal}?", f"Did {a} see a {other_animal}?"),
            (f"Did {a} go to the {place}?", f"Did {a} go to the {other_place}?"),
        ])
    elif form == 2:
        n, m = rng.sample(range(3, 13), 2)
        text = f"{a} is {n} years old. {b} is {m} years old."
        older, younger = (a, b) if n > m else (b, a)
        q = (f"Is {older} older than {younger}?", f"Is {younger} older than {older}?")
    else:
        food, other_food = rng.sample(FOODS, 2)
        text = f"{a} was hungry, so {a_pron.lower()} ate {a_or_an(food)} with {b}."
        q = rng.choice([
            (f"Did {a} eat with {b}?", f"Did {a} eat alone?"),
            (f"Did they eat {a_or_an(food)}?", f"Did they eat {a_or_an(other_food)}?"),
        ])
    return text, q[0] if answer_yes else q[1]


def build(rng: random.Random, make, total: int) -> list:
    """`total` distinct items with labels alternating 0/1 (then shuffled)."""
    seen, items = set(), []
    while len(items) < total:
        label = len(items) % 2
        item = make(rng, bool(label))
        if item in seen:
            continue
        seen.add(item)
        items.append((item, label))
    rng.shuffle(items)
    return items


def write(out: Path, task: str, items: list, to_fields) -> None:
    start = 0
    for split, n in SPLITS.items():
        path = out / f"{task}_{split}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for idx, (item, label) in enumerate(items[start:start + n]):
                f.write(json.dumps({**to_fields(item), "label": label, "idx": idx}) + "\n")
        start += n
        print(f"wrote {path} ({n} items)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "public/tasks/demo"))
    ap.add_argument("--seed", type=int, default=20261125)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = sum(SPLITS.values())
    rng = random.Random(args.seed)
    write(out, "demo_sentiment", build(rng, review, total), lambda s: {"sentence": s})
    write(out, "demo_yesno", build(rng, story, total),
          lambda st: {"sentence1": st[0], "sentence2": st[1]})


if __name__ == "__main__":
    main()
