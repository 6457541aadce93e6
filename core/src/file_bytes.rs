//! A weight file's bytes in memory, held in pieces that are freed as the
//! tensors in them are read.
//!
//! Loading dequantizes each tensor to f32 and uploads it, one at a time; the
//! file itself is needed only until its last tensor is read. Held as one
//! buffer it stays whole until then, so the peak is the file plus every f32
//! weight; held in pieces (of [`PIECE_BYTES`]), each piece goes once the
//! tensors in it have been read, and the f32 weights built later reuse its
//! memory. Readers that can (the CLI reading a file, the page reading a
//! download or a picked file) hand over pieces; a `Vec<u8>` is one piece.

use std::cell::{Cell, RefCell};

/// The size of the pieces readers hand over: small enough that a piece is
/// freed soon after the tensors in it are read, large enough to be few.
pub const PIECE_BYTES: usize = 16 << 20;

/// A file's bytes in pieces (see the module documentation).
pub struct FileBytes {
    /// `None` once freed.
    pieces: Vec<RefCell<Option<Vec<u8>>>>,
    /// Where each piece starts in the file.
    starts: Vec<u64>,
    len: u64,
    /// Per piece, how many tensors lying (partly) in it are still to be read.
    unread: Vec<Cell<u32>>,
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_pieces(vec![bytes])
    }
}

impl FileBytes {
    /// A file given as consecutive pieces (of any sizes).
    pub fn from_pieces(pieces: Vec<Vec<u8>>) -> Self {
        let pieces: Vec<Vec<u8>> = pieces.into_iter().filter(|p| !p.is_empty()).collect();
        let mut starts = Vec::with_capacity(pieces.len());
        let mut len = 0u64;
        for p in &pieces {
            starts.push(len);
            len += p.len() as u64;
        }
        Self {
            unread: pieces.iter().map(|_| Cell::new(0)).collect(),
            pieces: pieces.into_iter().map(|p| RefCell::new(Some(p))).collect(),
            starts,
            len,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces that bytes `start..end` (not empty, inside the file) lie in.
    fn pieces_of(&self, start: u64, end: u64) -> std::ops::RangeInclusive<usize> {
        let piece = |pos: u64| self.starts.partition_point(|&s| s <= pos) - 1;
        piece(start)..=piece(end - 1)
    }

    /// `f` of bytes `start..end`: borrowed where they lie in one piece,
    /// gathered into a copy where they span several. `Err` says why there
    /// are none: past the end of the file, or freed.
    pub fn with_range<R>(&self, start: u64, end: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R, &'static str> {
        if start > end || end > self.len {
            return Err("the data end past the end of the file");
        }
        if start == end {
            return Ok(f(&[]));
        }
        let range = self.pieces_of(start, end);
        let freed = "its bytes were freed after it was read once (a tensor read twice while loading)";
        if range.start() == range.end() {
            let i = *range.start();
            let piece = self.pieces[i].borrow();
            let piece = piece.as_ref().ok_or(freed)?;
            let at = (start - self.starts[i]) as usize;
            return Ok(f(&piece[at..at + (end - start) as usize]));
        }
        let mut gathered = Vec::with_capacity((end - start) as usize);
        for i in range {
            let piece = self.pieces[i].borrow();
            let piece = piece.as_ref().ok_or(freed)?;
            let from = start.saturating_sub(self.starts[i]) as usize;
            let to = ((end - self.starts[i]) as usize).min(piece.len());
            gathered.extend_from_slice(&piece[from..to]);
        }
        Ok(f(&gathered))
    }

    /// The first `n` bytes (all of them if the file is shorter), copied.
    pub fn prefix(&self, n: u64) -> Vec<u8> {
        let n = n.min(self.len);
        self.with_range(0, n, <[u8]>::to_vec).unwrap_or_default()
    }

    /// Whether the whole file is one piece (nothing to free before the end).
    pub fn is_one_piece(&self) -> bool {
        self.pieces.len() <= 1
    }

    /// Counts a tensor stored at `start..end` as still to be read.
    pub(crate) fn expect_read(&self, start: u64, end: u64) {
        if start < end && end <= self.len {
            for i in self.pieces_of(start, end) {
                self.unread[i].set(self.unread[i].get() + 1);
            }
        }
    }

    /// The tensor at `start..end` has been read for good: the pieces that
    /// hold no tensor still to be read are freed. Call once per tensor.
    pub(crate) fn done_reading(&self, start: u64, end: u64) {
        if start < end && end <= self.len {
            for i in self.pieces_of(start, end) {
                let left = self.unread[i].get().saturating_sub(1);
                self.unread[i].set(left);
                if left == 0 {
                    self.pieces[i].borrow_mut().take();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_across_pieces_and_pieces_go_when_their_tensors_are_read() {
        let bytes = FileBytes::from_pieces(vec![vec![0, 1, 2], vec![], vec![3, 4], vec![5, 6, 7, 8]]);
        assert_eq!(bytes.len(), 9);
        assert_eq!(bytes.with_range(1, 7, <[u8]>::to_vec), Ok(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(bytes.with_range(3, 5, <[u8]>::to_vec), Ok(vec![3, 4]));
        assert_eq!(bytes.prefix(100), (0..9).collect::<Vec<u8>>());
        assert!(bytes.with_range(8, 10, |_| ()).is_err());
        // Two tensors: 0..4 and 4..9; piece 1 (3..5) holds both.
        bytes.expect_read(0, 4);
        bytes.expect_read(4, 9);
        bytes.done_reading(0, 4);
        assert!(bytes.with_range(0, 1, |_| ()).is_err(), "piece 0 holds no unread tensor");
        assert_eq!(bytes.with_range(3, 5, <[u8]>::to_vec), Ok(vec![3, 4]), "piece 1 still holds 4..9");
        bytes.done_reading(4, 9);
        assert!(bytes.with_range(3, 4, |_| ()).is_err());
        assert!(bytes.with_range(5, 9, |_| ()).is_err());
    }
}
