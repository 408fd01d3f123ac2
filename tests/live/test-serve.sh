#!/bin/sh
# cprof serve: Go's net/http/pprof handlers for the host, checked with the
# clients people use (go tool pprof, curl). The server listens on
# 127.0.0.1 only, on a free port; every request is bounded in time. The
# whole server runs in a private mount namespace with tracefs mounted, for
# the kinds that read tracepoints.
. "$SRCDIR/lib.sh"
require_perf
require_go
command -v curl >/dev/null || skip_all "curl is missing (scripts/setup.sh test installs it)"

# get PATH [CURL ARGS...]: GET the server's PATH; headers to $tmp/h, body to $tmp/b, status printed.
get() {
	p=$1
	shift
	curl -sS --max-time 30 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@" "$base$p"
}

# get_root PATH: as get, for a path outside the prefix (/metrics).
get_root() {
	curl -sS --max-time 30 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "http://127.0.0.1:$port$1"
}

# wait_log TEXT: until the server's -v log has TEXT (at most 20 s).
wait_log() {
	i=0
	while ! grep -q "$1" "$tmp/serve.err" && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q "$1" "$tmp/serve.err"
}

mkfifo "$tmp/serving"
# Under AddressSanitizer, no quarantine: freed memory is reused at once, as
# without it, so the resident-memory check below means the same in both builds.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" unshare -m --propagation private sh -c '
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	exec "$0" -v serve --listen 127.0.0.1:0 --prefix /custom/pprof/ --max-seconds 20 -F 499' "$CPROF" \
	2>"$tmp/serving" &
srv=$!
follow_fifo "$tmp/serving" "serving" "$tmp/serve.err"
line=$(grep -m1 "serving" "$tmp/serve.err")
port=$(echo "$line" | sed -n 's|.*http://127.0.0.1:\([0-9]*\)/custom/pprof/.*|\1|p')
check "serve prints where it listens (${port:-?})" [ -n "$port" ]
# A custom prefix (given with a trailing slash): every check below goes through it.
base="http://127.0.0.1:$port/custom/pprof"

start_hot

# 1. go tool pprof fetches a CPU profile of one process, as from a Go program.
pprof -raw "$base/profile?seconds=1&pid=$hot_pid" >"$tmp/raw"
check "go tool pprof reads /profile?seconds=1&pid= (a cpu profile)" \
	grep -q "samples/count cpu/nanoseconds" "$tmp/raw"
pprof -top "$base/profile?seconds=1&pid=$hot_pid" >"$tmp/top"
a=$(flat_pct hot_a <"$tmp/top")
check "and it is the process asked for: hot_a ${a:-?} %" within "${a:-0}" 55 85

# 2. Go's headers.
code=$(get "/profile?seconds=1&comm=hot")
check "comm= narrows to processes by name: 200" [ "$code" = 200 ]
check "Content-Type: application/octet-stream" grep -qi '^Content-Type: application/octet-stream' "$tmp/h"
check "Content-Disposition: attachment; filename=\"profile\"" \
	grep -qi '^Content-Disposition: attachment; filename="profile"' "$tmp/h"
check "X-Content-Type-Options: nosniff" grep -qi '^X-Content-Type-Options: nosniff' "$tmp/h"
check "the body is gzip'd pprof" sh -c "head -c 2 '$tmp/b' | od -An -tx1 | grep -q '1f 8b'"

# 3. Errors as Go's: plain text, X-Go-Pprof, the status that fits.
code=$(get "/profile?seconds=abc")
check "a bad seconds is 400 ($code)" [ "$code" = 400 ]
check "marked X-Go-Pprof: 1, text/plain" \
	sh -c "grep -qi '^X-Go-Pprof: 1' '$tmp/h' && grep -qi '^Content-Type: text/plain' '$tmp/h'"
check "with one line that says why" sh -c "[ \$(wc -l <'$tmp/b') -eq 1 ] && grep -q 'seconds' '$tmp/b'"
code=$(get "/profile?seconds=21")
check "seconds above --max-seconds is 400 ($code)" [ "$code" = 400 ]
code=$(get "/profile?seconds=1&pid=$(unused_pid)")
check "a pid that does not exist is 400 ($code)" [ "$code" = 400 ]
code=$(get "/profile?seconds=1&comm=no-such-comm")
check "a comm no process has is 400 ($code)" [ "$code" = 400 ]
code=$(get "/heapx")
check "an unknown profile is 404 ($code)" [ "$code" = 404 ]

# 3b. /threads and Go's /goroutine: every thread's stack now (cprof snapshot).
n=$(ls /proc/"$hot_pid"/task | wc -l)
pprof -top "$base/goroutine?pid=$hot_pid" >"$tmp/goroutine"
check "go tool pprof reads /goroutine?pid= (threads/count)" grep -q "^Type: threads$" "$tmp/goroutine"
check "every thread of the process, once ($n)" \
	grep -q "^Showing nodes accounting for $n, 100% of $n total$" "$tmp/goroutine"
code=$(get "/threads?debug=1&pid=$hot_pid")
check "/threads?debug=1: 200 and Go's goroutine text ($code)" \
	sh -c "[ '$code' = 200 ] && grep -q '^threads profile: total $n\$' '$tmp/b'"
check "with the workload's own frames" grep -q "	main+0x" "$tmp/b"
code=$(get "/threads?debug=2&pid=$hot_pid")
got=$(grep -c '^thread [0-9]* "hot" \[[A-Za-z]' "$tmp/b")
check "/threads?debug=2: every thread with its state ($code, $got of $n)" \
	sh -c "[ '$code' = 200 ] && [ '$got' -eq $n ]"
grep '^thread ' "$tmp/b" | sed 's/^/# /'
code=$(get "/threads?comm=hot")
check "/threads?comm= too ($code)" [ "$code" = 200 ]
check "the process is left running, not traced" \
	grep -q "^TracerPid:	0$" /proc/"$hot_pid"/status
code=$(get "/threads?pid=$(unused_pid)")
check "/threads of a pid that does not exist is 400 ($code)" [ "$code" = 400 ]
code=$(get "/threads?debug=x")
check "a bad debug is 400 ($code)" [ "$code" = 400 ]

# 4. One collection per kind: a second one is refused at once with 500.
curl -sS --max-time 30 -o "$tmp/long.pb.gz" "$base/profile?seconds=3&pid=$hot_pid" &
first=$!
wait_log "collecting cpu for 3 s"
code=$(get "/profile?seconds=1&pid=$hot_pid")
check "a second cpu profile meanwhile is 500 ($code)" [ "$code" = 500 ]
check "saying one is being collected" grep -q "already being collected" "$tmp/b"
wait "$first"
pprof -top "$tmp/long.pb.gz" >"$tmp/long.top"
check "and the first completes" grep -q hot_a "$tmp/long.top"

# 5. A client that goes away stops its collection.
curl -sS --max-time 1 -o /dev/null "$base/profile?seconds=20&pid=$hot_pid" 2>/dev/null
check "a client gone after 1 s of 20 stops the collection" wait_log "went away"

# 6. The other kinds, through tracepoints.
pprof -raw "$base/offcpu?seconds=1&pid=$hot_pid" >"$tmp/off"
check "/offcpu: switches/count offcpu/nanoseconds" \
	grep -q "switches/count offcpu/nanoseconds" "$tmp/off"
pprof -raw "$base/block?seconds=1&pid=$hot_pid" >"$tmp/blk"
check "/block is offcpu under Go's name" grep -q "offcpu/nanoseconds" "$tmp/blk"

# 6b. go tool pprof pulls every other endpoint too, under the custom prefix.
for ep in wall mutex threadcreate; do
	pprof -raw "$base/$ep?seconds=1&pid=$hot_pid" >"$tmp/$ep.raw"
	check "go tool pprof pulls /custom/pprof/$ep" grep -q "^PeriodType: " "$tmp/$ep.raw"
done
for ep in threads goroutine; do
	pprof -raw "$base/$ep?pid=$hot_pid" >"$tmp/$ep.raw"
	check "go tool pprof pulls /custom/pprof/$ep" grep -q "^PeriodType: threads count" "$tmp/$ep.raw"
done
# 6c. /heap and /allocs: one process's allocations (--kind alloc), attached
# to a service started with cprof's preload library (its hooks, its rate).
if [ -x "$MAPS" ]; then
	LD_PRELOAD=$(dirname "$CPROF")/../preload/libcprof-alloc.so CPROF_ALLOC_RATE=65536 \
		"$MAPS" 100000 >/dev/null &
	maps_pid=$!
	# Asked before its exec had mapped the library, /heap found no hooks to
	# attach to (an ASan run's did): until the library is in its maps, 10 s at most.
	i=0
	while ! grep -q libcprof-alloc "/proc/$maps_pid/maps" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	pprof -raw "$base/heap?seconds=1&pid=$maps_pid" >"$tmp/heap.raw"
	check "go tool pprof pulls /heap: Go's four heap sample types" grep -q \
		"alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes" \
		"$tmp/heap.raw"
	pprof -top "$base/allocs?seconds=1&pid=$maps_pid" >"$tmp/allocs.top"
	check "/allocs is the same profile shown as alloc_space" grep -q "^Type: alloc_space" \
		"$tmp/allocs.top"
	check "and its threads' allocations are under build_map" grep -q "build_map" "$tmp/allocs.top"
	kill "$maps_pid"
	wait "$maps_pid" 2>/dev/null
	code=$(get "/heap?seconds=1")
	check "/heap without pid= is a bad request ($code)" [ "$code" = 400 ]
else
	ok "# SKIP no C++ compiler for the heap workload"
fi
code=$(get_root "/debug/pprof/profile?seconds=1")
check "the default prefix is not served when another is given ($code)" [ "$code" = 404 ]

# 7. The index and cmdline.
code=$(get "/")
check "the index page is HTML ($code)" \
	sh -c "[ '$code' = 200 ] && grep -qi '^Content-Type: text/html' '$tmp/h'"
check "listing each profile with a link" \
	sh -c "grep -q \"href='profile?seconds=30'\" '$tmp/b' && grep -q \"href='offcpu\" '$tmp/b'"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/chromium" \
		--dump-dom "$base/" >"$tmp/index.dom" 2>/dev/null
	n=$(grep -o '<a href="[a-z]*?[a-z]*=[0-9]*">' "$tmp/index.dom" | wc -l)
	check "headless Chromium renders the index with a link to each profile ($n)" [ "$n" -ge 8 ]
	check "and the descriptions" grep -q 'class="profile-name"' "$tmp/index.dom"
elif [ "${CI:-}" = true ]; then
	not_ok "the index page test needs chromium (no skips under CI)"
fi
get "/cmdline" >/dev/null
check "/cmdline is cprof's own, NUL-separated" \
	sh -c "tr '\\000' ' ' <'$tmp/b' | grep -q 'cprof -v serve --listen 127.0.0.1:0'"
get "/cmdline?pid=$hot_pid" >/dev/null
check "/cmdline?pid= is that process's" sh -c "tr '\\000' ' ' <'$tmp/b' | grep -q 'hot -r 3'"

# 7b. /metrics: cprof's own cost and counters, Prometheus' text format.
code=$(get_root "/metrics")
check "/metrics: 200 in Prometheus' text format ($code)" \
	sh -c "[ '$code' = 200 ] && grep -qi '^Content-Type: text/plain; version=0.0.4' '$tmp/h'"
check "every line a comment or 'name{labels} value'" \
	awk '!/^# (HELP|TYPE) / && !/^[a-z_]+(\{[a-z]+="[a-z]+"(,[a-z]+="[a-z]+")*\})? [0-9.e+-]+$/ { bad = 1 }
		END { exit bad }' "$tmp/b"
for m in cprof_cpu_seconds_total cprof_resident_bytes cprof_peak_resident_bytes \
	cprof_samples_total cprof_lost_records_total cprof_unwind_median_seconds cprof_cache_bytes; do
	check "has $m" grep -q "^$m [0-9]" "$tmp/b"
done
check "samples counted" grep -Eq '^cprof_samples_total [1-9]' "$tmp/b"
check "profiles served counted" \
	grep -Eq '^cprof_collections_total\{profile="profile",outcome="served"\} [1-9]' "$tmp/b"
check "and refused ones (the 500 and 400s)" \
	grep -Eq '^cprof_collections_total\{profile="profile",outcome="refused"\} [1-9]' "$tmp/b"
before=$(sed -n 's/^cprof_collections_total{profile="threads",outcome="served"} //p' "$tmp/b")
get "/threads?pid=$hot_pid" >/dev/null
get_root "/metrics" >/dev/null
after=$(sed -n 's/^cprof_collections_total{profile="threads",outcome="served"} //p' "$tmp/b")
check "a /threads served counts once ($before -> $after)" [ "$after" -eq $((before + 1)) ]

# 7c. 100 collections in a row: the server's memory stays flat.
rss() {
	get_root "/metrics" >/dev/null
	sed -n 's/^cprof_resident_bytes //p' "$tmp/b"
}
i=0
while [ $i -lt 10 ]; do get "/threads?pid=$hot_pid" >/dev/null; i=$((i + 1)); done
r10=$(rss)
while [ $i -lt 100 ]; do get "/threads?pid=$hot_pid" >/dev/null; i=$((i + 1)); done
r100=$(rss)
check "100 collections in a row: resident memory after 100 within 10 % of after 10 ($r10 -> $r100)" \
	awk -v a="$r10" -v b="$r100" 'BEGIN { exit !(a > 0 && b <= a * 1.10) }'

kill "$hot_pid"
wait "$hot_pid" 2>/dev/null

# 7d. --token-file: every request needs the bearer token.
printf 'f00dfeedcafe0123456789abcdef\n' >"$tmp/token"
chmod 600 "$tmp/token"
mkfifo "$tmp/tserving"
"$CPROF" serve --listen 127.0.0.1:0 --token-file "$tmp/token" 2>"$tmp/tserving" &
tsrv=$!
follow_fifo "$tmp/tserving" serving "$tmp/tserve.err"
tport=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/tserve.err" | head -1)
tbase="http://127.0.0.1:$tport/debug/pprof"
code=$(curl -sS --max-time 10 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$tbase/cmdline")
check "--token-file: no token is 401 ($code)" [ "$code" = 401 ]
check "with WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' "$tmp/h"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer f00dfeedcafe0123456789abcdeX' "$tbase/cmdline")
check "a wrong token is 401 ($code)" [ "$code" = 401 ]
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer f00dfeedcafe0123456789abcdef' "$tbase/cmdline")
check "the right one is served ($code)" [ "$code" = 200 ]
kill -TERM "$tsrv"
wait "$tsrv"
chmod 644 "$tmp/token"
"$CPROF" serve --listen 127.0.0.1:0 --token-file "$tmp/token" 2>"$tmp/tokmode"
status=$?
check "a token file others may read is refused, exit 1, one line" \
	sh -c "[ $status -eq 1 ] && [ \$(wc -l <'$tmp/tokmode') -eq 1 ] && grep -q 'readable by others' '$tmp/tokmode'"

# contrib/cprof-serve.service's command line starts a server (on a free port here).
args=$(sed -n 's|^ExecStart=/usr/local/bin/cprof ||p' "$SRCDIR/../contrib/cprof-serve.service" |
	sed 's/127.0.0.1:6060/127.0.0.1:0/')
mkfifo "$tmp/userving"
# shellcheck disable=SC2086
"$CPROF" $args 2>"$tmp/userving" &
usrv=$!
check "the systemd unit's ExecStart serves (cprof $args)" grep -q -m1 "serving http://127.0.0.1:" "$tmp/userving"
kill -TERM "$usrv"
wait "$usrv"

# A port in use: one line that names the fix, exit 1.
"$CPROF" serve --listen "127.0.0.1:$port" 2>"$tmp/inuse"
check "a second server on the same port fails with exit 1" [ $? -eq 1 ]
check "in one line naming --listen" \
	sh -c "[ \$(wc -l <'$tmp/inuse') -eq 1 ] && grep -q 'listen' '$tmp/inuse'"

# 8. SIGTERM stops the server, exit 0; the port is then free.
kill -TERM "$srv"
wait "$srv"
check "SIGTERM stops serve with exit 0" [ $? -eq 0 ]
check "and nothing listens on the port any more" \
	sh -c "! curl -s --max-time 2 -o /dev/null '$base/'"

# 9. Usage errors.
"$CPROF" serve --listen nowhere 2>"$tmp/e1"
check "--listen without a port is a usage error (exit 2)" [ $? -eq 2 ]
"$CPROF" serve --listen nohost:6060 2>"$tmp/e2"
check "--listen with no IP address is a usage error (exit 2)" [ $? -eq 2 ]
"$CPROF" serve --listen '[::1:6060' 2>"$tmp/e3"
check "an unclosed IPv6 bracket is a usage error (exit 2)" [ $? -eq 2 ]

# 10. IPv6 loopback.
mkfifo "$tmp/v6serving"
"$CPROF" serve --listen '[::1]:0' 2>"$tmp/v6serving" &
v6srv=$!
follow_fifo "$tmp/v6serving" serving "$tmp/v6serve.err"
v6port=$(sed -n 's|.*http://\[::1\]:\([0-9]*\)/.*|\1|p' "$tmp/v6serve.err" | head -1)
check "--listen [::1]:0 serves on IPv6 loopback (${v6port:-?})" [ -n "$v6port" ]
code=$(curl -sS --max-time 10 -o "$tmp/v6b" -w '%{http_code}' "http://[::1]:$v6port/debug/pprof/cmdline")
check "and answers there ($code)" [ "$code" = 200 ]
kill -TERM "$v6srv"
wait "$v6srv"

# 11. libmicrohttpd is loaded when serve starts (record and the rest start
# without it): where it is unusable, one line says what to install. The
# library is hidden by a bind mount in a private mount namespace.
lib=$(ldconfig -p | sed -n 's|.*libmicrohttpd.so.12 .*=> ||p' | head -1)
if [ -n "$lib" ]; then
	# Bounded: were the library found after all, serve would serve until killed (exit 124).
	timeout 20 unshare -m --propagation private sh -c 'mount --bind /dev/null "$(readlink -f "$1")" &&
		exec "$0" serve --listen 127.0.0.1:0' "$CPROF" "$lib" 2>"$tmp/nolib"
	check "without libmicrohttpd serve fails (exit $?)" [ $? -eq 1 ]
	check "in one line naming the package to install" \
		sh -c "[ \$(wc -l <'$tmp/nolib') -eq 1 ] && grep -q 'apt-get install libmicrohttpd12' '$tmp/nolib'"
	check "and cprof itself does not link it" sh -c "! ldd '$CPROF' | grep -q libmicrohttpd"
else
	check "ldconfig knows libmicrohttpd.so.12 (scripts/setup.sh installs it)" false
fi
done_testing
