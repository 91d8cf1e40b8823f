#!/usr/bin/env bash
# Sets up a Debian 12 machine (apt-get), builds Ponder, and starts the app:
#   ./run.sh [MODEL.gguf]
# With PONDER_CLI=1 it starts a terminal chat instead (ponder-cli chat -m ...).
set -euo pipefail
cd "$(dirname "$0")"

./tests/install-packages.sh
build=${PONDER_BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null
if [ "${PONDER_CLI:-0}" = 1 ]; then
  exec "$build/cli/ponder-cli" chat "$@"
fi
# Run from the build tree: its compiled GSettings schema and translations.
export GSETTINGS_SCHEMA_DIR="$PWD/$build/data" PONDER_LOCALEDIR="$PWD/$build/po"
exec "$build/app/ponder" "$@"
