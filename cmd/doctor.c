/* SPDX-License-Identifier: MIT */
/*
 * cprof doctor: what profiling needs on this machine, checked, and how to
 * fix each shortfall. Every line is one check: "ok", "warn" (a kind or a
 * detail will be missing) or "FAIL" (a full system-wide profile cannot be
 * taken), with the fix. Exit 0 when nothing failed: `cprof record -a`
 * works with kernel and user stacks, named. The last check opens the
 * events `record -a` opens, which settles what the sysctls suggest.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "lib/base/cache.h"
#include "lib/perf/sampler.h"
#include "lib/perf/tracefs.h"

static const char usage[] =
	"usage: cprof doctor\n"
	"\n"
	"Check what profiling needs here and say how to fix each shortfall:\n"
	"perf_event_paranoid, capabilities, locked memory for the rings, tracefs,\n"
	"kernel symbols (kptr_restrict), Yama's ptrace_scope, the PMU or cpu-clock,\n"
	"the sample rate limit, a vmlinux with DWARF, debuginfod, the cache directory;\n"
	"then open the events 'cprof record -a' opens. Exit 0 when a full system-wide\n"
	"profile (kernel and user stacks, named) can be taken; 1 when not.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Examples:\n"
	"  cprof doctor\n"
	"  sudo cprof doctor\n";

enum verdict { OK, WARN, FAIL };

static int failures;

static void say(enum verdict v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One check's line: verdict, what was checked, what was found and what to do. */
static void say(enum verdict v, const char *what, const char *fmt, ...)
{
	static const char *const word[] = {"ok  ", "warn", "FAIL"};
	va_list ap;

	failures += v == FAIL;
	printf("%s  %-22s ", word[v], what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The effective capability set, from /proc/self/status. */
static unsigned long long effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long caps = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	if (f)
		(void)fclose(f);
	return caps;
}

#define CAP_SYS_PTRACE 19
#define CAP_SYS_ADMIN 21
#define CAP_IPC_LOCK 14
#define CAP_PERFMON 38
#define CAP_SYSLOG 34

static bool has_cap(unsigned long long caps, int cap)
{
	return caps & (1ULL << cap);
}

static void check_access(unsigned long long caps, long paranoid)
{
	bool perfmon = has_cap(caps, CAP_PERFMON) || has_cap(caps, CAP_SYS_ADMIN);

	if (perfmon)
		say(OK, "perf_event_paranoid", "%ld, not in the way: CAP_PERFMON or CAP_SYS_ADMIN",
		    paranoid);
	else if (paranoid <= -1)
		say(OK, "perf_event_paranoid", "%ld: every user may profile the whole system",
		    paranoid);
	else
		say(FAIL, "perf_event_paranoid",
		    "%ld: -a and kernel stacks need root, CAP_PERFMON, or "
		    "'sysctl -w kernel.perf_event_paranoid=-1'",
		    paranoid);
	say(has_cap(caps, CAP_SYS_PTRACE) ? OK : WARN, "CAP_SYS_PTRACE", "%s",
	    has_cap(caps, CAP_SYS_PTRACE)
		    ? "present: other users' processes can be read and snapshotted"
		    : "missing: only your own processes' maps, files and snapshots");
}

static void check_mlock(unsigned long long caps)
{
	long kb = cmd_sysctl("/proc/sys/kernel/perf_event_mlock_kb", -1);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* 2 MiB a CPU (the DWARF mode's rings), plus a page each for the header. */
	long want = cpus * (2048 + 4);

	if (has_cap(caps, CAP_IPC_LOCK) || has_cap(caps, CAP_SYS_ADMIN))
		say(OK, "perf_event_mlock_kb", "%ld KiB, not a limit with CAP_IPC_LOCK", kb);
	else if (kb >= want)
		say(OK, "perf_event_mlock_kb", "%ld KiB: room for %ld CPUs' rings", kb, cpus);
	else
		say(WARN, "perf_event_mlock_kb",
		    "%ld KiB: the rings are shrunk to fit (records may be lost); "
		    "'sysctl -w kernel.perf_event_mlock_kb=%ld'",
		    kb, want);
}

static void check_tracefs(void)
{
	uint64_t id;
	int r = tracefs_event_id("sched", "sched_switch", &id);

	if (r == 0)
		say(OK, "tracefs",
		    "readable: offcpu, wall, mutex, threadcreate and -e tracepoints");
	else if (r == -ENODEV)
		say(WARN, "tracefs",
		    "not mounted: the kinds beyond cpu need it; "
		    "'mount -t tracefs nodev /sys/kernel/tracing'");
	else
		say(WARN, "tracefs", "%s: the kinds beyond cpu need it readable (root)",
		    strerror(-r));
}

/* Whether /proc/kallsyms shows this process real addresses. */
static void check_kallsyms(void)
{
	long restrict_ = cmd_sysctl("/proc/sys/kernel/kptr_restrict", -1);
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long addr = 0;
	char line[256];

	if (f && fgets(line, sizeof(line), f))
		(void)sscanf(line, "%llx", &addr);
	if (f)
		(void)fclose(f);
	if (addr)
		say(OK, "kernel symbols", "/proc/kallsyms has addresses (kptr_restrict %ld)",
		    restrict_);
	else
		say(FAIL, "kernel symbols",
		    "/proc/kallsyms shows zeros (kptr_restrict %ld): kernel frames stay "
		    "unnamed; run as root, or give CAP_SYSLOG, or set kernel.kptr_restrict=0 "
		    "and kernel.perf_event_paranoid to 1 or lower",
		    restrict_);
}

static void check_yama(void)
{
	long scope = cmd_sysctl("/proc/sys/kernel/yama/ptrace_scope", -1);

	if (scope < 0)
		say(OK, "ptrace_scope", "no Yama: ptrace follows credentials alone");
	else if (scope == 0)
		say(OK, "ptrace_scope", "0: snapshots of any process of yours");
	else if (scope < 3)
		say(WARN, "ptrace_scope",
		    "%ld: cprof snapshot needs root or CAP_SYS_PTRACE; "
		    "'sysctl -w kernel.yama.ptrace_scope=0' lets users snapshot their own",
		    scope);
	else
		say(WARN, "ptrace_scope",
		    "3: no process may be traced until reboot (no snapshots)");
}

static void check_pmu(void)
{
	if (access("/sys/bus/event_source/devices/cpu", F_OK) == 0 ||
	    access("/sys/bus/event_source/devices/cpu_core", F_OK) == 0)
		say(OK, "PMU", "a hardware PMU: -e cycles, instructions, … are there");
	else
		say(OK, "PMU",
		    "none (a VM or container): cprof samples by cpu-clock, as by default");
	if (access("/sys/bus/event_source/devices/kprobe", F_OK) != 0)
		say(WARN, "kprobe PMU", "none: -e kprobe: needs CONFIG_KPROBE_EVENTS");
	else
		say(OK, "kprobe PMU", "present: -e kprobe:FUNCTION");
}

static void check_rate(void)
{
	long rate = cmd_sysctl("/proc/sys/kernel/perf_event_max_sample_rate", -1);

	if (rate >= 999 || rate < 0)
		say(OK, "max_sample_rate", "%ld a second: -F 999 (the default) is allowed", rate);
	else
		say(WARN, "max_sample_rate",
		    "%ld a second: -F above it is refused; "
		    "'sysctl -w kernel.perf_event_max_sample_rate=1000'",
		    rate);
}

static void check_vmlinux(void)
{
	struct utsname u;
	char path[2][300];

	if (uname(&u) != 0)
		return;
	(void)snprintf(path[0], sizeof(path[0]), "/usr/lib/debug/boot/vmlinux-%s", u.release);
	(void)snprintf(path[1], sizeof(path[1]), "/boot/vmlinux-%s", u.release);
	for (int i = 0; i < 2; i++)
		if (access(path[i], R_OK) == 0) {
			say(OK, "vmlinux", "%s: kernel inline frames and lines", path[i]);
			return;
		}
	say(OK, "vmlinux",
	    "none for %s: kernel frames by kallsyms (names, no lines); the distribution's "
	    "kernel debug package adds lines",
	    u.release);
}

static void check_debuginfod(void)
{
	const char *urls = getenv("DEBUGINFOD_URLS");

	if (urls && *urls)
		say(OK, "DEBUGINFOD_URLS", "%s: missing debug info is fetched", urls);
	else
		say(OK, "DEBUGINFOD_URLS",
		    "unset: only local debug info (set it, e.g. to "
		    "https://debuginfod.debian.net, to fetch the rest)");
}

static void check_cache(void)
{
	struct cache *c = NULL;
	char *dir = NULL;
	int r = cache_dir_path(&dir);

	if (r == -ECANCELED) {
		say(OK, "cache directory", "off (CPROF_CACHE_DIR is empty)");
		return;
	}
	if (r == 0)
		r = cache_open(dir, &c);
	if (r == 0)
		say(OK, "cache directory", "%s", dir);
	else
		say(WARN, "cache directory", "%s not used: %s (cold start every time)",
		    dir ? dir : "(none)", cache_refusal(r));
	cache_free(c);
	free(dir);
}

/* What record -a opens: cpu-clock on every CPU with DWARF stacks, kernel included. */
static void check_open(void)
{
	struct sampler_spec spec = {
		.type = sampler_event_default()->type,
		.config = sampler_event_default()->config,
		.rate = 999,
		.freq = true,
		.stack = true,
	};
	struct sampler_config cfg = {
		.events = &spec,
		.nevents = 1,
		.callgraph = SAMPLER_CALLGRAPH_DWARF,
		.stack_size = DEFAULT_STACK_SIZE,
	};
	struct sampler *s = NULL;
	int r = sampler_open(&cfg, NULL, 0, &s);

	if (r == 0)
		say(OK, "record -a", "opened %zu events and rings: system-wide profiling works",
		    sampler_nevents(s));
	else
		say(FAIL, "record -a", "perf_event_open: %s (see the lines above)", strerror(-r));
	sampler_free(s);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	unsigned long long caps = effective_caps();
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		return cmd_option_error(usage, c, argv), EXIT_USAGE;
	}
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	failures = 0;
	check_access(caps, sampler_paranoid());
	check_mlock(caps);
	check_kallsyms();
	check_tracefs();
	check_yama();
	check_pmu();
	check_rate();
	check_vmlinux();
	check_debuginfod();
	check_cache();
	check_open();
	printf("%s\n",
	       failures ? "cprof cannot take a full system-wide profile here: fix what FAILed"
			: "cprof can take a full system-wide profile here");
	return failures ? 1 : 0;
}
