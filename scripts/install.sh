#!/usr/bin/env bash
# Installs what tinyeval needs and is missing; fast when everything is there.
# Usage: source scripts/install.sh [serve|test]
#   serve: the Rust wasm toolchain (target, trunk, wasm-bindgen, wasm-opt)
#   test:  that, plus Chromium, a Vulkan software driver and Playwright
# Needs the Rust toolchain (rustup), Node.js/npm and, for `test`, apt-get (as root or with sudo).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"
export PATH="$tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

# The two tools are built lightly optimised, without LTO: they only drive cargo,
# copy files and rewrite one .wasm, so a fast build matters more than their speed
# (a clean CI machine compiles them every time).
tool_install() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_DEBUG=false cargo install "$@"
}

if [[ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]]; then
  say "installing trunk 0.21.14 (a few minutes)"
  tool_install trunk --version 0.21.14 --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen library in Cargo.lock exactly.
bindgen_version="$(grep -A1 '^name = "wasm-bindgen"$' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  tool_install wasm-bindgen-cli --version "$bindgen_version"
fi

# Debian's binaryen is too old (its wasm-opt breaks the .wasm); npm's binaryen@132 works.
if [[ "$(wasm-opt --version 2>/dev/null)" != "wasm-opt version 132 "* ]]; then
  say "installing wasm-opt (npm binaryen@132) into .tools/"
  npm install --prefix "$tools" --no-audit --no-fund --silent binaryen@132
fi

if [[ "${1:-serve}" == "test" ]]; then
  apt_install() {
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
  }
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  # A software Vulkan driver (lavapipe) so that burn's native wgpu backend is tested too.
  dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  dpkg -s libvulkan1 >/dev/null 2>&1 || missing+=(libvulkan1)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} from Debian"
    apt_install "${missing[@]}"
  fi
  if [[ ! -x "$root/e2e/node_modules/.bin/playwright" ]]; then
    say "installing Playwright (npm; it uses Debian's Chromium, never a downloaded browser)"
    (cd "$root/e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
fi
