//! The decoder's weights from a GGUF file: transformers tensor names mapped to
//! GGUF ones, and what llama.cpp's converter changed undone, as transformers'
//! `TENSOR_PROCESSORS` (modeling_gguf_pytorch_utils.py) undoes it:
//!
//! - llama: the rows of `attn_q`/`attn_k` were permuted for llama.cpp's
//!   interleaved RoPE ([`unpermute_rows`]);
//! - gpt2: the Conv1D weights (`attn_qkv`, `attn_output`, `ffn_up`,
//!   `ffn_down`) were transposed to [out, in]; they go back to [in, out];
//! - gemma3: every `*norm.weight` was stored plus 1 (llama.cpp's RMSNorm
//!   multiplies by the weight, Gemma's by 1 + weight); 1 is subtracted in
//!   f32, as transformers does, so the decoder's `1 + w` sees its numbers;
//! - qwen2, qwen3: stored as they are.

use super::arch::GgufArch;
use super::container::GgufFile;
use crate::error::{Error, Result};
use crate::weights::{HostTensor, WeightSource};

/// Reverses llama.cpp's `permute(w, n_head)`:
/// `w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)`,
/// i.e. GGUF row `h*2*half + 2*i + j` is transformers' row `h*2*half + j*half + i`.
pub fn unpermute_rows(t: &HostTensor, n_head: usize) -> Result<HostTensor, String> {
    let (rows, cols) = match t.shape[..] {
        [rows, cols] => (rows, cols),
        _ => return Err(format!("expected a matrix, found shape {:?}", t.shape)),
    };
    if n_head == 0 || rows % (2 * n_head) != 0 {
        return Err(format!("{rows} rows cannot be split into {n_head} heads of pairs"));
    }
    let half = rows / n_head / 2;
    let mut data = vec![0.0f32; t.data.len()];
    for h in 0..n_head {
        for i in 0..half {
            for j in 0..2 {
                let src = h * 2 * half + 2 * i + j;
                let dst = h * 2 * half + j * half + i;
                data[dst * cols..(dst + 1) * cols].copy_from_slice(&t.data[src * cols..(src + 1) * cols]);
            }
        }
    }
    Ok(HostTensor { shape: t.shape.clone(), data })
}

/// A matrix transposed (GGUF's [out, in] back to a Conv1D [in, out]).
fn transposed(t: &HostTensor) -> Result<HostTensor, String> {
    let (rows, cols) = match t.shape[..] {
        [rows, cols] => (rows, cols),
        _ => return Err(format!("expected a matrix, found shape {:?}", t.shape)),
    };
    let mut data = vec![0.0f32; t.data.len()];
    for r in 0..rows {
        for c in 0..cols {
            data[c * rows + r] = t.data[r * cols + c];
        }
    }
    Ok(HostTensor { shape: vec![cols, rows], data })
}

/// The GGUF name of a transformers tensor name (with or without the
/// `model.`/`transformer.` prefix) in a file of architecture `arch`, or
/// `None` for names such files do not have. As gguf-py's tensor name map.
pub fn gguf_tensor_name(arch: GgufArch, hf_name: &str) -> Option<String> {
    if hf_name == "lm_head.weight" {
        return Some("output.weight".into());
    }
    let name = hf_name.strip_prefix("model.").or_else(|| hf_name.strip_prefix("transformer.")).unwrap_or(hf_name);
    let (module, suffix) = name.rsplit_once('.')?;
    let top = match (arch, module) {
        (GgufArch::Gpt2, "wte") => Some("token_embd"),
        (GgufArch::Gpt2, "wpe") => Some("position_embd"),
        (GgufArch::Gpt2, "ln_f") => Some("output_norm"),
        (GgufArch::Gpt2, _) => None,
        (_, "embed_tokens") => Some("token_embd"),
        (_, "norm") => Some("output_norm"),
        _ => None,
    };
    if let Some(top) = top {
        return Some(format!("{top}.{suffix}"));
    }
    let rest = name.strip_prefix(if arch == GgufArch::Gpt2 { "h." } else { "layers." })?;
    let (layer, module) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let module = module.rsplit_once('.')?.0;
    let gguf = match (arch, module) {
        (GgufArch::Gpt2, "ln_1") => "attn_norm",
        (GgufArch::Gpt2, "attn.c_attn") => "attn_qkv",
        (GgufArch::Gpt2, "attn.c_proj") => "attn_output",
        (GgufArch::Gpt2, "ln_2") => "ffn_norm",
        (GgufArch::Gpt2, "mlp.c_fc") => "ffn_up",
        (GgufArch::Gpt2, "mlp.c_proj") => "ffn_down",
        (GgufArch::Gpt2, _) => return None,
        (_, "self_attn.q_proj") => "attn_q",
        (_, "self_attn.k_proj") => "attn_k",
        (_, "self_attn.v_proj") => "attn_v",
        (_, "self_attn.o_proj") => "attn_output",
        (_, "self_attn.q_norm") => "attn_q_norm",
        (_, "self_attn.k_norm") => "attn_k_norm",
        (_, "mlp.gate_proj") => "ffn_gate",
        (_, "mlp.up_proj") => "ffn_up",
        (_, "mlp.down_proj") => "ffn_down",
        (_, "input_layernorm") => "attn_norm",
        // Gemma 3 norms both sides of attention and MLP; llama.cpp calls its
        // pre-MLP norm `ffn_norm`, which is Llama's post-attention norm.
        (GgufArch::Gemma3, "post_attention_layernorm") => "post_attention_norm",
        (GgufArch::Gemma3, "pre_feedforward_layernorm") => "ffn_norm",
        (GgufArch::Gemma3, "post_feedforward_layernorm") => "post_ffw_norm",
        (_, "post_attention_layernorm") => "ffn_norm",
        _ => return None,
    };
    Some(format!("blk.{layer}.{gguf}.{suffix}"))
}

impl GgufFile {
    fn processed(&self, arch: GgufArch, gguf_name: &str, t: HostTensor) -> Result<HostTensor> {
        let broken = |p: String| Error::bad_file(&self.file, format!("tensor `{gguf_name}`: {p}"));
        let weight = |part: &str| gguf_name.ends_with(&format!(".{part}.weight"));
        match arch {
            GgufArch::Llama if weight("attn_q") || weight("attn_k") => {
                let heads = self.require_usize("llama.attention.head_count")?;
                let heads = match (weight("attn_k"), self.get_usize("llama.attention.head_count_kv")?) {
                    (true, Some(kv)) => kv,
                    _ => heads,
                };
                unpermute_rows(&t, heads).map_err(broken)
            }
            GgufArch::Gpt2 if ["attn_qkv", "attn_output", "ffn_up", "ffn_down"].iter().any(|p| weight(p)) => {
                transposed(&t).map_err(broken)
            }
            GgufArch::Gemma3 if gguf_name.contains("norm.weight") => {
                Ok(HostTensor { shape: t.shape, data: t.data.into_iter().map(|w| w - 1.0).collect() })
            }
            _ => Ok(t),
        }
    }
}

/// Serves transformers tensor names from a GGUF file, processed back to
/// transformers' layout.
impl WeightSource for GgufFile {
    fn tensor(&self, name: &str) -> Result<Option<HostTensor>> {
        let arch = self.arch()?;
        let Some(gguf_name) = gguf_tensor_name(arch, name) else { return Ok(None) };
        let Some(t) = self.tensor_f32(&gguf_name)? else { return Ok(None) };
        // The decoder reads each tensor once: its part of the file can go.
        self.done_with(&gguf_name);
        self.processed(arch, &gguf_name, t).map(Some)
    }

    fn describe(&self) -> &str {
        &self.file
    }

    fn stored_name(&self, name: &str) -> String {
        self.arch().ok().and_then(|arch| gguf_tensor_name(arch, name)).unwrap_or_else(|| name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_gguf_per_architecture() {
        let name = |arch, hf| gguf_tensor_name(arch, hf);
        use GgufArch::*;
        assert_eq!(name(Llama, "model.embed_tokens.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(name(Llama, "embed_tokens.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(name(Llama, "model.norm.weight").as_deref(), Some("output_norm.weight"));
        assert_eq!(name(Llama, "lm_head.weight").as_deref(), Some("output.weight"));
        assert_eq!(name(Llama, "model.layers.12.self_attn.o_proj.weight").as_deref(), Some("blk.12.attn_output.weight"));
        assert_eq!(name(Llama, "model.layers.0.post_attention_layernorm.weight").as_deref(), Some("blk.0.ffn_norm.weight"));
        assert_eq!(name(Llama, "model.layers.3.mlp.down_proj.weight").as_deref(), Some("blk.3.ffn_down.weight"));
        assert_eq!(name(Llama, "transformer.wte.weight"), None);
        assert_eq!(name(Qwen2, "model.layers.1.self_attn.k_proj.bias").as_deref(), Some("blk.1.attn_k.bias"));
        assert_eq!(name(Qwen3, "model.layers.1.self_attn.q_norm.weight").as_deref(), Some("blk.1.attn_q_norm.weight"));
        assert_eq!(name(Gemma3, "model.layers.0.post_attention_layernorm.weight").as_deref(), Some("blk.0.post_attention_norm.weight"));
        assert_eq!(name(Gemma3, "model.layers.0.pre_feedforward_layernorm.weight").as_deref(), Some("blk.0.ffn_norm.weight"));
        assert_eq!(name(Gemma3, "model.layers.0.post_feedforward_layernorm.weight").as_deref(), Some("blk.0.post_ffw_norm.weight"));
        assert_eq!(name(Gpt2, "transformer.wte.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(name(Gpt2, "transformer.wpe.weight").as_deref(), Some("position_embd.weight"));
        assert_eq!(name(Gpt2, "transformer.h.1.attn.c_attn.bias").as_deref(), Some("blk.1.attn_qkv.bias"));
        assert_eq!(name(Gpt2, "transformer.h.0.mlp.c_proj.weight").as_deref(), Some("blk.0.ffn_down.weight"));
        assert_eq!(name(Gpt2, "transformer.ln_f.bias").as_deref(), Some("output_norm.bias"));
        assert_eq!(name(Gpt2, "model.layers.0.mlp.up_proj.weight"), None);
    }

    #[test]
    fn unpermute_reverses_llama_cpp_permute() {
        // permute: reshape(n_head, 2, half, cols).swapaxes(1, 2)
        let (n_head, half, cols) = (2, 3, 2);
        let rows = n_head * 2 * half;
        let hf: Vec<f32> = (0..rows * cols).map(|x| x as f32).collect();
        let mut permuted = vec![0.0; hf.len()];
        for h in 0..n_head {
            for j in 0..2 {
                for i in 0..half {
                    let src = h * 2 * half + j * half + i; // [h, j, i]
                    let dst = h * 2 * half + i * 2 + j; // [h, i, j]
                    permuted[dst * cols..(dst + 1) * cols].copy_from_slice(&hf[src * cols..(src + 1) * cols]);
                }
            }
        }
        let t = HostTensor { shape: vec![rows, cols], data: permuted };
        assert_eq!(unpermute_rows(&t, n_head).unwrap().data, hf);
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let t = HostTensor { shape: vec![2, 3], data: vec![0., 1., 2., 3., 4., 5.] };
        let u = transposed(&t).unwrap();
        assert_eq!(u.shape, vec![3, 2]);
        assert_eq!(u.data, vec![0., 3., 1., 4., 2., 5.]);
    }
}
