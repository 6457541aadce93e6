"""The browser anchors' copies of a model: the same float32 weights as ONNX (for
transformers.js) and as an F32 GGUF (for wllama), written outside the repository.

Usage (the reference virtual environment with torch, transformers 5.x, gguf,
onnx and onnxruntime; scripts/bench.py --anchors calls this itself):

    /tmp/tinyeval-ref/bin/python scripts/make_anchor_models.py \\
        --model public/models/tinyhelen-1m --out ~/.cache/tinyeval-bench/anchors/tinyhelen-1m

writes into --out (nothing is committed; SmolLM2's ONNX is about 540 MB):

- `tfjs/`: the layout transformers.js loads from local files: config.json,
  generation_config.json, tokenizer.json, tokenizer_config.json and
  `onnx/model.onnx`, a plain `torch.onnx.export` (TorchScript exporter,
  `dynamo=False`; the dynamo exporter needs onnxscript) of a wrapper
  (input_ids, attention_mask) -> logits with `use_cache=False`, dynamic batch
  and sequence axes. No past key/value inputs: scoring runs one forward.
  config.json gets a top-level `rope_theta` copied from transformers 5's
  `rope_parameters`: readers that predate 5.x (transformers 4.57, optimum)
  silently fall back to 10000 without it (tinyhelen-1m needs 500000).
- `model-f32.gguf`: gguf_archs.write_gguf (the converter the GGUF fixtures
  use: llama.cpp's q/k permutation for its interleaved RoPE, byte-level BPE
  as tokenizer.ggml.model "gpt2"), every tensor F32, with
  `tokenizer.ggml.add_bos_token = false` written explicitly so that llama.cpp
  tokenizes a prompt as transformers does (no BOS) and the log-prob check
  compares the same ids.
- `check.json`: onnxruntime (CPU) against PyTorch on a few random sequences,
  the max |d log p| over every position and vocabulary entry, so a broken
  export shows before any browser runs.

A `done.json` stamp (the source files' sizes and mtimes) skips the work on the
next call unless the model changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TFJS_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")


def source_stamp(model: Path) -> dict:
    return {p.name: [p.stat().st_size, int(p.stat().st_mtime)] for p in sorted(model.iterdir()) if p.is_file()}


def export_onnx(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    # eager attention: the TorchScript exporter traces its plain matmul/softmax
    # graph; the mask is built from attention_mask inside the graph.
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()

    class Logits(torch.nn.Module):
        """(input_ids, attention_mask) -> logits, no cache: what scoring needs."""

        def __init__(self, lm):
            super().__init__()
            self.lm = lm

        def forward(self, input_ids, attention_mask):
            return self.lm(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    ids = torch.randint(0, model.config.vocab_size, (2, 16), generator=torch.Generator().manual_seed(0))
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode():
        torch.onnx.export(
            Logits(model), (ids, torch.ones_like(ids)), str(out), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                          "attention_mask": {0: "batch_size", 1: "sequence_length"},
                          "logits": {0: "batch_size", 1: "sequence_length"}})


def check_onnx(model_dir: Path, onnx_path: Path, batch: int = 2, seq: int = 64) -> dict:
    """onnxruntime vs PyTorch log-probs on random ids (every position and token)."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    ids = torch.randint(0, model.config.vocab_size, (batch, seq), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ref = model(input_ids=ids, use_cache=False).logits.log_softmax(-1).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = sess.run(["logits"], {"input_ids": ids.numpy(), "attention_mask": np.ones_like(ids.numpy())})[0]
    got = torch.from_numpy(logits).log_softmax(-1).numpy()
    return {"onnxruntime": ort.__version__, "batch": batch, "seq": seq,
            "max_abs_dlogp": float(np.abs(got - ref).max())}


def write_gguf_f32(model_dir: Path, out: Path) -> None:
    import gguf
    import gguf_archs

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / model_dir.name
        shutil.copytree(model_dir, folder)
        tc_path = folder / "tokenizer_config.json"
        tc = json.loads(tc_path.read_text(encoding="utf-8"))
        tc["add_bos_token"] = False  # transformers' tokenizer adds none; make llama.cpp agree
        tc_path.write_text(json.dumps(tc), encoding="utf-8")
        gguf_archs.write_gguf(folder, out, gguf.GGMLQuantizationType.F32)


def make(model_dir: Path, out: Path) -> dict:
    model_dir = model_dir.resolve()
    stamp = {"source": str(model_dir), "files": source_stamp(model_dir)}
    done = out / "done.json"
    if done.exists() and json.loads(done.read_text()) == stamp:
        return json.loads((out / "check.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    tfjs = out / "tfjs"
    tfjs.mkdir(parents=True)
    for name in TFJS_FILES:
        if (model_dir / name).exists():
            shutil.copy(model_dir / name, tfjs / name)
    config = json.loads((tfjs / "config.json").read_text(encoding="utf-8"))
    rope = config.get("rope_parameters") or {}
    if "rope_theta" in rope and "rope_theta" not in config:
        config["rope_theta"] = rope["rope_theta"]
    (tfjs / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"[exporting {model_dir.name} to ONNX]", file=sys.stderr, flush=True)
    export_onnx(model_dir, tfjs / "onnx/model.onnx")
    print(f"[writing {model_dir.name} as an F32 GGUF]", file=sys.stderr, flush=True)
    write_gguf_f32(model_dir, out / "model-f32.gguf")
    check = check_onnx(model_dir, tfjs / "onnx/model.onnx")
    (out / "check.json").write_text(json.dumps(check, indent=1))
    done.write_text(json.dumps(stamp))
    return check


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a transformers model folder (float32 safetensors)")
    ap.add_argument("--out", type=Path, required=True, help="output folder, outside the repository")
    args = ap.parse_args()
    check = make(args.model, args.out)
    print(f"{args.out}: onnxruntime vs PyTorch max |d log p| {check['max_abs_dlogp']:.2e}")


if __name__ == "__main__":
    main()
