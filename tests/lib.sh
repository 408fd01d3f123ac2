# Shared helpers for the shell tests: TAP output, a scratch directory, and
# the real consumers of cprof's files (go tool pprof).
# Sourced by tests/cli/*.sh and tests/live/*.sh; meson passes CPROF, HOT, SRCDIR.

set -u

tap_n=0
tap_failed=0
tmp=$(mktemp -d /tmp/cprof-test.XXXXXX)
# CPROF_TEST_KEEP=1 keeps it, for a look at what a failing test left.
if [ "${CPROF_TEST_KEEP:-}" = 1 ]; then
	echo "# scratch directory: $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
# cprof's cache (the kernel's symbols of this boot) starts empty in each script.
export CPROF_CACHE_DIR="$tmp/cache"

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Print a file as TAP comments, for the story behind a failure.
diag() {
	sed 's/^/# /' "$@"
}

# Whatever a test did, the profiles cprof recorded in $tmp hold no impossible
# stack: no frame outside an executable mapping, no run of frames repeated.
check_recorded_stacks() {
	[ -n "${PPROF_DUMP:-}" ] || return 0
	# Every file, whatever its name (caches aside): pprof-dump picks cprof's profiles.
	find "$tmp" \( -path "$tmp/gocache" -o -path "$tmp/cache" \) -prune -o \
		-type f -size -65536k -exec "$PPROF_DUMP" --check-stacks {} + >"$tmp/stacks.out"
	if [ $? -eq 0 ]; then
		ok "no impossible stack in the recorded profiles ($(tail -n 1 "$tmp/stacks.out"))"
	else
		not_ok "impossible stacks in the recorded profiles"
		head -n 20 "$tmp/stacks.out" | diag
	fi
}

done_testing() {
	check_recorded_stacks
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# A skip is allowed on a developer's machine, never under CI (CI=true).
skip_all() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - cannot run: $* (a skip is a failure under CI)"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# Skip (or fail under CI) unless this machine lets us call perf_event_open.
require_perf() {
	if ! "$CPROF" -q record -F 99 -o "$tmp/probe.pb.gz" -- true 2>"$tmp/probe.err"; then
		skip_all "perf_event_open is not allowed here: $(head -n 1 "$tmp/probe.err")"
	fi
}

# start_hot: run the workload until killed; sets hot_pid once it is working.
start_hot() {
	rm -f "$tmp/ready"
	mkfifo "$tmp/ready"
	"$HOT" -r 3 3>"$tmp/ready" &
	hot_pid=$!
	read -r _ <"$tmp/ready"
}

# start_record ERRFILE [WRAPPER...] -- ARGS...: run WRAPPER cprof -v ARGS in the
# background and return once it is recording; its stderr goes to ERRFILE, its
# pid to $rec.
start_record() {
	err=$1
	shift
	wrapper=
	while [ "$1" != -- ]; do
		wrapper="$wrapper $1"
		shift
	done
	shift
	rm -f "$tmp/started"
	mkfifo "$tmp/started"
	# shellcheck disable=SC2086
	$wrapper "$CPROF" -v "$@" 2>"$tmp/started" &
	rec=$!
	follow_fifo "$tmp/started" "recording" "$err"
}

# follow_fifo FIFO TEXT FILE: copy what is written into FIFO to FILE, in the
# background to its end, and return once a line with TEXT has been copied
# (or the writer closed it first). One reader from first to last: a first
# reader gone before a second opens the FIFO left cprof's next line no
# reader, and SIGPIPE killed it (a clean clone's trust test, in both builds,
# when Ctrl-C came at once). FILE is made at once: a caller may read it
# before the copy writes (an ASan run's periodic test did, and counted nothing).
follow_fifo() {
	rm -f "$tmp/followed"
	mkfifo "$tmp/followed"
	: >"$3"
	tee -a "$3" <"$1" | { grep -q -m1 "$2"; echo >"$tmp/followed"; cat >/dev/null; } &
	read -r _ <"$tmp/followed"
}

# help_options CMD: the options cprof CMD --help lists (cprof's own without
# CMD), one a line, sorted: the names in the first 28 columns of its option lines.
help_options() {
	"$CPROF" ${1:+"$1"} --help | awk '/^ +-/ { s = substr($0, 1, 28); n = split(s, t, /[ ,]+/)
		for (i = 1; i <= n; i++) if (t[i] ~ /^--?[a-zA-Z][a-zA-Z-]*(\[?=.*)?$/) {
			sub(/[=[].*/, "", t[i]); print t[i] } }' | sort -u
}

# go tool pprof, with a Go cache of its own so it runs anywhere.
pprof() {
	HOME=$tmp GOCACHE=$tmp/gocache GOFLAGS= go tool pprof "$@" 2>"$tmp/pprof.err"
}

# go_build OUT SOURCE [FLAGS...]: build tests/go/SOURCE with Debian's Go, offline, caches in $tmp.
go_build() {
	out=$1
	src=$2
	shift 2
	(cd "$SRCDIR/go" && HOME=$tmp GOCACHE=$tmp/gocache GO111MODULE=off GOFLAGS= \
		go build "$@" -o "$out" "$src")
}

require_go() {
	command -v go >/dev/null 2>&1 || skip_all "go (Debian's golang-go) is not installed"
}

# The flat% of function NAME in a pprof -top table on stdin, without the '%'.
flat_pct() {
	awk -v name="$1" '$6 == name && NF == 6 { sub(/%/, "", $2); print $2; exit }'
}

# within VALUE LOW HIGH: LOW <= VALUE <= HIGH (decimals allowed).
within() {
	[ -n "$1" ] && awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}

# both_within A LO HI B LO HI: A and B each in its range.
both_within() {
	within "$1" "$2" "$3" && within "$4" "$5" "$6"
}

# The rows of a -top table (everything after its column header).
top_rows() {
	sed -n '/flat  flat%/,$p' | tail -n +2
}

# A pid that no process has now.
unused_pid() {
	p=4000000
	while [ -e "/proc/$p" ]; do p=$((p + 1)); done
	echo "$p"
}

# traces_without NAME: how many stacks in go tool pprof -traces output (stdin) lack a frame NAME.
traces_without() {
	awk -v name="$1" '
		/^-----------\+/ { if (lines && !found) n++; inblock = 1; found = 0; lines = 0; next }
		inblock && NF { lines++ }
		inblock && $NF == name { found = 1 }
		END { if (lines && !found) n++; print n + 0 }'
}

# cum_pct NAME: the cum% of function NAME in a pprof -top table on stdin, without the '%'.
cum_pct() {
	awk -v name="$1" '$6 == name && NF == 6 { sub(/%/, "", $5); print $5; exit }'
}
