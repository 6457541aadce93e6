//! The length of C zlib's output, without the output: `len(zlib.compress(data))`
//! as Python computes it (zlib 1.2.12 – 1.3: level 6, 32 KiB window, memLevel 8,
//! default strategy, one `deflate(Z_FINISH)` over all the input).
//!
//! Pure-Rust deflate encoders (miniz_oxide, zlib-rs) choose other matches and
//! blocks, so their lengths differ from Python's on some texts. This follows
//! zlib's `deflate_slow` (lazy matching, hash chains, window sliding) and
//! `trees.c` (Huffman trees, block type choice) step by step, but counts bits
//! instead of writing them.

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
const LIT_BUFSIZE: usize = 1 << (8 + 6);
const SYM_END: usize = LIT_BUFSIZE - 1; // symbols per block (zlib: (lit_bufsize - 1) * 3 bytes)
// Level 6.
const GOOD_MATCH: usize = 8;
const MAX_LAZY: usize = 16;
const NICE_MATCH: usize = 128;
const MAX_CHAIN: usize = 128;

const L_CODES: usize = 286;
const D_CODES: usize = 30;
const BL_CODES: usize = 19;
const HEAP_SIZE: usize = 2 * L_CODES + 1;
const END_BLOCK: usize = 256;
const EXTRA_LBITS: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const EXTRA_DBITS: [u8; 30] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const EXTRA_BLBITS: [u8; 19] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];
const BL_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const REP_3_6: usize = 16;
const REPZ_3_10: usize = 17;
const REPZ_11_138: usize = 18;

/// Length code (0..=28) of `match length − 3` (0..=255).
fn length_code(lc: usize) -> usize {
    if lc == 255 {
        return 28;
    }
    let mut base = 0;
    for (code, &extra) in EXTRA_LBITS[..28].iter().enumerate() {
        let next = base + (1 << extra);
        if lc < next {
            return code;
        }
        base = next;
    }
    unreachable!()
}

/// Distance code (0..=29) of `distance − 1`.
fn dist_code(dist: usize) -> usize {
    let mut base = 0;
    for (code, &extra) in EXTRA_DBITS.iter().enumerate() {
        let next = base + (1 << extra);
        if dist < next {
            return code;
        }
        base = next;
    }
    unreachable!()
}

fn static_ltree_len(n: usize) -> u32 {
    match n {
        0..=143 => 8,
        144..=255 => 9,
        256..=279 => 7,
        _ => 8,
    }
}

struct Trees {
    freq: Vec<u32>,
    len: Vec<u32>,
    dad: Vec<usize>,
    depth: Vec<u8>,
    heap: Vec<usize>,
    heap_len: usize,
    heap_max: usize,
    opt_len: u64,
    static_len: u64,
}

#[derive(Clone, Copy)]
enum Tree {
    Lit,
    Dist,
    Bl,
}

/// zlib's `deflate_state` parts that `trees.c` uses, one array per tree.
struct Blocks {
    ltree: Vec<u32>,
    dtree: Vec<u32>,
    bltree: Vec<u32>,
    llen: Vec<u32>,
    dlen: Vec<u32>,
    bllen: Vec<u32>,
    depth: Vec<u8>,
    heap: Vec<usize>,
    opt_len: u64,
    static_len: u64,
    bits: u64,
    symbols: usize,
}

impl Blocks {
    fn new() -> Self {
        let mut b = Self {
            ltree: vec![0; HEAP_SIZE],
            dtree: vec![0; 2 * D_CODES + 1],
            bltree: vec![0; 2 * BL_CODES + 1],
            llen: vec![0; HEAP_SIZE],
            dlen: vec![0; 2 * D_CODES + 1],
            bllen: vec![0; 2 * BL_CODES + 1],
            depth: vec![0; HEAP_SIZE],
            heap: vec![0; HEAP_SIZE],
            opt_len: 0,
            static_len: 0,
            bits: 0,
            symbols: 0,
        };
        b.init_block();
        b
    }

    fn init_block(&mut self) {
        self.ltree[..L_CODES].fill(0);
        self.dtree[..D_CODES].fill(0);
        self.bltree[..BL_CODES].fill(0);
        self.ltree[END_BLOCK] = 1;
        self.opt_len = 0;
        self.static_len = 0;
        self.symbols = 0;
    }

    /// `_tr_tally`: true when the block is full.
    fn tally_lit(&mut self, c: u8) -> bool {
        self.ltree[c as usize] += 1;
        self.symbols += 1;
        self.symbols == SYM_END
    }

    fn tally_dist(&mut self, dist: usize, lc: usize) -> bool {
        self.ltree[length_code(lc) + 257] += 1;
        self.dtree[dist_code(dist - 1)] += 1;
        self.symbols += 1;
        self.symbols == SYM_END
    }

    fn tree(&mut self, t: Tree) -> (&mut Vec<u32>, &mut Vec<u32>) {
        match t {
            Tree::Lit => (&mut self.ltree, &mut self.llen),
            Tree::Dist => (&mut self.dtree, &mut self.dlen),
            Tree::Bl => (&mut self.bltree, &mut self.bllen),
        }
    }

    /// `build_tree`: code lengths into the tree's `len`, costs into opt_len and
    /// static_len; returns max_code.
    fn build_tree(&mut self, t: Tree) -> usize {
        let (elems, extra, base, max_length): (usize, &[u8], usize, u32) = match t {
            Tree::Lit => (L_CODES, &EXTRA_LBITS, 257, 15),
            Tree::Dist => (D_CODES, &EXTRA_DBITS, 0, 15),
            Tree::Bl => (BL_CODES, &EXTRA_BLBITS, 0, 7),
        };
        let stree_len = |n: usize| -> Option<u32> {
            match t {
                Tree::Lit => Some(static_ltree_len(n)),
                Tree::Dist => Some(5),
                Tree::Bl => None,
            }
        };
        let (mut freq, mut len) = {
            let (f, l) = self.tree(t);
            (std::mem::take(f), std::mem::take(l))
        };
        let mut st = Trees {
            freq: std::mem::take(&mut freq),
            len: std::mem::take(&mut len),
            dad: vec![0; 2 * elems + 1],
            depth: std::mem::take(&mut self.depth),
            heap: std::mem::take(&mut self.heap),
            heap_len: 0,
            heap_max: HEAP_SIZE,
            opt_len: self.opt_len,
            static_len: self.static_len,
        };
        let mut max_code: isize = -1;
        for n in 0..elems {
            if st.freq[n] != 0 {
                st.heap_len += 1;
                st.heap[st.heap_len] = n;
                max_code = n as isize;
                st.depth[n] = 0;
            } else {
                st.len[n] = 0;
            }
        }
        while st.heap_len < 2 {
            let node = if max_code < 2 {
                max_code += 1;
                max_code as usize
            } else {
                0
            };
            st.heap_len += 1;
            st.heap[st.heap_len] = node;
            st.freq[node] = 1;
            st.depth[node] = 0;
            st.opt_len = st.opt_len.wrapping_sub(1);
            if let Some(sl) = stree_len(node) {
                st.static_len = st.static_len.wrapping_sub(sl as u64);
            }
        }
        let max_code = max_code as usize;
        for n in (1..=st.heap_len / 2).rev() {
            st.pqdownheap(n);
        }
        let mut node = elems;
        loop {
            let n = st.heap[1];
            st.heap[1] = st.heap[st.heap_len];
            st.heap_len -= 1;
            st.pqdownheap(1);
            let m = st.heap[1];
            st.heap_max -= 1;
            st.heap[st.heap_max] = n;
            st.heap_max -= 1;
            st.heap[st.heap_max] = m;
            st.freq[node] = st.freq[n] + st.freq[m];
            st.depth[node] = st.depth[n].max(st.depth[m]) + 1;
            st.dad[n] = node;
            st.dad[m] = node;
            st.heap[1] = node;
            node += 1;
            st.pqdownheap(1);
            if st.heap_len < 2 {
                break;
            }
        }
        st.heap_max -= 1;
        st.heap[st.heap_max] = st.heap[1];
        // gen_bitlen
        let mut bl_count = [0u32; 16];
        st.len[st.heap[st.heap_max]] = 0;
        let mut overflow: i32 = 0;
        let mut h = st.heap_max + 1;
        while h < HEAP_SIZE {
            let n = st.heap[h];
            let mut bits = st.len[st.dad[n]] + 1;
            if bits > max_length {
                bits = max_length;
                overflow += 1;
            }
            st.len[n] = bits;
            h += 1;
            if n > max_code {
                continue;
            }
            bl_count[bits as usize] += 1;
            let xbits = if n >= base { extra[n - base] as u32 } else { 0 };
            let f = st.freq[n] as u64;
            st.opt_len = st.opt_len.wrapping_add(f * (bits + xbits) as u64);
            if let Some(sl) = stree_len(n) {
                st.static_len = st.static_len.wrapping_add(f * (sl + xbits) as u64);
            }
        }
        if overflow > 0 {
            loop {
                let mut bits = max_length as usize - 1;
                while bl_count[bits] == 0 {
                    bits -= 1;
                }
                bl_count[bits] -= 1;
                bl_count[bits + 1] += 2;
                bl_count[max_length as usize] -= 1;
                overflow -= 2;
                if overflow <= 0 {
                    break;
                }
            }
            h = HEAP_SIZE;
            for bits in (1..=max_length).rev() {
                let mut n = bl_count[bits as usize];
                while n != 0 {
                    h -= 1;
                    let m = st.heap[h];
                    if m > max_code {
                        continue;
                    }
                    if st.len[m] != bits {
                        st.opt_len = st.opt_len.wrapping_add((bits as u64).wrapping_sub(st.len[m] as u64).wrapping_mul(st.freq[m] as u64));
                        st.len[m] = bits;
                    }
                    n -= 1;
                }
            }
        }
        self.depth = st.depth;
        self.heap = st.heap;
        self.opt_len = st.opt_len;
        self.static_len = st.static_len;
        let (f, l) = self.tree(t);
        *f = st.freq;
        *l = st.len;
        max_code
    }

    /// `scan_tree`: the bit-length codes' frequencies of a tree's lengths.
    fn scan_tree(&mut self, t: Tree, max_code: usize) {
        let lens: Vec<u32> = {
            let (_, l) = self.tree(t);
            let mut v = l[..=max_code].to_vec();
            v.push(0xffff); // guard
            v
        };
        let mut prevlen: i64 = -1;
        let mut nextlen = lens[0] as i64;
        let mut count = 0;
        let (mut max_count, mut min_count) = if nextlen == 0 { (138, 3) } else { (7, 4) };
        for n in 0..=max_code {
            let curlen = nextlen;
            nextlen = lens[n + 1] as i64;
            count += 1;
            if count < max_count && curlen == nextlen {
                continue;
            } else if count < min_count {
                self.bltree[curlen as usize] += count;
            } else if curlen != 0 {
                if curlen != prevlen {
                    self.bltree[curlen as usize] += 1;
                }
                self.bltree[REP_3_6] += 1;
            } else if count <= 10 {
                self.bltree[REPZ_3_10] += 1;
            } else {
                self.bltree[REPZ_11_138] += 1;
            }
            count = 0;
            prevlen = curlen;
            if nextlen == 0 {
                (max_count, min_count) = (138, 3);
            } else if curlen == nextlen {
                (max_count, min_count) = (6, 3);
            } else {
                (max_count, min_count) = (7, 4);
            }
        }
    }

    /// `_tr_flush_block`, counting bits. `stored_len` is `None` when the block's
    /// bytes are no longer in the window (`block_start < 0`).
    fn flush_block(&mut self, stored_len: Option<usize>, last: bool) {
        let lmax = self.build_tree(Tree::Lit);
        let dmax = self.build_tree(Tree::Dist);
        self.scan_tree(Tree::Lit, lmax);
        self.scan_tree(Tree::Dist, dmax);
        self.build_tree(Tree::Bl);
        let mut max_blindex = BL_CODES - 1;
        while max_blindex >= 3 && self.bllen[BL_ORDER[max_blindex]] == 0 {
            max_blindex -= 1;
        }
        self.opt_len = self.opt_len.wrapping_add(3 * (max_blindex as u64 + 1) + 5 + 5 + 4);
        let mut opt_lenb = (self.opt_len + 3 + 7) >> 3;
        let static_lenb = (self.static_len + 3 + 7) >> 3;
        if static_lenb <= opt_lenb {
            opt_lenb = static_lenb;
        }
        match stored_len {
            Some(stored) if stored as u64 + 4 <= opt_lenb => {
                self.bits += 3;
                self.bits = self.bits.div_ceil(8) * 8;
                self.bits += 32 + 8 * stored as u64;
            }
            _ if static_lenb == opt_lenb => self.bits += 3 + self.static_len,
            _ => self.bits += 3 + self.opt_len,
        }
        self.init_block();
        if last {
            self.bits = self.bits.div_ceil(8) * 8;
        }
    }
}

impl Trees {
    fn smaller(&self, n: usize, m: usize) -> bool {
        self.freq[n] < self.freq[m] || (self.freq[n] == self.freq[m] && self.depth[n] <= self.depth[m])
    }

    fn pqdownheap(&mut self, mut k: usize) {
        let v = self.heap[k];
        let mut j = k << 1;
        while j <= self.heap_len {
            if j < self.heap_len && self.smaller(self.heap[j + 1], self.heap[j]) {
                j += 1;
            }
            if self.smaller(v, self.heap[j]) {
                break;
            }
            self.heap[k] = self.heap[j];
            k = j;
            j <<= 1;
        }
        self.heap[k] = v;
    }
}

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
