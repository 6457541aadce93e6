"""Hugging Face model folders converted to GGUF the way llama.cpp's
convert_hf_to_gguf.py converts them, per architecture (imported by
make_gguf_fixtures.py). Facts taken from llama.cpp's converter:

- metadata `<arch>.*` as TextModel.set_gguf_parameters writes it: context,
  embedding and feed-forward lengths, block count, head counts, rope base,
  norm epsilons, and `attention.key_length`/`value_length` when config.json
  has `head_dim`; llama adds `vocab_size` and `rope.dimension_count`;
  gemma3 adds the sliding window, the sliding layers' rope base
  (`rope.freq_base_swa`) and the final logit softcap when set;
- llama: q_proj/k_proj rows permuted for llama.cpp's interleaved RoPE
  (`permute` below; qwen2, qwen3 and gemma3 use NEOX RoPE and are not);
- gpt2: the Conv1D weights (c_attn, c_proj, c_fc) transposed to [out, in];
  there is no lm_head (tied), and the position table stays F32;
- gemma3: every `*norm.weight` stored plus 1 (llama.cpp's RMSNorm multiplies
  by the weight, Gemma's by 1 + weight), the embedding cut to the
  tokenizer's vocabulary;
- names from gguf-py's tensor name map (blk.N.attn_q, ffn_norm, ...);
  1-D tensors and norms stay F32.

`quant` is either one ggml type for every 2-D tensor (gguf-py's quantizers),
or a llama.cpp file type name ("Q4_K_M", "Q5_K_M", "Q2_K") whose per-tensor
choice gguf_kquants.llama_cpp_type makes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

import gguf_kquants

T = gguf.GGMLQuantizationType
ARCH = {"llama": gguf.MODEL_ARCH.LLAMA, "gpt2": gguf.MODEL_ARCH.GPT2, "qwen2": gguf.MODEL_ARCH.QWEN2,
        "qwen3": gguf.MODEL_ARCH.QWEN3, "gemma3_text": gguf.MODEL_ARCH.GEMMA3}
SINGLE_TYPE_FILE = {T.F32: gguf.LlamaFileType.ALL_F32, T.F16: gguf.LlamaFileType.MOSTLY_F16,
                    T.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0, T.Q4_1: gguf.LlamaFileType.MOSTLY_Q4_1,
                    T.Q5_0: gguf.LlamaFileType.MOSTLY_Q5_0, T.Q5_1: gguf.LlamaFileType.MOSTLY_Q5_1,
                    T.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0}


def permute(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def model_type(config: dict) -> str:
    return config["model_type"]


def gguf_tensors(folder: Path, config: dict) -> list[tuple[str, np.ndarray]]:
    """(GGUF name, float32 data in PyTorch layout) in checkpoint order."""
    mt = model_type(config)
    sd = load_file(str(folder / "model.safetensors"))
    name_map = gguf.get_tensor_name_map(ARCH[mt], config.get("num_hidden_layers") or config["n_layer"])
    out = []
    for hf_name, t in sd.items():
        t = t.astype(np.float32)
        if mt == "gpt2" and hf_name.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        if mt == "llama" and hf_name.endswith("q_proj.weight"):
            t = permute(t, config["num_attention_heads"], config["num_attention_heads"])
        if mt == "llama" and hf_name.endswith("k_proj.weight"):
            t = permute(t, config["num_attention_heads"], config.get("num_key_value_heads"))
        if mt == "gpt2" and hf_name.endswith((".c_attn.weight", ".c_proj.weight", ".c_fc.weight")):
            t = t.T
        if mt == "gemma3_text" and hf_name.endswith("norm.weight"):
            t = t + 1
        if mt == "gemma3_text" and hf_name.endswith("embed_tokens.weight"):
            t = t[:len(vocab_tokens(folder))]
        if hf_name.endswith("lm_head.weight") and config.get("tie_word_embeddings", mt in ("gpt2", "gemma3_text")):
            continue
        base, suffix = hf_name.rsplit(".", 1)
        name = name_map.get_name(base)
        assert name is not None, hf_name
        out.append((f"{name}.{suffix}", np.ascontiguousarray(t)))
    order = {"token_embd": -2, "position_embd": -1, "output_norm": 10**6, "output": 10**6 + 1}
    def key(item):
        m = re.match(r"blk\.(\d+)\.", item[0])
        return (int(m.group(1)) if m else order[item[0].rsplit(".", 2)[0]], 0)
    return sorted(out, key=key)


def vocab_tokens(folder: Path) -> list[str]:
    tj = read_json(folder / "tokenizer.json")
    vocab = tj["model"]["vocab"]
    tokens = [None] * len(vocab)
    for tok, i in vocab.items():
        tokens[i] = tok
    assert all(t is not None for t in tokens)
    return tokens


def pre_tokenizer_name(tj: dict) -> str:
    """What llama.cpp's hash of the pre-tokenizer names for these fixtures."""
    pre = tj.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel":
        return "gpt-2"
    pattern = json.dumps(pre)
    if r"\\p{N}|" in pattern or r"\\p{N}| ?" in pattern:
        return "qwen2"  # Qwen2's split: single digits, unlike Llama 3's \p{N}{1,3}
    raise ValueError(f"no llama.cpp pre-tokenizer name known for {pre}")


def add_tokenizer(w: gguf.GGUFWriter, folder: Path, config: dict) -> None:
    tj = read_json(folder / "tokenizer.json")
    tc = read_json(folder / "tokenizer_config.json")
    vocab = tj["model"]["vocab"]
    tokens = vocab_tokens(folder)
    special = {t["id"] for t in tj["added_tokens"] if t["special"]}
    if tj["model"].get("byte_fallback") is not True:
        # Byte-level BPE: TextModel._set_vocab_gpt2.
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre_tokenizer_name(tj))
        w.add_token_list(tokens)
        w.add_token_types([gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL
                           for i in range(len(tokens))])
        merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
        w.add_token_merges(merges)
        unk = tc.get("unk_token")
        if unk is not None:
            w.add_unk_token_id(vocab[unk])
    else:
        # SentencePiece (as a tokenizer.model converts): no merges, scores
        # 0 for unknown/control/byte pieces and -id for the others.
        unk_id = vocab[tc["unk_token"]]
        types, scores = [], []
        for i, t in enumerate(tokens):
            if i == unk_id:
                types.append(gguf.TokenType.UNKNOWN)
                scores.append(0.0)
            elif i in special:
                types.append(gguf.TokenType.CONTROL)
                scores.append(0.0)
            elif re.fullmatch(r"<0x[0-9A-F]{2}>", t):
                types.append(gguf.TokenType.BYTE)
                scores.append(0.0)
            else:
                types.append(gguf.TokenType.NORMAL)
                scores.append(-float(i))
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_unk_token_id(unk_id)
        if model_type(config) == "gemma3_text":
            w.add_add_space_prefix(False)
    if config.get("bos_token_id") is not None:
        w.add_bos_token_id(config["bos_token_id"])
    if config.get("eos_token_id") is not None:
        eos = config["eos_token_id"]
        w.add_eos_token_id(eos[0] if isinstance(eos, list) else eos)
    if "add_bos_token" in tc:
        w.add_add_bos_token(tc["add_bos_token"])
    if "add_eos_token" in tc:
        w.add_add_eos_token(tc["add_eos_token"])


def rope_theta(config: dict, layer_type: str | None = None) -> float | None:
    rope = config.get("rope_parameters") or {}
    if layer_type is not None and layer_type in rope:
        rope = rope[layer_type]
    elif "full_attention" in rope:
        rope = rope["full_attention"]
    return rope.get("rope_theta", config.get("rope_theta"))


def add_hparams(w: gguf.GGUFWriter, config: dict, file_type) -> None:
    mt = model_type(config)
    if mt == "gpt2":
        w.add_block_count(config["n_layer"])
        w.add_context_length(config["n_positions"])
        w.add_embedding_length(config["n_embd"])
        w.add_feed_forward_length(4 * config["n_embd"])
        w.add_head_count(config["n_head"])
        w.add_layer_norm_eps(config["layer_norm_epsilon"])
        w.add_file_type(file_type)
        return
    w.add_block_count(config["num_hidden_layers"])
    w.add_context_length(config["max_position_embeddings"])
    w.add_embedding_length(config["hidden_size"])
    w.add_feed_forward_length(config["intermediate_size"])
    w.add_head_count(config["num_attention_heads"])
    w.add_head_count_kv(config.get("num_key_value_heads", config["num_attention_heads"]))
    if (theta := rope_theta(config)) is not None:
        w.add_rope_freq_base(theta)
    if mt == "gemma3_text" and (local := rope_theta(config, "sliding_attention")) is not None:
        w.add_rope_freq_base_swa(local)
    w.add_layer_norm_rms_eps(config["rms_norm_eps"])
    if config.get("head_dim") is not None:
        w.add_key_length(config["head_dim"])
        w.add_value_length(config["head_dim"])
    if mt == "gemma3_text":
        if config.get("final_logit_softcapping"):
            w.add_final_logit_softcapping(config["final_logit_softcapping"])
        w.add_sliding_window(config["sliding_window"])
    w.add_file_type(file_type)
    if mt == "llama":
        head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
        w.add_vocab_size(config["vocab_size"])
        w.add_rope_dimension_count(head_dim)


def write_gguf(folder: Path, path: Path, quant) -> dict[str, str]:
    """Writes `path` from the model folder; returns {tensor name: ggml type name}."""
    config = read_json(folder / "config.json")
    mt = model_type(config)
    file_type = gguf_kquants.FILE_TYPE[quant] if isinstance(quant, str) else SINGLE_TYPE_FILE[quant]
    w = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[ARCH[mt]])
    w.add_name(folder.name)
    add_hparams(w, config, file_type)
    add_tokenizer(w, folder, config)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tensors = gguf_tensors(folder, config)
    names = {n for n, _ in tensors}
    n_layers = config.get("num_hidden_layers") or config["n_layer"]
    n_head = config.get("num_attention_heads") or config["n_head"]
    n_gqa = n_head // config.get("num_key_value_heads", n_head)
    types = {}
    for name, t in tensors:
        m = re.match(r"blk\.(\d+)\.", name)
        if isinstance(quant, str):
            qtype = gguf_kquants.llama_cpp_type(name, t.shape, quant, layer=int(m.group(1)) if m else None,
                                                n_layers=n_layers, n_gqa=n_gqa, tied="output.weight" not in names)
        elif t.ndim == 1 or name.endswith("_norm.weight") or name == "position_embd.weight":
            qtype = T.F32
        else:
            qtype = quant
        if qtype == T.F32:
            w.add_tensor(name, t)
        else:
            w.add_tensor(name, gguf_kquants.quantize(t, qtype), raw_dtype=qtype)
        types[name] = qtype.name
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return types
