#!/usr/bin/env python3
"""Writes tinyeval's own demo benchmark: two small tasks in simple language, in
the JSONL shape of Leaner-GLUE (same field names as Hugging Face's GLUE,
`label`, `idx`), so the dashboard has a benchmark offline on first visit.

- demo_sentiment: is a short review positive (1) or negative (0)?
  Fields: sentence, label, idx.  (Shape of SST-2.)
- demo_yesno: a yes/no question about a short story; yes = 1, no = 0.
  Fields: sentence1 (the story), sentence2 (the question), label, idx.

Every item is built from a seeded random draw over word lists, so the files are
the same on every run. Each item also carries neutral details (a day, the
weather, a companion) that do not touch its label: they make the items
distinct enough that a model that has seen one can recognise it, which the
demo contamination check relies on. Labels are balanced over all items (about
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
          "trip", "toy", "class", "party", "school", "shop", "lunch", "dinner",
          "hotel", "museum", "bus ride", "concert", "zoo", "garden", "farm", "beach"]
PARTS = ["end", "start", "music", "people", "food", "colors", "words",
         "pictures", "room", "teacher", "idea", "day", "bed", "water", "animals",
         "games", "songs", "dancing"]
GOOD = ["good", "great", "nice", "fun", "happy", "beautiful", "funny", "kind",
        "wonderful", "sweet", "bright", "warm", "clean", "smart", "cool", "lovely",
        "exciting", "friendly", "perfect", "amazing"]
BAD = ["bad", "boring", "sad", "ugly", "slow", "poor", "terrible", "awful",
       "dark", "cold", "dirty", "long", "hard", "loud", "wrong", "angry",
       "broken", "strange", "empty", "scary"]
GOOD_FEEL = ["happy", "glad", "smile", "laugh", "sing", "dance"]
BAD_FEEL = ["sad", "angry", "tired", "want to leave", "cry", "sleepy"]
GOOD_WANT = ["I want to go again.", "I will tell my friends about it.",
             "I would like to see it one more time.", "It was the best part of my week.",
             "My family loved it too.", "I hope they make another one."]
BAD_WANT = ["I do not want to go again.", "I will not tell my friends about it.",
            "I wanted my money back.", "It was the worst part of my week.",
            "My family did not like it either.", "I hope I never see it again."]

NAMES = [("Tom", "He"), ("Anna", "She"), ("Sam", "He"), ("Lily", "She"),
         ("Ben", "He"), ("Mia", "She"), ("Jack", "He"), ("Emma", "She"),
         ("Max", "He"), ("Lucy", "She"), ("Leo", "He"), ("Zoe", "She"),
         ("Adam", "He"), ("Kate", "She"), ("Dan", "He"), ("Amy", "She"),
         ("Bob", "He"), ("Sara", "She"), ("Joe", "He"), ("Grace", "She"),
         ("Mark", "He"), ("Rose", "She"), ("Nick", "He"), ("Jane", "She"),
         ("Paul", "He"), ("Ella", "She"), ("Luke", "He"), ("Ruby", "She"),
         ("Owen", "He"), ("Nora", "She"), ("Finn", "He"), ("Ivy", "She"),
         ("Carl", "He"), ("Hana", "She"), ("Omar", "He"), ("Maya", "She")]
COLORS = ["red", "blue", "green", "yellow", "white", "black", "brown", "pink", "purple", "gray"]
OBJECTS = ["ball", "hat", "book", "cup", "box", "bag", "kite", "car", "pen", "toy",
           "doll", "drum", "lamp", "coat", "shoe", "map"]
PLACES = ["park", "shop", "school", "beach", "farm", "zoo", "river", "library",
          "market", "forest", "lake", "hill", "museum", "village"]
ANIMALS = ["dog", "cat", "bird", "fish", "horse", "cow", "duck", "rabbit",
           "frog", "sheep", "pig", "goat", "mouse", "bear"]
TIMES = ["morning", "afternoon", "evening"]
FOODS = ["apple", "cake", "bread", "egg", "banana", "cookie", "sandwich", "orange",
         "pizza", "soup", "rice", "candy", "pie", "carrot"]
# Neutral details: they add item-specific words (so that a model that has seen
# an item can recognise it) without touching the label.
WEATHER = ["sunny", "rainy", "cold", "warm", "windy", "hot", "snowy", "cloudy"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]


def detail(rng: random.Random, with_time: bool = True) -> str:
    """A neutral sentence about the day and the weather; never about the label."""
    weather, day, time, month = rng.choice(WEATHER), rng.choice(DAYS), rng.choice(TIMES), rng.choice(MONTHS)
    form = rng.randrange(3) if with_time else 0
    if form == 0:
        return f"It was a {weather} {day} in {month}."
    if form == 1:
        return f"It was a {weather} {day} {time} in {month}."
    return f"That {day} {time} in {month} was {weather}."


def review(rng: random.Random, positive: bool) -> str:
    thing, part = rng.choice(THINGS), rng.choice(PARTS)
    was = "were" if part.endswith("s") or part == "people" else "was"
    adj, adj2 = rng.sample(GOOD if positive else BAD, 2)
    feel = rng.choice(GOOD_FEEL if positive else BAD_FEEL)
    want = rng.choice(GOOD_WANT if positive else BAD_WANT)
    name = rng.choice(NAMES)[0]
    form = rng.randrange(4)
    if form == 0:
        text = f"The {thing} was {adj}, and the {part} {was} {adj2}."
    elif form == 1:
        text = f"This {thing} made me {feel}. The {part} {was} very {adj}."
    elif form == 2:
        # Negation flips the word's polarity: "not good" is negative.
        neg = rng.choice(BAD if positive else GOOD)
        text = f"The {thing} was not {neg} at all. {want}"
    else:
        text = f"I think the {thing} is {adj}. {want}"
    who = rng.choice([f"I went with {name}.", f"{name} came with me.", f"{name} and I went together."])
    after = rng.choice([f"We had {a_or_an(rng.choice(FOODS))} after.", f"We took the bus home at {rng.randrange(2, 10)}."])
    return f"{text} {who} {detail(rng)} {after}"


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
    home = rng.choice([f"They went home at {rng.randrange(2, 10)}.", f"The bus came at {rng.randrange(2, 10)}.",
                       f"It took {rng.randrange(2, 10)} minutes to walk home."])
    # Form 1 already says the time of day.
    return f"{text} {detail(rng, with_time=form != 1)} {home}", q[0] if answer_yes else q[1]


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
