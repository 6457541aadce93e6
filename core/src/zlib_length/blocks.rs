//! `trees.c`'s block bookkeeping, counting bits instead of writing them: the
//! symbol frequencies of the block being built (`_tr_tally`), the bit-length
//! codes of its trees (`scan_tree`), and the choice between a stored, a static
//! and a dynamic block with the bits it takes (`_tr_flush_block`).

use super::trees::{self, BL_CODES, D_CODES, EXTRA_DBITS, EXTRA_LBITS, HEAP_SIZE, L_CODES, Tree};

const LIT_BUFSIZE: usize = 1 << (8 + 6);
const SYM_END: usize = LIT_BUFSIZE - 1; // symbols per block (zlib: (lit_bufsize - 1) * 3 bytes)
const END_BLOCK: usize = 256;
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

/// zlib's `deflate_state` parts that `trees.c` uses, one array per tree.
pub(super) struct Blocks {
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
    pub(super) bits: u64,
    symbols: usize,
}

impl Blocks {
    pub(super) fn new() -> Self {
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
    pub(super) fn tally_lit(&mut self, c: u8) -> bool {
        self.ltree[c as usize] += 1;
        self.symbols += 1;
        self.symbols == SYM_END
    }

    pub(super) fn tally_dist(&mut self, dist: usize, lc: usize) -> bool {
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

    /// `build_tree` (see `trees`): code lengths into the tree's `len`, costs into
    /// opt_len and static_len; returns max_code.
    fn build_tree(&mut self, t: Tree) -> usize {
        let (freq, len) = {
            let (f, l) = self.tree(t);
            (std::mem::take(f), std::mem::take(l))
        };
        let depth = std::mem::take(&mut self.depth);
        let heap = std::mem::take(&mut self.heap);
        let (st, max_code) = trees::build_tree(t, freq, len, depth, heap, self.opt_len, self.static_len);
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
    pub(super) fn flush_block(&mut self, stored_len: Option<usize>, last: bool) {
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
