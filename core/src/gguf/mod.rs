//! Models from a single GGUF file (llama.cpp's format): the metadata becomes a
//! [`ModelConfig`](crate::config::ModelConfig) and a tokenizer, the tensors are
//! dequantized to f32 on load.
//!
//! Architectures (`general.architecture`, [`GgufArch`]): `llama` (Llama,
//! Mistral, SmolLM, TinyLlama files), `qwen2` (Qwen 2 and 2.5), `qwen3`,
//! `gemma3` (its text model) and `gpt2`. Tensor types ([`GgmlType`]): F32,
//! F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, mixed
//! per tensor as llama.cpp's quantize tool writes them (Q4_K_M, Q5_K_M, Q2_K,
//! ..., with their Q5_0/Q5_1/Q8_0 fallbacks for rows that are not whole
//! 256-element blocks); any other type (the IQ and TQ families, MXFP4) is an
//! error naming the tensor and its type. Refused by name: mixture-of-experts
//! files, rotary scaling (`rope.scaling.*`, Llama 3.1+'s `rope_freqs.weight`),
//! biases in llama files, partial rotary.

//! The parser is written here rather than taken from crates.io. The readers
//! looked at (November 2026): `ggus` 0.5 reads only version 3, reads the header
//! through an unaligned pointer cast, and pulls in rayon, regex and num_enum
//! through `ggml-quants`; `gguf-rs` 0.1 opens files by path and depends on clap
//! and anyhow; `gguf` 0.1 (nom-based) is unmaintained since 2023; `gguf-rs-lib`
//! 0.3 is a 14k-line reader/writer without dequantization. What tinyeval needs
//! (v2 and v3, bytes in memory so that the browser can use it, errors that name
//! the file, the common tensor types) is a few hundred lines with no dependency.
//!
//! Numbers that matter for matching transformers, which loads these files by
//! dequantizing with gguf-py and undoing what llama.cpp's converter changed
//! (`transformers/modeling_gguf_pytorch_utils.py`, `TENSOR_PROCESSORS`):
//! - ggml lists dimensions innermost first: `ne = [in, out]` is a PyTorch
//!   `[out, in]` matrix with the same row-major bytes;
//! - llama: the converter permutes the rows of `attn_q` and `attn_k` for its
//!   interleaved RoPE ([`unpermute_rows`] undoes it), so that the decoder's
//!   rotate-half RoPE gives transformers' numbers; gpt2: the Conv1D weights
//!   are stored transposed; gemma3: norm weights are stored plus 1 (`weights`);
//! - the configuration comes from the keys transformers' `GGUF_CONFIG_MAPPING`
//!   reads; where it reads none and falls back on a config class default
//!   (Qwen 3's head size, Gemma 3's layer pattern, local rotary base and
//!   attention scale, GPT-2's context), `config` says what is used and why;
//! - the tokenizer is rebuilt as transformers' GGUF tokenizer converter
//!   (`transformers/integrations/gguf/gguf_tokenizer_mapping.py`) builds it; see
//!   [`GgufFile::tokenizer_json`].
//!
//! The files:
//! - `container`: the header, the metadata entries and the tensor table
//!   ([`GgufFile::parse`]; from the file's first bytes alone,
//!   [`GgufFile::parse_header`], for what a model needs in memory before the
//!   rest is read), and the checks that every tensor lies in the file; the
//!   file's bytes may come in pieces, each freed once the decoder has read
//!   the tensors in it ([`crate::file_bytes`]);
//! - `cursor`: the header's little-endian reads, bounds-checked;
//! - `metadata`: metadata values ([`MetaValue`]) and [`GgufFile`]'s typed
//!   getters;
//! - `quantization`: tensor types ([`GgmlType`]) and dequantizing their
//!   blocks to f32 ([`GgufFile::tensor_f32`], [`dequantize`]), bit for bit as
//!   gguf-py does;
//! - `arch`: the architectures ([`GgufArch`], [`GgufFile::arch`]);
//! - `config`: the [`ModelConfig`](crate::config::ModelConfig) from the
//!   `<arch>.*` metadata ([`GgufFile::model_config`]);
//! - `tokenizer`: a `tokenizer.json` built from the `tokenizer.ggml.*`
//!   metadata ([`GgufFile::tokenizer_json`], [`merges_from_scores`]);
//! - `weights`: the [`WeightSource`](crate::weights::WeightSource) the decoder
//!   loads from, serving transformers tensor names per architecture
//!   ([`gguf_tensor_name`], [`unpermute_rows`]).
//!
//! [`LanguageModel::load_gguf`](crate::language_model::LanguageModel::load_gguf)
//! puts these together; nothing here depends on the language model.

mod arch;
mod config;
mod container;
mod cursor;
mod metadata;
mod quantization;
mod tokenizer;
mod weights;

pub use arch::GgufArch;
pub use container::{GgufFile, TensorInfo, is_gguf};
pub use metadata::MetaValue;
pub use quantization::{GgmlType, dequantize, ggml_type_name};
pub use tokenizer::merges_from_scores;
pub use weights::{gguf_tensor_name, unpermute_rows};
