#!/usr/bin/env bash
# README command 1: installs what is missing, builds the site, and serves it on
# http://127.0.0.1:8080/ (offline: the demo model is part of the site).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/install.sh" serve
"$root/scripts/build-site.sh"
port="${PORT:-8080}"
say "tinyeval is at http://127.0.0.1:$port/ (Ctrl-C stops it)"
exec node "$root/e2e/serve.mjs" "$port" "$root/dist"
