//! Reading the files a native run is given, within stated sizes.
//!
//! Everything tinyeval reads is held in memory, so a file (or a stream such as
//! `/dev/zero`) larger than any real input is refused with its name and the
//! limit rather than read until memory runs out. Model weights may be large;
//! tasks, texts and manifests are small.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest model file (a safetensors shard or a GGUF file): 16 GiB.
pub const MAX_MODEL_FILE_BYTES: u64 = 16 << 30;
/// The largest data file (task data, texts, labelled sets, manifests, corpora): 1 GiB.
pub const MAX_DATA_FILE_BYTES: u64 = 1 << 30;

fn limit_text(limit: u64) -> String {
    if limit >= 1 << 30 { format!("{} GiB", limit >> 30) } else { format!("{} MiB", limit >> 20) }
}

/// Reads a whole file of at most `limit` bytes. A regular file's size is
/// checked before reading; a stream is read up to the limit and then refused.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| Error::bad_file(&name, e))?;
    let meta = file.metadata().map_err(|e| Error::bad_file(&name, e))?;
    if meta.is_dir() {
        return Err(Error::bad_file(&name, "is a folder, not a file"));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(&name, limit));
    }
    let mut bytes = Vec::with_capacity(if meta.is_file() { meta.len() as usize } else { 0 });
    (&mut file).take(limit + 1).read_to_end(&mut bytes).map_err(|e| Error::bad_file(&name, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(&name, limit));
    }
    Ok(bytes)
}

/// A model file: as [`read_capped`] with [`MAX_MODEL_FILE_BYTES`], regular files only.
pub fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| Error::bad_file(&name, e))?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(Error::bad_file(&name, "is not a regular file (a model must be a file or a folder)"));
    }
    read_capped(path, MAX_MODEL_FILE_BYTES)
}

/// A model file as [`read_model_file`] reads it, in pieces of
/// [`PIECE_BYTES`](crate::file_bytes::PIECE_BYTES) that loading frees as it
/// goes ([`FileBytes`](crate::file_bytes::FileBytes)).
pub fn read_model_pieces(path: &Path) -> Result<crate::file_bytes::FileBytes> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| Error::bad_file(&name, e))?;
    if !meta.is_file() {
        return Err(Error::bad_file(&name, "is not a regular file (a model must be a file or a folder)"));
    }
    if meta.len() > MAX_MODEL_FILE_BYTES {
        return Err(too_large(&name, MAX_MODEL_FILE_BYTES));
    }
    let mut file = std::fs::File::open(path).map_err(|e| Error::bad_file(&name, e))?;
    let mut pieces = Vec::new();
    let mut left = meta.len();
    while left > 0 {
        let mut piece = Vec::with_capacity(left.min(crate::file_bytes::PIECE_BYTES as u64) as usize);
        (&mut file).take(piece.capacity() as u64).read_to_end(&mut piece).map_err(|e| Error::bad_file(&name, e))?;
        if piece.is_empty() {
            break; // the file shrank while it was read: the parser reports what is missing
        }
        left = left.saturating_sub(piece.len() as u64);
        pieces.push(piece);
    }
    Ok(crate::file_bytes::FileBytes::from_pieces(pieces))
}

/// A data file: as [`read_capped`] with [`MAX_DATA_FILE_BYTES`].
pub fn read_data_file(path: &Path) -> Result<Vec<u8>> {
    read_capped(path, MAX_DATA_FILE_BYTES)
}

/// A data file as UTF-8 text.
pub fn read_data_text(path: &Path) -> Result<String> {
    String::from_utf8(read_data_file(path)?)
        .map_err(|e| Error::bad_file(path.display().to_string(), format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to())))
}

fn too_large(name: &str, limit: u64) -> Error {
    Error::bad_file(name, format!("larger than the {} tinyeval reads from such a file", limit_text(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_read_only_up_to_the_limit() {
        let err = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err().to_string();
        assert!(err.starts_with("/dev/zero: larger than the 1 MiB"), "{err}");
        let err = read_model_file(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let err = read_data_file(Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
    }
}
