#!/usr/bin/env bash
# Sets up a Debian 12 machine (apt-get, as root or through sudo), builds Ponder
# and runs every test suite, the slow one included. Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

./tests/install-packages.sh

build=${PONDER_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build"
fi
meson compile -C "$build"

status=0
rm -f "$build/meson-logs/testlog-full.json"
meson test -C "$build" --setup full --print-errorlogs --num-processes 2 || status=$?

/usr/bin/python3 - "$build/meson-logs/testlog-full.json" <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
