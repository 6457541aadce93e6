#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/: small valid inputs of each kind, taken from the
repository's own fixtures (our files), so that libFuzzer starts from real
structure. Run from anywhere; it overwrites the seeds."""
import json, pathlib, re, shutil

root = pathlib.Path(__file__).resolve().parent.parent
seeds = root / "fuzz" / "seeds"
shutil.rmtree(seeds, ignore_errors=True)
models = root / "core/tests/fixtures/models"

def put(target, name, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())

for m in sorted(models.iterdir()):
    put("model_config", f"{m.name}.json", (m / "config.json").read_bytes())
    # A safetensors header with its tensors' data cut to 64 bytes each (offsets
    # rewritten), so the seeds stay small but parse.
    raw = (m / "model.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data, out = raw[8 + n:], {}
    pos, body = 0, b""
    for k, v in header.items():
        if k == "__metadata__":
            out[k] = v
            continue
        a, b = v["data_offsets"]
        chunk = data[a:min(b, a + 64)]
        out[k] = dict(v, data_offsets=[pos, pos + len(chunk)])
        body += chunk
        pos += len(chunk)
    h = json.dumps(out).encode()
    put("safetensors", f"{m.name}.safetensors", len(h).to_bytes(8, "little") + h + body)
    tok = (m / "tokenizer.json").read_bytes()
    if len(tok) < 64_000:
        put("tokenizer", f"{m.name}.json", tok + b"\0the quick brown fox")
put("safetensors", "index.json", json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors"}}))

for g in sorted((root / "core/tests/fixtures/gguf").glob("*.gguf")):
    if g.stat().st_size < 200_000:
        put("gguf", g.name, g.read_bytes())

yamls = sorted((root / "core/src/tasks/builtin").glob("*.yaml")) + sorted((root / "core/tests/fixtures/tasks").glob("*.yaml"))
for y in yamls:
    text = y.read_text()
    put("task_yaml", y.name, text)
    for i, t in enumerate(re.findall(r'doc_to_text: *"(.*)"', text)):
        put("template", f"{y.stem}_{i}.j2", t.encode().decode("unicode_escape"))
put("template", "loop.j2", "{% for i in range(n) %}{{ text }}{% endfor %}")

for f in sorted((root / "public/tasks/demo").glob("*_validation.jsonl")):
    put("task_data", f.name, "".join(f.read_text().splitlines(keepends=True)[:5]))
put("task_data", "data.csv", "sentence,label\n\"a, b\",1\nc,0\n")
put("task_data", "questions.jsonl", '{"instruction": "Tell a story.", "id": 1}\n')

manifest = root / "public/models/tinyhelen-1m-contaminated/membership.jsonl"
put("manifest", "membership.jsonl", "".join(manifest.read_text().splitlines(keepends=True)[:8]))
