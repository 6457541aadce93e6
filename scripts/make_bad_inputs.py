#!/usr/bin/env python3
"""Write tinyeval's corpus of malformed inputs: cli/tests/bad_inputs/.

Usage (from anywhere; Python 3 standard library only, deterministic):

    python3 scripts/make_bad_inputs.py

cli/tests/bad_inputs.rs runs every case of cli/tests/bad_inputs/cases.json
through the built `tinyeval` binary with a 10 s limit: no case may panic,
abort, hang or end in an unclear error.

Each case is {"id", "kind", "args", "expect", "stderr_contains"} and, for
command-line usage errors that clap reports, "exit_code": 2 (every other error
exits with 1). In "args", `{dir}` is the corpus folder, `{models}` the
repository's public/models and `{out}` a fresh empty folder for the case's
output files. Every case runs with the corpus folder as its current folder,
so that the data paths inside the task YAMLs (`task_x/data.jsonl`) resolve.

Models. Every model folder of the corpus is a complete, tiny model of our own
(about 12 KB): a one-layer Llama (hidden size 8, 2 heads, MLP 16, context 64,
tied embedding) with seeded random weights in a hand-written model.safetensors,
and a byte-level BPE tokenizer.json of the 256 bytes plus <|endoftext|> (257
tokens, no merges). `model_ok` and `gguf/ok.gguf` (the same model as a GGUF
file) run normally; every other model case changes one file of it, so that the
error can only come from that change. Cases that need the real 2K-token
tokenizer or a context of 1024 use the bundled public/models/llama-2k-1m-random.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "cli" / "tests" / "bad_inputs"

HIDDEN, HEADS, FFN, LAYERS, CONTEXT = 8, 2, 16, 1, 64
SPECIAL = "<|endoftext|>"

CASES: list[dict] = []


def case(id_, kind, args, expect="error", contains=(), exit_code=None, note=None):
    assert all(c["id"] != id_ for c in CASES), id_
    c = {"id": id_, "kind": kind, "args": args, "expect": expect, "stderr_contains": list(contains)}
    if exit_code is not None:
        c["exit_code"] = exit_code
    if note:
        c["note"] = note
    CASES.append(c)


def write(rel: str, data: bytes | str) -> Path:
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def dumps(v) -> str:
    return json.dumps(v, indent=1, ensure_ascii=False) + "\n"


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


# ---------------------------------------------------------------- the tiny model

def byte_alphabet() -> list[str]:
    """GPT-2's bytes_to_unicode, in byte order."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, n = {}, 0
    for b in range(256):
        if b in printable:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return [out[b] for b in range(256)]


ALPHABET = byte_alphabet()


def tokenizer_json(extra_tokens=(), merges=(), added=None, model_type="BPE") -> dict:
    vocab = {c: i for i, c in enumerate(ALPHABET)}
    vocab[SPECIAL] = 256
    for t in extra_tokens:
        vocab[t] = len(vocab)
    if added is None:
        added = [{"id": 256, "content": SPECIAL, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True}]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": model_type, "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [list(m) for m in merges]},
    }


VOCAB = 257

BASE_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": VOCAB,
    "hidden_size": HIDDEN,
    "intermediate_size": FFN,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "num_key_value_heads": HEADS,
    "head_dim": HIDDEN // HEADS,
    "max_position_embeddings": CONTEXT,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "hidden_act": "silu",
    "tie_word_embeddings": True,
    "bos_token_id": 256,
    "eos_token_id": 256,
    "torch_dtype": "float32",
}


def tensors(vocab=VOCAB) -> list[tuple[str, list[int]]]:
    """(transformers name, PyTorch shape) of the tiny Llama."""
    h, m = HIDDEN, FFN
    out = [("model.embed_tokens.weight", [vocab, h])]
    for l in range(LAYERS):
        p = f"model.layers.{l}"
        out += [
            (f"{p}.input_layernorm.weight", [h]),
            (f"{p}.self_attn.q_proj.weight", [h, h]),
            (f"{p}.self_attn.k_proj.weight", [h, h]),
            (f"{p}.self_attn.v_proj.weight", [h, h]),
            (f"{p}.self_attn.o_proj.weight", [h, h]),
            (f"{p}.post_attention_layernorm.weight", [h]),
            (f"{p}.mlp.gate_proj.weight", [m, h]),
            (f"{p}.mlp.up_proj.weight", [m, h]),
            (f"{p}.mlp.down_proj.weight", [h, m]),
        ]
    out.append(("model.norm.weight", [h]))
    return out


def numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def values(name: str, shape) -> list[float]:
    rng = random.Random(name)  # seeded by the tensor's name: deterministic
    if len(shape) == 1:
        return [1.0] * shape[0]
    return [rng.gauss(0.0, 0.2) for _ in range(numel(shape))]


def f32(vals) -> bytes:
    return struct.pack(f"<{len(vals)}f", *vals)


def safetensors_bytes(entries, header_extra=None, raw_header=None, header_len=None, tail=b"") -> bytes:
    """entries: (name, dtype, shape, data bytes); offsets are laid out in order."""
    header, data, pos = {}, b"", 0
    for name, dtype, shape, blob in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [pos, pos + len(blob)]}
        data += blob
        pos += len(blob)
    header["__metadata__"] = {"format": "pt"}
    if header_extra:
        header_extra(header)
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    n = len(h) if header_len is None else header_len
    return struct.pack("<Q", n) + h + data + tail


def f16(vals) -> bytes:
    return struct.pack(f"<{len(vals)}e", *vals)


def good_entries(vocab=VOCAB):
    """Matrices in F16 (half the bytes), norm weights in F32."""
    return [(n, "F16", s, f16(values(n, s))) if len(s) == 2 else (n, "F32", s, f32(values(n, s))) for n, s in tensors(vocab)]


GOOD_ST = safetensors_bytes(good_entries())
GOOD_TOK = dumps(tokenizer_json())
# A valid safetensors file without tensors, for cases that fail before the weights are read.
NO_TENSORS = safetensors_bytes([])


def model_dir(name: str, config=None, tokenizer=None, weights=None, extra=None) -> str:
    """A model folder: the tiny model with the given files replaced; returns its `{dir}` path."""
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    files = {
        "config.json": dumps(BASE_CONFIG) if config is None else config,
        "tokenizer.json": GOOD_TOK if tokenizer is None else tokenizer,
        "model.safetensors": GOOD_ST if weights is None else weights,
        "tokenizer_config.json": dumps({"bos_token": SPECIAL, "eos_token": SPECIAL}),
    }
    files.update(extra or {})
    for f, data in files.items():
        if data is not None:
            write(f"{name}/{f}", data)
    return "{dir}/" + name


def cfg(**changes) -> str:
    c = dict(BASE_CONFIG)
    for k, v in changes.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return dumps(c)


DROP = object()


def logprobs(model: str, inp: str = "{dir}/texts.jsonl", *extra) -> list[str]:
    return ["logprobs", "--model", model, "--input", inp, *extra]


# ---------------------------------------------------------------- GGUF

GG_U32, GG_I32, GG_F32, GG_BOOL, GG_STR, GG_ARR, GG_U64 = 4, 5, 6, 7, 8, 9, 10


def gg_str(s) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gg_value(ty, v) -> bytes:
    if ty == GG_U32:
        return struct.pack("<I", v)
    if ty == GG_I32:
        return struct.pack("<i", v)
    if ty == GG_F32:
        return struct.pack("<f", v)
    if ty == GG_BOOL:
        return struct.pack("<B", v)
    if ty == GG_U64:
        return struct.pack("<Q", v)
    if ty == GG_STR:
        return gg_str(v)
    if ty == GG_ARR:
        item_ty, items = v
        return struct.pack("<IQ", item_ty, len(items)) + b"".join(gg_value(item_ty, i) for i in items)
    raise ValueError(ty)


def gguf_kv(**over):
    """The tiny model's metadata as [key, type, value]; `over` replaces (None drops) by key with '.' as '__'."""
    kv = [
        ["general.architecture", GG_STR, "llama"],
        ["general.name", GG_STR, "tiny"],
        ["llama.block_count", GG_U32, LAYERS],
        ["llama.context_length", GG_U32, CONTEXT],
        ["llama.embedding_length", GG_U32, HIDDEN],
        ["llama.feed_forward_length", GG_U32, FFN],
        ["llama.attention.head_count", GG_U32, HEADS],
        ["llama.attention.head_count_kv", GG_U32, HEADS],
        ["llama.rope.freq_base", GG_F32, 10000.0],
        ["llama.attention.layer_norm_rms_epsilon", GG_F32, 1e-5],
        ["tokenizer.ggml.model", GG_STR, "gpt2"],
        ["tokenizer.ggml.pre", GG_STR, "gpt-2"],
        ["tokenizer.ggml.tokens", GG_ARR, (GG_STR, ALPHABET + [SPECIAL])],
        ["tokenizer.ggml.token_type", GG_ARR, (GG_I32, [1] * 256 + [3])],
        ["tokenizer.ggml.merges", GG_ARR, (GG_STR, [])],
        ["tokenizer.ggml.bos_token_id", GG_U32, 256],
        ["tokenizer.ggml.eos_token_id", GG_U32, 256],
    ]
    for key, val in over.items():
        key = key.replace("__", ".")
        idx = [i for i, e in enumerate(kv) if e[0] == key]
        if val is None:
            kv = [e for e in kv if e[0] != key]
        elif idx:
            kv[idx[0]] = [key, *val]
        else:
            kv.append([key, *val])
    return kv


def gguf_tensors(vocab=VOCAB):
    """(GGUF name, ggml dims innermost first, ggml type, data)."""
    h, m = HIDDEN, FFN
    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
    }
    out = []
    for name, shape in tensors(vocab):
        g = names.get(name)
        if g is None:
            l, rest = name[len("model.layers."):].split(".", 1)
            module = rest.rsplit(".", 1)[0]
            g = "blk.%s.%s.weight" % (l, {
                "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
                "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                "mlp.down_proj": "ffn_down"}[module])
        if len(shape) == 2:
            out.append([g, list(reversed(shape)), 1, f16(values(name, shape))])  # F16
        else:
            out.append([g, list(reversed(shape)), 0, f32(values(name, shape))])
    return out


def gguf_bytes(kv=None, tens=None, version=3, n_tensors=None, n_kv=None, raw_kv=None, offsets=None) -> bytes:
    kv = gguf_kv() if kv is None else kv
    tens = gguf_tensors() if tens is None else tens
    body = b""
    for key, ty, v in kv:
        body += gg_str(key) + struct.pack("<I", ty) + gg_value(ty, v)
    body += raw_kv or b""
    count_kv = len(kv) + (1 if raw_kv else 0)
    infos, data, pos = b"", b"", 0
    for name, dims, ty, blob in tens:
        pos += -pos % 32
        off = (offsets or {}).get(name, pos)
        infos += gg_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ty, off)
        data += b"\0" * (pos - len(data)) + blob
        pos += len(blob)
    head = b"GGUF" + struct.pack("<I", version)
    head += struct.pack("<QQ", len(tens) if n_tensors is None else n_tensors, count_kv if n_kv is None else n_kv)
    out = head + body + infos
    out += b"\0" * (-len(out) % 32)
    return out + data


def gguf_case(id_, data: bytes, contains, expect="error", inp="{dir}/texts.jsonl", note=None):
    write(f"gguf/{id_}.gguf", data)
    case(f"gguf_{id_}", "gguf", logprobs("{dir}/gguf/%s.gguf" % id_, inp), expect, [f"{id_}.gguf", *contains], note=note)


# ---------------------------------------------------------------- the corpus

def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    texts = [{"text": "Once upon a time, there was a little girl."}, {"text": "She liked to read books about ab and cd."}]
    write("texts.jsonl", jsonl(texts))
    write("README.md", "Malformed inputs for tinyeval's CLI, written by scripts/make_bad_inputs.py "
                       "(do not edit by hand); run by cli/tests/bad_inputs.rs. See cases.json.\n")

    # ---- baselines: the tiny model runs
    ok = model_dir("model_ok")
    case("ok_logprobs", "model-config", logprobs(ok), "ok", note="the tiny model every model case changes")
    case("ok_logprobs_bundled", "model-config", logprobs("{models}/llama-2k-1m-random"), "ok")
    case("ok_generate_long", "cli-args", ["generate", "--model", ok, "--prompt", "Once", "--max_new_tokens", "1000000000000"], "ok",
         note="generation stops at the context (64)")
    write("gguf/ok.gguf", gguf_bytes())
    case("gguf_ok", "gguf", logprobs("{dir}/gguf/ok.gguf"), "ok")

    # ---- config.json
    C = "model-config"

    def cfg_case(id_, config, contains, expect="error", inp="{dir}/texts.jsonl", note=None):
        d = model_dir(f"cfg_{id_}", config=config)
        case(f"cfg_{id_}", C, logprobs(d, inp), expect, [f"cfg_{id_}/config.json", *contains], note=note)

    cfg_case("heads_zero", cfg(num_attention_heads=0, num_key_value_heads=DROP, head_dim=DROP), ["num_attention_heads"])
    cfg_case("kv_heads_zero", cfg(num_key_value_heads=0), ["num_key_value_heads"])
    cfg_case("kv_heads_not_dividing", cfg(num_key_value_heads=3), ["key/value"])
    cfg_case("hidden_not_divisible", cfg(hidden_size=10, num_attention_heads=4, num_key_value_heads=4, head_dim=DROP), ["hidden_size"])
    cfg_case("hidden_negative", cfg(hidden_size=-8), ["hidden_size"])
    cfg_case("hidden_zero", cfg(hidden_size=0, head_dim=DROP), ["hidden_size"])
    cfg_case("hidden_huge", cfg(hidden_size=2**40, head_dim=DROP), ["hidden_size"])
    cfg_case("head_dim_zero", cfg(head_dim=0), ["head_dim"])
    cfg_case("head_dim_odd", cfg(head_dim=3), ["head_dim"], note="rotary dimensions must be even")
    cfg_case("layers_huge", cfg(num_hidden_layers=2**40), ["num_hidden_layers"])
    cfg_case("layers_float", cfg(num_hidden_layers=1.5), ["num_hidden_layers"])
    cfg_case("layers_zero", cfg(num_hidden_layers=0), ["num_hidden_layers"])
    cfg_case("max_pos_zero", cfg(max_position_embeddings=0), ["max_position_embeddings"])
    cfg_case("max_pos_huge", cfg(max_position_embeddings=2**40), ["max_position_embeddings"])
    cfg_case("vocab_zero", cfg(vocab_size=0), ["vocab_size"])
    cfg_case("vocab_huge", cfg(vocab_size=2**40), ["vocab_size"])
    cfg_case("intermediate_huge", cfg(intermediate_size=2**40), ["intermediate_size"])
    cfg_case("intermediate_zero", cfg(intermediate_size=0), ["intermediate_size"])
    cfg_case("heads_string", cfg(num_attention_heads="2"), ["num_attention_heads"])
    cfg_case("heads_null", cfg(num_attention_heads=None), ["num_attention_heads"])
    cfg_case("missing_hidden_size", cfg(hidden_size=DROP), ["hidden_size"])
    cfg_case("unknown_model_type", cfg(model_type="mamba"), ["model_type", "mamba"])
    cfg_case("no_model_type", cfg(model_type=DROP), ["model_type"])
    cfg_case("model_type_number", cfg(model_type=7), ["model_type"])
    cfg_case("rope_scaling", cfg(rope_scaling={"rope_type": "dynamic", "factor": 2.0}), ["rope_scaling.rope_type", "dynamic"])
    cfg_case("rope_theta_zero", cfg(rope_theta=0.0), ["rope_theta"])
    cfg_case("rope_theta_negative", cfg(rope_theta=-10000.0), ["rope_theta"])
    cfg_case("hidden_act_unknown", cfg(hidden_act="swishy"), ["hidden_act"])
    cfg_case("eps_string", cfg(rms_norm_eps="small"), ["rms_norm_eps"])
    gpt2 = {"model_type": "gpt2", "vocab_size": VOCAB, "n_positions": CONTEXT, "n_embd": HIDDEN, "n_layer": 1, "n_head": 0}
    cfg_case("gpt2_n_head_zero", dumps(gpt2), ["n_head"])
    cfg_case("gpt2_n_positions_zero", dumps({**gpt2, "n_head": 2, "n_positions": 0}), ["n_positions"])
    neo = {"model_type": "gpt_neo", "vocab_size": VOCAB, "max_position_embeddings": CONTEXT, "hidden_size": HIDDEN,
           "num_layers": 1, "num_heads": 2, "attention_types": [[["global"], 10**12]]}
    cfg_case("gpt_neo_attention_types_huge", dumps(neo), ["attention_types"])
    cfg_case("gpt_neo_window_zero", dumps({**neo, "attention_types": [[["local"], 1]], "window_size": 0}), ["window_size"])
    neox = {"model_type": "gpt_neox", "vocab_size": VOCAB, "max_position_embeddings": CONTEXT, "hidden_size": HIDDEN,
            "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": FFN, "rotary_pct": 4.0}
    cfg_case("gpt_neox_rotary_pct", dumps(neox), ["rotary"])
    cfg_case("gpt_neox_heads_zero", dumps({**neox, "rotary_pct": 0.25, "num_attention_heads": 0}), ["num_attention_heads"])
    cfg_case("non_utf8", dumps(BASE_CONFIG).replace('"tiny"', "x").encode().replace(b'"llama"', b'"ll\xffama"'), ["UTF-8"])
    cfg_case("empty", b"", ["empty"])
    cfg_case("not_object", "[1, 2, 3]\n", ["model_type"])
    cfg_case("nested_deep", "[" * 100_000 + "]" * 100_000, ["JSON"])
    cfg_case("truncated", dumps(BASE_CONFIG)[:60], ["JSON"])
    cfg_case("eos_negative", cfg(eos_token_id=-1), ["eos_token_id"])
    cfg_case("eos_beyond_vocab", cfg(eos_token_id=2**40), ["eos_token_id"])
    # a model folder without config.json / a directory in its place
    d = model_dir("cfg_missing", config=None)
    (OUT / "cfg_missing" / "config.json").unlink()
    case("cfg_missing", C, logprobs(d), "error", ["cfg_missing/config.json"])
    d = model_dir("cfg_is_dir")
    (OUT / "cfg_is_dir" / "config.json").unlink()
    write("cfg_is_dir/config.json/README.md", "config.json is a folder here\n")
    case("cfg_is_dir", C, logprobs(d), "error", ["cfg_is_dir/config.json"])

    # ---- model.safetensors
    S = "safetensors"

    def st_case(id_, weights, contains, expect="error", extra=None, note=None, file="model.safetensors"):
        d = model_dir(f"st_{id_}", weights=weights, extra=extra)
        case(f"st_{id_}", S, logprobs(d), expect, [f"st_{id_}/{file}" if file else f"st_{id_}", *contains], note=note)

    st_case("empty", b"", ["header"])
    st_case("short", b"\x08\0\0", ["header"])
    st_case("truncated", GOOD_ST[: len(GOOD_ST) // 2], ["safetensors"])
    st_case("header_len_huge", struct.pack("<Q", 2**62) + GOOD_ST[8:], ["header"])
    st_case("header_len_past_end", struct.pack("<Q", len(GOOD_ST)) + GOOD_ST[8:], ["header"])
    st_case("header_not_json", safetensors_bytes(good_entries(), raw_header=b"{this is not json}"), ["JSON"])
    st_case("header_not_utf8", safetensors_bytes(good_entries(), raw_header=b'{"a\xff":1}'), ["UTF-8"])
    st_case("header_not_object", safetensors_bytes(good_entries(), raw_header=b"[1,2,3]"), ["header"])

    def shift_offsets(h):
        e = h["model.norm.weight"]
        e["data_offsets"] = [e["data_offsets"][0] + 10**9, e["data_offsets"][1] + 10**9]
    st_case("offsets_outside", safetensors_bytes(good_entries(), header_extra=shift_offsets), ["offset"])

    def overlap(h):
        h["model.norm.weight"]["data_offsets"] = list(h["model.embed_tokens.weight"]["data_offsets"][:1]) + [32]
    st_case("offsets_overlap", safetensors_bytes(good_entries(), header_extra=overlap), ["offset"])

    def wrong_size(h):
        h["model.norm.weight"]["shape"] = [9]
    st_case("wrong_size", safetensors_bytes(good_entries(), header_extra=wrong_size), ["safetensors"])

    def bad_dtype(h):
        h["model.norm.weight"]["dtype"] = "F128"
    st_case("dtype_unknown", safetensors_bytes(good_entries(), header_extra=bad_dtype), ["F128"])
    ents = good_entries()
    ents[0] = (ents[0][0], "I16", ents[0][2], ents[0][3])
    st_case("dtype_i16", safetensors_bytes(ents), ["model.embed_tokens.weight", "I16"])
    ents = [e for e in good_entries() if e[0] != "model.layers.0.self_attn.q_proj.weight"]
    st_case("missing_tensor", safetensors_bytes(ents), ["q_proj", "missing"], file="")
    ents = good_entries()
    ents[0] = (ents[0][0], "F16", [256, HIDDEN], ents[0][3][: 256 * HIDDEN * 2])
    st_case("shape_mismatch", safetensors_bytes(ents), ["embed_tokens", "shape"], file="")
    ents = good_entries()
    ents[1] = (ents[1][0], ents[1][1], [2**40, 2**40, 2**40], ents[1][3])
    st_case("shape_overflow", safetensors_bytes(ents), ["safetensors"])
    ents = [(n, "F32", s, f32([float("nan")] * numel(s))) for n, d, s, _ in good_entries()]
    st_case("nan_weights", safetensors_bytes(ents), [], expect="ok", note="NaN weights are a model, not a file error")

    def bad_metadata(h):
        h["__metadata__"] = {"format": 5}
    st_case("metadata_not_string", safetensors_bytes(good_entries(), header_extra=bad_metadata), ["header"])
    st_case("trailing_bytes", GOOD_ST + b"\0" * 16, ["safetensors"])
    index = lambda wm: dumps({"metadata": {}, "weight_map": wm})
    st_case("index_not_json", None, ["safetensors index"], extra={"model.safetensors.index.json": "{not json"},
            file="model.safetensors.index.json")
    st_case("index_missing_shard", None, [],
            extra={"model.safetensors.index.json": index({"model.norm.weight": "model-00002-of-00002.safetensors"})},
            file="model-00002-of-00002.safetensors")
    st_case("index_dev_zero", None, ["/dev/zero"], extra={"model.safetensors.index.json": index({"model.norm.weight": "/dev/zero"})},
            file="", note="a shard outside the folder (an endless file)")

    # ---- tokenizer.json
    T = "tokenizer"

    def tok_case(id_, tokenizer, contains, expect="error", inp="{dir}/texts.jsonl", extra=None, file="tokenizer.json", note=None):
        d = model_dir(f"tok_{id_}", tokenizer=tokenizer, extra=extra)
        case(f"tok_{id_}", T, logprobs(d, inp), expect, [f"tok_{id_}/{file}", *contains], note=note)

    tok_case("not_json", "this is not json\n", ["JSON"])
    tok_case("empty", b"", ["empty"])
    tok_case("non_utf8", GOOD_TOK.encode().replace(b'"1.0"', b'"1.\xff"'), ["UTF-8"])
    t = tokenizer_json(model_type="Foo")
    tok_case("unknown_model_type", dumps(t), ["Foo"])
    t = tokenizer_json()
    del t["model"]
    tok_case("no_model", dumps(t), ["model"])
    merges = [(a, b) for a, b in zip("abcdefghijklmnopqrstu", "bcdefghijklmnopqrstuv")]
    t = tokenizer_json(extra_tokens=[a + b for a, b in merges], merges=merges)
    tok_case("ids_above_embedding", dumps(t), ["257"], note="ids 257..277 have no embedding row (257 rows)")
    t = tokenizer_json()
    t["added_tokens"].append({"id": 4_000_000_000, "content": "ab", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": False})
    tok_case("added_token_id_huge", dumps(t), ["257"])
    t = tokenizer_json(added=[])
    t["model"]["vocab"] = {}
    tok_case("empty_vocab", dumps(t), ["vocab"])
    t = tokenizer_json(merges=[("zz", "qq")])
    tok_case("merge_unknown_token", dumps(t), ["zz"])
    tok_case("nested_deep", '{"version": ' + "[" * 10_000 + "]" * 10_000 + "}", [])
    tok_case("config_not_json", None, ["JSON"], extra={"tokenizer_config.json": "{oops"}, file="tokenizer_config.json")
    tok_case("config_bos_unknown", None, [], expect="ok",
             extra={"tokenizer_config.json": dumps({"bos_token": "<nope>", "add_bos_token": True})},
             note="an unknown bos token is not added, as transformers")
    d = model_dir("tok_missing")
    (OUT / "tok_missing" / "tokenizer.json").unlink()
    case("tok_missing", T, logprobs(d), "error", ["tok_missing/tokenizer.json"])
    # the bundled tokenizer (2K BPE with merges) on one 1 MB word
    rng = random.Random(1)
    word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(1_000_000))
    # A multiple-choice doc whose text is that word: the whole text is tokenized
    # (BPE on a 1 MB word took minutes before long words were cut), then only
    # the context's last window is scored, so the run is quick and normal.
    write("task_word_1mb/data.jsonl", json.dumps({"sentence": word, "label": 1}) + "\n")
    write("task_word_1mb/word_1mb.yaml", json.dumps({
        "task": "word_1mb", "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": "task_word_1mb/data.jsonl"}}, "test_split": "test",
        "output_type": "multiple_choice", "doc_to_text": "{{sentence}}\nAnswer:", "doc_to_target": "label",
        "doc_to_choice": ["no", "yes"], "metric_list": [{"metric": "acc"}]}, indent=1) + "\n")
    case("tok_word_1mb_bundled", T, ["run", "--model", "{models}/llama-2k-1m-random", "--tasks", "word_1mb",
         "--include_path", "{dir}/task_word_1mb", "--bootstrap_iters", "0", "--output_path", "{out}"], "ok", [],
         note="one 1 MB word without spaces is tokenized in bounded time (long words are cut before BPE)")

    # ---- input JSONL (logprobs)
    J = "jsonl"

    def in_case(id_, data, contains, expect="error", model=ok, extra=()):
        write(f"inputs/{id_}.jsonl", data)
        case(f"in_{id_}", J, logprobs(model, "{dir}/inputs/%s.jsonl" % id_, *extra), expect, [f"{id_}.jsonl", *contains])

    in_case("broken_line", '{"text": "fine"}\n{"text": oops}\n', [":2", "JSON"])
    in_case("non_utf8", b'{"text": "caf\xe9"}\n', [":1", "UTF-8"])
    in_case("missing_field", '{"txt": "no text field"}\n', [":1", "text"])
    in_case("wrong_type", '{"text": 3}\n', [":1", "text"])
    in_case("text_null", '{"text": null}\n', [":1", "text"])
    in_case("empty", "", ["empty"])
    in_case("blank_lines", "\n\n   \n", ["empty"])
    in_case("not_object", "[1, 2]\n", [":1", "text"])
    in_case("bom", b'\xef\xbb\xbf{"text": "a"}\n', [":1"])
    in_case("trailing_garbage", '{"text": "a"} x\n', [":1", "JSON"])
    in_case("nested_deep", '{"text": "a", "x": ' + "[" * 10_000 + "]" * 10_000 + "}\n", [":1", "JSON"])
    in_case("empty_text", '{"text": ""}\n', [], expect="ok")
    in_case("nul_and_controls", '{"text": "a\\u0000b\\u0007c\\ud83d\\ude00"}\n', [], expect="ok")
    in_case("lone_surrogate", '{"text": "a\\ud800b"}\n', [":1"])
    in_case("crlf", '{"text": "a"}\r\n{"text": "b"}\r\n', [], expect="ok")
    in_case("special_token_text", '{"text": "<|endoftext|><|endoftext|>"}\n', [], expect="ok")

    # ---- labelled sets (detect)
    L = "labelled-set"

    def det_case(id_, data, contains, expect="error", extra=(), model=ok, note=None):
        write(f"detect/{id_}.jsonl", data)
        case(f"det_{id_}", L, ["detect", "--model", model, "--data", "{dir}/detect/%s.jsonl" % id_,
                               "--output_path", "{out}", "--bootstrap", "10", *extra], expect, [f"{id_}.jsonl", *contains], note=note)

    good_det = [{"input": "The cat sat on the mat.", "label": 1}, {"input": "A dog ran in the park.", "label": 0}]
    det_case("label_2", jsonl([{"input": "a b c", "label": 2}]), ["line 1", "label"])
    det_case("label_negative", jsonl([{"input": "a b c", "label": -1}]), ["line 1", "label"])
    det_case("label_string", jsonl([{"input": "a b c", "label": "1"}]), ["line 1", "label"])
    det_case("label_float", jsonl([{"input": "a b c", "label": 0.5}]), ["line 1", "label"])
    det_case("partly_labelled", jsonl([good_det[0], {"input": "no label here"}]), ["line 2", "label"])
    det_case("missing_input", jsonl([{"sentence": "wrong key", "label": 1}]), ["line 1", "input"])
    det_case("input_number", jsonl([{"input": 5, "label": 1}]), ["line 1", "input"])
    det_case("broken", '{"input": "a", "label": 1\n', ["line 1", "JSON"])
    det_case("non_utf8", b'{"input": "\xff\xfe", "label": 1}\n', ["UTF-8"])
    det_case("empty", "", ["empty"])
    det_case("unlabelled", jsonl([{"input": t["input"]} for t in good_det]), [], expect="ok")
    det_case("one_class", jsonl([{**t, "label": 1} for t in good_det]), [], expect="ok",
             note="AUROC needs both classes: reported per method, not a crash")
    det_case("labelled_ok", jsonl(good_det), [], expect="ok")
    rng = random.Random(2)
    words = " ".join("".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7))) for _ in range(100_000))
    det_case("huge_line", json.dumps({"input": words[:10_000], "label": 1}) + "\n", [], expect="ok",
             model="{models}/llama-2k-1m-random", note="one 10 KB line of words (about 3k tokens): read and scored normally")

    # ---- task YAML (run --include_path)
    Y = "task-yaml"
    mc_docs = [{"sentence": f"sentence {i} is here", "label": i % 2} for i in range(4)]

    def task_case(id_, yaml, contains, expect="error", data=None, kind=Y, files=None, task=None, extra=(), cmd="run"):
        folder = f"task_{id_}"
        if data is not None:
            write(f"{folder}/data.jsonl", data)
        for name, blob in (files or {}).items():
            write(f"{folder}/{name}", blob)
        if yaml is not None:
            write(f"{folder}/{id_}.yaml", yaml)
        args = [cmd, "--model", ok, "--tasks", task or f"bad_{id_}", "--include_path", "{dir}/" + folder]
        if cmd == "run":
            args += ["--bootstrap_iters", "0"]
        case(f"task_{id_}", kind, args + list(extra), expect, contains)

    def mc_yaml(name, data="data.jsonl", **over):
        base = {
            "task": f"bad_{name}",
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"train": f"task_{name}/{data}", "test": f"task_{name}/{data}"}},
            "training_split": "train",
            "test_split": "test",
            "output_type": "multiple_choice",
            "doc_to_text": "{{sentence}}\nQuestion: positive or negative?\nAnswer:",
            "doc_to_target": "label",
            "doc_to_choice": ["negative", "positive"],
            "metric_list": [{"metric": "acc"}],
        }
        for k, v in over.items():
            if v is DROP:
                base.pop(k, None)
            else:
                base[k] = v
        return json.dumps(base, indent=1) + "\n"  # JSON is YAML

    task_case("ok", mc_yaml("ok"), [], expect="ok", data=jsonl(mc_docs))
    task_case("rolling_ok", mc_yaml("rolling_ok", output_type="loglikelihood_rolling", doc_to_choice=DROP, metric_list=DROP,
              doc_to_text="", doc_to_target="{{sentence}}"), [], expect="ok", data=jsonl(mc_docs))
    task_case("bad_yaml", "task: bad_bad_yaml\n  output_type: [multiple_choice\n\tdoc_to_text: x\n", ["bad_yaml.yaml"])
    task_case("unknown_output_type", mc_yaml("unknown_output_type", output_type="classification"),
              ["unknown_output_type.yaml", "classification"], data=jsonl(mc_docs))
    task_case("unknown_metric", mc_yaml("unknown_metric", metric_list=[{"metric": "bleu_9000"}]),
              ["unknown_metric.yaml", "bleu_9000"], data=jsonl(mc_docs))
    task_case("unknown_key", mc_yaml("unknown_key", process_docs="!function utils.process"),
              ["unknown_key.yaml", "process_docs"], data=jsonl(mc_docs))
    task_case("missing_data_file", mc_yaml("missing_data_file", data="nope.jsonl"), ["nope.jsonl"])
    task_case("data_is_dir", mc_yaml("data_is_dir", data="datadir"), ["datadir"],
              files={"datadir/README.md": "a folder where a data file should be\n"})
    task_case("fewshot_too_many", mc_yaml("fewshot_too_many", num_fewshot=50), ["bad_fewshot_too_many", "num_fewshot"],
              data=jsonl(mc_docs))
    loop = "{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(100) %}x{% endfor %}{% endfor %}{% endfor %}"
    task_case("jinja_loop", mc_yaml("jinja_loop", doc_to_text=loop), ["bad_jinja_loop", "template"], data=jsonl(mc_docs))
    task_case("jinja_recursion", mc_yaml("jinja_recursion",
              doc_to_text="{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
              ["bad_jinja_recursion", "template"], data=jsonl(mc_docs))
    task_case("jinja_huge_string", mc_yaml("jinja_huge_string", doc_to_text="{{ 'x' * 100000000000 }}"),
              ["bad_jinja_huge_string", "template"], data=jsonl(mc_docs))
    task_case("template_syntax", mc_yaml("template_syntax", doc_to_text="{{ sentence "), ["bad_template_syntax", "template"],
              data=jsonl(mc_docs))
    task_case("template_undefined", mc_yaml("template_undefined", doc_to_text="{{ nope }}"), ["bad_template_undefined", "nope"],
              data=jsonl(mc_docs))
    task_case("target_out_of_range", mc_yaml("target_out_of_range", doc_to_target=5), ["bad_target_out_of_range", "5"],
              data=jsonl(mc_docs))
    task_case("target_negative", mc_yaml("target_negative", doc_to_target=-1), ["bad_target_negative", "-1"],
              data=jsonl(mc_docs))
    task_case("target_huge_digits", mc_yaml("target_huge_digits", doc_to_target="{{ '9' * 40 }}"),
              ["bad_target_huge_digits"], data=jsonl(mc_docs))
    task_case("choice_not_list", mc_yaml("choice_not_list", doc_to_choice="{{ sentence }}"), ["bad_choice_not_list", "doc_to_choice"],
              data=jsonl(mc_docs))
    task_case("choice_empty", mc_yaml("choice_empty", doc_to_choice=[]), ["bad_choice_empty", "choice"],
              data=jsonl(mc_docs))
    task_case("no_eval_split", mc_yaml("no_eval_split", test_split=DROP), ["no_eval_split.yaml", "split"], data=jsonl(mc_docs))
    task_case("split_without_data", mc_yaml("split_without_data", test_split="validation"),
              ["bad_split_without_data", "validation"], data=jsonl(mc_docs))
    task_case("rolling_fewshot", mc_yaml("rolling_fewshot", output_type="loglikelihood_rolling", num_fewshot=2,
              doc_to_choice=DROP), ["rolling_fewshot.yaml", "num_fewshot"], data=jsonl(mc_docs))
    em = [{"metric": "exact_match"}]
    task_case("generation_until_number", mc_yaml("generation_until_number", output_type="generate_until",
              doc_to_choice=DROP, doc_to_target="{{ label }}", generation_kwargs={"until": 5}, metric_list=em),
              ["bad_generation_until_number", "until"], data=jsonl(mc_docs))
    task_case("generation_unknown_kwarg", mc_yaml("generation_unknown_kwarg", output_type="generate_until",
              doc_to_choice=DROP, generation_kwargs={"num_beams": 4}, metric_list=em), ["generation_unknown_kwarg.yaml", "num_beams"],
              data=jsonl(mc_docs))
    # The metric specification says which output types a metric applies to; the YAML is refused when parsed.
    task_case("metric_wrong_output_type", mc_yaml("metric_wrong_output_type", metric_list=[{"metric": "perplexity"}]),
              ["metric_wrong_output_type.yaml", "perplexity", "does not apply"], data=jsonl(mc_docs))
    task_case("group_cycle", "group: bad_group_cycle\ntask: [bad_group_cycle]\n", ["bad_group_cycle"])
    task_case("group_mutual_cycle", None, ["bad_group_mutual_cycle", "bad_group_b"],
              files={"a.yaml": "group: bad_group_mutual_cycle\ntask: [bad_group_b]\n",
                     "b.yaml": "group: bad_group_b\ntask: [bad_group_mutual_cycle]\n"})
    task_case("group_unknown_member", "group: bad_group_unknown_member\ntask: [no_such_task_anywhere]\n",
              ["no_such_task_anywhere"])
    task_case("group_empty", "group: bad_group_empty\ntask: []\n", ["group_empty.yaml"])
    task_case("yaml_empty", "", ["yaml_empty.yaml"])
    task_case("yaml_non_utf8", mc_yaml("yaml_non_utf8").encode().replace(b"Question", b"Qu\xe9stion"),
              ["yaml_non_utf8.yaml", "UTF-8"], data=jsonl(mc_docs))
    bomb = "metadata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  {chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
        f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    task_case("yaml_alias_bomb", "task: bad_yaml_alias_bomb\n" + bomb, ["yaml_alias_bomb.yaml"])  # 10^10 nodes once expanded
    task_case("yaml_deep", "task: " + "[" * 10_000 + "]" * 10_000 + "\n", ["yaml_deep.yaml"])
    task_case("data_broken_line", mc_yaml("data_broken_line"), ["data.jsonl", "line 2"],
              data=jsonl(mc_docs[:1]) + '{"sentence": \n', kind="jsonl")
    task_case("data_non_utf8", mc_yaml("data_non_utf8"), ["data.jsonl", "UTF-8"],
              data=b'{"sentence": "caf\xe9", "label": 0}\n', kind="jsonl")
    task_case("data_array_not_objects", mc_yaml("data_array_not_objects"), ["data.jsonl", "object"],
              data="[1, 2, 3]\n", kind="jsonl")
    task_case("data_empty", mc_yaml("data_empty"), ["data.jsonl", "empty"], data="", kind="jsonl")
    task_case("data_label_string", mc_yaml("data_label_string"), ["data.jsonl", "bad_data_label_string"],
              data=jsonl([{"sentence": "s", "label": "great"}]), kind="jsonl")
    task_case("data_field_missing", mc_yaml("data_field_missing"), ["data.jsonl", "sentence"],
              data=jsonl([{"text": "s", "label": 0}]), kind="jsonl")

    def csv_yaml(name, data="data.csv"):
        return mc_yaml(name, dataset_path="csv", data=data)
    task_case("csv_ok", csv_yaml("csv_ok"), [], expect="ok", data=None, kind="csv",
              files={"data.csv": "sentence,label\nit was good,1\nit was bad,0\n"})
    task_case("csv_ragged", csv_yaml("csv_ragged"), ["data.csv", "line 3"], kind="csv",
              files={"data.csv": "sentence,label\nit was good,1\nit,was,bad,0\n"})
    task_case("csv_non_utf8", csv_yaml("csv_non_utf8"), ["data.csv", "UTF-8"], kind="csv",
              files={"data.csv": b"sentence,label\ncaf\xe9,1\n"})
    task_case("csv_header_only", csv_yaml("csv_header_only"), ["data.csv", "empty"], kind="csv",
              files={"data.csv": "sentence,label\n"})
    task_case("csv_unterminated_quote", csv_yaml("csv_unterminated_quote"), ["data.csv"], kind="csv",
              files={"data.csv": 'sentence,label\n"it was good,1\nit was bad,0\n'})
    task_case("csv_label_text", csv_yaml("csv_label_text"), ["data.csv", "bad_csv_label_text"], kind="csv",
              files={"data.csv": "sentence,label\nit was good,yes\n"})
    task_case("csv_no_label_column", csv_yaml("csv_no_label_column"), ["data.csv", "label"], kind="csv",
              files={"data.csv": "sentence\nit was good\n"})

    # ---- membership manifests (contamination)
    M = "manifest"

    def man_case(id_, data, contains, expect="error"):
        write(f"manifest/{id_}.jsonl", data)
        case(f"man_{id_}", M, ["contamination", "--model", ok, "--tasks", "demo_yesno", "--limit", "4", "--bootstrap", "10",
                               "--manifest", "{dir}/manifest/%s.jsonl" % id_, "--output_path", "{out}"], expect,
             [f"{id_}.jsonl", *contains])

    row = lambda i, m: {"task": "demo_yesno", "split": "test", "idx": i, "member": m}
    man_case("ok", jsonl([row(i, i % 2) for i in range(4)]), [], expect="ok")
    man_case("member_2", jsonl([row(0, 2)]), ["line 1", "member"])
    man_case("member_string", jsonl([row(0, "yes")]), ["line 1", "member"])
    man_case("unlabelled", jsonl([{"task": "demo_yesno", "split": "test", "idx": 0}]), ["line 1", "member"])
    man_case("missing_idx", jsonl([{"task": "demo_yesno", "split": "test", "member": 1}]), ["line 1", "idx"])
    man_case("idx_string", jsonl([row("0", 1)]), ["line 1", "idx"])
    man_case("missing_task", jsonl([{"split": "test", "idx": 0, "member": 1}]), ["line 1", "task"])
    man_case("broken", '{"task": "demo_yesno", \n', ["line 1", "JSON"])
    man_case("non_utf8", b'{"task": "demo_y\xe9sno", "split": "test", "idx": 0, "member": 1}\n', ["UTF-8"])
    man_case("empty", "", ["empty"])
    man_case("other_task_only", jsonl([{**row(0, 1), "task": "some_other_task"}]), [], expect="ok")

    # ---- Leaner-Eval questions
    Q = "questions"

    def q_case(id_, data, contains, expect="error"):
        write(f"questions/{id_}.jsonl", data)
        case(f"q_{id_}", Q, ["leaner-eval", "--model", ok, "--split", "{dir}/questions/%s.jsonl" % id_, "--limit", "2",
                             "--max_new_tokens", "4", "--output_path", "{out}"], expect, [f"{id_}.jsonl", *contains])

    q_case("missing_field", jsonl([{"prompt": "What is a cat?"}]), ["line 1", "question"])
    q_case("wrong_type", jsonl([{"question": ["What", "is"]}]), ["line 1", "question"])
    q_case("non_utf8", b'{"question": "Qu\xe9?"}\n', ["line 1", "UTF-8"])
    q_case("empty", "", ["empty"])
    q_case("broken", '{"question": "What is a cat?"\n', ["line 1", "JSON"])
    q_case("not_object", '"What is a cat?"\n', ["line 1", "question"])

    # ---- overlap corpora (text)
    X = "text"

    def corpus_case(id_, corpus_arg, contains, expect="error", extra=()):
        case(f"corpus_{id_}", X, ["overlap", "--tasks", "demo_yesno", "--limit", "4", "--corpus", corpus_arg,
                                  "--output_path", "{out}", *extra], expect, contains)

    write("corpus/non_utf8.txt", b"Anna went to the \xff school\n")
    corpus_case("non_utf8_txt", "{dir}/corpus/non_utf8.txt", ["non_utf8.txt", "UTF-8"])
    write("corpus/no_text.jsonl", jsonl([{"title": "no text here"}]))
    corpus_case("jsonl_no_text", "{dir}/corpus/no_text.jsonl", ["no_text.jsonl", "line 1"])
    write("corpus/broken.jsonl", '{"text": "a"\n')
    corpus_case("jsonl_broken", "{dir}/corpus/broken.jsonl", ["broken.jsonl", "line 1"])
    write("corpus/no_corpus_files/README.md", "a folder with no .jsonl or .txt file\n")
    corpus_case("folder_without_files", "{dir}/corpus/no_corpus_files", ["corpus"])
    corpus_case("missing", "{dir}/corpus/nope.txt", ["nope.txt"])
    corpus_case("dev_zero", "/dev/zero", ["/dev/zero"])
    write("corpus/ok.txt", "Anna went to the school in the morning. She saw a dog there. It was a windy Monday in November.\n")
    corpus_case("ok", "{dir}/corpus/ok.txt", [], expect="ok")
    corpus_case("n_zero", "{dir}/corpus/ok.txt", ["--n"], extra=["--n", "0"])
    corpus_case("n_huge", "{dir}/corpus/ok.txt", [], expect="ok", extra=["--n", "1000000000000"])

    # ---- command-line arguments
    A = "cli-args"
    bundled = "{models}/llama-2k-1m-random"
    case("arg_bench_batch_huge", A, ["bench", "--model", bundled, "--batch_size", "100000"], "error", ["batch"])
    case("arg_bench_seq_len_huge", A, ["bench", "--model", ok, "--seq_len", "1000000000"], "error", ["--seq_len"])
    case("arg_bench_seq_len_zero", A, ["bench", "--model", ok, "--seq_len", "0"], "error", ["--seq_len"])
    case("arg_bench_ok", A, ["bench", "--model", ok, "--seq_len", "16", "--batch_size", "2", "--repeats", "1"], "ok")
    case("arg_input_dev_zero", A, logprobs(ok, "/dev/zero"), "error", ["/dev/zero"])
    case("arg_input_is_dir", A, logprobs(ok, "{dir}/inputs"), "error", ["inputs", "folder"])
    case("arg_input_missing", A, logprobs(ok, "{dir}/no_such_input.jsonl"), "error", ["no_such_input.jsonl"])
    case("arg_model_missing", A, logprobs("{dir}/no_such_model"), "error", ["no_such_model"])
    case("arg_model_is_text_file", A, logprobs("{dir}/texts.jsonl"), "error", ["texts.jsonl", "GGUF"])
    case("arg_model_dev_zero", A, logprobs("/dev/zero"), "error", ["/dev/zero"])
    case("arg_model_empty_dir", A, logprobs("{dir}/corpus/no_corpus_files"), "error", ["no_corpus_files"])
    case("arg_backend_unknown", A, logprobs(ok, "{dir}/texts.jsonl", "--backend", "tpu"), "error", ["tpu"], exit_code=2)
    case("arg_batch_not_number", A, logprobs(ok, "{dir}/texts.jsonl", "--batch_size", "many"), "error", ["many"], exit_code=2)
    case("arg_batch_negative", A, logprobs(ok, "{dir}/texts.jsonl", "--batch_size=-1"), "error", ["-1"], exit_code=2)
    case("arg_run_limit_negative", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--limit=-1"], "error", ["--limit"])
    case("arg_run_limit_nan", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--limit", "NaN"], "error", ["--limit"])
    case("arg_run_num_fewshot_huge", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--limit", "2",
                                          "--num_fewshot", "1000000"], "error", ["num_fewshot"])
    case("arg_run_batch_zero", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--limit", "2", "--batch_size", "0"],
         "ok", note="0 is taken as 1")
    case("arg_run_tasks_empty", A, ["run", "--model", ok, "--tasks", ","], "error", ["--tasks"])
    case("arg_run_tasks_unknown", A, ["run", "--model", ok, "--tasks", "no_such_task"], "error", ["no_such_task"])
    case("arg_run_seed_bad", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--seed", "abc"], "error", ["--seed"])
    case("arg_run_include_missing", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--include_path", "{dir}/no_such_dir"],
         "error", ["no_such_dir"])
    case("arg_run_include_is_file", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--include_path", "{dir}/texts.jsonl"],
         "error", ["texts.jsonl"])
    case("arg_run_log_samples_no_output", A, ["run", "--model", ok, "--tasks", "demo_yesno", "--log_samples"], "error",
         ["--output_path"])
    case("arg_generate_temperature_negative", A, ["generate", "--model", ok, "--prompt", "a", "--temperature=-1"], "error",
         ["temperature"])
    case("arg_generate_top_p_above_1", A, ["generate", "--model", ok, "--prompt", "a", "--top_p", "2"], "error", ["top_p"])
    case("arg_generate_empty_prompt", A, ["generate", "--model", ok, "--prompt", ""], "ok")
    case("arg_detect_k_zero", A, ["detect", "--model", ok, "--data", "{dir}/detect/labelled_ok.jsonl", "--output_path", "{out}",
                                  "--k", "0"], "error", ["--k"])
    case("arg_detect_method_unknown", A, ["detect", "--model", ok, "--data", "{dir}/detect/labelled_ok.jsonl", "--output_path",
                                          "{out}", "--methods", "loss,telepathy"], "error", ["telepathy"])
    case("arg_detect_ref_without_model", A, ["detect", "--model", ok, "--data", "{dir}/detect/labelled_ok.jsonl",
                                             "--output_path", "{out}", "--methods", "ref"], "error", ["--ref_model"])
    case("arg_detect_output_is_file", A, ["detect", "--model", ok, "--data", "{dir}/detect/labelled_ok.jsonl",
                                          "--output_path", "{dir}/texts.jsonl"], "error", ["texts.jsonl"])
    case("arg_contamination_sort_unknown", A, ["contamination", "--model", ok, "--tasks", "demo_yesno", "--output_path", "{out}",
                                               "--sort_by", "vibes"], "error", ["vibes"])
    case("arg_contamination_not_mc", A, ["contamination", "--model", ok, "--tasks", "bad_rolling_ok", "--include_path",
                                         "{dir}/task_rolling_ok", "--output_path", "{out}"], "error", ["bad_rolling_ok"])
    case("arg_probe_task_unknown", A, ["probe", "--model", ok, "--tasks", "telepathy", "--output_path", "{out}"], "error",
         ["telepathy"])
    write("questions/ok.jsonl", jsonl([{"question": "What is a cat?"}]))
    case("arg_leaner_eval_judge_without_model", A, ["leaner-eval", "--model", ok, "--split", "{dir}/questions/ok.jsonl",
                                                    "--output_path", "{out}", "--judge_url", "http://127.0.0.1:9/v1"],
         "error", ["--judge_model"])
    case("arg_export_output_is_file", A, ["export-lm-eval", "--tasks", "demo_yesno", "--output_path", "{dir}/texts.jsonl"],
         "error", ["texts.jsonl"])

    # ---- GGUF
    good = gguf_bytes()
    gguf_case("bad_magic", b"GGUX" + good[4:], ["GGUF"])
    gguf_case("version_1", good[:4] + struct.pack("<I", 1) + good[8:], ["version"])
    gguf_case("version_99", good[:4] + struct.pack("<I", 99) + good[8:], ["version"])
    gguf_case("big_endian", good[:4] + struct.pack(">I", 3) + good[8:], ["big-endian"])
    gguf_case("only_magic", b"GGUF", ["truncated"])
    gguf_case("truncated_header", good[:20], ["truncated"])
    gguf_case("truncated_half", good[: len(good) // 2], ["truncated"])
    gguf_case("truncated_last_byte", good[:-1], ["truncated"])
    gguf_case("n_tensors_2e60", gguf_bytes(n_tensors=2**60), ["2^60" if False else str(2**60)])
    gguf_case("n_kv_2e60", gguf_bytes(n_kv=2**60), [str(2**60)])
    gguf_case("string_len_2e60", gguf_bytes(raw_kv=struct.pack("<Q", 2**60) + b"general.oops"), ["truncated"])
    gguf_case("array_len_2e60", gguf_bytes(raw_kv=gg_str("general.tags") + struct.pack("<IIQ", GG_ARR, GG_STR, 2**60)),
              ["general.tags"])
    gguf_case("array_nested_deep", gguf_bytes(raw_kv=gg_str("general.deep") + struct.pack("<I", GG_ARR) +
                                             struct.pack("<IQ", GG_ARR, 1) * 20 + struct.pack("<IQ", GG_U32, 0)),
              ["general.deep"])
    gguf_case("block_count_2e31", gguf_bytes(kv=gguf_kv(llama__block_count=(GG_U32, 2**31))), ["block_count"])
    gguf_case("context_length_zero", gguf_bytes(kv=gguf_kv(llama__context_length=(GG_U32, 0))), ["context_length"])
    gguf_case("context_length_2e40", gguf_bytes(kv=gguf_kv(llama__context_length=(GG_U64, 2**40))), ["context_length"])
    gguf_case("embedding_length_2e40", gguf_bytes(kv=gguf_kv(llama__embedding_length=(GG_U64, 2**40))), ["embedding_length"])
    gguf_case("feed_forward_2e40", gguf_bytes(kv=gguf_kv(llama__feed_forward_length=(GG_U64, 2**40))), ["feed_forward_length"])
    gguf_case("head_count_zero", gguf_bytes(kv=gguf_kv(llama__attention__head_count=(GG_U32, 0))), ["head_count"])
    gguf_case("head_count_kv_3", gguf_bytes(kv=gguf_kv(llama__attention__head_count_kv=(GG_U32, 3))), ["key/value"])
    gguf_case("head_count_string", gguf_bytes(kv=gguf_kv(llama__attention__head_count=(GG_STR, "two"))), ["head_count"])
    gguf_case("missing_block_count", gguf_bytes(kv=gguf_kv(llama__block_count=None)), ["block_count"])
    gguf_case("arch_unknown", gguf_bytes(kv=gguf_kv(general__architecture=(GG_STR, "gptj"))), ["gptj"])
    gguf_case("alignment_3", gguf_bytes(kv=gguf_kv(general__alignment=(GG_U32, 3))), ["general.alignment"])
    gguf_case("value_type_99", gguf_bytes(raw_kv=gg_str("general.odd") + struct.pack("<I", 99)), ["general.odd", "99"])
    gguf_case("bool_2", gguf_bytes(raw_kv=gg_str("general.flag") + struct.pack("<IB", GG_BOOL, 2)), ["general.flag"])
    gguf_case("duplicate_key", gguf_bytes(kv=gguf_kv() + [["general.name", GG_STR, "again"]]), ["general.name"])
    tens = gguf_tensors()
    tens[0][2] = 12  # Q4_K
    gguf_case("tensor_type_q4_k", gguf_bytes(tens=tens), ["token_embd.weight", "Q4_K"])
    tens = gguf_tensors()
    tens[0][2] = 1000
    gguf_case("tensor_type_1000", gguf_bytes(tens=tens), ["token_embd.weight", "1000"])
    gguf_case("tensor_offset_outside", gguf_bytes(offsets={"output_norm.weight": 2**40}), ["output_norm.weight"])
    gguf_case("tensor_offset_misaligned", gguf_bytes(offsets={"output_norm.weight": 33}), ["output_norm.weight", "align"])
    tens = gguf_tensors()
    tens[0][1] = [2**32, 2**32, 2**32]
    gguf_case("tensor_dims_overflow", gguf_bytes(tens=tens), ["token_embd.weight"])
    tens = gguf_tensors()
    tens[0][1] = [8, 257, 1, 1, 1]
    gguf_case("tensor_5_dims", gguf_bytes(tens=tens), ["token_embd.weight", "dimensions"])
    tens = gguf_tensors()
    tens += [["token_embd.weight", [8], 0, f32([0.0] * 8)]]
    gguf_case("tensor_duplicate", gguf_bytes(tens=tens), ["token_embd.weight"])
    tens = [t for t in gguf_tensors() if t[0] != "blk.0.attn_q.weight"]
    gguf_case("tensor_missing", gguf_bytes(tens=tens), ["attn_q", "missing"])
    gguf_case("no_tokenizer", gguf_bytes(kv=[e for e in gguf_kv() if not e[0].startswith("tokenizer.")]), ["tokenizer"])
    gguf_case("tokenizer_model_bert", gguf_bytes(kv=gguf_kv(tokenizer__ggml__model=(GG_STR, "bert"))), ["bert"])
    gguf_case("tokens_empty", gguf_bytes(kv=gguf_kv(tokenizer__ggml__tokens=(GG_ARR, (GG_STR, [])),
                                                    tokenizer__ggml__token_type=None, tokenizer__ggml__bos_token_id=None,
                                                    tokenizer__ggml__eos_token_id=None, llama__vocab_size=(GG_U32, VOCAB))),
              ["tokenizer.ggml.tokens"])
    gguf_case("tokens_not_strings", gguf_bytes(kv=gguf_kv(tokenizer__ggml__tokens=(GG_ARR, (GG_U32, list(range(VOCAB)))))),
              ["tokenizer.ggml.tokens"])
    gguf_case("bos_out_of_range", gguf_bytes(kv=gguf_kv(tokenizer__ggml__bos_token_id=(GG_U32, 5000))), ["bos_token_id"])
    merges = [a + " " + b for a, b in zip("abcdefghijklmnopqrstu", "bcdefghijklmnopqrstuv")]
    gguf_case("tokens_above_embedding",
              gguf_bytes(kv=gguf_kv(tokenizer__ggml__tokens=(GG_ARR, (GG_STR, ALPHABET + [SPECIAL] + [m.replace(" ", "") for m in merges])),
                                    tokenizer__ggml__token_type=None, tokenizer__ggml__merges=(GG_ARR, (GG_STR, merges)),
                                    llama__vocab_size=(GG_U32, VOCAB))),
              ["257"], note="the tokenizer has 278 tokens, token_embd 257 rows")
    gguf_case("merge_without_space", gguf_bytes(kv=gguf_kv(tokenizer__ggml__merges=(GG_ARR, (GG_STR, ["ab"])))), ["ab"])
    write("gguf/empty.gguf", b"")
    case("gguf_empty_file", "gguf", logprobs("{dir}/gguf/empty.gguf"), "error", ["empty.gguf"])

    CASES.sort(key=lambda c: (c["kind"], c["id"]))
    write("cases.json", json.dumps(CASES, indent=1) + "\n")
    kinds: dict[str, int] = {}
    for c in CASES:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(CASES)} cases in {OUT.relative_to(ROOT)} ({size / 1e6:.2f} MB): "
          + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
