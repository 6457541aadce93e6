//! tinyeval's computation: models, tokenizers, scoring, tasks and metrics.
//! No UI and no web dependencies; every entry point takes the burn `Device` it runs on.

pub mod benchmark;
pub mod config;
pub mod contamination;
mod cpu_kernels;
pub mod detection;
pub mod error;
pub mod file_bytes;
#[cfg(not(target_family = "wasm"))]
pub mod files;
pub mod finetune;
pub mod generation;
pub mod gguf;
pub mod jsonl;
pub mod judge;
pub mod language_model;
pub mod memory;
mod lbfgs;
mod logit_statistics;
pub mod leaner_eval;
pub mod membership;
pub mod model;
pub mod model_limits;
pub mod probe;
pub mod run_plan;
pub mod overlap;
pub mod scorer;
pub mod scoring;
pub mod statistics;
pub mod tasks;
pub mod tokenizer;
pub mod weights;
mod zlib_length;

pub use burn::tensor::Device;
pub use error::{Error, Result};
pub use generation::{GenerationConfig, Generation, Generator, StopReason, generate};
pub use language_model::{BatchProgress, LanguageModel, ModelFiles, TextScores};
