//! The length of C zlib's output, without the output: `len(zlib.compress(data))`
//! as Python computes it (zlib 1.2.12 – 1.3: level 6, 32 KiB window, memLevel 8,
//! default strategy, one `deflate(Z_FINISH)` over all the input).
//!
//! Pure-Rust deflate encoders (miniz_oxide, zlib-rs) choose other matches and
//! blocks, so their lengths differ from Python's on some texts. This follows
//! zlib's `deflate_slow` (lazy matching, hash chains, window sliding) and
//! `trees.c` (Huffman trees, block type choice) step by step, but counts bits
//! instead of writing them.
//!
//! This file holds `deflate_slow`: filling and sliding the window, the hash
//! chains, the longest-match search and lazy matching, which decide the
//! literals and matches. `blocks` tallies them into blocks and counts each
//! block's bits as `_tr_flush_block` would write them (stored, static or
//! dynamic Huffman codes); `trees` builds the Huffman trees whose code lengths
//! those counts use (`build_tree`, `gen_bitlen`).

mod blocks;
mod trees;

use blocks::Blocks;

const W_SIZE: usize = 1 << 15;
const W_MASK: usize = W_SIZE - 1;
const WINDOW_SIZE: usize = 2 * W_SIZE;
const HASH_BITS: u32 = 15; // memLevel 8 + 7
const HASH_SIZE: usize = 1 << HASH_BITS;
const HASH_MASK: usize = HASH_SIZE - 1;
const HASH_SHIFT: u32 = (HASH_BITS + 3 - 1) / 3;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;
const MAX_DIST: usize = W_SIZE - MIN_LOOKAHEAD;
const TOO_FAR: usize = 4096;
const WIN_INIT: usize = MAX_MATCH;
// Level 6.
const GOOD_MATCH: usize = 8;
const MAX_LAZY: usize = 16;
const NICE_MATCH: usize = 128;
const MAX_CHAIN: usize = 128;

/// `len(zlib.compress(data))` with C zlib's defaults (level 6).
pub fn zlib_compressed_len(data: &[u8]) -> usize {
    let mut window = vec![0u8; WINDOW_SIZE];
    let mut head = vec![0usize; HASH_SIZE];
    let mut prev = vec![0usize; W_SIZE];
    let mut blocks = Blocks::new();
    let (mut input_pos, mut strstart, mut lookahead, mut block_start): (usize, usize, usize, isize) = (0, 0, 0, 0);
    let (mut match_start, mut match_length) = (0usize, MIN_MATCH - 1);
    let mut match_available = false;
    let mut ins_h = 0usize;
    let mut high_water = 0usize;
    let update_hash = |h: usize, c: u8| ((h << HASH_SHIFT) ^ c as usize) & HASH_MASK;

    loop {
        if lookahead < MIN_LOOKAHEAD {
            // fill_window
            loop {
                let mut more = WINDOW_SIZE - lookahead - strstart;
                if strstart >= W_SIZE + MAX_DIST {
                    window.copy_within(W_SIZE..W_SIZE + (W_SIZE - more), 0);
                    match_start = match_start.wrapping_sub(W_SIZE);
                    strstart -= W_SIZE;
                    block_start -= W_SIZE as isize;
                    for m in head.iter_mut().chain(prev.iter_mut()) {
                        *m = if *m >= W_SIZE { *m - W_SIZE } else { 0 };
                    }
                    more += W_SIZE;
                }
                if input_pos == data.len() {
                    break;
                }
                let n = more.min(data.len() - input_pos);
                let at = strstart + lookahead;
                window[at..at + n].copy_from_slice(&data[input_pos..input_pos + n]);
                input_pos += n;
                lookahead += n;
                if lookahead >= MIN_MATCH {
                    ins_h = window[strstart] as usize;
                    ins_h = update_hash(ins_h, window[strstart + 1]);
                }
                if !(lookahead < MIN_LOOKAHEAD && input_pos < data.len()) {
                    break;
                }
            }
            if high_water < WINDOW_SIZE {
                let curr = strstart + lookahead;
                if high_water < curr {
                    let init = (WINDOW_SIZE - curr).min(WIN_INIT);
                    window[curr..curr + init].fill(0);
                    high_water = curr + init;
                } else if high_water < curr + WIN_INIT {
                    let init = (curr + WIN_INIT - high_water).min(WINDOW_SIZE - high_water);
                    window[high_water..high_water + init].fill(0);
                    high_water += init;
                }
            }
            if lookahead == 0 {
                break;
            }
        }
        let mut hash_head = 0;
        if lookahead >= MIN_MATCH {
            ins_h = update_hash(ins_h, window[strstart + MIN_MATCH - 1]);
            hash_head = head[ins_h];
            prev[strstart & W_MASK] = hash_head;
            head[ins_h] = strstart;
        }
        let mut prev_length = match_length;
        let prev_match = match_start;
        match_length = MIN_MATCH - 1;
        if hash_head != 0 && prev_length < MAX_LAZY && strstart - hash_head <= MAX_DIST {
            // longest_match
            let mut chain = MAX_CHAIN;
            let mut best_len = prev_length;
            let nice = NICE_MATCH.min(lookahead);
            let limit = strstart.saturating_sub(MAX_DIST);
            if prev_length >= GOOD_MATCH {
                chain >>= 2;
            }
            let mut cur = hash_head;
            loop {
                let len = window[strstart..strstart + MAX_MATCH]
                    .iter()
                    .zip(&window[cur..cur + MAX_MATCH])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best_len {
                    match_start = cur;
                    best_len = len;
                    if len >= nice {
                        break;
                    }
                }
                cur = prev[cur & W_MASK];
                chain -= 1;
                if cur <= limit || chain == 0 {
                    break;
                }
            }
            match_length = best_len.min(lookahead);
            if match_length == MIN_MATCH && strstart - match_start > TOO_FAR {
                match_length = MIN_MATCH - 1;
            }
        }
        if prev_length >= MIN_MATCH && match_length <= prev_length {
            let max_insert = strstart + lookahead - MIN_MATCH;
            let bflush = blocks.tally_dist(strstart - 1 - prev_match, prev_length - MIN_MATCH);
            lookahead -= prev_length - 1;
            prev_length -= 2;
            loop {
                strstart += 1;
                if strstart <= max_insert {
                    ins_h = update_hash(ins_h, window[strstart + MIN_MATCH - 1]);
                    prev[strstart & W_MASK] = head[ins_h];
                    head[ins_h] = strstart;
                }
                prev_length -= 1;
                if prev_length == 0 {
                    break;
                }
            }
            match_available = false;
            match_length = MIN_MATCH - 1;
            strstart += 1;
            if bflush {
                blocks.flush_block((block_start >= 0).then(|| (strstart as isize - block_start) as usize), false);
                block_start = strstart as isize;
            }
        } else if match_available {
            if blocks.tally_lit(window[strstart - 1]) {
                blocks.flush_block((block_start >= 0).then(|| (strstart as isize - block_start) as usize), false);
                block_start = strstart as isize;
            }
            strstart += 1;
            lookahead -= 1;
        } else {
            match_available = true;
            strstart += 1;
            lookahead -= 1;
        }
    }
    if match_available {
        blocks.tally_lit(window[strstart - 1]);
    }
    blocks.flush_block((block_start >= 0).then(|| (strstart as isize - block_start) as usize), true);
    2 + (blocks.bits / 8) as usize + 4
}
