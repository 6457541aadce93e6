//! The decoder's weights from a GGUF file: transformers tensor names mapped to
//! GGUF ones, and llama.cpp's q/k row permutation undone.

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

/// The GGUF name of a transformers Llama tensor name (with or without the
/// `model.` prefix), or `None` for names GGUF files do not have.
pub fn gguf_tensor_name(hf_name: &str) -> Option<String> {
    if hf_name == "lm_head.weight" {
        return Some("output.weight".into());
    }
    let name = hf_name.strip_prefix("model.").unwrap_or(hf_name);
    match name {
        "embed_tokens.weight" => return Some("token_embd.weight".into()),
        "norm.weight" => return Some("output_norm.weight".into()),
        _ => {}
    }
    let rest = name.strip_prefix("layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (module, suffix) = rest.rsplit_once('.')?;
    let gguf = match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        _ => return None,
    };
    Some(format!("blk.{layer}.{gguf}.{suffix}"))
}

/// Serves transformers tensor names from a GGUF file, with q/k un-permuted.
impl WeightSource for GgufFile {
    fn tensor(&self, name: &str) -> Result<Option<HostTensor>> {
        let Some(gguf_name) = gguf_tensor_name(name) else { return Ok(None) };
        let Some(t) = self.tensor_f32(&gguf_name)? else { return Ok(None) };
        let heads = || -> Result<usize> { self.require_usize("llama.attention.head_count") };
        let heads = if gguf_name.ends_with(".attn_q.weight") {
            Some(heads()?)
        } else if gguf_name.ends_with(".attn_k.weight") {
            Some(match self.get_usize("llama.attention.head_count_kv")? {
                Some(n) => n,
                None => heads()?,
            })
        } else {
            None
        };
        match heads {
            None => Ok(Some(t)),
            Some(n) => unpermute_rows(&t, n)
                .map(Some)
                .map_err(|p| Error::bad_file(&self.file, format!("tensor `{gguf_name}`: {p}"))),
        }
    }

    fn describe(&self) -> &str {
        &self.file
    }

    fn stored_name(&self, name: &str) -> String {
        gguf_tensor_name(name).unwrap_or_else(|| name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_gguf() {
        assert_eq!(gguf_tensor_name("model.embed_tokens.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(gguf_tensor_name("embed_tokens.weight").as_deref(), Some("token_embd.weight"));
        assert_eq!(gguf_tensor_name("model.norm.weight").as_deref(), Some("output_norm.weight"));
        assert_eq!(gguf_tensor_name("lm_head.weight").as_deref(), Some("output.weight"));
        assert_eq!(gguf_tensor_name("model.layers.12.self_attn.o_proj.weight").as_deref(), Some("blk.12.attn_output.weight"));
        assert_eq!(gguf_tensor_name("model.layers.0.post_attention_layernorm.weight").as_deref(), Some("blk.0.ffn_norm.weight"));
        assert_eq!(gguf_tensor_name("model.layers.3.mlp.down_proj.weight").as_deref(), Some("blk.3.ffn_down.weight"));
        assert_eq!(gguf_tensor_name("transformer.wte.weight"), None);
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
}
