#!/bin/sh
# The kinds beyond cpu, from real kernel events on workloads that measure
# themselves (tests/workloads/waits.c prints what it measured): offcpu,
# wall, mutex, threadcreate, and tracepoints given to -e; launched, -p and
# -a; read back by go tool pprof. Tracepoints need tracefs: the script runs
# in a private mount namespace of its own and mounts tracefs there when
# the machine has not, never on the real /sys.
if [ -z "${CPROF_KINDS_NS:-}" ]; then
	if command -v unshare >/dev/null 2>&1 &&
		CPROF_KINDS_NS=1 unshare -m --propagation private true 2>/dev/null; then
		CPROF_KINDS_NS=1 exec unshare -m --propagation private sh "$0" "$@"
	fi
	CPROF_KINDS_NS=none
fi
. "$SRCDIR/lib.sh"
[ "$CPROF_KINDS_NS" = 1 ] || skip_all "no private mount namespace (unshare -m) for tracefs"
require_perf
require_go
if [ ! -e /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>"$tmp/mount.err" ||
		skip_all "cannot mount tracefs: $(head -n 1 "$tmp/mount.err")"
fi

# measured NAME FILE: what the workload printed for NAME.
measured() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# cum NAME FILE [PPROF FLAGS...]: the cum of function NAME, in ms (or a count).
cum() {
	name=$1
	file=$2
	shift 2
	pprof -top -unit=ms "$@" "$file" |
		awk -v n="$name" '$6 == n && NF == 6 { v = $4; sub(/ms$/, "", v); print v; exit }'
}

# ratio A B: A / B, to 3 places.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.3f", a / b }'
}

# 1. offcpu, launched: each way of waiting within 10 % of the workload's own clock.
"$CPROF" record --kind offcpu,wall -o "$tmp/sleep.pb.gz" -- "$WAITS" sleep \
	>"$tmp/sleep.out" 2>"$tmp/sleep.err"
check "record --kind offcpu,wall -- COMMAND exits 0" [ $? -eq 0 ]
check "one file per kind" [ -s "$tmp/sleep.offcpu.pb.gz" ] && [ -s "$tmp/sleep.wall.pb.gz" ]
pprof -raw "$tmp/sleep.offcpu.pb.gz" >"$tmp/raw"
check "offcpu's types are switches/count and offcpu/nanoseconds" \
	grep -q "switches/count offcpu/nanoseconds" "$tmp/raw"
nap=$(measured nap_ns "$tmp/sleep.out")
r=$(ratio "$(cum nap "$tmp/sleep.offcpu.pb.gz")" "$((nap / 1000000))")
check "off-CPU time under nap is the workload's sleep, ±10 % (${r}×)" within "$r" 0.9 1.1
r=$(ratio "$(cum nap "$tmp/sleep.offcpu.pb.gz" -tagfocus=state=S)" "$((nap / 1000000))")
check "and it is labelled state S (${r}×)" within "$r" 0.9 1.1
pprof -traces "$tmp/sleep.offcpu.pb.gz" >"$tmp/sleep.traces"
check "its stacks run from the kernel's schedule down to nap and main" \
	awk '/__schedule$/ { k = 1 } k && /nap$/ { n = 1 } n && /main$/ { f = 1 } END { exit !f }' \
	"$tmp/sleep.traces"

# 2. wall: on- and off-CPU shares as the workload split its time, ±5 points.
burn=$(measured burn_ns "$tmp/sleep.out")
pprof -top "$tmp/sleep.wall.pb.gz" >"$tmp/wall.top"
burn_pct=$(awk '$6 == "burn" && NF == 6 { sub(/%/, "", $5); print $5; exit }' "$tmp/wall.top")
nap_pct=$(awk '$6 == "nap" && NF == 6 { sub(/%/, "", $5); print $5; exit }' "$tmp/wall.top")
own_burn=$(awk -v b="$burn" -v n="$nap" 'BEGIN { printf "%.1f", 100 * b / (b + n) }')
check "wall: burn's share ${burn_pct:-?} % within 5 points of its own ${own_burn} %" \
	within "$(awk -v a="${burn_pct:-0}" -v b="$own_burn" 'BEGIN { print a - b }')" -5 5
check "wall: nap's share ${nap_pct:-?} % within 5 points of its own $(awk -v b="$own_burn" 'BEGIN { print 100 - b }') %" \
	within "$(awk -v a="${nap_pct:-0}" -v b="$own_burn" 'BEGIN { print a - (100 - b) }')" -5 5
pprof -tags "$tmp/sleep.wall.pb.gz" >"$tmp/wall.tags"
check "wall labels running and sleeping time" \
	sh -c "grep -q ': running$' '$tmp/wall.tags' && grep -q ': S$' '$tmp/wall.tags'"

# 3. A poll with a timeout and a pthread_join.
"$CPROF" -q record --kind offcpu -o "$tmp/pipe.pb.gz" -- "$WAITS" pipe >"$tmp/pipe.out"
r=$(ratio "$(cum wait_pipe "$tmp/pipe.pb.gz")" "$(($(measured poll_ns "$tmp/pipe.out") / 1000000))")
check "off-CPU time under wait_pipe is its poll's, ±10 % (${r}×)" within "$r" 0.9 1.1
"$CPROF" -q record --kind offcpu -o "$tmp/join.pb.gz" -- "$WAITS" join >"$tmp/join.out"
r=$(ratio "$(cum join_worker "$tmp/join.pb.gz")" "$(($(measured join_ns "$tmp/join.out") / 1000000))")
check "off-CPU time under join_worker is the join's, ±10 % (${r}×)" within "$r" 0.9 1.1

# 4. mutex: the time spent in pthread_mutex_lock, under the locking site.
"$CPROF" -q record --kind mutex -o "$tmp/mutex.pb.gz" -- "$WAITS" mutex >"$tmp/mutex.out"
pprof -raw "$tmp/mutex.pb.gz" >"$tmp/raw"
check "mutex's types are contentions/count and delay/nanoseconds" \
	grep -q "contentions/count delay/nanoseconds" "$tmp/raw"
r=$(ratio "$(cum take_lock "$tmp/mutex.pb.gz")" \
	"$(($(measured lock_wait_ns "$tmp/mutex.out") / 1000000))")
check "delay under take_lock is the workload's wait, ±20 % (${r}×)" within "$r" 0.8 1.2
n=$(cum take_lock "$tmp/mutex.pb.gz" -sample_index=contentions)
check "and it counts contentions (${n:-0})" [ "${n:-0}" -gt 10 ]

# 5. threadcreate: exact counts from each call site, threads and processes told apart.
"$CPROF" -q record --kind threadcreate -o "$tmp/create.pb.gz" -- "$WAITS" create \
	>"$tmp/create.out"
for site in spawn_a spawn_b fork_c; do
	want=$(measured "$site" "$tmp/create.out")
	got=$(cum "$site" "$tmp/create.pb.gz")
	check "threadcreate: $site created $want (${got:-0})" [ "${got:-0}" = "$want" ]
done
got=$(cum spawn_b "$tmp/create.pb.gz" -tagfocus=created=thread)
check "spawn_b's are threads (${got:-0})" [ "${got:-0}" = 5 ]
got=$(cum fork_c "$tmp/create.pb.gz" -tagfocus=created=process)
check "fork_c's are processes (${got:-0})" [ "${got:-0}" = 2 ]

# 6. A tracepoint with -e: exact count, the calling stack, perf-script's event name.
"$CPROF" -q record -e syscalls:sys_enter_getpid -o "$tmp/getpid.pb.gz" -- "$WAITS" getpid \
	>"$tmp/getpid.out"
got=$(cum call_getpid "$tmp/getpid.pb.gz")
check "-e syscalls:sys_enter_getpid counts every call: ${got:-0} of 1234" [ "${got:-0}" = 1234 ]
pprof -raw "$tmp/getpid.pb.gz" >"$tmp/raw"
check "its value type is the event's" grep -q "samples/count syscalls:sys_enter_getpid/count" "$tmp/raw"
"$CPROF" -q record -e syscalls:sys_enter_getpid -c 100 -o "$tmp/c.pb.gz" -- "$WAITS" getpid \
	>/dev/null
got=$(cum call_getpid "$tmp/c.pb.gz" -sample_index=samples)
check "-c 100 samples every 100th (${got:-0} samples)" within "${got:-0}" 11 13
"$CPROF" -q record -e syscalls:sys_enter_getpid --format perf-script -o "$tmp/getpid.script" \
	-- "$WAITS" getpid >/dev/null
check "perf-script names the tracepoint as perf does" \
	grep -Eq '^waits +[0-9]+/[0-9]+ +\[[0-9]+\] +[0-9]+\.[0-9]+: +[0-9]+ syscalls:sys_enter_getpid:' \
	"$tmp/getpid.script"

# vfork's parent, sampled at every entry to the syscall (cpu-clock catches it
# only now and then: the parent spends microseconds there): its return
# address is popped into a register (glibc's CFI: "ra in rdi"), since the
# child runs on its stack. Every such stack must go on to vfork_site and main.
# Some 10,000 vforks a second, each with a stack copy: 4 KiB copies are
# plenty for these stacks and a quarter of the default's bandwidth.
"$CPROF" -q record -e syscalls:sys_enter_vfork --call-graph dwarf,4096 -o "$tmp/vfork.pb.gz" \
	-- "$WAITS" vforks 0.5 >"$tmp/vfork.out"
pprof -traces "$tmp/vfork.pb.gz" >"$tmp/vfork.traces"
set -- $(awk '/^-----------\+/ { if (v) { n++; if (site && m) ok++ } v = site = m = 0; next }
	/ __libc_vfork$| __vfork$| vfork$/ { v = 1 } / vfork_site$/ { site = 1 } / main$/ { m = 1 }
	END { if (v) { n++; if (site && m) ok++ } print ok + 0, n + 0 }' "$tmp/vfork.traces")
check "stacks at vfork's syscall go on to vfork_site and main ($1 of $2 distinct)" \
	sh -c "[ $2 -gt 0 ] && [ $1 -eq $2 ]"
got=$(cum vfork_site "$tmp/vfork.pb.gz")
calls=$(awk '$1 == "vforks" { print $2 }' "$tmp/vfork.out")
# What the rings dropped (on two CPUs under ASan, some), as the profile says.
lost=$(pprof -raw "$tmp/vfork.pb.gz" | sed -n 's/^Comment: cprof.s cost: .* \([0-9]*\) records lost.*/\1/p')
check "and count every call, or say it was lost (${got:-0} + ${lost:-?} lost of ${calls:-?})" \
	sh -c "[ ${got:-0} -le ${calls:-0} ] && [ $((${got:-0} + ${lost:-0})) -ge ${calls:-1} ]"

# Probes through the kernel's PMUs: a uprobe on a function of the workload's file.
"$CPROF" -q record -e "uprobe:$WAITS:tick" -o "$tmp/uprobe.pb.gz" -- "$WAITS" ticks >/dev/null \
	2>"$tmp/uprobe.err"
got=$(cum tick "$tmp/uprobe.pb.gz")
check "-e uprobe:PATH:tick counts every call: ${got:-0} of 777" [ "${got:-0}" = 777 ]
pprof -traces "$tmp/uprobe.pb.gz" >"$tmp/uprobe.traces"
check "and its stacks reach main" grep -q ' main$' "$tmp/uprobe.traces"
"$CPROF" -q record -e "uprobe:$WAITS:no_such_function" -o "$tmp/x.pb.gz" -- true 2>"$tmp/err"
check "a uprobe on a missing function: one line naming it" \
	sh -c "[ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q \"no function 'no_such_function'\" '$tmp/err'"
# A kprobe where the kernel has the kprobe PMU; else the one line saying it has not.
"$CPROF" -q record -e kprobe:__x64_sys_getpid -o "$tmp/kprobe.pb.gz" -- "$WAITS" getpid \
	>/dev/null 2>"$tmp/kprobe.err"
rc=$?
if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
	got=$(cum call_getpid "$tmp/kprobe.pb.gz")
	check "-e kprobe:__x64_sys_getpid counts every call: ${got:-0} of 1234" [ "${got:-0}" = 1234 ]
else
	check "no kprobe PMU in this kernel: exit 1 and one line naming the option it needs" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/kprobe.err') -eq 1 ] &&
			grep -q 'no kprobe PMU.*CONFIG_KPROBE_EVENTS' '$tmp/kprobe.err'"
fi

# 7. -p and -a: the same waits, recorded from outside.
# from_outside MODE -p|-a RECORD-ARGS...: start the workload held at its start (its
# output in $tmp/MODE.p.out or .a.out), record it by pid or system-wide from before
# it starts until after it ends (-a: stopped by SIGINT), and return cprof's status.
from_outside() {
	mode=$1
	how=$2
	shift 2
	rm -f "$tmp/go" "$tmp/rdy"
	mkfifo "$tmp/go" "$tmp/rdy"
	# Read-write: opening the FIFO does not wait for the other end.
	"$WAITS" -r 3 "$mode" 3>"$tmp/rdy" <>"$tmp/go" >"$tmp/$mode.${how#-}.out" &
	wpid=$!
	read -r _ <"$tmp/rdy"
	if [ "$how" = -p ]; then
		start_record "$tmp/err" -- record -p "$wpid" "$@"
	else
		start_record "$tmp/err" -- record -a "$@"
	fi
	echo go >"$tmp/go"
	wait "$wpid"
	[ "$how" = -p ] || kill -INT "$rec"
	wait "$rec"
}

from_outside pipe -p --kind offcpu -o "$tmp/p.pb.gz"
check "record --kind offcpu -p ends with its target, exit 0" [ $? -eq 0 ]
r=$(ratio "$(cum wait_pipe "$tmp/p.pb.gz")" "$(($(measured poll_ns "$tmp/pipe.p.out") / 1000000))")
check "-p: off-CPU time under wait_pipe is its poll's, ±10 % (${r}×)" within "$r" 0.9 1.1

from_outside pipe -a --kind offcpu,threadcreate -o "$tmp/a.pb.gz"
check "record --kind offcpu,threadcreate -a stops on SIGINT and writes both" \
	[ -s "$tmp/a.offcpu.pb.gz" ] && [ -s "$tmp/a.threadcreate.pb.gz" ]
r=$(ratio "$(cum wait_pipe "$tmp/a.offcpu.pb.gz")" \
	"$(($(measured poll_ns "$tmp/pipe.a.out") / 1000000))")
check "-a: off-CPU time under wait_pipe is its poll's, ±10 % (${r}×)" within "$r" 0.9 1.1
check "-a: nothing of the idle task's (pid 0) is off-CPU time" \
	sh -c "! pprof -tags '$tmp/a.offcpu.pb.gz' | grep -q 'swapper'"

from_outside sleep -p --kind wall,offcpu -o "$tmp/pw.pb.gz"
nap=$(measured nap_ns "$tmp/sleep.p.out")
r=$(ratio "$(cum nap "$tmp/pw.offcpu.pb.gz")" "$((nap / 1000000))")
check "-p: off-CPU time under nap is the workload's sleep, ±10 % (${r}×)" within "$r" 0.9 1.1
pct=$(pprof -top "$tmp/pw.wall.pb.gz" | awk '$6 == "nap" && NF == 6 { sub(/%/, "", $5); print $5; exit }')
own=$(awk -v b="$(measured burn_ns "$tmp/sleep.p.out")" -v n="$nap" 'BEGIN { printf "%.1f", 100 * n / (b + n) }')
check "-p: wall's nap share ${pct:-?} % within 5 points of its own ${own} %" \
	within "$(awk -v a="${pct:-0}" -v b="$own" 'BEGIN { print a - b }')" -5 5

from_outside create -p --kind threadcreate -o "$tmp/pc.pb.gz"
got=$(cum spawn_b "$tmp/pc.pb.gz")
check "-p: threadcreate counts spawn_b's 5 threads (${got:-0})" [ "${got:-0}" = 5 ]
from_outside getpid -p -e syscalls:sys_enter_getpid -o "$tmp/pg.pb.gz"
got=$(cum call_getpid "$tmp/pg.pb.gz")
check "-p: the tracepoint counts every getpid: ${got:-0} of 1234" [ "${got:-0}" = 1234 ]
from_outside getpid -a -e syscalls:sys_enter_getpid -o "$tmp/ag.pb.gz"
got=$(cum call_getpid "$tmp/ag.pb.gz" -tagfocus=comm=waits)
check "-a: the tracepoint counts every getpid of the workload: ${got:-0} of 1234" [ "${got:-0}" = 1234 ]

from_outside mutex -a --kind mutex,threadcreate -o "$tmp/am.pb.gz"
r=$(ratio "$(cum take_lock "$tmp/am.mutex.pb.gz")" \
	"$(($(measured lock_wait_ns "$tmp/mutex.a.out") / 1000000))")
check "-a: delay under take_lock is the workload's wait, ±20 % (${r}×)" within "$r" 0.8 1.2
got=$(cum __pthread_create_2_1 "$tmp/am.threadcreate.pb.gz" -tagfocus=comm=waits)
check "-a: the workload's 4 threads created (${got:-0})" [ "${got:-0}" = 4 ]
from_outside mutex -p --kind mutex -o "$tmp/pm.pb.gz"
r=$(ratio "$(cum take_lock "$tmp/pm.pb.gz")" \
	"$(($(measured lock_wait_ns "$tmp/mutex.p.out") / 1000000))")
check "-p: delay under take_lock is the workload's wait, ±20 % (${r}×)" within "$r" 0.8 1.2

# wall under -a: the workload's own samples (the host's are beside them) split as it did.
from_outside sleep -a --kind wall -o "$tmp/aw.pb.gz"
b=$(cum burn "$tmp/aw.pb.gz" -tagfocus=comm=waits)
n=$(cum nap "$tmp/aw.pb.gz" -tagfocus=comm=waits)
pct=$(awk -v b="${b:-0}" -v n="${n:-0}" 'BEGIN { if (b + n > 0) printf "%.1f", 100 * n / (b + n) }')
own=$(awk -v b="$(measured burn_ns "$tmp/sleep.a.out")" -v n="$(measured nap_ns "$tmp/sleep.a.out")" \
	'BEGIN { printf "%.1f", 100 * n / (b + n) }')
check "-a: wall's nap share ${pct:-?} % within 5 points of its own ${own} %" \
	within "$(awk -v a="${pct:-0}" -v b="$own" 'BEGIN { print a - b }')" -5 5

# 8. Every report view reads them, in their units.
"$CPROF" report --top "$tmp/sleep.offcpu.pb.gz" >"$tmp/report.top" 2>&1
pprof -top "$tmp/sleep.offcpu.pb.gz" >"$tmp/pprof.top"
# total FILE: the "of X total" of a -top table, in seconds.
total() {
	sed -n 's/^Showing nodes accounting for .* of \([0-9.]*\)\(m*s\) total$/\1 \2/p' "$1" |
		awk '{ print $2 == "ms" ? $1 / 1000 : $1 }'
}
a=$(total "$tmp/report.top")
b=$(total "$tmp/pprof.top")
check "report --top totals off-CPU time in seconds, as go tool pprof does (${a:-?} s, ${b:-?} s)" \
	within "$(ratio "${a:-0}" "${b:-1}")" 0.99 1.01
for view in --tree --traces --folded --perf-script --flamegraph --dot --callgrind; do
	"$CPROF" report "$view" "$tmp/mutex.pb.gz" >"$tmp/view.out" 2>"$tmp/view.err"
	check "report $view reads the mutex profile" \
		sh -c "[ -s '$tmp/view.out' ] && grep -q take_lock '$tmp/view.out'"
done

# 9. No tracefs: one line that says what is missing, exit 1.
unshare -m --propagation private sh -c "
	mount -t tmpfs none /sys/kernel/tracing
	[ -d /sys/kernel/debug ] && mount -t tmpfs none /sys/kernel/debug
	'$CPROF' record --kind offcpu -o '$tmp/none.pb.gz' -- true" 2>"$tmp/none.err"
rc=$?
check "without tracefs, --kind offcpu fails with exit 1" [ $rc -eq 1 ]
check "and one line naming what is missing and the fix" \
	sh -c "[ \$(wc -l <'$tmp/none.err') -eq 1 ] && grep -q 'tracefs, which is not mounted' '$tmp/none.err' && grep -q 'mount -t tracefs' '$tmp/none.err'"
done_testing
