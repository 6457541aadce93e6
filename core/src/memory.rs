//! What loading a model takes in memory, known before its weights are read:
//! from a `config.json` (its parameters) or a GGUF header (its tensor table).
//!
//! tinyeval dequantizes every weight to f32 on load (all computation runs in
//! f32, and transformers' numbers, which tinyeval matches, come from weights
//! dequantized to f32), so a model's weights take 4 bytes a parameter whatever
//! the file stores: about 7x a Q4_K file's size, 12x a Q2_K file's, 2x a bf16
//! checkpoint's. Loading reads the file into memory, then dequantizes and
//! uploads one tensor at a time. The need is the file plus the f32 weights:
//! what loading holds at its peak when the file is one buffer (safetensors
//! shards); a GGUF file read in pieces ([`crate::file_bytes`]) gives each
//! piece back once its tensors are read, so it peaks lower, near the weights
//! alone, and the need is then an upper bound. README's "Memory" section has
//! measured peaks beside these figures.

use crate::config::ModelConfig;
#[cfg(not(target_family = "wasm"))]
use crate::error::{Error, Result};
use crate::gguf::GgufFile;

/// The memory a model needs while it loads, and its weights after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryNeed {
    /// Bytes of the weight files, held while the weights are built.
    pub file_bytes: u64,
    /// The weights as f32 tensors: 4 bytes for every stored element.
    pub weight_bytes: u64,
}

impl MemoryNeed {
    /// A Hugging Face checkpoint: `config`'s parameters as f32, and
    /// `file_bytes` of safetensors files.
    pub fn of_config(config: &ModelConfig, file_bytes: u64) -> Self {
        Self { file_bytes, weight_bytes: config.parameters_u64().saturating_mul(4) }
    }

    /// A GGUF file, from its header alone ([`GgufFile::parse_header`]): every
    /// tensor of its table as f32, and the file.
    pub fn of_gguf(header: &GgufFile) -> Self {
        let elements = header
            .tensors()
            .iter()
            .map(|t| t.dims.iter().fold(1u64, |n, &d| n.saturating_mul(d)))
            .fold(0u64, u64::saturating_add);
        Self { file_bytes: header.file_len(), weight_bytes: elements.saturating_mul(4) }
    }

    /// A model folder's `config.json` and its safetensors files' sizes, or a
    /// GGUF file's header (read from its first bytes, more while the header
    /// goes on): nothing else is read.
    #[cfg(not(target_family = "wasm"))]
    pub fn of_path(path: &std::path::Path) -> Result<Self> {
        use std::io::Read;
        let name = path.display().to_string();
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).map_err(|e| Error::bad_file(p.display().to_string(), e));
        if path.is_dir() {
            let config_path = path.join("config.json");
            let config = ModelConfig::from_json(&config_path.display().to_string(), &crate::files::read_data_file(&config_path)?)?;
            let index = path.join("model.safetensors.index.json");
            let shards = if index.exists() {
                crate::weights::SafetensorsWeights::shard_names_from_index(&index.display().to_string(), &crate::files::read_data_file(&index)?)?
            } else {
                vec!["model.safetensors".to_string()]
            };
            let bytes = shards.iter().map(|s| size(&path.join(s))).sum::<Result<u64>>()?;
            return Ok(Self::of_config(&config, bytes));
        }
        if !path.is_file() {
            return Err(Error::bad_file(name, "is not a regular file (a model must be a file or a folder)"));
        }
        let len = size(path)?;
        let mut file = std::fs::File::open(path).map_err(|e| Error::bad_file(&name, e))?;
        let mut prefix = Vec::new();
        let mut want = 1u64 << 20;
        loop {
            (&mut file).take(want - prefix.len() as u64).read_to_end(&mut prefix).map_err(|e| Error::bad_file(&name, e))?;
            if !crate::gguf::is_gguf(&prefix) {
                return Err(Error::bad_file(name, "neither a model folder nor a GGUF file"));
            }
            if let Some(header) = GgufFile::parse_header(&name, prefix.clone(), len)? {
                return Ok(Self::of_gguf(&header));
            }
            if prefix.len() as u64 >= len {
                return Err(Error::bad_file(name, "truncated GGUF file: its header goes past the end of the file"));
            }
            want *= 2;
        }
    }

    /// The peak while loading: the file and the f32 weights at once.
    pub fn total(&self) -> u64 {
        self.file_bytes.saturating_add(self.weight_bytes)
    }

    /// `about 2.2 GiB: file 378 MiB + weights 1.8 GiB as f32`.
    pub fn describe(&self) -> String {
        format!(
            "about {}: file {} + weights {} as f32",
            format_bytes(self.total()),
            format_bytes(self.file_bytes),
            format_bytes(self.weight_bytes)
        )
    }
}

/// `1.8 GiB`, `4 GiB`, `378 MiB`, `6.2 MiB`, `12 KiB`: binary units, two or
/// three significant digits, whole numbers shown without a decimal.
pub fn format_bytes(bytes: u64) -> String {
    let (value, unit) = match bytes {
        b if b >= 1 << 30 => (b as f64 / (1u64 << 30) as f64, "GiB"),
        b if b >= 1 << 20 => (b as f64 / (1u64 << 20) as f64, "MiB"),
        b if b >= 1 << 10 => (b as f64 / 1024.0, "KiB"),
        b => return format!("{b} bytes"),
    };
    if value >= 100.0 || (value - value.round()).abs() < 0.05 {
        format!("{:.0} {unit}", value.round())
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(format_bytes(4 << 30), "4 GiB");
        assert_eq!(format_bytes((1.84 * (1u64 << 30) as f64) as u64), "1.8 GiB");
        assert_eq!(format_bytes(280 << 30), "280 GiB");
        assert_eq!(format_bytes(378 << 20), "378 MiB");
        assert_eq!(format_bytes((6.25 * (1u64 << 20) as f64) as u64), "6.2 MiB");
        assert_eq!(format_bytes(12 << 10), "12 KiB");
        assert_eq!(format_bytes(100), "100 bytes");
    }

    #[test]
    fn a_config_needs_four_bytes_a_parameter_and_its_files() {
        let config = ModelConfig::from_json(
            "c.json",
            br#"{"model_type": "llama", "vocab_size": 2000, "hidden_size": 64, "intermediate_size": 256,
                "num_hidden_layers": 2, "num_attention_heads": 4}"#,
        )
        .unwrap();
        let need = MemoryNeed::of_config(&config, 1000);
        assert_eq!(need.weight_bytes, 4 * config.num_parameters() as u64);
        assert_eq!(need.total(), 1000 + need.weight_bytes);
        assert!(need.describe().starts_with("about "), "{}", need.describe());
    }
}
