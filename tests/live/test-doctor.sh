#!/bin/sh
# cprof doctor: each check on this machine as it is, then with tracefs
# unmounted and as a user without privileges, where it must say what
# fails and how to fix it. Runs in a private mount namespace (tracefs is
# mounted and unmounted there only).
. "$SRCDIR/lib.sh"
chmod 0755 "$tmp"

# As root, with tracefs: everything a full profile needs.
unshare -m --propagation private sh -c '
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	exec "$0" doctor' "$CPROF" >"$tmp/root" 2>&1
check "as root: exit 0" [ $? -eq 0 ]
check "and says a full system-wide profile can be taken" \
	grep -q "^cprof can take a full system-wide profile here$" "$tmp/root"
for what in perf_event_paranoid CAP_SYS_PTRACE perf_event_mlock_kb "kernel symbols" tracefs \
	ptrace_scope PMU max_sample_rate vmlinux DEBUGINFOD_URLS "cache directory" "record -a"; do
	check "checks $what" grep -Eq "^(ok  |warn|FAIL)  $what " "$tmp/root"
done
check "tracefs mounted: ok" grep -q "^ok    tracefs " "$tmp/root"
check "the events of record -a open" grep -q "^ok    record -a .*works$" "$tmp/root"

# Without tracefs: a warning with the command that mounts it, still exit 0.
unshare -m --propagation private sh -c '
	umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null
	exec "$0" doctor' "$CPROF" >"$tmp/notrace" 2>&1
check "tracefs unmounted: still exit 0 (the cpu kind needs none)" [ $? -eq 0 ]
check "with a warning that says how to mount it" \
	grep -q "^warn  tracefs .*mount -t tracefs nodev /sys/kernel/tracing" "$tmp/notrace"

# The cache directory turned off is said as such.
CPROF_CACHE_DIR= "$CPROF" doctor >"$tmp/nocache" 2>&1
check "CPROF_CACHE_DIR= : the cache is off" grep -q "^ok    cache directory  *off" "$tmp/nocache"

# A user without privileges, where perf_event_paranoid keeps them out.
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
if [ "$(id -u)" -eq 0 ] && [ "$paranoid" -ge 0 ] && command -v setpriv >/dev/null; then
	cp "$CPROF" "$tmp/cprof"
	HOME=$tmp setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/cprof" doctor \
		>"$tmp/user" 2>&1
	check "as nobody: exit 1" [ $? -eq 1 ]
	check "perf_event_paranoid fails, with the sysctl that fixes it" \
		grep -q "^FAIL  perf_event_paranoid  *$paranoid: .*sysctl -w kernel.perf_event_paranoid=-1" "$tmp/user"
	check "the events cannot be opened, and it says so" grep -q "^FAIL  record -a " "$tmp/user"
	check "ptrace of other users' processes is missing" grep -q "^warn  CAP_SYS_PTRACE " "$tmp/user"
	check "and the verdict" grep -q "^cprof cannot take a full system-wide profile here" "$tmp/user"
elif [ "${CI:-}" = true ]; then
	not_ok "the unprivileged check needs root, setpriv and perf_event_paranoid >= 0 (no skips under CI)"
fi
done_testing
