//! Errors a user can act on: each names the file or option at fault and the problem.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{file}: {problem}")]
    BadFile { file: String, problem: String },

    #[error("{file}: model_type `{model_type}` is not supported (supported: llama, qwen2, qwen3, gemma3_text, olmo2, gpt2, gpt_neo, gpt_neox)")]
    UnsupportedModelType { file: String, model_type: String },

    #[error("{file}: `{option}` = {value} is not supported: {why}")]
    UnsupportedOption {
        file: String,
        option: String,
        value: String,
        why: String,
    },

    #[error("{file}: tensor `{name}` is missing")]
    MissingTensor { file: String, name: String },

    #[error("{file}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    TensorShape {
        file: String,
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },

    #[error("{file}: tensor `{name}` has dtype {dtype}, which is not supported (F32, F16 and BF16 are)")]
    TensorDtype {
        file: String,
        name: String,
        dtype: String,
    },

    #[error("{file}: tensor `{name}` has GGML type {ggml_type}, which is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K are)")]
    GgufTensorType {
        file: String,
        name: String,
        ggml_type: String,
    },

    #[error("{file}: cannot read the tokenizer: {problem}")]
    Tokenizer { file: String, problem: String },

    #[error("the device failed while computing: {0}")]
    Device(String),

    #[error("{0}")]
    Input(String),

    #[error("cancelled")]
    Cancelled,

    /// An LLM judge's endpoint failed or answered something unusable.
    #[error("judge: {0}")]
    Judge(String),
}

impl Error {
    pub fn bad_file(file: impl Into<String>, problem: impl std::fmt::Display) -> Self {
        Error::BadFile {
            file: file.into(),
            problem: problem.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
