#!/bin/sh
# cprof as root beside other users (docs/security.md): outputs are written
# into devices, pipes and symlinks' targets, never replacing them; JIT maps
# and cache files are believed only from their owners; hostile profiles
# cost bounded work; failures leave the previous output whole; exit codes
# and messages say what happened. Anything that touches /dev or mounts runs
# in a private mount namespace (unshare -m), never on the real ones.
. "$SRCDIR/lib.sh"
require_perf
require_go
[ "$(id -u)" -eq 0 ] || skip_all "these tests play other users and mount file systems: run as root"
for tool in unshare setpriv mount; do
	command -v "$tool" >/dev/null || skip_all "$tool (util-linux) is not installed"
done
chmod 0755 "$tmp"

# pprof_ok FILE: go tool pprof reads FILE as a profile.
pprof_ok() {
	pprof -top "$1" >/dev/null
}

# ns SCRIPT: run SCRIPT with sh in a private mount namespace, $tmp, $CPROF,
# $HOT and the helpers above at hand.
ns() {
	unshare -m --propagation private env tmp="$tmp" CPROF="$CPROF" HOT="$HOT" sh -c "$1"
}

"$CPROF" record -F 99 -o "$tmp/small.pb.gz" -- "$HOT" 0.3 2>/dev/null
"$MAKE_PROFILE" large "$tmp/large.pb.gz" 200000 20000

# 1. Outputs that are not regular files are written into, never replaced.
# /dev is a scratch tmpfs here: a mistake cannot touch the machine's.
ns '
	mount -t tmpfs tmpfs /dev || exit 99
	mknod -m 666 /dev/null c 1 3
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/1 /dev/stdout
	"$CPROF" record -F 99 -o /dev/null -- "$HOT" 0.2 2>"$tmp/devnull.err"
	echo "devnull $?" >"$tmp/ns.status"
	[ -c /dev/null ] && echo "devnull-chr" >>"$tmp/ns.status"
	"$CPROF" report --dot=/dev/stdout "$tmp/small.pb.gz" >"$tmp/dot.out" 2>"$tmp/dot.err"
	echo "dot $?" >>"$tmp/ns.status"
	[ -L /dev/stdout ] && echo "stdout-link" >>"$tmp/ns.status"
	{ echo first; "$CPROF" report --callgrind=/dev/stdout "$tmp/small.pb.gz"; } >>"$tmp/append.out"
	ls -A /dev >"$tmp/dev.list"
'
check "a scratch /dev in a private mount namespace" [ -s "$tmp/ns.status" ]
check "record -o /dev/null exits 0" grep -qx "devnull 0" "$tmp/ns.status"
check "and /dev/null is still the device" grep -qx "devnull-chr" "$tmp/ns.status"
check "report --dot=/dev/stdout exits 0" grep -qx "dot 0" "$tmp/ns.status"
check "and writes the graph into standard output" grep -q "^digraph" "$tmp/dot.out"
check "and /dev/stdout is still the symlink" grep -qx "stdout-link" "$tmp/ns.status"
check "writing into /dev/stdout appends where stdout does (>>), as the shell does" \
	sh -c "head -n 1 '$tmp/append.out' | grep -qx first && grep -q '^events:' '$tmp/append.out'"
check "no temporary file is left in /dev" sh -c "! grep -q tmp '$tmp/dev.list'"

"$CPROF" record -F 99 -o - -- "$HOT" 0.2 2>"$tmp/err" >"$tmp/stdout.pb.gz"
check "record -o - writes the profile to standard output" pprof_ok "$tmp/stdout.pb.gz"
check "and says so" grep -q "wrote standard output" "$tmp/err"
check "and makes no file named '-'" [ ! -e ./- ]

# A pipe named by /dev/fd/N, as a shell's >(gzip) names one.
"$CPROF" record -F 99 -o /dev/fd/3 -- "$HOT" 0.2 3>&1 >/dev/null 2>"$tmp/err" | cat >"$tmp/fd3.pb.gz"
check "record -o /dev/fd/3 writes into the pipe" pprof_ok "$tmp/fd3.pb.gz"

# A FIFO whose reader comes later: the recording does not wait for it.
mkfifo "$tmp/fifo"
"$CPROF" record -F 99 -o "$tmp/fifo" -- "$HOT" 0.3 2>"$tmp/fifo.err" &
rec=$!
cat "$tmp/fifo" >"$tmp/fifo.pb.gz"
wait "$rec"
check "record -o FIFO exits 0" [ $? -eq 0 ]
check "and the reader gets the profile" pprof_ok "$tmp/fifo.pb.gz"
check "and the FIFO stays a FIFO" [ -p "$tmp/fifo" ]

# A symlink is followed to its regular file, replaced there; the link stays.
echo old >"$tmp/real.pb.gz"
ln -s real.pb.gz "$tmp/link.pb.gz"
"$CPROF" record -F 99 -o "$tmp/link.pb.gz" -- "$HOT" 0.2 2>/dev/null
check "record -o SYMLINK exits 0" [ $? -eq 0 ]
check "the symlink is still a symlink" [ -L "$tmp/link.pb.gz" ]
check "and the file it names holds the profile" pprof_ok "$tmp/real.pb.gz"
ln -s nowhere/none.pb.gz "$tmp/dangling.pb.gz"
"$CPROF" record -F 99 -o "$tmp/dangling.pb.gz" -- "$HOT" 0.1 2>"$tmp/err"
check "a symlink to nothing is refused with exit 1" [ $? -eq 1 ]
check "in one line" sh -c "[ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q \"cannot write '$tmp/dangling.pb.gz'\" '$tmp/err'"
check "and the link is left alone" [ -L "$tmp/dangling.pb.gz" ]
"$CPROF" record -F 99 -o "$tmp" -- "$HOT" 0.1 2>"$tmp/err"
rc=$?
check "a directory as output is refused" sh -c "[ $rc -eq 1 ] && grep -q 'Is a directory' '$tmp/err'"

# 2. Failures leave the previous output whole and no temporary behind.
cp "$tmp/small.pb.gz" "$tmp/prev.pb.gz"
start_record /dev/null -- record -o "$tmp/prev.pb.gz" -- "$HOT" 30
kill -KILL "$rec"
wait "$rec" 2>/dev/null
check "SIGKILL of record leaves the previous profile as it was" cmp -s "$tmp/small.pb.gz" "$tmp/prev.pb.gz"
check "and no temporary file" sh -c "! ls -A '$tmp' | grep -q '\.tmp\.'"
pkill -f "$HOT 30" 2>/dev/null

# A full disk: a 256 KiB tmpfs, too small for a second of perf-script text.
ns '
	mkdir -p "$tmp/tiny" && mount -t tmpfs -o size=256k tmpfs "$tmp/tiny" || exit 99
	echo previous >"$tmp/tiny/out.script"
	"$CPROF" record -o "$tmp/tiny/out.script" -- "$HOT" 1 2>"$tmp/enospc.err"
	echo "$?" >"$tmp/enospc.rc"
	"$CPROF" report --flamegraph="$tmp/tiny/fg.svg" "$tmp/large.pb.gz" 2>"$tmp/enospc2.err"
	echo "$?" >>"$tmp/enospc.rc"
	cat "$tmp/tiny/out.script" >"$tmp/enospc.prev"
	ls -A "$tmp/tiny" >"$tmp/tiny.list"
'
check "a full disk fails the recording with exit 1" sh -c "head -n 1 '$tmp/enospc.rc' | grep -qx 1"
check "and says the disk is full, in one line" \
	sh -c "[ \$(wc -l <'$tmp/enospc.err') -eq 1 ] && grep -q 'No space left on device' '$tmp/enospc.err'"
check "a text view (flame graph) on a full disk fails with exit 1" \
	sh -c "tail -n 1 '$tmp/enospc.rc' | grep -qx 1"
check "and says the disk is full too, not 'Input/output error'" \
	grep -q "No space left on device" "$tmp/enospc2.err"
check "the previous file is intact" grep -qx previous "$tmp/enospc.prev"
check "no temporary file is left on the full disk" sh -c "[ \"\$(cat '$tmp/tiny.list')\" = out.script ]"

start_hot

# 3. -p counts each process and thread once; -t takes single threads.
# once DESCRIPTION LIST PID: -p LIST opens the events -p PID does, no more
# (counted, not timed: samples in a window vary with the machine's load).
once() {
	"$CPROF" -v record -p "$3" -d 0.2 -o "$tmp/once1.pb.gz" 2>"$tmp/once1.err"
	"$CPROF" -v record -p "$2" -d 0.2 -o "$tmp/once2.pb.gz" 2>"$tmp/once2.err"
	one=$(sed -n 's/^cprof: recording \([0-9]*\) events.*/\1/p' "$tmp/once1.err")
	two=$(sed -n 's/^cprof: recording \([0-9]*\) events.*/\1/p' "$tmp/once2.err")
	check "$1 ($one vs $two events)" sh -c "[ -n '$one' ] && [ '$one' = '$two' ]"
}
once "-p S,S samples a process once" "$hot_pid,$hot_pid" "$hot_pid"
"$NOFP" threads 2 3 &
threads_pid=$!
# Its threads are made at start: wait until there are three tasks.
while [ "$(ls "/proc/$threads_pid/task" 2>/dev/null | wc -l)" -lt 3 ]; do :; done
tid=$(ls "/proc/$threads_pid/task" | grep -vx "$threads_pid" | head -n 1)
once "-p PID,TID is the process once" "$threads_pid,$tid" "$threads_pid"
# Too many open files (an event per thread and CPU): one clear line, no crash.
(ulimit -n 6 && "$CPROF" record -p "$threads_pid" -d 0.2 -o "$tmp/emfile.pb.gz") 2>"$tmp/err"
check "with 'ulimit -n 6' record of three threads fails with exit 1" [ $? -eq 1 ]
check "in one line that says why and what to do" \
	sh -c "[ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'open files.*ulimit -n' '$tmp/err'"
"$CPROF" record -t "$tid" -d 0.5 -o "$tmp/tid.pb.gz" 2>"$tmp/tid.err"
check "-t TID exits 0" [ $? -eq 0 ]
pprof -tags "$tmp/tid.pb.gz" >"$tmp/tags"
check "and samples that thread alone" \
	sh -c "grep -A1 '^ *tid:' '$tmp/tags' | grep -q ' $tid' && [ \$(sed -n '/^ *tid:/,/^ *[a-z]*:/p' '$tmp/tags' | grep -c '%') -eq 1 ]"
wait "$threads_pid"

# 4. JIT perf maps: believed from the process's user or root only.
# The JIT runs as nobody; maps are planted as other users would plant them.
rm -f "$tmp/jitready"
mkfifo "$tmp/jitready"
setpriv --reuid=65534 --regid=65534 --clear-groups "$JIT" 3 3>"$tmp/jitready" &
jit_pid=$!
read -r jit_start jit_size <"$tmp/jitready"
map=/tmp/perf-$jit_pid.map
# jit_case WHAT OWNER MODE NAME: plant the map, record, and say whether NAME named the code.
jit_record() {
	timeout 60 "$CPROF" -v record -p "$jit_pid" -d 0.5 -o "$tmp/jit.pb.gz" 2>"$tmp/jit.err"
	jit_rc=$?
	pprof -top "$tmp/jit.pb.gz" >"$tmp/jit.top"
}
plant() {
	rm -f "$map"
	printf '%s %s %s\n' "$jit_start" "$jit_size" "$3" >"$map"
	chown "$1" "$map"
	chmod "$2" "$map"
}
plant nobody 644 jit_spin_by_nobody
jit_record
check "a perf map of the process's own user names its JIT code" grep -q "jit_spin_by_nobody$" "$tmp/jit.top"
plant root 644 jit_spin_by_root
jit_record
check "a perf map of root's is believed too" grep -q "jit_spin_by_root$" "$tmp/jit.top"
plant daemon 644 FORGED_BY_DAEMON
jit_record
check "a perf map planted by another user is not used" sh -c "! grep -q FORGED '$tmp/jit.top'"
check "and -v says why" grep -q "owned by uid 1, not by the process's (65534) or root" "$tmp/jit.err"
plant nobody 666 FORGED_WORLD_WRITABLE
jit_record
check "nor one that anyone may write" sh -c "! grep -q FORGED '$tmp/jit.top' && grep -q 'writable by other users' '$tmp/jit.err'"
rm -f "$map"
mkfifo "$map"
jit_record
check "a FIFO as perf map does not hang the recording" [ "$jit_rc" -eq 0 ]
check "and is refused as not a regular file" grep -q "not a regular file" "$tmp/jit.err"
rm -f "$map"
ln -s /dev/zero "$map"
/usr/bin/time -f %M -o "$tmp/jit.rss" timeout 60 "$CPROF" -v record -p "$jit_pid" -d 0.5 \
	-o "$tmp/jit.pb.gz" 2>"$tmp/jit.err"
check "a symlink to /dev/zero is refused ($(cat "$tmp/jit.rss") KiB peak)" \
	sh -c "grep -q 'a symlink' '$tmp/jit.err' && [ \$(tail -n 1 '$tmp/jit.rss') -lt 400000 ]"
rm -f "$map"
kill "$jit_pid"
wait "$jit_pid" 2>/dev/null

# 5. The cache directory and its files: the user's own, or not used.
boot=$(cat /proc/sys/kernel/random/boot_id)
kcache() {
	CPROF_CACHE_DIR="$1" "$CPROF" -v -v record -o "$tmp/k.pb.gz" -- dd if=/dev/zero \
		of=/dev/null bs=64k count=20000 2>"$tmp/k.err"
}
mkdir -m 1777 "$tmp/shared"
kcache "$tmp/shared"
check "a world-writable cache directory is not used" \
	sh -c "grep -q \"not using the cache directory '$tmp/shared': others may write to it\" '$tmp/k.err' && [ -z \"\$(ls -A '$tmp/shared')\" ]"
mkdir -m 700 "$tmp/mine"
ln -s "$tmp/mine" "$tmp/linked"
kcache "$tmp/linked"
check "nor one that is a symlink" \
	sh -c "grep -q 'it is a symlink' '$tmp/k.err' && [ -z \"\$(ls -A '$tmp/mine')\" ]"
kcache "$tmp/mine"
check "the user's own private directory is used" test -f "$tmp/mine/kallsyms-$boot"
cp "$tmp/mine/kallsyms-$boot" "$tmp/forged"
chown daemon "$tmp/forged"
mv "$tmp/forged" "$tmp/mine/kallsyms-$boot"
kcache "$tmp/mine"
check "a cache file planted by another user is not believed" \
	sh -c "grep -q 'not using the saved kernel symbols' '$tmp/k.err' && grep -q 'reading /proc/kallsyms' '$tmp/k.err'"
check "and is replaced by the user's own" [ "$(stat -c %u "$tmp/mine/kallsyms-$boot")" = 0 ]
rm -f "$tmp/mine/kallsyms-$boot"
mkfifo "$tmp/mine/kallsyms-$boot"
timeout 60 sh -c "CPROF_CACHE_DIR='$tmp/mine' '$CPROF' -v -v record -o '$tmp/k.pb.gz' -- dd if=/dev/zero of=/dev/null bs=64k count=20000 2>'$tmp/k.err'"
check "a FIFO as the cache file does not hang cprof" [ $? -eq 0 ]
check "and is replaced by a real cache file" test -f "$tmp/mine/kallsyms-$boot"

# 6. Hostile profiles: small files, bounded work, no undefined behaviour.
"$MAKE_PROFILE" deep "$tmp/deep.pb.gz" 100000
"$CPROF" report --tree "$tmp/deep.pb.gz" >"$tmp/deep.tree"
check "a 100,000-deep stack in --tree prints linear, not quadratic, text ($(wc -c <"$tmp/deep.tree") bytes)" \
	sh -c "[ \$(wc -c <'$tmp/deep.tree') -lt 50000000 ] && grep -q '\[depth 100000\] recurse' '$tmp/deep.tree'"
"$MAKE_PROFILE" count "$tmp/count.pb.gz" 1125899906842624
"$CPROF" report --perf-script "$tmp/count.pb.gz" >"$tmp/count.out" 2>"$tmp/err"
check "a sample counted 2^50 times is refused by --perf-script ($(stat -c %s "$tmp/count.pb.gz")-byte file)" \
	sh -c "[ ! -s '$tmp/count.out' ] && grep -q 'use --folded or --traces' '$tmp/err'"
"$MAKE_PROFILE" extreme "$tmp/extreme.pb.gz"
for view in top tree traces folded perf-script callgrind dot flamegraph; do
	"$CPROF" report --"$view" "$tmp/extreme.pb.gz" >"$tmp/extreme.out" 2>"$tmp/extreme.err"
	rc=$?
	check "--$view of values at INT64_MIN/MAX exits cleanly ($rc)" \
		sh -c "[ $rc -le 1 ] && ! grep -q 'runtime error' '$tmp/extreme.err'"
done
"$CPROF" report "$tmp/extreme.pb.gz" >"$tmp/extreme.top"
check "and totals saturate instead of going negative" sh -c "! grep -q -- 'of -' '$tmp/extreme.top'"
"$MAKE_PROFILE" inlines "$tmp/inlines.pb.gz" 1000
/usr/bin/time -f %M -o "$tmp/rss" "$CPROF" report --folded "$tmp/inlines.pb.gz" >/dev/null 2>"$tmp/err"
check "a profile expanding to 10^9 frames stops at --max-memory ($(tail -n 1 "$tmp/rss") KiB peak)" \
	sh -c "grep -q 'expand to more than --max-memory' '$tmp/err' && [ \$(tail -n 1 '$tmp/rss') -lt 1400000 ]"
python3 -c "
import gzip, sys
sys.stdout.buffer.write(gzip.compress(b'\x12\x00' * 50000000, 9))" >"$tmp/samples-bomb.pb.gz"
/usr/bin/time -f %M -o "$tmp/rss" "$CPROF" report "$tmp/samples-bomb.pb.gz" >/dev/null 2>"$tmp/err"
check "a $(stat -c %s "$tmp/samples-bomb.pb.gz")-byte file of 50M empty samples stops at --max-memory ($(tail -n 1 "$tmp/rss") KiB)" \
	sh -c "grep -q 'expands to more than --max-memory' '$tmp/err' && [ \$(tail -n 1 '$tmp/rss') -lt 1400000 ]"
python3 -c "
import gzip, sys
sys.stdout.buffer.write(gzip.compress(b'\x12\x00' * 1000000, 9))" >"$tmp/samples-1m.pb.gz"
"$CPROF" report --max-memory 16M "$tmp/samples-1m.pb.gz" >/dev/null 2>"$tmp/err"
check "--max-memory lowers the bound" grep -q "expands to more than --max-memory (16 MiB)" "$tmp/err"
"$CPROF" report --max-memory 256M "$tmp/samples-1m.pb.gz" >/dev/null 2>"$tmp/err"
check "and raises it (the file is then found to be no profile)" \
	sh -c "! grep -q 'max-memory' '$tmp/err' && grep -q 'not a valid pprof profile' '$tmp/err'"
head -c 1073741824 /dev/zero | gzip -1 >"$tmp/gzip-bomb.gz"
/usr/bin/time -f %M -o "$tmp/rss" "$CPROF" report "$tmp/gzip-bomb.gz" >/dev/null 2>"$tmp/err"
check "a gzip bomb stops at --max-memory ($(tail -n 1 "$tmp/rss") KiB)" \
	sh -c "grep -q 'expands to more than --max-memory' '$tmp/err' && [ \$(tail -n 1 '$tmp/rss') -lt 600000 ]"
# Out of memory for real: the allocator says no (ulimit -v; under AddressSanitizer,
# which reserves terabytes of address space, its own RSS limit does the same).
if (ulimit -v 400000 && "$CPROF" --version) >/dev/null 2>&1; then
	(ulimit -v 400000 && "$CPROF" report --max-memory 4G "$tmp/samples-bomb.pb.gz") \
		>/dev/null 2>"$tmp/err"
else
	ASAN_OPTIONS="$ASAN_OPTIONS:allocator_may_return_null=1:soft_rss_limit_mb=400" \
		"$CPROF" report --max-memory 4G "$tmp/samples-bomb.pb.gz" >/dev/null 2>"$tmp/err"
fi
rc=$?
check "a report that runs out of memory fails with exit 1 ($rc), not a crash" [ $rc -eq 1 ]
# (AddressSanitizer's own "==PID==" line about its limit is not cprof's.)
check "and says so in one line" \
	sh -c "[ \$(grep -vc '^==[0-9]*==' '$tmp/err') -eq 1 ] && grep -q 'Cannot allocate memory' '$tmp/err'"
"$CPROF" report /dev/zero >/dev/null 2>"$tmp/err"
check "report /dev/zero says it is a device" grep -q "it is a device, not a profile" "$tmp/err"
"$CPROF" report --nodefraction nan "$tmp/small.pb.gz" >/dev/null 2>"$tmp/err"
check "--nodefraction nan is a usage error" sh -c "[ \$? -eq 2 ] || grep -q 'invalid node fraction' '$tmp/err'"
"$CPROF" report --nodefraction inf "$tmp/small.pb.gz" >/dev/null 2>&1
check "--nodefraction inf too" [ $? -eq 2 ]

# Terminal views escape what would drive the terminal.
"$MAKE_PROFILE" escapes "$tmp/escapes.pb.gz"
for view in top traces tree; do
	"$CPROF" report --"$view" "$tmp/escapes.pb.gz" >"$tmp/escapes.out"
	check "--$view shows escape sequences escaped" \
		sh -c "! od -An -c '$tmp/escapes.out' | grep -q '033' && grep -q 'evil\\\\x1b]0;pwned' '$tmp/escapes.out'"
done

# Options after the file, as GNU tools take them.
"$CPROF" report "$tmp/small.pb.gz" --top -n 3 >"$tmp/order.out"
check "report FILE --top -n 3 works" sh -c "[ \$? -eq 0 ] && grep -q 'flat%' '$tmp/order.out'"

# 7. Exit codes: a command ended by Ctrl-C, and cprof interrupted.
# setsid: cprof and its command in a process group of their own, as a
# terminal's foreground job is; the group gets SIGINT as Ctrl-C sends it.
start_record "$tmp/ctrlc.err" setsid -- record -o "$tmp/ctrlc.pb.gz" -- "$HOT" 30
env kill -INT -- "-$rec"
wait "$rec"
check "Ctrl-C on record -- COMMAND exits 130, 128 + SIGINT" [ $? -eq 130 ]
check "and still writes the profile" pprof_ok "$tmp/ctrlc.pb.gz"

# 8. The target execs, exits, and its pid is reused, all mid-recording.
# In a pid namespace of its own, where ns_last_pid hands out the pid we ask.
rm -f "$tmp/go"
sh -c "while [ ! -e '$tmp/go' ]; do :; done; exec '$HOT' 0.5" &
target=$!
start_record /dev/null -- record -p "$target" -o "$tmp/exec.pb.gz"
touch "$tmp/go"
wait "$rec"
check "record -p of a process that execs ends when it exits" [ $? -eq 0 ]
pprof -traces "$tmp/exec.pb.gz" >"$tmp/exec.traces"
check "its samples after exec carry the new program's name and functions" \
	sh -c "grep -q 'comm:  hot$' '$tmp/exec.traces' && grep -q 'hot_a$' '$tmp/exec.traces'"
wait "$target"

unshare -p -f -m --mount-proc env tmp="$tmp" CPROF="$CPROF" HOT="$HOT" NOFP="$NOFP" sh -c '
	rm -f "$tmp/started"
	mkfifo "$tmp/started"
	"$CPROF" -v record -a -o "$tmp/reuse.pb.gz" 2>"$tmp/started" &
	rec=$!
	# One reader throughout (tests/lib.sh, follow_fifo): none would mean SIGPIPE.
	rm -f "$tmp/followed"
	mkfifo "$tmp/followed"
	tee "$tmp/reuse.err" <"$tmp/started" | { grep -q -m1 "recording"; echo >"$tmp/followed"; cat >/dev/null; } &
	read -r _ <"$tmp/followed"
	echo 999 >/proc/sys/kernel/ns_last_pid
	"$HOT" 0.5 &
	first=$!
	wait $first
	echo 999 >/proc/sys/kernel/ns_last_pid
	"$NOFP" sortzip 0.5 &
	second=$!
	wait $second
	kill -INT $rec
	wait $rec
	echo "$first $second" >"$tmp/reuse.pids"
' 2>"$tmp/reuse.err"
check "two processes got the same pid in turn ($(cat "$tmp/reuse.pids" 2>/dev/null))" \
	sh -c "set -- \$(cat '$tmp/reuse.pids'); [ \"\$1\" = 1000 ] && [ \"\$2\" = 1000 ]"
pprof -traces -tagfocus=pid=1000 "$tmp/reuse.pb.gz" >"$tmp/reuse.traces"
# Each sample's block: its labels, then its frames; a frame must match its comm.
check "the reused pid's samples keep each program's name and functions apart" \
	awk '
		/^-----------\+/ { comm = "" ; next }
		/comm:/ { comm = $2 }
		/ hot_a$| hot_b$/ && comm != "hot" { bad++ }
		/ sort_phase$| zip_phase$/ && comm != "nofp" { bad++ }
		/ hot_a$/ { a++ } / sort_phase$| zip_phase$/ { z++ }
		END { exit !(a && z && !bad) }' "$tmp/reuse.traces"

kill "$hot_pid"
wait "$hot_pid" 2>/dev/null
done_testing
