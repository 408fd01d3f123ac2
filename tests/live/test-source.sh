#!/bin/sh
# Source and assembly views against go tool pprof on the same profiles:
# --list's per-line flat and cum against pprof -list (cprof's profiles of C
# workloads, one with an inlined function, and Go's own CPU profile of a Go
# program), --disasm's per-address values against pprof -disasm, a missing
# source said in one line, --trim-path and --source-path; --weblist's page
# rendered by headless Chromium from a file.
. "$SRCDIR/lib.sh"
require_perf
require_go
wl=$SRCDIR/workloads

"$CPROF" -q record -o "$tmp/hot.pb.gz" -- "$HOT" 1
"$CPROF" -q record -o "$tmp/inline.pb.gz" -- "$INLINE" 1
check "recorded the workloads" [ -s "$tmp/hot.pb.gz" -a -s "$tmp/inline.pb.gz" ]

# listing_values: a listing's ROUTINE headers and every line or address with
# a value, as "routine key flat cum": what must agree between the two tools.
listing_values() {
	awk '/^ROUTINE =+ / { r = $3; next }
		/^ +[^ ]+ +[^ ]+ \(flat, cum\)/ { print r, "total", $1, $2; next }
		/^ +[^ ]+ +[^ ]+ +[0-9a-f]+:/ { if ($1 != "." || $2 != ".") { k = $3; sub(/:.*/, "", k); print r, k, $1, $2 } }'
}

# same NAME CPROF-OUTPUT PPROF-OUTPUT: both list the same values, and some.
same() {
	listing_values <"$2" | sort >"$2.v"
	listing_values <"$3" | sort >"$3.v"
	if [ -s "$2.v" ] && cmp -s "$2.v" "$3.v"; then
		ok "$1 ($(wc -l <"$2.v") lines with values)"
	else
		not_ok "$1"
		diff "$3.v" "$2.v" | head -20 | diag
	fi
}

# 1. --list against pprof -list.
for case in "hot.pb.gz hot_" "hot.pb.gz ^work$" "inline.pb.gz caller_" "inline.pb.gz ^mix$"; do
	set -- $case
	"$CPROF" report --list "$2" --source-path "$wl" "$tmp/$1" >"$tmp/c.list" 2>"$tmp/c.err"
	pprof -list "$2" -source_path "$wl" "$tmp/$1" >"$tmp/p.list"
	same "--list '$2' on $1: the same flat and cum per line as pprof -list" "$tmp/c.list" "$tmp/p.list"
done
"$CPROF" report --list hot_a --source-path "$wl" "$tmp/hot.pb.gz" >"$tmp/c.list"
check "--list shows the source text of hot_a's lines" grep -q ':FRAME void hot_a(void)$' "$tmp/c.list"
# The inlined mix shows under caller_a at the line of the call, its own lines under its name.
line=$(grep -n 'LINE:caller_a' "$wl/inline.c" | cut -d: -f1)
"$CPROF" report --list '^caller_a$' --source-path "$wl" "$tmp/inline.pb.gz" >"$tmp/c.list"
check "an inlined call's cost shows at the caller's line ($line)" \
	sh -c "grep -Eq '^ +[^ ]+ +[0-9.]+[mun]?s +$line:' '$tmp/c.list'"

# 2. A source that is not there: one line, and the values all the same. (cprof's
# profiles name sources by their whole path; trimmed, the name is looked for
# on the search path only.)
"$CPROF" report --list hot_a --source-path "$wl" "$tmp/hot.pb.gz" >"$tmp/found"
file=$(sed -n 's/^ROUTINE =* hot_a in //p' "$tmp/found" | head -1)
check "cprof's profile names the source by its whole path ($file)" sh -c "[ '$file' = \"\$(realpath '$wl/hot.c')\" ]"
"$CPROF" report --list hot_a --trim-path "$(dirname "$file")" --source-path /nonexistent \
	"$tmp/hot.pb.gz" >"$tmp/missing" 2>"$tmp/missing.err"
code=$?
check "a missing source is not an error (exit $code)" [ "$code" -eq 0 ]
check "it is said in one line" sh -c "[ \$(grep -c 'source not found' '$tmp/missing') -eq 1 ] && [ ! -s '$tmp/missing.err' ]"
listing_values <"$tmp/missing" >"$tmp/m.v"
listing_values <"$tmp/found" >"$tmp/f.v"
check "and the lines with values are listed all the same" sh -c "[ -s '$tmp/m.v' ] && cmp -s '$tmp/m.v' '$tmp/f.v'"

# 3. --trim-path: the profile's directory swapped for another copy of the source.
mkdir -p "$tmp/elsewhere"
sed 's/FRAME void hot_a(void)/FRAME void hot_a(void) \/\* the copy \*\//' "$wl/hot.c" >"$tmp/elsewhere/hot.c"
"$CPROF" report --list hot_a --trim-path "$(dirname "$file")" --source-path "$tmp/elsewhere" \
	"$tmp/hot.pb.gz" >"$tmp/trim"
check "--trim-path and --source-path find the copy ($file)" grep -q 'the copy' "$tmp/trim"

# 3b. A source that is only on a debuginfod server: the workloads' folder is
# hidden under an empty tmpfs in a private mount namespace where cprof runs;
# the server, outside it, still reads the file its index names.
if command -v debuginfod >/dev/null && command -v unshare >/dev/null; then
	mkdir -p "$tmp/srv" "$tmp/dcache"
	cp "$INLINE" "$tmp/srv/"
	id=$(readelf -n "$INLINE" | awk '/Build ID/ { print $3 }')
	port=$((20000 + ($$ + 7) % 20000))
	debuginfod -F "$tmp/srv" -p "$port" -d "$tmp/debuginfod.sqlite" -t 0 -g 0 >"$tmp/debuginfod.log" 2>&1 &
	dpid=$!
	url="http://127.0.0.1:$port"
	# Until it has indexed the binary (the client remembers a miss: a fresh cache each try).
	tries=0
	until rm -rf "$tmp/dcache"/* && DEBUGINFOD_CACHE_PATH="$tmp/dcache" DEBUGINFOD_URLS=$url \
		debuginfod-find source "$id" "$wl/inline.c" >/dev/null 2>&1; do
		tries=$((tries + 1))
		[ "$tries" -gt 100 ] && break
		sleep 0.2
	done
	rm -rf "$tmp/dcache"/*
	DEBUGINFOD_CACHE_PATH="$tmp/dcache" DEBUGINFOD_URLS=$url unshare -m --propagation private \
		sh -c 'mount -t tmpfs none "$1" && "$2" report --list "^caller_a$" --source-path /nonexistent "$3"' \
		sh "$wl" "$CPROF" "$tmp/inline.pb.gz" >"$tmp/dbgd.list" 2>"$tmp/dbgd.err"
	check "with the source hidden, debuginfod's source lookup finds it (DEBUGINFOD_URLS)" \
		grep -q 'LINE:caller_a' "$tmp/dbgd.list"
	check "and it came from the server, into the client's cache" \
		sh -c "find '$tmp/dcache' -name 'source*inline.c' | grep -q ."
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
elif [ "${CI:-}" = true ]; then
	not_ok "debuginfod and unshare are needed (setup.sh test installs them)"
fi

# 4. Go's own profile of a Go program, its source beside it.
if go_build "$tmp/cpuprof" cpuprof.go 2>"$tmp/build.err" && "$tmp/cpuprof" "$tmp/go.pprof" "$tmp/go.heap"; then
	"$CPROF" report --list 'main\.' --source-path "$SRCDIR/go" "$tmp/go.pprof" >"$tmp/c.list"
	pprof -list 'main\.' -source_path "$SRCDIR/go" "$tmp/go.pprof" >"$tmp/p.list"
	same "--list on Go's CPU profile: the same per line as pprof -list" "$tmp/c.list" "$tmp/p.list"
else
	not_ok "build and run the Go program"
	diag "$tmp/build.err"
fi

# 5. --disasm: the values at each address as pprof's per-address table has them.
# (Debian 12's pprof cannot disassemble these binaries itself: it reads no build
# id from them, "build-id mismatch", and finds no symbols.) pprof prints the
# profile's addresses, --disasm the binary's own: they differ by the mapping's
# bias, from pprof -raw's mapping and the binary's program headers.
"$CPROF" report --disasm '^hot_[ab]$' "$tmp/hot.pb.gz" >"$tmp/c.asm" 2>"$tmp/c.asm.err"
check "--disasm exits 0" [ $? -eq 0 ]
set -- $(pprof -raw "$tmp/hot.pb.gz" | awk -v f="$HOT" '$3 == f { split($2, a, "/"); print a[1], a[3]; exit }')
start=${1:-0} offset=${2:-0} vaddr=
readelf -lW "$HOT" | awk '$1 == "LOAD" { print $2, $3 }' >"$tmp/loads"
while read -r o v; do
	[ $((o)) -eq $((offset)) ] && vaddr=$v
done <"$tmp/loads"
bias=$((start - ${vaddr:-0}))
# ns VALUE: pprof's "700.70ms" in nanoseconds, for a comparison that units cannot upset.
to_ns='function ns(v) { u = v; sub(/^[0-9.]+/, "", u); n = v + 0
	return u == "s" ? n * 1e9 : u == "ms" ? n * 1e6 : u == "us" ? n * 1e3 : n }'
awk "$to_ns"' /^ +[^ ]+ +[^ ]+ +[0-9a-f]+:/ && ($1 != "." || $2 != ".") {
	a = $3; sub(/:$/, "", a); printf "%s %.0f %.0f\n", a, ns($1 == "." ? 0 : $1), ns($2 == "." ? 0 : $2) }' \
	"$tmp/c.asm" | sort >"$tmp/c.addr"
pprof -top -addresses -noinlines -nodecount=0 -nodefraction=0 -focus='^hot_[ab]$' "$tmp/hot.pb.gz" |
	awk "$to_ns"' $6 ~ /^[0-9a-f]+$/ && ($7 == "hot_a" || $7 == "hot_b") { print $6, ns($1), ns($4) }' |
	while read -r addr flat cum; do
		printf '%x %.0f %.0f\n' $((0x$addr - bias)) "$flat" "$cum"
	done | sort >"$tmp/p.addr"
if [ -s "$tmp/c.addr" ] && cmp -s "$tmp/c.addr" "$tmp/p.addr"; then
	ok "--disasm: the same flat and cum per address as pprof -top -addresses ($(wc -l <"$tmp/c.addr"))"
else
	not_ok "--disasm and pprof -top -addresses differ (bias $bias)"
	diff "$tmp/p.addr" "$tmp/c.addr" | head -20 | diag
fi
check "with the instructions objdump gives (a ret)" grep -Eq '^ +[^ ]+ +[^ ]+ +[0-9a-f]+: ret' "$tmp/c.asm"
check "and the source lines beside them" grep -q ';hot_a .*hot.c:[0-9]' "$tmp/c.asm"
"$CPROF" report --disasm '^no_such_function$' "$tmp/hot.pb.gz" 2>"$tmp/nomatch.err"
code=$?
check "nothing matching: exit 1 and one line ($code)" \
	sh -c "[ $code -eq 1 ] && [ \$(wc -l <'$tmp/nomatch.err') -eq 1 ] && grep -q 'no function' '$tmp/nomatch.err'"

# 6. --weblist: one page, offline, that a browser renders.
"$CPROF" report --weblist="$tmp/w.html" 'hot_' --source-path "$wl" "$tmp/hot.pb.gz"
check "--weblist writes the page" [ -s "$tmp/w.html" ]
check "it needs no network: no external references" sh -c "! grep -Eq '(href|src)=\"(https?:)?//' '$tmp/w.html'"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/chromium" \
		--virtual-time-budget=3000 --dump-dom "file://$tmp/w.html" >"$tmp/w.dom" 2>/dev/null
	check "Chromium renders it: hot_a's heading" grep -q '<h2>hot_a <span class="file">' "$tmp/w.dom"
	check "its hottest line heat-coloured" grep -q 'style="background:rgba(255,64,0,0.68)"' "$tmp/w.dom"
	check "with its source text" grep -q 'FRAME void hot_a(void)' "$tmp/w.dom"
	check "lines open into their instructions" \
		sh -c "grep -q '<details><summary' '$tmp/w.dom' && grep -q '<div class=\"asm\"><div class=\"row\"><span class=\"a\">' '$tmp/w.dom'"
elif [ "${CI:-}" = true ]; then
	not_ok "the weblist test needs chromium (no skips under CI)"
else
	ok "# SKIP the weblist test needs chromium"
fi
done_testing
