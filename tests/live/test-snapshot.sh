#!/bin/sh
# cprof snapshot: every thread's stack at one instant, through ptrace. A
# workload with threads waiting at known sites (waits stuck: 3 in read(),
# 4 in nanosleep, one spinning, main in pthread_join) is taken and checked
# with go tool pprof and against eu-stack; then the cases a debugger meets:
# several processes, one exiting meanwhile, threads coming and going, a
# zombie, a stopped process, another tracer, no permission, another mount
# namespace, and cprof stopped by SIGTERM or SIGKILL in the middle. The
# target is never left stopped or traced.
. "$SRCDIR/lib.sh"
require_go
command -v eu-stack >/dev/null || skip_all "eu-stack (Debian's elfutils) is not installed"
command -v strace >/dev/null || skip_all "strace is not installed"
chmod 0755 "$tmp"

# in_place PID N: the stuck workload's threads all wait where they should:
# 3 in read, N in clock_nanosleep, main in futex (x86-64's numbers: 0, 230, 202).
# A sleep a tracer interrupted goes on as restart_syscall (219), its
# remaining time kept: the program sees nothing, but /proc does.
in_place() {
	cat /proc/"$1"/task/*/syscall 2>/dev/null |
		awk -v n="$2" '{ c[$1]++ } END { exit !(c["0"] == 3 && c["230"] + c["219"] == n && c["202"] == 1) }'
}

# back_in_place PID N: in_place within a second. A tracer killed outright leaves the
# kernel to detach and wake its tracees: a thread may still be on its way back into
# its syscall the moment after (one clean clone's run in several caught one).
back_in_place() {
	i=0
	while ! in_place "$1" "$2" && [ $i -lt 100 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	in_place "$1" "$2"
}

# showing PROFILE N PPROF-OPTIONS...: go tool pprof -top with the options shows N samples.
showing() {
	f=$1
	n=$2
	shift 2
	pprof "$@" -top "$f" | grep -q "^Showing nodes accounting for $n, "
}

# start_stuck [N]: waits stuck with N sleepers (default 4); stuck_pid once every thread is in place.
start_stuck() {
	"$WAITS" stuck ${1:-} >"$tmp/stuck.out" &
	stuck_pid=$!
	i=0
	while ! in_place "$stuck_pid" "${1:-4}" && [ $i -lt 1000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
}

# released PID: neither traced nor stopped by us (TracerPid 0, no tracing stop).
released() {
	awk '/^TracerPid:/ { t = $2 } /^State:/ { s = $2 } END { exit !(t == 0 && s != "t") }' \
		/proc/"$1"/status
}

# cum NAME: the cum value of NAME in a go tool pprof -top table on stdin.
cum() {
	awk -v name="$1" '$6 == name { print $4; exit }'
}

# 1. The stuck workload, once.
start_stuck
pid=$stuck_pid
"$CPROF" snapshot -p "$pid" -o "$tmp/s.pb.gz" 2>"$tmp/s.err"
check "snapshot -p exits 0" [ $? -eq 0 ]
check "the summary counts the threads and says how long they were stopped" \
	grep -Eq "^cprof: 9 threads of 1 process in 1 snapshot, each process stopped [0-9.]+ ms" "$tmp/s.err"
check "the target is left running, not traced" released "$pid"
check "its threads still wait where they waited" in_place "$pid" 4
pprof -top "$tmp/s.pb.gz" >"$tmp/top"
check "three threads in read_site ($(cum read_site <"$tmp/top"))" [ "$(cum read_site <"$tmp/top")" = 3 ]
check "four in sleep_site ($(cum sleep_site <"$tmp/top"))" [ "$(cum sleep_site <"$tmp/top")" = 4 ]
check "one in spin_site ($(cum spin_site <"$tmp/top"))" [ "$(cum spin_site <"$tmp/top")" = 1 ]
check "main in pthread_join under mode_stuck ($(cum mode_stuck <"$tmp/top"))" \
	[ "$(cum mode_stuck <"$tmp/top")" = 1 ]
check "the whole stacks, down to main and to the threads' start" \
	sh -c "[ '$(cum main <"$tmp/top")' = 1 ] && [ '$(cum start_thread <"$tmp/top")' = 8 ]"
check "nine threads in all" grep -q "Total samples = 9 *\$" "$tmp/top"
pprof -traces -focus=read_site "$tmp/s.pb.gz" >"$tmp/readers"
check "the blocked readers' kernel frames are there (root: /proc/PID/task/TID/stack)" \
	grep -q " vfs_read$" "$tmp/readers"
pprof -tags "$tmp/s.pb.gz" >"$tmp/tags"
check "states: eight sleeping, one running" \
	sh -c "grep -q '8.0 (88.89%): S\$' '$tmp/tags' && grep -q '1.0 (11.11%): R\$' '$tmp/tags'"
check "the syscalls they wait in: read, clock_nanosleep, futex" \
	sh -c "grep -q '3.0 .*: read\$' '$tmp/tags' && grep -q '4.0 .*: clock_nanosleep\$' '$tmp/tags' &&
		grep -q '1.0 .*: futex\$' '$tmp/tags'"
check "and wchan, where the kernel holds them" grep -q "^ wchan: Total 8.0" "$tmp/tags"
check "a tid label per thread" sh -c "[ \$(grep -c '1.0 (11.11%): [0-9]*\$' '$tmp/tags') -ge 9 ]"
pprof -tagfocus=state=R -top "$tmp/s.pb.gz" >"$tmp/running"
check "the running thread is the spinner" sh -c "[ '$(cum spin_site <"$tmp/running")' = 1 ]"
pprof -comments "$tmp/s.pb.gz" >"$tmp/comments"
check "the stop time is in the profile's comments" \
	grep -Eq "^stopped: process $pid, 9 threads, for [0-9.]+ ms" "$tmp/comments"
check "and cprof's own cost" grep -Eq "^cprof's cost: [0-9.]+ s of CPU, [0-9.]+ MiB peak" "$tmp/comments"

"$CPROF" snapshot -a -o "$tmp/all.pb.gz" 2>"$tmp/all.err"
check "snapshot -a exits 0" [ $? -eq 0 ]
check "and takes the workload among the rest" showing "$tmp/all.pb.gz" 9 -tagfocus=pid="$pid"
pprof -tagfocus=comm=kthreadd -top "$tmp/all.pb.gz" >"$tmp/kthreadd"
check "kernel threads too, by their kernel stacks" grep -q " kthreadd$" "$tmp/kthreadd"

# 2. Go's text forms, and cprof report on the file.
"$CPROF" snapshot -p "$pid" --format text >"$tmp/text" 2>/dev/null
check "--format text: the total, as goroutine?debug=1" grep -q "^threads profile: total 9$" "$tmp/text"
check "each distinct stack once, with its count" \
	sh -c "grep -A12 '^3 @' '$tmp/text' | grep -q 'read_site' &&
		grep -A12 '^4 @' '$tmp/text' | grep -q 'sleep_site'"
check "and the labels its threads share" grep -q '^# labels: {.*"syscall":"read"' "$tmp/text"
"$CPROF" snapshot -p "$pid" --format threads >"$tmp/threads" 2>/dev/null
check "--format threads: every thread, as debug=2 ($(grep -c '^thread ' "$tmp/threads"))" \
	[ "$(grep -c '^thread ' "$tmp/threads")" -eq 9 ]
check "with its state and syscall" grep -Eq '^thread [0-9]+ "waits" \[S, read, wchan [a-z_]+\] of process' "$tmp/threads"
"$CPROF" report --threads-summary "$tmp/s.pb.gz" >"$tmp/report.text"
check "cprof report --threads-summary reads the pprof file the same way" \
	grep -q "^threads profile: total 9$" "$tmp/report.text"
"$CPROF" snapshot -p "$pid" --format folded >"$tmp/folded" 2>/dev/null
check "--format folded" grep -q "read_site;.*;vfs_read;.* 3$" "$tmp/folded"

# 3. The same stacks as eu-stack's (elfutils), thread by thread, on the
# workload's own functions (eu-stack names libc's frames by other aliases).
own="read_site reader sleep_site sleeper spin_site spinner mode_stuck main"
awk -v own="$own" 'BEGIN { n = split(own, o); for (i = 1; i <= n; i++) w[o[i]] = 1 }
	/^thread / { tid = $2; next }
	/^[^\t].*\(\)$/ { f = $0; sub(/\(\)$/, "", f); if (f in w) s[tid] = s[tid] " " f }
	END { for (t in s) print t s[t] }' "$tmp/threads" | sort >"$tmp/ours"
eu-stack -p "$pid" >"$tmp/eu" 2>"$tmp/eu.err"
awk -v own="$own" 'BEGIN { n = split(own, o); for (i = 1; i <= n; i++) w[o[i]] = 1 }
	/^TID / { tid = $2; sub(/:$/, "", tid); next }
	/^#/ { if ($3 in w) s[tid] = s[tid] " " $3 }
	END { for (t in s) print t s[t] }' "$tmp/eu" | sort >"$tmp/theirs"
check "eu-stack -p on the same process: the same frames for every thread" \
	sh -c "[ -s '$tmp/ours' ] && [ \$(wc -l <'$tmp/ours') -eq 9 ] && cmp -s '$tmp/ours' '$tmp/theirs'"

# 4. Several processes; one that exits between snapshots.
start_stuck
pid2=$stuck_pid
sleep 0.3 &
brief=$!
"$CPROF" snapshot -p "$pid,$pid2,$brief" --repeat 8 --interval 0.1 -o "$tmp/multi.pb.gz" 2>"$tmp/multi.err"
check "-p A,B,C with C exiting meanwhile: exit 0" [ $? -eq 0 ]
check "the summary says a process went away" grep -Eq "[1-9][0-9]* processes gone" "$tmp/multi.err"
check "the first process's nine threads in each of the 8 snapshots" \
	showing "$tmp/multi.pb.gz" 72 -tagfocus=pid="$pid"
check "and the second's" showing "$tmp/multi.pb.gz" 72 -tagfocus=pid="$pid2"
if released "$pid" && released "$pid2"; then ok "both left running, not traced"; else not_ok "both left running, not traced"; fi
kill "$pid2"
wait "$brief"

# 5. Threads created and joined all along.
"$WAITS" spawn 3 >"$tmp/spawn.out" &
spawner=$!
"$CPROF" snapshot -p "$spawner" --repeat 20 --interval 0.05 -o "$tmp/spawn.pb.gz" 2>"$tmp/spawn.err"
check "a process creating threads all along: exit 0" [ $? -eq 0 ]
wait "$spawner"
status=$?
check "and it went on undisturbed to its own end" sh -c "[ $status -eq 0 ] && grep -q '^spawned [1-9]' '$tmp/spawn.out'"

# 6. A zombie, and a stopped process.
sh -c 'true & exec sleep 60' &
parent=$!
zombie=
i=0
while [ -z "$zombie" ] && [ $i -lt 500 ]; do
	for c in $(cat /proc/$parent/task/$parent/children 2>/dev/null); do
		grep -q '^State:.Z' /proc/"$c"/status 2>/dev/null && zombie=$c
	done
	sleep 0.01
	i=$((i + 1))
done
"$CPROF" snapshot -p "$zombie" -o "$tmp/zombie.pb.gz" 2>"$tmp/zombie.err"
check "a zombie: exit 0" [ $? -eq 0 ]
pprof -tags "$tmp/zombie.pb.gz" >"$tmp/zombie.tags"
check "its one thread labelled state Z" grep -q "1.0 (  100%): Z$" "$tmp/zombie.tags"
kill "$parent"
kill -STOP "$pid"
# Each thread stops when it next runs: until none is in another state (5 s at most).
i=0
while grep -L '^State:.T' /proc/"$pid"/task/*/status 2>/dev/null | grep -q . && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
"$CPROF" snapshot -p "$pid" -o "$tmp/stopped.pb.gz" 2>"$tmp/stopped.err"
check "a stopped process: exit 0" [ $? -eq 0 ]
pprof -tags "$tmp/stopped.pb.gz" >"$tmp/stopped.tags"
check "its threads labelled state T" grep -q "9.0 (  100%): T$" "$tmp/stopped.tags"
pprof -top "$tmp/stopped.pb.gz" >"$tmp/stopped.top"
check "and their stacks taken all the same" [ "$(cum read_site <"$tmp/stopped.top")" = 3 ]
check "left stopped, as it was, and not traced" \
	awk '/^TracerPid:/ { t = $2 } /^State:/ { s = $2 } END { exit !(t == 0 && s == "T") }' /proc/"$pid"/status
kill -CONT "$pid"
i=0
while ! in_place "$pid" 4 && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
check "it runs on after SIGCONT" in_place "$pid" 4

# 7. Refusals, one line each.
strace -p "$pid" -o /dev/null 2>/dev/null &
tracer=$!
i=0
while [ "$(awk '/^TracerPid:/ { print $2 }' /proc/"$pid"/status)" = 0 ] && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
"$CPROF" snapshot -p "$pid" -o "$tmp/traced.pb.gz" 2>"$tmp/traced.err"
check "a process another tracer holds: exit 1" [ $? -eq 1 ]
check "in one line naming the tracer" sh -c "[ \$(wc -l <'$tmp/traced.err') -eq 1 ] &&
	grep -q 'already traced by process $tracer (strace)' '$tmp/traced.err'"
kill "$tracer"
wait "$tracer" 2>/dev/null
mkdir "$tmp/nobody"
chmod 0777 "$tmp/nobody"
# A copy nobody may run, wherever the build directory is.
cp "$CPROF" "$tmp/cprof"
chmod 0755 "$tmp/cprof"
CPROF_CACHE_DIR= setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$tmp/cprof" snapshot -p "$pid" -o "$tmp/nobody/x.pb.gz" 2>"$tmp/nobody.err"
check "another user's process: exit 1" [ $? -eq 1 ]
check "in one line that says what to do" sh -c "[ \$(wc -l <'$tmp/nobody.err') -eq 1 ] &&
	grep -q 'cannot trace process $pid: Operation not permitted; .*root' '$tmp/nobody.err'"
check "and writes nothing" [ ! -e "$tmp/nobody/x.pb.gz" ]
"$CPROF" snapshot -p "$(unused_pid)" -o "$tmp/none.pb.gz" 2>"$tmp/none.err"
status=$?
check "no such process: exit 1, one line" sh -c "[ $status -eq 1 ] && [ \$(wc -l <'$tmp/none.err') -eq 1 ] &&
	grep -q 'check the pid' '$tmp/none.err'"
check "the target is still free after all that" released "$pid"

# 8. SIGTERM and SIGKILL in the middle of a long run of snapshots.
for sig in TERM KILL TERM; do
	"$CPROF" -v snapshot -p "$pid" --repeat 100000 --interval 0.001 -o "$tmp/sig.pb.gz" \
		2>"$tmp/sig.err" &
	snap=$!
	i=0
	while [ "$(grep -c 'stopped for' "$tmp/sig.err")" -lt 5 ] && [ $i -lt 1000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	kill -"$sig" "$snap"
	wait "$snap"
	status=$?
	check "SIG$sig in the middle: the target is neither stopped nor traced" released "$pid"
	check "and its threads are back where they were" back_in_place "$pid" 4
	if [ "$sig" = TERM ]; then
		pprof -top "$tmp/sig.pb.gz" >"$tmp/sig.top"
		check "SIGTERM: exit 143 ($status) with the snapshots so far written" \
			sh -c "[ $status -eq 143 ] && [ \$(awk '\$6 == \"read_site\" { print \$4 }' '$tmp/sig.top') -ge 15 ]"
	fi
done

# 9. A process in another mount namespace, its binary on a tmpfs only it sees.
mkdir "$tmp/ns"
unshare -m --propagation private sh -c "mount -t tmpfs none '$tmp/ns' &&
	cp '$WAITS' '$tmp/ns/waits' && exec '$tmp/ns/waits' stuck" >/dev/null &
ns=$!
i=0
while ! in_place "$ns" 4 && [ $i -lt 1000 ]; do
	sleep 0.01
	i=$((i + 1))
done
check "(the binary is not visible from here)" [ ! -e "$tmp/ns/waits" ]
"$CPROF" snapshot -p "$ns" -o "$tmp/ns.pb.gz" 2>"$tmp/ns.err"
check "another mount namespace: exit 0" [ $? -eq 0 ]
pprof -top "$tmp/ns.pb.gz" >"$tmp/ns.top"
check "its stacks symbolized through its own root ($(cum read_site <"$tmp/ns.top"))" \
	[ "$(cum read_site <"$tmp/ns.top")" = 3 ]
kill "$ns"

kill "$pid"
wait "$pid" 2>/dev/null
done_testing
