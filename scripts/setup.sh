#!/bin/sh
# Install what cprof needs on Debian 12, as root; only what is missing, so
# it is cheap to run again.
#	scripts/setup.sh	what building and `make demo` need
#	scripts/setup.sh test	that, and everything the test suite uses
set -eu

# Build: meson, a C compiler, elfutils, protobuf-c, zlib, libiberty (demangling),
# libmicrohttpd (cprof serve), scdoc (the man pages).
packages="meson ninja-build pkg-config gcc libc6-dev make
libdw-dev libelf-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libiberty-dev
libmicrohttpd-dev scdoc"
# Tests: go tool pprof (golang-go), g++ and binutils for workloads, debuginfod,
# util-linux (unshare, setpriv), Node.js for the JIT test, the consumers
# of the report views: callgrind_annotate (valgrind), dot (graphviz), a
# headless browser (chromium) and python3's XML parser; perf, the reference
# names are compared with, libc's debug files (ld.so's and libc's
# internal functions have names only there), curl, serve's other client, and
# for snapshot's: eu-stack (elfutils) to compare stacks with, strace as the
# other tracer, gdb as the bench's third; tmux, the terminal cprof top is tested
# in; zsh for its completion; man-db, to show the installed man pages.
if [ "${1:-}" = test ]; then
	packages="$packages g++ binutils golang-go util-linux debuginfod libdebuginfod1
valgrind graphviz chromium python3 xz-utils linux-perf libc6-dbg curl elfutils strace gdb
tmux zsh man-db"
fi

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# Any node will do (the machine image may bring its own); else Debian's.
if [ "${1:-}" = test ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages:$missing; run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
