#!/bin/sh
# Every view of `cprof report`, byte for byte, on profiles frozen in
# tests/data/: two cprof recorded (kernel and user frames, inline chains,
# lines, labels) and two Go's runtime/pprof wrote (cpu, and heap with four
# sample types). No kernel, no privileges: any user runs these.
#
# When a change to a view is intended, regenerate the expected outputs and
# read the diff before committing it:
#
#	make golden        (UPDATE_GOLDEN=1 meson test -C build golden)
#
# The cases: "NAME|ARGS" runs `cprof report ARGS` with each %s replaced by
# tests/data/; its output is compared with tests/data/golden/NAME.
. "$SRCDIR/lib.sh"
data=$SRCDIR/data
golden=$data/golden

cases() {
	cat <<'EOF'
cprof.top|--top %s/cprof.pb.gz
cprof.all-top|--top --nodefraction 0 -n 1000 %s/cprof.pb.gz
cprof.tree|--tree %s/cprof.pb.gz
cprof.traces|--traces %s/cprof.pb.gz
cprof.folded|--folded %s/cprof.pb.gz
cprof.perf-script|--perf-script --comm dd %s/cprof.pb.gz
cprof.flamegraph|--flamegraph %s/cprof.pb.gz
cprof.icicle|--flamegraph --icicle --title golden %s/cprof.pb.gz
cprof.callgrind|--callgrind %s/cprof.pb.gz
cprof.dot|--dot %s/cprof.pb.gz
cprof.lines-top|--top --lines %s/cprof.pb.gz
cprof.focus-folded|--folded --focus deflate %s/cprof.pb.gz
cprof.hide-tree|--tree --hide ^__libc_start %s/cprof.pb.gz
cprof.ignore-top|--top --ignore sort %s/cprof.pb.gz
cprof.comm-top|--top --comm nofp %s/cprof.pb.gz
cprof.nodecount-dot|--dot -n 8 %s/cprof.pb.gz
cprof.diff-top|--top --diff-base %s/cprof-base.pb.gz %s/cprof.pb.gz
cprof.diff-flamegraph|--flamegraph --diff-base %s/cprof-base.pb.gz %s/cprof.pb.gz
cprof.diff-folded|--folded --diff-base %s/cprof-base.pb.gz %s/cprof.pb.gz
go-cpu.top|--top %s/go-cpu.pb.gz
go-cpu.tree|--tree %s/go-cpu.pb.gz
go-cpu.traces|--traces %s/go-cpu.pb.gz
go-cpu.folded|--folded %s/go-cpu.pb.gz
go-cpu.perf-script|--perf-script %s/go-cpu.pb.gz
go-cpu.flamegraph|--flamegraph %s/go-cpu.pb.gz
go-cpu.callgrind|--callgrind %s/go-cpu.pb.gz
go-cpu.dot|--dot %s/go-cpu.pb.gz
go-cpu.samples-top|--top -i samples %s/go-cpu.pb.gz
go-heap.top|--top %s/go-heap.pb.gz
go-heap.alloc-space-top|--top -i alloc_space %s/go-heap.pb.gz
go-heap.inuse-objects-tree|--tree -i inuse_objects %s/go-heap.pb.gz
go-heap.folded|--folded -i alloc_objects %s/go-heap.pb.gz
go-heap.traces|--traces %s/go-heap.pb.gz
go-heap.callgrind|--callgrind %s/go-heap.pb.gz
go-heap.dot|--dot %s/go-heap.pb.gz
EOF
}

# Views need no privileges: as root, the cases run as nobody where nobody
# can reach cprof and the data (not under a 0700 home), to prove it.
# (Not when regenerating: nobody may not write the source tree.)
if [ "$(id -u)" = 0 ] && [ -z "${GOLDEN_AS_NOBODY:-}" ] && [ -z "${UPDATE_GOLDEN:-}" ] &&
	command -v setpriv >/dev/null &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		sh -c '[ -x "$1" ] && [ -r "$2/data/golden/cprof.top" ]' - "$CPROF" "$SRCDIR"; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
		sh -c 'export CPROF="$1" SRCDIR="$2" GOLDEN_AS_NOBODY=1 LC_ALL=C
		exec sh "$2/golden/test-golden.sh"' - "$CPROF" "$SRCDIR"
	exit
fi
[ -n "${GOLDEN_AS_NOBODY:-}" ] && echo "# running as $(id -un), no privileges"

# Views print paths as given: run from $data so they are the same anywhere.
cd "$data" || exit 1
cases | while IFS='|' read -r name args; do
	# shellcheck disable=SC2086 # the arguments are words by design
	set -- $(printf '%s\n' "$args" | sed 's|%s|.|g')
	"$CPROF" report "$@" >"$tmp/$name" 2>"$tmp/$name.err"
	status=$?
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$tmp/$name" "$golden/$name"
	fi
	if [ $status -ne 0 ]; then
		not_ok "$name: cprof report $* exited $status"
		diag "$tmp/$name.err"
	elif [ ! -f "$golden/$name" ]; then
		not_ok "$name: no expected output (make golden writes it)"
	elif cmp -s "$tmp/$name" "$golden/$name"; then
		ok "$name: cprof report $*"
	else
		not_ok "$name: cprof report $* differs from tests/data/golden/$name"
		diff -u "$golden/$name" "$tmp/$name" | head -n 30 | diag
	fi
done >"$tmp/tap"
cat "$tmp/tap"
tap_n=$(grep -c '^\(not \)\?ok' "$tmp/tap")
tap_failed=$(grep -c '^not ok' "$tmp/tap")
[ -z "$(cases | cut -d'|' -f1 | sort | uniq -d)" ] || not_ok "two cases share a name"
# Nothing in golden/ that no case writes: a renamed case leaves no stale file.
for f in "$golden"/*; do
	cases | cut -d'|' -f1 | grep -qx "$(basename "$f")" || not_ok "stale expected output $f"
done
echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
