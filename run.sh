#!/usr/bin/env bash
# Sets up a Debian 12 machine (apt-get), builds Ponder, and starts a chat:
#   ./run.sh -m MODEL.gguf [more ponder-cli chat options]
set -euo pipefail
cd "$(dirname "$0")"

./tests/install-packages.sh
build=${PONDER_BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null
exec "$build/cli/ponder-cli" chat "$@"
