#!/bin/sh
# What the benchmarks need beyond the build: perf, a CPython with DWARF
# debug info, and Node.js. Debian 12, as root.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
missing=
for p in linux-perf python3-dbg nodejs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
