//! What a model configuration may declare before any memory is taken for it.
//!
//! A `config.json` or GGUF header is read before the weights, and everything
//! the decoder allocates (rotary tables, layer lists, activations) is sized from
//! it, so every dimension is checked here first: zero, non-dividing, and sizes
//! beyond what any model tinyeval can run would have. The limits are far above
//! today's small open models (Gemma 3's 262,144-token vocabulary, 131,072-token
//! contexts) and far below what would exhaust a machine's memory while building
//! tables. Errors name the file and the field.
//!
//! This module depends on nothing but the error type; the checks of a whole
//! [`ModelConfig`](crate::config::ModelConfig) that use these limits live with it
//! in `config` (`validate`).

use crate::error::{Error, Result};

/// Largest value accepted for each kind of dimension.
pub const MAX_LAYERS: usize = 1024;
pub const MAX_HIDDEN: usize = 1 << 16;
pub const MAX_INTERMEDIATE: usize = 1 << 20;
pub const MAX_HEADS: usize = 1024;
pub const MAX_HEAD_DIM: usize = 1024;
pub const MAX_VOCAB: usize = 1 << 22;
pub const MAX_POSITIONS: usize = 1 << 20;
/// Elements of the rotary cos/sin tables together (`2 * positions * rotary dims`): 1 GiB of f32.
pub(crate) const MAX_ROTARY_ELEMENTS: usize = 1 << 28;
/// The most memory one forward pass may take for its activations: 16 GiB
/// natively; 3 GiB in the browser, whose 32-bit wasm heap addresses 4 GiB in all.
#[cfg(not(target_family = "wasm"))]
pub const MAX_BATCH_BYTES: u64 = 16 << 30;
#[cfg(target_family = "wasm")]
pub const MAX_BATCH_BYTES: u64 = 3 << 30;
/// The fewest bits a stored weight takes (Q2_K packs about 2.6): a file of
/// `n` bytes of weights cannot hold more than `4 n` parameters.
pub(crate) const MIN_BITS_PER_WEIGHT: usize = 2;

/// A positive dimension no larger than `max`, read from field `field` of `file`.
pub fn check_dim(file: &str, field: &str, value: usize, max: usize) -> Result<usize> {
    if value == 0 {
        return Err(Error::bad_file(file, format!("`{field}` is 0; it must be at least 1")));
    }
    if value > max {
        return Err(Error::bad_file(
            file,
            format!("`{field}` is {value}, more than the {max} tinyeval accepts (the file is corrupt or not a small language model)"),
        ));
    }
    Ok(value)
}

/// `hidden / heads`, where the file gives no head size and the division must be exact.
pub fn head_size(file: &str, hidden_field: &str, hidden: usize, heads_field: &str, heads: usize) -> Result<usize> {
    if heads == 0 {
        return Err(Error::bad_file(file, format!("`{heads_field}` is 0; it must be at least 1")));
    }
    if !hidden.is_multiple_of(heads) {
        return Err(Error::bad_file(
            file,
            format!("`{hidden_field}` = {hidden} is not divisible by `{heads_field}` = {heads}"),
        ));
    }
    Ok(hidden / heads)
}

/// A finite, positive float (rotary base) or finite, non-negative one (epsilon).
pub(crate) fn check_float(file: &str, field: &str, value: f64, allow_zero: bool) -> Result<()> {
    if !value.is_finite() || value < 0.0 || (!allow_zero && value == 0.0) {
        let want = if allow_zero { "a finite number >= 0" } else { "a finite number > 0" };
        return Err(Error::bad_file(file, format!("`{field}` is {value}; it must be {want}")));
    }
    Ok(())
}
