//! The GGUF architectures tinyeval runs (`general.architecture`).

use super::container::GgufFile;
use crate::error::{Error, Result};

/// A `general.architecture` tinyeval can run. Mistral, SmolLM and TinyLlama
/// files say `llama`; Qwen 2.5 files say `qwen2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgufArch {
    Llama,
    Qwen2,
    Qwen3,
    Gemma3,
    Gpt2,
}

impl GgufArch {
    pub const ALL: [GgufArch; 5] = [GgufArch::Llama, GgufArch::Qwen2, GgufArch::Qwen3, GgufArch::Gemma3, GgufArch::Gpt2];

    /// The name files use, which also prefixes the architecture's metadata keys.
    pub fn name(self) -> &'static str {
        match self {
            GgufArch::Llama => "llama",
            GgufArch::Qwen2 => "qwen2",
            GgufArch::Qwen3 => "qwen3",
            GgufArch::Gemma3 => "gemma3",
            GgufArch::Gpt2 => "gpt2",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        GgufArch::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl GgufFile {
    /// `general.architecture`, checked to be one tinyeval can run.
    pub fn arch(&self) -> Result<GgufArch> {
        let name = self.get_str("general.architecture")?.ok_or_else(|| self.missing("general.architecture"))?;
        GgufArch::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = GgufArch::ALL.iter().map(|a| a.name()).collect();
            Error::UnsupportedModelType {
                file: self.file.clone(),
                model_type: format!("{name} (GGUF; {} are supported)", known.join(", ")),
            }
        })
    }
}
