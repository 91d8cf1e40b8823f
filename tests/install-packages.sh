#!/usr/bin/env bash
# Installs the Debian 12 packages of .ci/packages.txt that are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=""
for p in $(grep -v '^#' .ci/packages.txt); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -n "${missing// }" ] || exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing:$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
