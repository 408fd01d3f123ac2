#!/bin/sh
# Regenerate the seed corpora in tests/fuzz/corpus/NAME/ from real inputs:
#   pprof     profiles by tests/tools/make-profile, Go's runtime/pprof and
#             cprof record, each gzipped as written and raw (what mutations
#             of the protobuf reach)
#   record    perf records from a real ring, for each call-graph mode
#   cfi       small programs and a library built with gcc and clang,
#             stripped, one cut down to its .eh_frame
#   kallsyms  excerpts of /proc/kallsyms, and a core table as
#             kallsyms_save_core writes it
#   jitmap    perf maps: node --perf-basic-prof's, and odd lines by hand
#
# Usage: tests/fuzz/make-seeds.sh [BUILD]
# BUILD is a configured plain build (default: build) whose make-profile,
# cprof, hot and static libraries are used; run as root (perf_event_open
# for every process, real addresses in /proc/kallsyms). Seeds are committed:
# run this when a format changes, look at `git status`, and keep each file
# small (the script warns past 64 KiB). The outputs vary from run to run
# (addresses, timing), so only regenerate what needs it: pass the corpora
# to redo in SEEDS (default: all), e.g. SEEDS='cfi jitmap'.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
corpus=tests/fuzz/corpus
seeds=${SEEDS:-pprof record cfi kallsyms jitmap}
cc=${CC:-cc}

ninja -C "$build" cmd/cprof tests/make-profile tests/hot lib/libcprof-lib.a \
	symbolize/libcprof-symbolize.a >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Compile one of the helpers below against the build's own libraries.
helper() {
	$cc -std=gnu11 -O1 -I. -I"$build" -include "$build/config.h" -o "$tmp/$1" "$tmp/$1.c" \
		"$build/symbolize/libcprof-symbolize.a" "$build/lib/libcprof-lib.a" -ldw -lelf -lm
}

# Replace corpus/$1 with what the function seeds_$1 writes into it.
regenerate() {
	rm -rf "${corpus:?}/$1"
	mkdir -p "$corpus/$1"
	"seeds_$1" "$corpus/$1"
}

seeds_pprof() {
	out=$1
	for kind in weird empty nosym; do
		"$build/tests/make-profile" "$kind" "$tmp/$kind.pb.gz"
	done
	"$build/tests/make-profile" kernel "$tmp/kernel.pb.gz" ffffffff81000000
	"$build/tests/make-profile" large "$tmp/large.pb.gz" 120 12
	# Go's own: a CPU and a heap profile (tests/go/cpuprof.go, 1.5 s).
	if command -v go >/dev/null; then
		(cd tests/go && HOME=$tmp GOCACHE=$tmp/gocache GO111MODULE=off GOFLAGS='' \
			go build -o "$tmp/cpuprof" cpuprof.go)
		"$tmp/cpuprof" "$tmp/go-cpu.pb.gz" "$tmp/go-heap.pb.gz"
	fi
	# cprof's own, in each call-graph mode: labels, kernel frames, inlined lines.
	for mode in dwarf fp none; do
		"$build/cmd/cprof" -q record -F 99 --call-graph=$mode -o "$tmp/cprof-$mode.pb.gz" \
			-- "$build/tests/hot" 0.2 >/dev/null
	done
	for f in "$tmp"/*.pb.gz; do
		name=$(basename "$f" .pb.gz)
		cp "$f" "$out/$name.pb.gz"
		gunzip -c "$f" >"$out/$name.pb"
	done
	# The smallest profile: string_table [""] and nothing else.
	printf '\062\000' >"$out/minimal.pb"
}

# A perf record stream (header.size framing), as the kernel writes the
# ring, for MODE none|fp|dwarf: the helper samples itself while it forks,
# execs, maps and starts a thread, so side-band records come too.
cat >"$tmp/records.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/perf/ring.h"
#include "lib/perf/sampler.h"

static volatile unsigned long sink;

static void spin(long ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		for (int i = 0; i < 10000; i++)
			sink += (unsigned long)i * 7;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static void *thread(void *arg)
{
	(void)arg;
	spin(10);
	return NULL;
}

/* Every record of every ring, in ring order, in one buffer. */
static char *all;
static size_t all_len;

static void collect(struct sampler *s)
{
	for (size_t i = 0; i < sampler_nrings(s); i++) {
		struct ring *r = sampler_ring(s, i);
		const struct perf_event_header *h;

		ring_read_init(r);
		while ((h = ring_next(r))) {
			all = realloc(all, all_len + h->size);
			memcpy(all + all_len, h, h->size);
			all_len += h->size;
		}
		ring_read_done(r);
	}
}

/* Write up to max bytes of the records that which asks for: 0 all, 1 samples, 2 others. */
static void dump(const char *prefix, const char *suffix, size_t max, int which)
{
	char path[4096];
	size_t n = 0;
	FILE *out;

	snprintf(path, sizeof(path), "%s-%s", prefix, suffix);
	out = fopen(path, "w");
	for (size_t off = 0; off < all_len;) {
		const struct perf_event_header *h = (const void *)(all + off);

		off += h->size;
		if ((which == 1 && h->type != PERF_RECORD_SAMPLE) ||
		    (which == 2 && h->type == PERF_RECORD_SAMPLE) || n + h->size > max)
			continue;
		fwrite(h, h->size, 1, out);
		n += h->size;
	}
	fclose(out);
}

int main(int argc, char **argv)
{
	struct sampler_config cfg = {
		.event = sampler_event_default(),
		.freq = 2000,
		.stack_size = 256,
	};
	int32_t self = (int32_t)getpid();
	struct sampler *s;
	pthread_t t;
	pid_t child;
	void *m;

	if (argc != 3)
		return 2;
	cfg.callgraph = strcmp(argv[1], "fp") == 0	? SAMPLER_CALLGRAPH_FP
			: strcmp(argv[1], "dwarf") == 0 ? SAMPLER_CALLGRAPH_DWARF
							: SAMPLER_CALLGRAPH_NONE;
	if (sampler_open(&cfg, &self, 1, &s) < 0 || sampler_enable(s) < 0)
		return 1;
	spin(20);
	m = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_create(&t, NULL, thread, NULL);
	pthread_join(t, NULL);
	child = fork();
	if (child == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(child, NULL, 0);
	munmap(m, 8192);
	spin(20);
	sampler_disable(s);
	collect(s);
	sampler_free(s);
	dump(argv[2], "stream", 8192, 0);
	dump(argv[2], "samples", 4096, 1);
	dump(argv[2], "sideband", 6144, 2);
	free(all);
	return 0;
}
EOF

seeds_record() {
	helper records
	for mode in none fp dwarf; do
		"$tmp/records" $mode "$1/$mode"
	done
}

# Programs whose CFI has every shape cfi.c compiles or refuses: CFA from sp
# and from fp, a VLA, a realigned stack (a CFA expression), recursion.
cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>

static int leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int rec(int n)
{
	return n <= 0 ? leaf(n) : rec(n - 1) + rec(n - 2 + (n & 1));
}

__attribute__((noinline)) int vla(int n)
{
	char buf[n];

	memset(buf, n, (size_t)n);
	return buf[n / 2] + rec(n & 7);
}

__attribute__((noinline)) int aligned(int n)
{
	_Alignas(64) char b[64];

	memset(b, n, sizeof(b));
	__asm__ volatile("" : : "r"(b) : "memory");
	return b[3];
}

int main(int argc, char **argv)
{
	(void)argv;
	printf("%d\n", vla(argc + 16) + aligned(argc));
	return 0;
}
EOF

seeds_cfi() {
	small='-Wl,--strip-all -Wl,-z,noseparate-code'
	# shellcheck disable=SC2086
	{
		gcc -O2 $small "$tmp/prog.c" -o "$1/gcc-O2"
		gcc -O2 -fno-omit-frame-pointer -no-pie $small "$tmp/prog.c" -o "$1/gcc-O2-fp-nopie"
		gcc -O0 $small "$tmp/prog.c" -o "$1/gcc-O0"
		gcc -O2 -shared -fPIC $small "$tmp/prog.c" -o "$1/gcc-O2-shared.so"
		if command -v clang >/dev/null; then
			clang -O2 $small "$tmp/prog.c" -o "$1/clang-O2"
		fi
	}
	# Nothing but the unwind tables and the program headers: all a mutation can hit.
	objcopy --only-section=.eh_frame --only-section=.eh_frame_hdr "$1/gcc-O2" \
		"$1/gcc-O2-eh-frame-only" 2>/dev/null
	# Without .eh_frame_hdr: libdw searches .eh_frame itself.
	objcopy --only-section=.eh_frame "$1/gcc-O2" "$1/gcc-O2-no-eh-frame-hdr" 2>/dev/null
}

# A core table from a few lines of kallsyms text, by the real writer.
cat >"$tmp/kcore.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>

#include "symbolize/internal.h"

int main(int argc, char **argv)
{
	struct kallsyms *k;
	size_t len;
	char *buf;
	FILE *f;

	if (argc != 3 || kallsyms_load(argv[1], &k) < 0 || kallsyms_save_core(k, &buf, &len) < 0)
		return 1;
	f = fopen(argv[2], "w");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		return 1;
	free(buf);
	kallsyms_free(k);
	return 0;
}
EOF

seeds_kallsyms() {
	ks=/proc/kallsyms
	# Around the core text's bounds, the start of the table, modules, every type.
	head -n 40 $ks >"$1/head"
	grep -m1 -B12 -A12 ' _stext$' $ks >"$tmp/stext"
	grep -m1 -B12 -A12 ' _etext$' $ks >"$tmp/etext"
	cat "$tmp/stext" "$tmp/etext" >"$1/core-bounds"
	grep '\[' $ks | head -n 60 >"$1/modules" || true
	awk '!seen[$2]++' $ks | head -n 40 >"$1/one-per-type"
	# What an unprivileged reader sees with kernel.kptr_restrict: no addresses.
	sed 's/^[0-9a-f]*/0000000000000000/' "$1/core-bounds" >"$1/hidden"
	helper kcore
	"$tmp/kcore" "$1/core-bounds" "$1/core-table"
}

seeds_jitmap() {
	# A real one from node's JIT, cut to its first lines and a few from the end.
	if command -v node >/dev/null; then
		node --perf-basic-prof -e \
			'let s = 0; for (let i = 0; i < 1e6; i++) s += Math.sqrt(i); console.log(s)' \
			>/dev/null &
		pid=$!
		wait $pid
		if [ -f "/tmp/perf-$pid.map" ]; then
			head -n 40 "/tmp/perf-$pid.map" >"$1/node-head"
			tail -n 20 "/tmp/perf-$pid.map" >"$1/node-tail"
			rm -f "/tmp/perf-$pid.map"
		fi
	fi
	# By hand: 0x prefixes, overlaps (the later wins), junk, tabs, CRLF, a huge size.
	printf '%s\n' \
		'7f0000001000 100 first' \
		'0x7f0000001080 40 overlapping later entry' \
		'7F0000002000 0x10 UPPER hex' \
		'junk line' \
		'7f0000003000' \
		'7f0000003000 10' \
		'ffffffffffffffff 1 at the very end' \
		'0 ffffffffffffffff everything' \
		>"$1/hand"
	printf '7f0000001000\t20\tLazyCompile:~tab /x.js:1\r\n7f0000001020 20 crlf\r\n' \
		>"$1/tabs-crlf"
	printf '1000 10 no newline at the end' >"$1/no-newline"
}

for name in $seeds; do
	regenerate "$name"
done
find $corpus -type f -size +64k -exec echo 'make-seeds.sh: large seed:' {} \;
du -sh $corpus
