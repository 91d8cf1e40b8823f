#!/bin/sh
# Runs one UI test program under a private X server with throwaway XDG
# folders and the scripted model, so a plain `meson test` works headless.
# Usage: run-ui-test.sh PROGRAM [ARGS...]
set -eu

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

/usr/bin/python3 "$PONDER_SOURCE_ROOT/tests/gen_model.py" scripted --out "$tmp/scripted.gguf" >/dev/null

export PONDER_SCRIPTED_MODEL="$tmp/scripted.gguf"
export GSK_RENDERER=cairo GTK_A11Y=none GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

xvfb-run -a -s "-screen 0 1280x1024x24" "$@"
