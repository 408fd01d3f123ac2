#!/bin/sh
# The whole suite, twice: a plain build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build, both with -Werror. Ends with one line
# "N passed, N failed" over both runs; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."

./scripts/setup.sh test || exit 1

status=0
for spec in "build:" "build-asan:-Db_sanitize=address,undefined"; do
	dir=${spec%%:*}
	extra=${spec#*:}
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup -Dwerror=true $extra "$dir" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; exit 1; }
	fi
	ninja -C "$dir" || exit 1
	meson test -C "$dir" --print-errorlogs || status=1
done

# Name what failed last, so the tail of a CI log says it: each failed
# test with its failing subtests (meson printed the whole logs above).
python3 tests/tools/failures.py build/meson-logs/testlog.json \
	build-asan/meson-logs/testlog.json

# Count from meson's own logs: one JSON object per test and run.
passed=0
failed=0
for dir in build build-asan; do
	log=$dir/meson-logs/testlog.json
	[ -f "$log" ] || continue
	p=$(grep -c '"result": "OK"' "$log")
	t=$(grep -c '"result": ' "$log")
	passed=$((passed + p))
	failed=$((failed + t - p))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
