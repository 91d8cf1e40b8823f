#!/bin/sh
# Runs test_atspi.py in a private D-Bus session (which starts the
# accessibility bus on demand) under Xvfb, with throwaway XDG folders and
# the scripted model.
# Usage: run-atspi-test.sh A11Y-APP
set -eu

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

/usr/bin/python3 "$PONDER_SOURCE_ROOT/tests/gen_model.py" scripted --out "$tmp/scripted.gguf" >/dev/null
export PONDER_SCRIPTED_MODEL="$tmp/scripted.gguf"
export GSK_RENDERER=cairo GSETTINGS_BACKEND=memory
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset NO_AT_BRIDGE GTK_A11Y

exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x1024x24" \
  /usr/bin/python3 "$PONDER_SOURCE_ROOT/tests/test_atspi.py" "$@"
