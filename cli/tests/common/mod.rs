//! What the CLI tests share: the repository root, the TinyHelen folder, and
//! `require` for data a test needs (fails under CI, skips with a message
//! elsewhere). The same file as core's tests use.
#![allow(dead_code)] // each test binary uses its own part

#[path = "../../../core/tests/common/data.rs"]
mod data;

pub use data::*;
