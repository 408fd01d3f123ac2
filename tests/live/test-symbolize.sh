#!/bin/sh
# Symbolization: DWARF inline chains with files and lines, separate debug
# info (build-id directory, debuginfod), C++ demangling, JIT perf maps,
# deleted binaries and other mount namespaces. Profiles are decoded with
# the protobuf-c decoder (pprof-dump) and go tool pprof.
. "$SRCDIR/lib.sh"
require_perf
require_go

line_of() { grep -n "LINE:$1 " "$SRCDIR/workloads/inline.c" | cut -d: -f1; }
mix=$(line_of mix)
ca=$(line_of caller_a)
cb=$(line_of caller_b)

# The inline chains of a profile's locations, addresses and mappings left out, sorted.
chains() {
	"$PPROF_DUMP" "$1" | sed -n 's/^location [^:]*: //p' | grep -v '^$' | sort -u
}

# mix_chains FILE: mix inlined at its line under caller_a and under caller_b, at theirs.
mix_chains() {
	chains "$1" >"$tmp/chains"
	grep -q "^mix [^ ]*inline.c:$mix; caller_a [^ ]*inline.c:$ca;" "$tmp/chains" &&
		grep -q "^mix [^ ]*inline.c:$mix; caller_b [^ ]*inline.c:$cb;" "$tmp/chains"
}

# 1. Inline frames under the right caller, with file and line.
"$CPROF" record -o "$tmp/inline.pb.gz" -- "$INLINE" 2 2>"$tmp/err"
check "record of the -O2 -g inline workload exits 0" [ $? -eq 0 ]
check "mix is an inlined frame under caller_a and caller_b, at inline.c:$mix, called at :$ca and :$cb" \
	mix_chains "$tmp/inline.pb.gz"
pprof -top "$tmp/inline.pb.gz" >"$tmp/top"
check "go tool pprof shows mix as inlined" grep -q " mix (inline)$" "$tmp/top"
pprof -traces "$tmp/inline.pb.gz" >"$tmp/traces"
check "go tool pprof -traces puts mix on caller_a and caller_b" \
	sh -c "grep -A1 ' mix (inline)$' '$tmp/traces' | grep -q ' caller_a$' && grep -A1 ' mix (inline)$' '$tmp/traces' | grep -q ' caller_b$'"
"$PPROF_DUMP" "$tmp/inline.pb.gz" >"$tmp/dump"
check "the mapping says it has functions, files, lines and inline frames" \
	grep -q "^mapping $INLINE build_id=[0-9a-f]\{40\} functions=1 filenames=1 lines=1 inline=1$" "$tmp/dump"
check "functions carry their file and first line" \
	grep -q "^function caller_a | caller_a | [^ ]*inline.c | [1-9]" "$tmp/dump"
id=$(sed -n "s|^mapping $INLINE build_id=\([0-9a-f]*\) .*|\1|p" "$tmp/dump")

# 2. The same binary with its debug info split out into a build-id directory.
objcopy --only-keep-debug "$INLINE" "$tmp/inline.debug"
cp "$INLINE" "$tmp/inline.stripped"
strip --strip-debug "$tmp/inline.stripped"
mkdir -p "$tmp/debug/.build-id/$(echo "$id" | cut -c1-2)"
cp "$tmp/inline.debug" "$tmp/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug"
"$CPROF" record --debuginfo-path "$tmp/debug" -o "$tmp/split.pb.gz" -- "$tmp/inline.stripped" 2 2>"$tmp/err"
check "record of the stripped binary exits 0" [ $? -eq 0 ]
check "debug info from the build-id directory gives the same inline chains" \
	mix_chains "$tmp/split.pb.gz"
"$CPROF" record --debuginfo-path "$tmp/nowhere" -o "$tmp/nodebug.pb.gz" -- "$tmp/inline.stripped" 1 2>"$tmp/err"
check "without it the stripped binary has no inline chains (so the check above can fail)" \
	sh -c "! '$PPROF_DUMP' '$tmp/nodebug.pb.gz' | grep -q 'location .*: mix '"

# 3. The same debug info served by a local debuginfod, on loopback.
mkdir -p "$tmp/srv" "$tmp/dcache"
cp "$tmp/inline.debug" "$tmp/srv/"
port=$((20000 + $$ % 20000))
debuginfod -F "$tmp/srv" -p "$port" -d "$tmp/debuginfod.sqlite" -t 0 -g 0 >"$tmp/debuginfod.log" 2>&1 &
dpid=$!
export DEBUGINFOD_CACHE_PATH="$tmp/dcache"
url="http://127.0.0.1:$port"
# Wait until it has indexed the file: a bounded poll of the condition itself.
tries=0
until DEBUGINFOD_URLS=$url debuginfod-find debuginfo "$id" >/dev/null 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -gt 100 ] && break
	sleep 0.2
done
rm -rf "$tmp/dcache"/*
DEBUGINFOD_URLS=$url "$CPROF" record --debuginfo-path "$tmp/nowhere" -o "$tmp/dbgd.pb.gz" \
	-- "$tmp/inline.stripped" 2 2>"$tmp/err"
check "record with DEBUGINFOD_URLS exits 0" [ $? -eq 0 ]
check "debug info from debuginfod gives the same inline chains" mix_chains "$tmp/dbgd.pb.gz"
check "and it came from the server, into the client's cache" \
	sh -c "find '$tmp/dcache' -name debuginfo | grep -q ."
kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
unset DEBUGINFOD_CACHE_PATH

# 3b. MiniDebugInfo: a fully stripped binary whose function symbols live
# only in an xz-compressed .gnu_debugdata section (Fedora's recipe).
cp "$HOT" "$tmp/mini"
nm -D "$HOT" --format=posix --defined-only | awk '{ print $1 }' | sort >"$tmp/dynsyms"
nm "$HOT" --format=posix --defined-only | awk '$2 == "T" || $2 == "t" { print $1 }' | sort >"$tmp/funcsyms"
comm -13 "$tmp/dynsyms" "$tmp/funcsyms" >"$tmp/keep"
objcopy --only-keep-debug "$HOT" "$tmp/mini.debug"
objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols="$tmp/keep" \
	"$tmp/mini.debug" "$tmp/mini_debuginfo"
strip --strip-all -R .comment "$tmp/mini"
xz -f "$tmp/mini_debuginfo"
objcopy --add-section .gnu_debugdata="$tmp/mini_debuginfo.xz" "$tmp/mini"
check "the stripped binary has no symbol table of its own" sh -c "! readelf -SW '$tmp/mini' | grep -q ' .symtab '"
"$CPROF" record --debuginfo-path "$tmp/nowhere" -o "$tmp/mini.pb.gz" -- "$tmp/mini" 1 2>"$tmp/err"
pprof -top "$tmp/mini.pb.gz" >"$tmp/top"
check "its functions are named from .gnu_debugdata" sh -c "grep -q ' hot_a$' '$tmp/top' && grep -q ' work$' '$tmp/top'"

# 4. C++: readable names, mangled ones kept as system names.
"$CPROF" record -o "$tmp/cxx.pb.gz" -- "$CXX_BIN" 1 2>"$tmp/err"
check "record of the C++ workload exits 0" [ $? -eq 0 ]
"$PPROF_DUMP" "$tmp/cxx.pb.gz" >"$tmp/dump"
check "a member function is demangled, its mangled name kept" \
	grep -q "^function shapes::Circle::area(unsigned long) | _ZN6shapes6Circle4areaEm |" "$tmp/dump"
check "an overload has its own name" \
	grep -q "^function shapes::Circle::area(int) | _ZN6shapes6Circle4areaEi |" "$tmp/dump"
check "a template instance is demangled" \
	grep -q "^function shapes::Accumulator<unsigned long>::spin(unsigned long, int) | _ZN6shapes11AccumulatorImE4spinEmi |" "$tmp/dump"
check "a function template is named without the return type its mangling holds, as perf and pprof name it" \
	grep -q "^function shapes::scale<unsigned long>(unsigned long) | _ZN6shapes5scaleImEET_S1_ |" "$tmp/dump"

# 5. JIT: node's perf map names its JavaScript functions.
if command -v node >/dev/null; then
	cat >"$tmp/hot.js" <<'JS'
function hotLoop(n) { let x = 0; for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003; return x; }
let s = 0; for (let k = 0; k < 2500; k++) s += hotLoop(100000);
console.log(s > 0);
JS
	# A fixed amount of work (about 1.5 s here), not a time: on a loaded
	# machine a timed loop may end before V8 compiles hotLoop at all.
	# (In $tmp: node leaves an isolate-*.log where it runs.)
	(cd "$tmp" && "$CPROF" record -o "$tmp/node.pb.gz" -- node --perf-basic-prof "$tmp/hot.js") \
		>/dev/null 2>"$tmp/err"
	check "record of node --perf-basic-prof exits 0" [ $? -eq 0 ]
	"$PPROF_DUMP" "$tmp/node.pb.gz" >"$tmp/dump"
	check "the JavaScript function's name comes from the perf map" grep -q "^function .*hotLoop" "$tmp/dump"
	pprof -top "$tmp/node.pb.gz" >"$tmp/top"
	check "and it is where the time went" sh -c "sed -n '/flat  flat%/{n;p;q}' '$tmp/top' | grep -q 'hotLoop'"
elif [ "${CI:-}" = true ]; then
	not_ok "the JIT test needs node (no skips under CI)"
else
	ok "# SKIP the JIT test needs node"
fi

# start_hot PATH: run PATH -r until killed; sets hot_pid once it works.
start_hot() {
	rm -f "$tmp/ready"
	mkfifo "$tmp/ready"
	"$@" 3>"$tmp/ready" &
	hot_pid=$!
	read -r _ <"$tmp/ready"
}

# 6. A binary deleted while it runs.
cp "$HOT" "$tmp/victim"
start_hot "$tmp/victim" -r 3
rm "$tmp/victim"
"$CPROF" record -p "$hot_pid" -d 1 -o "$tmp/deleted.pb.gz" 2>"$tmp/err"
check "record -p of a process whose binary was deleted exits 0" [ $? -eq 0 ]
pprof -top "$tmp/deleted.pb.gz" >"$tmp/top"
check "its functions are still named (through map_files)" grep -q " hot_a$" "$tmp/top"
"$PPROF_DUMP" "$tmp/deleted.pb.gz" >"$tmp/dump"
check "and its mapping is named without ' (deleted)'" \
	sh -c "grep -q '^mapping $tmp/victim build_id' '$tmp/dump' || grep -q '^mapping $tmp/victim ' '$tmp/dump'"
kill "$hot_pid"
wait "$hot_pid" 2>/dev/null

# 7. A process in its own mount namespace, running a binary only it can see.
mkdir "$tmp/ns"
rm -f "$tmp/ready"
mkfifo "$tmp/ready"
unshare -m sh -c "mount -t tmpfs none '$tmp/ns' && cp '$HOT' '$tmp/ns/hot' && exec '$tmp/ns/hot' -r 3" \
	3>"$tmp/ready" &
ns_pid=$!
read -r _ <"$tmp/ready"
check "the binary is not visible outside its mount namespace" [ ! -e "$tmp/ns/hot" ]
"$CPROF" record -p "$ns_pid" -d 1 -o "$tmp/ns.pb.gz" 2>"$tmp/err"
check "record -p of it exits 0" [ $? -eq 0 ]
pprof -top "$tmp/ns.pb.gz" >"$tmp/top"
check "its functions are named (through /proc/PID/root)" grep -q " hot_a$" "$tmp/top"
kill "$ns_pid"
wait "$ns_pid" 2>/dev/null

# 8. A kernel image with DWARF (--vmlinux): inline chains and lines for kernel
# frames, across the KASLR slide between the image and the running kernel.
# The image is a stand-in linked elsewhere than the kernel, so the slide is
# never zero; the answer is checked against addr2line -i on the image.
stext=$(awk '$3 == "_stext" { print $1; exit }' /proc/kallsyms)
fn=$(nm "$FAKEKERNEL" | awk '$3 == "fake_read_zero" { print $1 }')
fstext=$(nm "$FAKEKERNEL" | awk '$3 == "_stext" { print $1 }')
if [ -n "$stext" ] && [ "$stext" != 0000000000000000 ]; then
	# 64-bit unsigned sums: beyond what sh arithmetic holds.
	in_image=$(python3 -c "print('%x' % (0x$fn + 0x10))")
	running=$(python3 -c "print('%x' % (0x$fn + 0x10 - 0x$fstext + 0x$stext))")
	"$MAKE_PROFILE" kernel "$tmp/kernel.pb.gz" "$running"
	"$RESYMBOLIZE" --vmlinux "$FAKEKERNEL" "$tmp/kernel.pb.gz" "$tmp/kernel2.pb.gz" 2>/dev/null
	got=$("$PPROF_DUMP" "$tmp/kernel2.pb.gz" | sed -n 's/^location [^:]*: //p' |
		sed 's/ [^ ]*\/\([^/:]*:[0-9]*\);/ \1;/g')
	want=$(addr2line -i -f -e "$FAKEKERNEL" "$in_image" | paste - - |
		awk '{ n = split($2, p, "/"); printf "%s %s; ", $1, p[n] }' | sed 's/ $//')
	check "a kernel frame is symbolized through --vmlinux as addr2line -i reads it ($got)" \
		[ -n "$got" ] && [ "$got" = "$want" ]
	"$PPROF_DUMP" "$tmp/kernel2.pb.gz" >"$tmp/dump"
	check "and the kernel mapping then has lines and inline frames" \
		grep -q "^mapping \[kernel.kallsyms\] .*lines=1 inline=1$" "$tmp/dump"
elif [ "${CI:-}" = true ]; then
	not_ok "the vmlinux test needs kernel addresses in /proc/kallsyms (no skips under CI)"
else
	ok "# SKIP the vmlinux test needs kernel addresses in /proc/kallsyms"
fi

# 9. Every instruction of the inline and C++ workloads named as addr2line -i
# reads it: on a first run (computed, and each function met then kept span
# by span in the symbol cache) and on a second, from that cache alone, and
# a third that asks one address per function first, then all of them.
# addr2line's own answer at each address is the truth; where it has no line
# (code without DWARF), the address is left out.
instructions() {
	objdump -d --section=.text "$1" | sed -n 's/^ *\([0-9a-f]*\):	.*/\1/p'
}

# named_as_addr2line BIN PROFILE [lines]: every location of PROFILE (a dump
# of BIN's addresses) has addr2line's chain of functions, files (base names)
# and lines; with "lines", files and lines alone (C++: addr2line -C writes a
# template's return type and a clone's suffix, which cprof leaves out, as
# perf does).
named_as_addr2line() {
	"$PPROF_DUMP" "$2" | sed -n 's/^location 0x\([0-9a-f]*\) M=[0-9]*: /\1 /p' >"$tmp/got.txt"
	awk '{ print $1 }' "$tmp/got.txt" | xargs addr2line -a -i -f -C -e "$1" >"$tmp/a2l.txt"
	python3 - "$tmp/got.txt" "$tmp/a2l.txt" "${3:-}" <<'PY'
import re, sys
got = {}
for line in open(sys.argv[1]):
    addr, _, rest = line.rstrip("\n").partition(" ")
    frames = [f.strip() for f in rest.split(";") if f.strip()]
    got[int(addr, 16)] = [(f.rsplit(" ", 1)[0], f.rsplit(" ", 1)[1].rsplit("/", 1)[-1]) for f in frames]
want, cur = {}, None
lines = open(sys.argv[2]).read().splitlines()
i = 0
while i < len(lines):
    if lines[i].startswith("0x"):
        cur = int(lines[i], 16)
        want[cur] = []
        i += 1
        continue
    fn, where = lines[i], re.sub(r" \(discriminator \d+\)$", "", lines[i + 1])
    want[cur].append((fn, where.rsplit("/", 1)[-1]))
    i += 2
checked = wrong = 0
lines_only = sys.argv[3] == "lines"
for addr, chain in want.items():
    if not chain or not re.search(r":[1-9]\d*$", chain[0][1]):
        continue
    checked += 1
    mine = got.get(addr)
    if lines_only and mine is not None:
        mine, chain = [f for _, f in mine], [f for _, f in chain]
    if mine != chain:
        wrong += 1
        if wrong <= 5:
            print("# %x: cprof %s, addr2line %s" % (addr, got.get(addr), chain))
print("# %d addresses with lines checked, %d named otherwise" % (checked, wrong))
sys.exit(0 if checked > 50 and wrong == 0 else 1)
PY
}

for bin in "$INLINE" "$CXX_BIN"; do
	name=${bin##*/}
	what=
	[ "$bin" = "$CXX_BIN" ] && what=lines
	export CPROF_CACHE_DIR="$tmp/cache-$name"
	"$MAKE_PROFILE" at "$tmp/all-$name.pb.gz" "$bin" 0 $(instructions "$bin")
	"$RESYMBOLIZE" --cache yes "$tmp/all-$name.pb.gz" "$tmp/all1-$name.pb.gz" 2>"$tmp/resym1"
	check "every instruction of $name is named as addr2line -i names it, computed ($(cat "$tmp/resym1"))" \
		named_as_addr2line "$bin" "$tmp/all1-$name.pb.gz" $what
	"$RESYMBOLIZE" --cache yes "$tmp/all-$name.pb.gz" "$tmp/all2-$name.pb.gz" 2>"$tmp/resym2"
	check "and again from the symbol cache alone ($(cat "$tmp/resym2"))" \
		sh -c "grep -q ' 0 computed' '$tmp/resym2' &&
			$(command -v "$PPROF_DUMP") '$tmp/all1-$name.pb.gz' >'$tmp/d1' &&
			$(command -v "$PPROF_DUMP") '$tmp/all2-$name.pb.gz' >'$tmp/d2' && cmp -s '$tmp/d1' '$tmp/d2'"
	rm -rf "$CPROF_CACHE_DIR"
	# One address per function (its symbol's start) first: the rest come from their spans.
	nm --defined-only "$bin" | awk '$2 ~ /^[tT]$/ { print $1 }' | sed 's/^0*//' >"$tmp/starts"
	"$MAKE_PROFILE" at "$tmp/starts-$name.pb.gz" "$bin" 0 $(cat "$tmp/starts")
	"$RESYMBOLIZE" --cache yes "$tmp/starts-$name.pb.gz" "$tmp/starts1-$name.pb.gz" 2>/dev/null
	"$RESYMBOLIZE" --cache yes "$tmp/all-$name.pb.gz" "$tmp/all3-$name.pb.gz" 2>"$tmp/resym3"
	# Left to compute: the few addresses outside every function's DWARF (padding, crt1.o's code).
	computed=$(sed -n 's/.* \([0-9]*\) computed.*/\1/p' "$tmp/resym3")
	total=$(sed -n 's/^resymbolize: \([0-9]*\) locations.*/\1/p' "$tmp/resym3")
	check "after one address per function, $name is named from the cache ($(cat "$tmp/resym3"))" \
		[ -n "$computed" ] && [ "$total" -gt 100 ] && [ "$computed" -lt $((total / 10)) ]
	check "and named as addr2line names it" named_as_addr2line "$bin" "$tmp/all3-$name.pb.gz" $what
done
export CPROF_CACHE_DIR="$tmp/cache"

done_testing
