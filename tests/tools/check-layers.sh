#!/bin/sh
# The direction of dependencies, checked on every source file: each folder
# includes only from the folders below it in the pipeline, and each
# third-party library's headers stay in the one folder that wraps it.
#
#	lib/base       libc, the kernel's headers
#	lib/perf       + base                       perf_event_open, rings, records
#	lib/profile    + base                       the profile model
#	lib/collect    + perf, profile              processes, the session, kinds
#	lib/views      + profile                    everything a profile is shown as
#	symbolize/     + perf, profile, collect     elfutils, libiberty
#	proto/         + profile                    protobuf-c, zlib
#	http/          (nothing of cprof's)         libmicrohttpd
#	preload/       (nothing of cprof's)         libc only: it runs in others' programs
#	cmd/, tests/   anything
#
# A meson static library per folder says what each links; this says what
# each may even see. Usage: check-layers.sh SRCDIR (TAP).
cd "${1:-.}" || exit 1
n=0
failed=0

# allowed FOLDER: the include prefixes FOLDER's files may use.
allowed() {
	case $1 in
	lib/base) echo "lib/base" ;;
	lib/perf) echo "lib/base lib/perf" ;;
	lib/profile) echo "lib/base lib/profile" ;;
	lib/collect) echo "lib/base lib/perf lib/profile lib/collect" ;;
	lib/views) echo "lib/base lib/profile lib/views" ;;
	symbolize) echo "lib/base lib/perf lib/profile lib/collect symbolize" ;;
	proto) echo "lib/base lib/profile proto" ;;
	http) echo "http" ;;
	preload) echo "preload" ;;
	esac
}

# Third-party headers and the folder each is confined to.
confined() {
	case $1 in
	elfutils/* | gelf.h | libelf.h | dwarf.h | libiberty/*) echo symbolize ;;
	protobuf-c/* | zlib.h | *.pb-c.h) echo proto ;;
	microhttpd.h) echo http ;;
	*) echo "" ;;
	esac
}

for dir in lib/base lib/perf lib/profile lib/collect lib/views symbolize proto http preload; do
	bad=""
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			case $inc in
			*/*) ;;
			*) continue ;; # generated files of the folder's own (profile.pb-c.h)
			esac
			ok=false
			for a in $(allowed "$dir"); do
				case $inc in "$a"/*) ok=true ;; esac
			done
			$ok || bad="$bad $f:$inc"
		done
		for inc in $(sed -n 's/^#include [<"]\([^>"]*\)[>"].*/\1/p' "$f"); do
			home=$(confined "$inc")
			[ -z "$home" ] || [ "$home" = "$dir" ] || bad="$bad $f:<$inc>"
		done
	done
	n=$((n + 1))
	if [ -z "$bad" ]; then
		echo "ok $n - $dir includes only what it may ($(allowed "$dir"))"
	else
		failed=$((failed + 1))
		echo "not ok $n - $dir includes what it may not:$bad"
	fi
done
# Every lib/ folder is one of the above: a new one must be given its place.
for dir in lib/*/; do
	dir=${dir%/}
	n=$((n + 1))
	if [ -n "$(allowed "$dir")" ]; then
		echo "ok $n - $dir has its place in the pipeline"
	else
		failed=$((failed + 1))
		echo "not ok $n - $dir is not in check-layers.sh: say what it may include"
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
