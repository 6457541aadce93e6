//! Reading checkpoint tensors into host memory as f32.
//!
//! A checkpoint is one or more safetensors files (a sharded checkpoint lists its
//! shards in `model.safetensors.index.json`). Every tensor is converted to f32 on
//! load whatever its stored dtype, because all computation runs in f32.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};

/// A tensor in host memory, row-major.
#[derive(Debug, Clone)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Where the decoder gets its weights from, by checkpoint tensor name.
pub trait WeightSource {
    /// The tensor called `name`, or `None` if the checkpoint has no such tensor.
    fn tensor(&self, name: &str) -> Result<Option<HostTensor>>;
    /// A name for error messages (a file or folder).
    fn describe(&self) -> &str;
    /// What the file calls the tensor transformers calls `name`, for error messages.
    fn stored_name(&self, name: &str) -> String {
        name.to_string()
    }
}

/// One or more safetensors files held in memory.
pub struct SafetensorsWeights {
    description: String,
    shards: Vec<(String, Vec<u8>)>,
    /// Tensor name → index into `shards`.
    index: HashMap<String, usize>,
}

impl SafetensorsWeights {
    /// `shards` are `(file name, bytes)`; `description` names the checkpoint in errors.
    pub fn from_shards(description: impl Into<String>, shards: Vec<(String, Vec<u8>)>) -> Result<Self> {
        let mut index = HashMap::new();
        for (i, (file, bytes)) in shards.iter().enumerate() {
            let st = SafeTensors::deserialize(bytes)
                .map_err(|e| Error::bad_file(file.as_str(), format!("not a valid safetensors file: {e}")))?;
            for name in st.names() {
                index.insert(name.to_string(), i);
            }
        }
        Ok(Self {
            description: description.into(),
            shards,
            index,
        })
    }

    /// The shard file names listed by a `model.safetensors.index.json`, in order.
    pub fn shard_names_from_index(file: &str, json: &[u8]) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Index {
            weight_map: HashMap<String, String>,
        }
        let index: Index = serde_json::from_slice(json)
            .map_err(|e| Error::bad_file(file, format!("not a safetensors index: {e}")))?;
        let mut names: Vec<String> = index.weight_map.into_values().collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

impl WeightSource for SafetensorsWeights {
    fn tensor(&self, name: &str) -> Result<Option<HostTensor>> {
        let Some(&shard) = self.index.get(name) else {
            return Ok(None);
        };
        let (file, bytes) = &self.shards[shard];
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::bad_file(file.as_str(), format!("not a valid safetensors file: {e}")))?;
        let view = st
            .tensor(name)
            .map_err(|e| Error::bad_file(file.as_str(), format!("cannot read `{name}`: {e}")))?;
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(Error::TensorDtype {
                    file: file.clone(),
                    name: name.into(),
                    dtype: format!("{other:?}"),
                });
            }
        };
        Ok(Some(HostTensor {
            shape: view.shape().to_vec(),
            data,
        }))
    }

    fn describe(&self) -> &str {
        &self.description
    }
}
