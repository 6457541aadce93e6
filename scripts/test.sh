#!/usr/bin/env bash
# README command 2: installs what is missing and runs every test: the Rust tests
# (CPU and native wgpu on a software Vulkan driver), the wasm build, and the
# Playwright end-to-end tests in headless Chromium (WebGPU and CPU).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/install.sh" test
cd "$root"

# Each stage's wall time, and the total, so a slower suite shows where.
suite_start=$SECONDS
stage_start=$SECONDS
stage_name=""
stage() {
  [[ -n "$stage_name" ]] && say "$stage_name: $((SECONDS - stage_start)) s"
  stage_name="$1"
  stage_start=$SECONDS
  [[ -n "$1" ]] && say "$1"
  return 0
}

stage "Rust tests (release profile, shared with the CLI that the e2e tests call)"
cargo build --release -p tinyeval
TINYEVAL_TEST_WGPU=1 cargo test --release -p tinyeval-core -p tinyeval

stage "building the site (wasm)"
"$root/scripts/build-site.sh"

stage "end-to-end tests in headless Chromium"
cd "$root/e2e"
npx playwright test
stage ""
say "all tests: $((SECONDS - suite_start)) s (installs before them not counted)"
