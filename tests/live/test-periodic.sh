#!/bin/sh
# Periodic recording (record --every): a file per window, named by its
# start, the events off between windows, --keep, SIGHUP and SIGTERM. Every
# file is read back with go tool pprof.
. "$SRCDIR/lib.sh"
require_perf
require_go

# wait_wrote N: until cprof -v has said it wrote N windows (at most 20 s).
wait_wrote() {
	i=0
	while [ "$(grep -c 'window of .* wrote' "$tmp/err")" -lt "$1" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(grep -c 'window of .* wrote' "$tmp/err")" -ge "$1" ]
}

# header FILE FIELD: "Duration" in ms, "Total" samples in ms, from go tool pprof -top.
# -unit=ms applies to the samples only: pprof prints a duration of a second or more in s.
header() {
	pprof -top -unit=ms "$1" |
		sed -n 's/^Duration: \([0-9.]*\)\(m*s\), Total samples = \([0-9.]*\)ms.*/\1 \2 \3/p' |
		awk -v f="$2" '{ print f == "Duration" ? ($2 == "s" ? $1 * 1000 : $1) : $3 }'
}

# 1. Windows of 0.5 s every second, the newest two kept, until SIGTERM.
start_hot
mkdir "$tmp/w"
start_record "$tmp/err" -- record -p "$hot_pid" --every 1 -d 0.5 --keep 2 \
	-o "$tmp/w/cpu-%Y%m%dT%H%M%S.pb.gz"
check "four windows written in turn" wait_wrote 4
kill -TERM "$rec"
wait "$rec"
check "SIGTERM ends it with 128+15, as perf record" [ $? -eq 143 ]
kill "$hot_pid"
wait "$hot_pid" 2>/dev/null
n=$(find "$tmp/w" -type f | wc -l)
check "--keep 2: the newest two windows' files are left, nothing else ($n)" [ "$n" -eq 2 ]
check "named by strftime of their start" \
	sh -c "ls '$tmp/w' | grep -Eqx 'cpu-[0-9]{8}T[0-9]{6}\.pb\.gz'"
last=
for f in $(find "$tmp/w" -type f | sort); do
	d=$(header "$f" Duration)
	t=$(header "$f" Total)
	# The last window may have been cut short by the signal.
	if [ "$f" = "$(find "$tmp/w" -type f | sort | tail -n 1)" ] && grep -q "window of 0.[0-3]" "$tmp/err"; then
		continue
	fi
	check "$(basename "$f"): a window of 0.5 s (${d:-?} ms)" within "${d:-0}" 480 560
	check "$(basename "$f"): the workload's CPU in it only, not the pause's (${t:-?} ms)" \
		within "${t:-0}" 350 560
	last=$f
done
check "the files read as pprof" [ -n "$last" ]
s=$(grep -c "window of" "$tmp/err")
check "the summary follows the windows ($s)" grep -q "^cprof: [0-9]* samples (0 lost)" "$tmp/err"

# 2. SIGHUP cuts the window at once; SIGTERM writes the one running.
start_hot
mkdir "$tmp/h"
start_record "$tmp/err" -- record -p "$hot_pid" --every 60 -o "$tmp/h/cpu-%Y%m%dT%H%M%S.pb.gz"
# Windows are named to the second: the next must start in another. Two
# second boundaries, so the window cut by SIGHUP is a second long at least
# and has samples (one boundary can come a moment after the start).
for boundary in 1 2; do
	started=$(date +%s)
	while [ "$(date +%s)" = "$started" ]; do
		sleep 0.05
	done
done
kill -HUP "$rec"
check "SIGHUP writes the window so far at once" wait_wrote 1
first=$(find "$tmp/h" -type f)
kill -TERM "$rec"
wait "$rec"
check "SIGTERM in a window: exit 143" [ $? -eq 143 ]
kill "$hot_pid"
wait "$hot_pid" 2>/dev/null
check "and its file is written too" [ "$(find "$tmp/h" -type f | wc -l)" -eq 2 ]
d=$(header "$first" Duration)
check "the SIGHUP window is shorter than --every (${d:-?} ms)" within "${d:-0}" 1 30000
for f in "$tmp"/h/*; do
	check "$(basename "$f") reads as pprof with hot_a in it" \
		sh -c "HOME='$tmp' GOCACHE='$tmp/gocache' go tool pprof -top '$f' 2>/dev/null | grep -q hot_a"
done

# 3. What periodic recording refuses, in one line each.
"$CPROF" record -p 1 --every 1 -o "$tmp/plain.pb.gz" 2>"$tmp/e1"
check "-o without a strftime conversion is a usage error (exit 2)" [ $? -eq 2 ]
check "that names the pattern to give" grep -q "strftime pattern" "$tmp/e1"
"$CPROF" record -p 1 --every 1 -d 2 -o "$tmp/%s.pb.gz" 2>"$tmp/e2"
check "-d longer than --every is refused" [ $? -eq 2 ]
"$CPROF" record -p 1 --keep 3 -o "$tmp/x.pb.gz" 2>"$tmp/e3"
check "--keep without --every is refused" sh -c "[ $? -eq 2 ] && grep -q 'go with --every' '$tmp/e3'"
"$CPROF" record -p 1 --every 0.5 -o "$tmp/%s.pb.gz" 2>"$tmp/e4"
check "--every under a second is refused" sh -c "[ $? -eq 2 ] && grep -q 'at least 1' '$tmp/e4'"
done_testing
