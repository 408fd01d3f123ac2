#!/bin/sh
# Run the libFuzzer targets of a -Dfuzz=true build, one at a time, each for
# FUZZ_SECONDS (default 60) over a scratch copy of its seed corpus, and
# print one line per target:
#	fuzz-pprof: 464515 execs, 140 new inputs, cov 808 -> 815, no crash
# Crashes, leaks, timeouts and OOMs are written to tests/fuzz/crashes/NAME-*
# (libFuzzer's names, ignored by git); each run's whole log to
# BUILD/fuzz-logs/NAME.log. Exits 1 when a target failed.
#
# Usage: tests/fuzz/fuzz.sh BUILD [NAME...]   (default: every target built)
# `make fuzz` builds and runs it; FUZZ_ARGS adds libFuzzer options.
set -u
cd "$(dirname "$0")/../.." || exit 1
build=${1:?usage: fuzz.sh BUILD [NAME...]}
shift
seconds=${FUZZ_SECONDS:-60}
crashes=tests/fuzz/crashes

if [ $# -eq 0 ]; then
	for exe in "$build"/tests/fuzz/fuzz-*; do
		case $exe in *-corpus | *.p) continue ;; esac
		[ -x "$exe" ] && set -- "$@" "${exe##*/fuzz-}"
	done
fi
if [ $# -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets in $build (configure it with CC=clang -Dfuzz=true)" >&2
	exit 1
fi
mkdir -p "$crashes" "$build/fuzz-logs"

status=0
for name in "$@"; do
	exe=$build/tests/fuzz/fuzz-$name
	scratch=$build/fuzz-scratch/$name
	log=$build/fuzz-logs/$name.log
	if [ ! -x "$exe" ]; then
		echo "fuzz-$name: not built in $build"
		status=1
		continue
	fi
	# A fresh copy each run: what a run adds stays out of the committed seeds.
	rm -rf "$scratch"
	mkdir -p "$scratch"
	cp tests/fuzz/corpus/"$name"/* "$scratch"/ 2>/dev/null
	# shellcheck disable=SC2086
	"$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$crashes/$name-" -print_final_stats=1 ${FUZZ_ARGS:-} \
		"$scratch" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	new=$(sed -n 's/^stat::new_units_added: *//p' "$log")
	cov_start=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n 1)
	cov_end=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d ' ' -f 2)
	if [ $rc -eq 0 ]; then
		result="no crash"
	else
		status=1
		what=$(grep -m 1 '^SUMMARY: ' "$log" | cut -c 10-)
		unit=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
		result="FAILED: ${what:-exit $rc}; input ${unit:-none}; log $log"
	fi
	echo "fuzz-$name: ${execs:-0} execs, ${new:-0} new inputs," \
		"cov ${cov_start:-?} -> ${cov_end:-?}, $result"
done
exit $status
