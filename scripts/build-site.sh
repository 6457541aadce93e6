#!/usr/bin/env bash
# Builds the static site into dist/ (release wasm, optimised by wasm-opt).
# Usage: scripts/build-site.sh [--public-url /sub/path/]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release --offline --skip-version-check "$@"
