#!/usr/bin/env bash
# Measures what the Hugging Face `tokenizers` crate alone weighs in wasm: builds
# a throwaway cdylib that loads a tokenizer.json and encodes a text (the same
# version and features as core/Cargo.toml, the workspace's Cargo.lock, release
# profile, wasm-opt -O3 as Trunk runs it) and prints its size, raw and gzipped,
# beside the site's .wasm in dist/ when it has been built.
# Usage: scripts/measure_tokenizers_wasm.sh [work dir, default /tmp/tinyeval-tokenizers-wasm]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/tinyeval-tokenizers-wasm}"
export PATH="$root/.tools/node_modules/.bin:$PATH"
version=$(awk '/^name = "tokenizers"$/ {getline; print $3}' "$root/Cargo.lock" | tr -d '"')
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "tokwasm"
version = "0.1.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
[dependencies]
tokenizers = { version = "=$version", default-features = false, features = ["unstable_wasm"] }
[profile.release]
opt-level = 3
codegen-units = 16
TOML
cat > "$work/src/lib.rs" <<'RUST'
// Keeps the tokenizer's loading and encoding alive in the module.
static mut BUF: [u8; 1 << 20] = [0; 1 << 20];
#[no_mangle]
pub extern "C" fn encode_len(json_len: usize, text_ptr: *const u8, text_len: usize) -> usize {
    let json = unsafe { &*std::ptr::addr_of!(BUF) };
    let tok = tokenizers::Tokenizer::from_bytes(&json[..json_len]).unwrap();
    let text = unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(text_ptr, text_len)) };
    tok.encode(text, true).unwrap().get_ids().len()
}
RUST
cp "$root/Cargo.lock" "$work/Cargo.lock"
(cd "$work" && cargo build --release --target wasm32-unknown-unknown -q)
raw="$work/target/wasm32-unknown-unknown/release/tokwasm.wasm"
wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals "$raw" -o "$work/opt.wasm"
size() { printf '%.2f MB (%.2f MB gzipped)' "$(stat -c %s "$1" | awk '{print $1/1e6}')" "$(gzip -9 -c "$1" | wc -c | awk '{print $1/1e6}')"; }
echo "tokenizers $version alone, after wasm-opt -O3: $(size "$work/opt.wasm")"
for site in "$root"/dist/*_bg.wasm; do
  [ -f "$site" ] && echo "the site's .wasm ($(basename "$site")): $(size "$site")"
done
