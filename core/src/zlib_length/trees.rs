//! `trees.c`'s Huffman trees: the code tables of the literal/length, distance
//! and bit-length trees, and `build_tree` with `gen_bitlen`: a tree over a
//! block's frequencies, its code lengths limited to the tree's longest code,
//! and the block's cost with those lengths and with the static ones.

pub(super) const L_CODES: usize = 286;
pub(super) const D_CODES: usize = 30;
pub(super) const BL_CODES: usize = 19;
pub(super) const HEAP_SIZE: usize = 2 * L_CODES + 1;
pub(super) const EXTRA_LBITS: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
pub(super) const EXTRA_DBITS: [u8; 30] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
pub(super) const EXTRA_BLBITS: [u8; 19] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];

pub(super) fn static_ltree_len(n: usize) -> u32 {
    match n {
        0..=143 => 8,
        144..=255 => 9,
        256..=279 => 7,
        _ => 8,
    }
}

#[derive(Clone, Copy)]
pub(super) enum Tree {
    Lit,
    Dist,
    Bl,
}

/// One `build_tree`'s working state: the tree's frequencies and code lengths,
/// and the deflate state's heap, depths and running costs.
pub(super) struct Trees {
    pub(super) freq: Vec<u32>,
    pub(super) len: Vec<u32>,
    dad: Vec<usize>,
    pub(super) depth: Vec<u8>,
    pub(super) heap: Vec<usize>,
    heap_len: usize,
    heap_max: usize,
    pub(super) opt_len: u64,
    pub(super) static_len: u64,
}

/// `build_tree` of tree `t` over `freq`: code lengths into `len`, costs added to
/// `opt_len` and `static_len`; returns the state (to be put back) and max_code.
pub(super) fn build_tree(
    t: Tree,
    freq: Vec<u32>,
    len: Vec<u32>,
    depth: Vec<u8>,
    heap: Vec<usize>,
    opt_len: u64,
    static_len: u64,
) -> (Trees, usize) {
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
    let mut st = Trees {
        freq,
        len,
        dad: vec![0; 2 * elems + 1],
        depth,
        heap,
        heap_len: 0,
        heap_max: HEAP_SIZE,
        opt_len,
        static_len,
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
    (st, max_code)
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
