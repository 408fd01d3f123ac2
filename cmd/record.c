/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/base/cache.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/base/parse.h"
#include "lib/collect/collector.h"
#include "lib/collect/kinds.h"
#include "lib/collect/session.h"
#include "lib/views/stacks.h"
#include "lib/views/view.h"
#include "proto/pprof.h"
#include "symbolize/symbolize.h"
#include "symbolize/unwind.h"
#include "cmd/periodic.h"
#include "cmd/pipeline.h"
#include "cmd/target.h"

static const char usage[] =
	"usage: cprof record [OPTIONS] -- COMMAND [ARGS...]\n"
	"       cprof record [OPTIONS] -p PID[,PID...]\n"
	"       cprof record [OPTIONS] -t TID[,TID...]\n"
	"       cprof record [OPTIONS] -a\n"
	"\n"
	"Sample stacks with perf_event_open and write a symbolized pprof profile.\n"
	"\n"
	"Targets (exactly one):\n"
	"  COMMAND [ARGS...]        run COMMAND and profile it and its children until it\n"
	"                           exits; cprof then exits with its status\n"
	"  -p, --pid PID[,PID...]   profile running processes, all their threads, and\n"
	"                           threads and children they create later (a thread id\n"
	"                           stands for its process)\n"
	"  -t, --tid TID[,TID...]   profile these threads only, and what they create\n"
	"  -a, --all-cpus           profile the whole system, kernel included\n"
	"\n";

/* The rest of --help, in parts: C99 caps a string literal's length. */
static const char usage_options[] =
	"Options:\n"
	"  -C, --cpu LIST           only these CPUs, e.g. 0-3,6\n"
	"  -F, --freq HZ            samples per second per CPU (default 999)\n"
	"  -c, --count N            sample every Nth event instead of -F times a second\n"
	"                           (tracepoints: every one by default)\n"
	"  -e, --event NAME         event to sample (default cpu-clock); cycles, task-clock,\n"
	"                           instructions, page-faults, context-switches, ..., or a\n"
	"                           tracepoint SYSTEM:NAME (sched:sched_wakeup), a kprobe\n"
	"                           kprobe:FUNCTION or a uprobe uprobe:PATH:FUNCTION\n"
	"      --kind KIND[,KIND]   what to profile (default cpu), one file per kind\n"
	"                           (-o NAME.pb.gz becomes NAME.KIND.pb.gz with several):\n"
	"                             cpu           on-CPU time, sampled by -e at -F\n"
	"                             offcpu        time switched out, by stack and state\n"
	"                             wall          on- and off-CPU time together\n"
	"                             mutex         futex waits: contentions and delay\n"
	"                             threadcreate  every thread and process created\n"
	"                             alloc         heap allocations, allocated and in use\n"
	"                                           (Go's heap profile; -p or COMMAND)\n"
	"                           (offcpu, wall, mutex, threadcreate read tracepoints:\n"
	"                           tracefs and root; alloc uprobes: root)\n"
	"      --alloc-rate BYTES   --kind alloc: sample every BYTES allocated on average\n"
	"                           (default 512K, as Go)\n"
	"      --call-graph MODE    dwarf[,SIZE] (default; SIZE bytes of stack per sample,\n"
	"                           default 16384), fp (frame pointers) or none (pc only)\n"
	"  -g                       same as --call-graph=fp, as in perf\n"
	"  -d, --duration SECONDS   stop after this long (fractions allowed); with --every,\n"
	"                           how long each window records (default: all of it)\n"
	"  -o, --output FILE        where to write the profile (default cprof.pb.gz); with\n"
	"                           --every a strftime pattern naming each window's file\n"
	"                           by its start, e.g. 'cpu-%Y%m%dT%H%M%S.pb.gz'\n"
	"      --every SECONDS      periodic recording: a window every SECONDS (at least\n"
	"                           1), each written to its own file as it ends, until\n"
	"                           SIGINT/SIGTERM or the targets exit; SIGHUP starts a\n"
	"                           new window at once; between windows the events are off\n"
	"      --keep N             with --every: keep the newest N windows' files\n"
	"      --max-size SIZE      with --every: keep the newest files within SIZE bytes\n"
	"                           (K, M, G suffixes); only files this run wrote are removed\n"
	"      --format FMT         pprof (default), perf-script (one sample per record, in\n"
	"                           time order) or folded; else taken from -o's extension:\n"
	"                           .folded, .script/.perf-script/.perf\n"
	"      --debuginfo-path P   where to look for separate debug info, as elfutils\n"
	"                           spells it (default :.debug:/usr/lib/debug); debuginfod\n"
	"                           is asked too when DEBUGINFOD_URLS is set\n"
	"      --vmlinux FILE       the kernel image with DWARF, for kernel inline frames\n"
	"                           and lines (default: one found in /usr/lib/debug/boot\n"
	"                           or /boot whose build id is the running kernel's)\n"
	"      --verify-unwind      unwind every DWARF stack twice, by the cached CFI\n"
	"                           rules and by libdwfl alone, and count differences\n"
	"                           (a self-test; listed with -v)\n"
	"  -h, --help               show this help\n";

static const char usage_more[] =
	"\n"
	"Recording stops when COMMAND exits, when every -p process has exited, after\n"
	"--duration, or on SIGINT/SIGTERM; the profile is written in every case (with\n"
	"--every: the current window's, unless the events were off between windows).\n"
	"With COMMAND and --duration, COMMAND gets SIGTERM when the time is up.\n"
	"\n"
	"The core kernel's symbols are kept per boot in $XDG_CACHE_HOME/cprof or\n"
	"~/.cache/cprof (used only when that directory is the user's alone);\n"
	"CPROF_CACHE_DIR=DIR puts them elsewhere, CPROF_CACHE_DIR= (empty) turns\n"
	"this off.\n"
	"\n"
	"Examples:\n"
	"  cprof record -- ./server --port 8080\n"
	"  cprof record -p 4242 -d 30 -o server.pb.gz\n"
	"  cprof record -a -d 10 -F 99\n"
	"  cprof record -a --every 60 -d 10 --keep 1440 -o 'cpu/%Y%m%dT%H%M%S.pb.gz'\n"
	"  go tool pprof -top cprof.pb.gz\n";

struct record_opts {
	struct target_opts t; /* what to record */
	uint64_t duration_ns; /* 0: until the target ends or a signal; with --every, a window's */
	uint64_t every_ns;    /* --every: a window this often; 0: one recording */
	uint64_t keep;	      /* --keep: windows kept, 0 for all */
	uint64_t max_size;    /* --max-size: bytes kept, 0 for no bound */
	const char *output;
	const char *debuginfo_path;
	const char *vmlinux;
	enum view_kind format; /* VIEW_PERF_SCRIPT, VIEW_FOLDED, or VIEW_TOP meaning pprof */
	bool format_given;
	bool verify_unwind;
	char **command; /* NULL-terminated, or NULL */
};

static volatile sig_atomic_t stop_requested; /* the signal that asked, or 0 */
static volatile sig_atomic_t child_changed;
static volatile sig_atomic_t new_window; /* SIGHUP, with --every */

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

static void on_sighup(int sig)
{
	(void)sig;
	new_window = 1;
}

static void on_sigchld(int sig)
{
	(void)sig;
	child_changed = 1;
}

/* "fp", "none", "dwarf" or "dwarf,SIZE", as perf spells them. */
static int parse_format(const char *s, enum view_kind *ret)
{
	if (strcmp(s, "pprof") == 0)
		*ret = VIEW_TOP; /* stands for "not a text view" */
	else if (strcmp(s, "perf-script") == 0)
		*ret = VIEW_PERF_SCRIPT;
	else if (strcmp(s, "folded") == 0)
		*ret = VIEW_FOLDED;
	else
		return -EINVAL;
	return 0;
}

/* The format an output name implies, for -o without --format. */
static enum view_kind format_of(const char *path)
{
	static const struct {
		const char *suffix;
		enum view_kind kind;
	} suffixes[] = {
		{".folded", VIEW_FOLDED},
		{".script", VIEW_PERF_SCRIPT},
		{".perf-script", VIEW_PERF_SCRIPT},
		{".perf", VIEW_PERF_SCRIPT},
	};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t k = strlen(suffixes[i].suffix);

		if (n > k && strcmp(path + n - k, suffixes[i].suffix) == 0)
			return suffixes[i].kind;
	}
	return VIEW_TOP;
}

/* Returns <0 on a usage error (already reported), 0 for --help, >0 to go on. */
static int parse_args(int argc, char **argv, struct record_opts *o)
{
	enum {
		OPT_DEBUGINFO_PATH = 0x100,
		OPT_FORMAT,
		OPT_VMLINUX,
		OPT_VERIFY,
		OPT_EVERY,
		OPT_KEEP,
		OPT_MAX_SIZE,
	};
	static const struct option options[] = {
		TARGET_LONG,
		{"duration", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"debuginfo-path", required_argument, NULL, OPT_DEBUGINFO_PATH},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"vmlinux", required_argument, NULL, OPT_VMLINUX},
		{"verify-unwind", no_argument, NULL, OPT_VERIFY},
		{"every", required_argument, NULL, OPT_EVERY},
		{"keep", required_argument, NULL, OPT_KEEP},
		{"max-size", required_argument, NULL, OPT_MAX_SIZE},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c, r, targets;

	*o = (struct record_opts){.output = "cprof.pb.gz"};
	target_opts_init(&o->t);
	optind = 0; /* glibc: a full rescan, GNU extensions included */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+" TARGET_SHORT "d:o:h", options, NULL)) != -1) {
		r = target_option(c, optarg, &o->t, usage);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (c) {
		case 'd':
			if (parse_seconds(optarg, &o->duration_ns) < 0)
				return cmd_usage_error(usage, "invalid duration '%s'", optarg), -1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_DEBUGINFO_PATH:
			o->debuginfo_path = optarg;
			break;
		case OPT_VMLINUX:
			o->vmlinux = optarg;
			break;
		case OPT_VERIFY:
			o->verify_unwind = true;
			break;
		case OPT_EVERY:
			/* Windows are named to the second. */
			if (parse_seconds(optarg, &o->every_ns) < 0 || o->every_ns < 1000000000)
				return cmd_usage_error(usage,
						       "invalid --every '%s' (seconds, at least 1)",
						       optarg),
				       -1;
			break;
		case OPT_KEEP:
			if (parse_uint(optarg, 1, UINT32_MAX, &o->keep) < 0)
				return cmd_usage_error(usage, "invalid --keep '%s'", optarg), -1;
			break;
		case OPT_MAX_SIZE:
			if (parse_size(optarg, 1, UINT64_MAX, &o->max_size) < 0)
				return cmd_usage_error(usage, "invalid --max-size '%s'", optarg),
				       -1;
			break;
		case OPT_FORMAT:
			if (parse_format(optarg, &o->format) < 0)
				return cmd_usage_error(
					       usage,
					       "unknown format '%s' (pprof, perf-script, folded)",
					       optarg),
				       -1;
			o->format_given = true;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(usage_options, stdout);
			fputs(usage_more, stdout);
			return 0;
		default:
			return cmd_option_error(usage, c, argv);
		}
	}
	if (optind < argc) {
		o->command = &argv[optind];
		o->t.command = true;
	}
	if (!o->format_given)
		o->format = format_of(o->output);
	if (o->verify_unwind && o->t.callgraph != SAMPLER_CALLGRAPH_DWARF)
		return cmd_usage_error(usage, "--verify-unwind checks DWARF unwinding: drop -g or "
					      "--call-graph fp/none"),
		       -1;
	if ((o->keep || o->max_size) && !o->every_ns)
		return cmd_usage_error(usage, "--keep and --max-size go with --every"), -1;
	if (o->every_ns && o->duration_ns > o->every_ns)
		return cmd_usage_error(usage, "with --every, -d is each window's length: at most "
					      "--every"),
		       -1;
	if (o->every_ns && strcmp(o->output, "-") == 0)
		return cmd_usage_error(usage, "--every writes a file per window: give -o PATTERN"),
		       -1;
	targets = o->t.all_cpus + (o->t.pid_list != NULL) + (o->t.tid_list != NULL) +
		  (o->command != NULL);
	if (targets != 1)
		return cmd_usage_error(usage,
				       targets ? "give only one of -a, -p, -t and COMMAND"
					       : "nothing to profile: give -a, -p, -t or COMMAND"),
		       -1;
	return 1;
}

/* "123,456" -> pids. Returns 0, or -EINVAL (reported as a usage error by the caller). */
/*
 * Fork the command stopped before exec: it waits for a byte on go[0], so
 * its events can be opened with enable_on_exec first. If exec fails it
 * sends errno back through err[1], which exec would otherwise close.
 */
static int spawn_stopped(char **command, const struct allocator *preload, pid_t *ret_pid,
			 int *ret_go, int *ret_err)
{
	int go[2], err[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = -errno;

		(void)close(go[0]);
		(void)close(go[1]);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		(void)close(go[0]);
		(void)close(go[1]);
		(void)close(err[0]);
		(void)close(err[1]);
		return e;
	}
	if (pid == 0) {
		char byte;
		int e;

		(void)close(go[1]);
		(void)close(err[0]);
		/* Wait for the parent; EOF means it gave up on us. */
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		e = preload ? -allocator_export(preload) : 0;
		if (e == 0) {
			execvp(command[0], command);
			e = errno;
		}
		(void)!write(err[1], &e, sizeof(e));
		_exit(127);
	}
	(void)close(go[0]);
	(void)close(err[1]);
	*ret_pid = pid;
	*ret_go = go[1];
	*ret_err = err[0];
	return 0;
}

/* The exit code record gives for a command's wait status, as a shell would. */
static int child_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* cprof's own CPU time so far (user + system), in seconds. */
static double own_cpu_seconds(void)
{
	struct own_cost c;

	pipeline_own_cost(&c);
	return c.cpu_seconds;
}

/* cprof's resident memory now, in MiB. */
static double own_resident_mib(void)
{
	struct own_cost c;

	pipeline_own_cost(&c);
	return c.resident_bytes / (1024.0 * 1024.0);
}

/* The files record writes: one per kind. */
struct outputs {
	size_t n;
	char *names[SAMPLER_MAX_EVENTS];
	struct outfile *files[SAMPLER_MAX_EVENTS];
	off_t sizes[SAMPLER_MAX_EVENTS]; /* once written; -1 for a device or a pipe */
};

/*
 * Kind k's file: -o itself for one kind; with several, the kind's name
 * before the first extension of -o's file name (cprof.pb.gz ->
 * cprof.offcpu.pb.gz), or after a name without one.
 */
static char *output_name(const char *output, const char *kind, size_t nkinds)
{
	const char *base = strrchr(output, '/'), *dot;
	char *name;

	if (nkinds == 1)
		return strdup(output);
	base = base ? base + 1 : output;
	dot = strchr(base[0] == '.' ? base + 1 : base, '.');
	if (!dot)
		return asprintf(&name, "%s.%s", output, kind) < 0 ? NULL : name;
	return asprintf(&name, "%.*s.%s%s", (int)(dot - output), output, kind, dot) < 0 ? NULL
											: name;
}

static void outputs_release(struct outputs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		outfile_abort(o->files[i]);
		free(o->names[i]);
	}
	o->n = 0;
}

/* "a.pb.gz (1.2 KiB), b.pb.gz (3.4 KiB)" into buf. */
static void describe_outputs(const struct outputs *o, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < o->n && len < size; i++) {
		const char *name = strcmp(o->names[i], "-") == 0 ? "standard output" : o->names[i];
		int k = o->sizes[i] >= 0
				? snprintf(buf + len, size - len, "%s%s (%.1f KiB)", i ? ", " : "",
					   name, (double)o->sizes[i] / 1024.0)
				: snprintf(buf + len, size - len, "%s%s", i ? ", " : "", name);

		if (k < 0)
			break;
		len += (size_t)k;
	}
}

/* Open a file per kind for base (output_name). Returns 0, or the exit code of the failure, said. */
static int open_outputs(struct outputs *outs, const char *base, const struct kind *const *kinds,
			size_t nkinds)
{
	for (size_t k = 0; k < nkinds; k++, outs->n++) {
		int r;

		outs->names[k] = output_name(base, kinds[k]->name, nkinds);
		outs->sizes[k] = -1;
		r = outs->names[k] ? outfile_open(outs->names[k], &outs->files[k]) : -ENOMEM;
		if (r < 0) {
			int ret = cmd_fail(r, NULL, "cannot write '%s'",
					   outs->names[k] ? outs->names[k] : base);

			outs->n++;
			return ret;
		}
	}
	return 0;
}

/* Write w's profiles into outs's open files. Returns 0, or the exit code of the failure, said. */
static int write_window(struct collector_window *w, struct outputs *outs, enum view_kind format,
			int argc, char **argv, const struct session_stats *stats)
{
	for (size_t k = 0; k < outs->n && k < w->n; k++) {
		bool regular = outfile_is_regular(outs->files[k]);
		struct stat st;
		int r;

		pipeline_add_comments(w->profiles[k], argc, argv);
		pipeline_add_cost(w->profiles[k], stats, k == 0);
		r = pipeline_write(w->profiles[k], format, outs->files[k]);
		outs->files[k] = NULL;
		if (r < 0)
			return cmd_fail(r, NULL, "cannot write '%s'", outs->names[k]);
		/* Devices and pipes have no size to show. */
		outs->sizes[k] = regular && stat(outs->names[k], &st) == 0 ? st.st_size : -1;
	}
	return 0;
}

/* What the windows before this one had used, for each window's own figures. */
struct window_meter {
	double cpu;
	uint64_t samples, lost;
};

/*
 * A window of a periodic recording: its files named by its start, then the
 * oldest removed past --keep/--max-size. Returns 0, or the exit code of the
 * failure, said (the recording goes on).
 */
static int write_periodic(struct collector_window *w, const struct record_opts *o,
			  struct periodic *per, const struct kind *const *kinds, size_t nkinds,
			  struct outputs *outs, int argc, char **argv,
			  const struct session_stats *st, struct window_meter *m)
{
	double cpu = own_cpu_seconds();
	char *base = w->n ? periodic_name(per, w->profiles[0]->time_nanos) : NULL;
	char wrote[1024];
	uint64_t bytes = 0;
	int ret, r;

	if (!base)
		return cmd_fail(-ENAMETOOLONG, NULL, "-o '%s' names no file for this window",
				o->output);
	outputs_release(outs);
	ret = open_outputs(outs, base, kinds, nkinds);
	free(base);
	if (!ret)
		ret = write_window(w, outs, o->format, argc, argv, st);
	if (ret)
		return ret;
	for (size_t k = 0; k < outs->n; k++)
		bytes += outs->sizes[k] > 0 ? (uint64_t)outs->sizes[k] : 0;
	r = periodic_written(per, outs->names, outs->n, bytes);
	if (r < 0)
		return cmd_fail(r, NULL, "keeping track of the files written");
	describe_outputs(outs, wrote, sizeof(wrote));
	/* Each window's own cost, so a long recording shows whether it stays flat. */
	log_info("window of %.2f s: %llu samples (%llu lost), cprof used %.3f s of CPU, "
		 "%.1f MiB resident; wrote %s%s",
		 (double)w->profiles[0]->duration_nanos / 1e9,
		 (unsigned long long)(st->samples - m->samples),
		 (unsigned long long)(st->lost - m->lost), cpu - m->cpu, own_resident_mib(), wrote,
		 r ? "; removed the oldest" : "");
	*m = (struct window_meter){cpu, st->samples, st->lost};
	return 0;
}

/*
 * The status line on a terminal: elapsed time, samples, lost records and
 * processes, redrawn in place four times a second on stderr and cleared
 * before anything else is printed there. Only at the default verbosity
 * (-q wants nothing, -v's lines would cut it) and when stderr is a TTY.
 */
struct status_line {
	bool on, drawn;
	struct timespec start, next;
};

static void status_start(struct status_line *sl)
{
	*sl = (struct status_line){.on = isatty(STDERR_FILENO) && log_get_level() == LOG_WARN};
	(void)clock_gettime(CLOCK_MONOTONIC, &sl->start);
	sl->next = sl->start;
}

static void status_draw(struct status_line *sl, const struct session_stats *st)
{
	struct timespec now;

	if (!sl->on)
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < sl->next.tv_sec ||
	    (now.tv_sec == sl->next.tv_sec && now.tv_nsec < sl->next.tv_nsec))
		return;
	sl->next = now;
	sl->next.tv_nsec += 250000000;
	if (sl->next.tv_nsec >= 1000000000) {
		sl->next.tv_sec++;
		sl->next.tv_nsec -= 1000000000;
	}
	fprintf(stderr, "\rcprof: recording %.1f s, %llu samples, %llu lost, %zu process%s\033[K",
		(double)(now.tv_sec - sl->start.tv_sec) +
			(double)(now.tv_nsec - sl->start.tv_nsec) / 1e9,
		(unsigned long long)st->samples, (unsigned long long)st->lost, st->processes,
		st->processes == 1 ? "" : "es");
	sl->drawn = true;
}

static void status_clear(struct status_line *sl)
{
	if (sl->drawn)
		fputs("\r\033[K", stderr);
	sl->drawn = false;
}

/*
 * The end-of-recording summary. lost_hint: what to do when records were
 * lost, for what was recorded.
 */
static void print_summary(const struct session_stats *st, const struct outputs *outs,
			  const char *lost_hint)
{
	char stacks[96] = "", wrote[1024], unnamed[64] = "";

	if (log_get_level() < LOG_WARN)
		return;
	if (st->unwound)
		(void)snprintf(stacks, sizeof(stacks), "; %.1f%% of stacks complete",
			       100.0 * (double)(st->unwound - st->truncated) / (double)st->unwound);
	describe_outputs(outs, wrote, sizeof(wrote));
	if (st->unnamed)
		(void)snprintf(unnamed, sizeof(unnamed),
			       ", %llu of processes that could not be named",
			       (unsigned long long)st->unnamed);
	fprintf(stderr,
		"cprof: %llu samples (%llu lost%s) from %zu process%s in %.2f s%s; "
		"cprof used %.2f s of CPU; wrote %s\n",
		(unsigned long long)st->samples, (unsigned long long)st->lost, unnamed,
		st->processes, st->processes == 1 ? "" : "es", (double)st->duration_ns / 1e9,
		stacks, own_cpu_seconds(), wrote);
	log_info("%llu stacks unwound, median %.1f us each; %llu truncated",
		 (unsigned long long)st->unwound, (double)st->unwind_median_ns / 1000.0,
		 (unsigned long long)st->truncated);
	if (st->lost)
		log_warn("%llu records lost: the rings overflowed; %s",
			 (unsigned long long)st->lost, lost_hint);
	if (st->throttled)
		log_warn("the kernel throttled sampling %llu times "
			 "(kernel.perf_cpu_time_max_percent); lower -F",
			 (unsigned long long)st->throttled);
	if (st->unpaired)
		log_warn("%llu waits dropped: the record that would have ended them was lost",
			 (unsigned long long)st->unpaired);
}

static void print_unwind_summary(const struct unwind *u, bool verified)
{
	struct unwind_stats us;

	unwind_get_stats(u, &us);
	log_info("%llu stacks walked by cached CFI rules, %llu by libdwfl",
		 (unsigned long long)us.fast, (unsigned long long)us.slow);
	if (verified && log_get_level() >= LOG_WARN)
		fprintf(stderr,
			"cprof: verify-unwind: %llu of %llu fast walks differ from libdwfl%s\n",
			(unsigned long long)us.differed, (unsigned long long)us.verified,
			us.differed ? " (-v lists them)" : "");
}

/* What the symbolizer could not use, for -v. */
static void print_symbolize_notes(const struct symbolize *sym)
{
	struct symbolize_stats st;

	symbolize_get_stats(sym, &st);
	log_info("%llu addresses named from the symbol cache, %llu from their files",
		 (unsigned long long)st.cached, (unsigned long long)st.computed);
	if (st.kernel_cache_error)
		log_info("not using the saved kernel symbols '%s': %s; read /proc/kallsyms instead",
			 st.kernel_cache, cache_refusal(st.kernel_cache_error));
	if (st.jitmaps_refused)
		log_info("ignored %zu JIT perf map%s another user could have written (%s)",
			 st.jitmaps_refused, st.jitmaps_refused == 1 ? "" : "s",
			 st.jitmap_refused_why);
}

/* Start the stopped command: 0 once it runs, or an exit code already reported. */
static int release_child(const struct record_opts *o, pid_t *child, int *go_fd, int err_fd)
{
	int e = 0;
	ssize_t n;

	(void)!write(*go_fd, "g", 1);
	(void)close(*go_fd);
	*go_fd = -1;
	/* EOF: exec succeeded and closed the pipe. Otherwise we get its errno. */
	do
		n = read(err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(e))
		return 0;
	(void)waitpid(*child, NULL, 0);
	*child = 0;
	return cmd_fail(-e, NULL, "cannot run '%s'", o->command[0]);
}

int cmd_record(int argc, char **argv)
{
	struct collector_config cfg = {0};
	struct record_opts o;
	struct collector *c = NULL;
	struct collector_window w = {0};
	struct symbolize_options sym_opts = {0};
	struct pipeline pipe = {0};
	static struct target tg; /* large, and borrowed by the events until the end */
	const struct kind *const *kinds = tg.kinds;
	struct outputs outs = {0};
	struct periodic *per = NULL;
	struct window_meter meter = {0};
	struct status_line status = {0};
	size_t nkinds;
	struct sigaction sa = {0};
	pid_t child = 0;
	int go_fd = -1, err_fd = -1, child_status = 0, r, ret = 1, failed = 0;
	bool child_exited = false, paused;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : 0;

	ret = target_bind(&tg, &o.t, usage, &cfg);
	nkinds = tg.nkinds;
	if (!ret && nkinds > 1 && strcmp(o.output, "-") == 0)
		ret = cmd_usage_error(usage, "several kinds write several files: give -o NAME");
	if (ret) {
		target_release(&tg);
		return ret;
	}
	cfg.session.keep_times = o.format == VIEW_PERF_SCRIPT;
	cfg.duration_ns = o.duration_ns;
	if (o.every_ns) {
		/* Periodic: -d is a window's length, and the recording goes on until stopped. */
		cfg.window_ns = o.duration_ns ? o.duration_ns : o.every_ns;
		cfg.every_ns = o.every_ns;
		cfg.duration_ns = 0;
		r = periodic_new(o.output, o.keep, o.max_size, &per);
		if (r == -EINVAL)
			ret = cmd_usage_error(
				usage, "with --every, -o is a strftime pattern naming each "
				       "window's file: e.g. -o 'cpu-%%Y%%m%%dT%%H%%M%%S.pb.gz'");
		else if (r < 0)
			ret = cmd_fail(r, NULL, "setting up periodic recording");
		if (r < 0) {
			target_release(&tg);
			return ret;
		}
	}
	sym_opts.debuginfo_path = o.debuginfo_path;
	sym_opts.vmlinux = o.vmlinux;
	ret = pipeline_open(&pipe, sym_opts, &cfg);
	if (ret)
		goto out;
	if (pipe.unwinder)
		unwind_verify(pipe.unwinder, o.verify_unwind);

	/*
	 * Before any work: an output we cannot write is the cheapest failure to
	 * report. Periodic windows open theirs as they end: the first name is
	 * tried now, and dropped.
	 */
	if (per) {
		struct timespec now;
		char *first;

		(void)clock_gettime(CLOCK_REALTIME, &now);
		first = periodic_name(per, (int64_t)now.tv_sec * 1000000000);
		ret = first ? open_outputs(&outs, first, kinds, nkinds)
			    : cmd_fail(-ENAMETOOLONG, NULL, "-o '%s' names no file", o.output);
		free(first);
		outputs_release(&outs);
	} else {
		ret = open_outputs(&outs, o.output, kinds, nkinds);
	}
	if (ret)
		goto out;
	ret = 1;

	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the signal must cut the poll short. */
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sigchld;
	(void)sigaction(SIGCHLD, &sa, NULL);
	if (per) {
		sa.sa_handler = on_sighup;
		(void)sigaction(SIGHUP, &sa, NULL);
	}

	if (o.command) {
		const char *base = strrchr(o.command[0], '/');

		r = spawn_stopped(o.command, tg.alloc.preload[0] ? &tg.alloc : NULL, &child, &go_fd,
				  &err_fd);
		if (r < 0) {
			ret = cmd_fail(r, NULL, "cannot start '%s'", o.command[0]);
			goto out;
		}
		cfg.session.child = child;
		cfg.session.child_comm = base ? base + 1 : o.command[0];
		cfg.session.sampler.enable_on_exec = true;
	}

	ret = target_open(&o.t, &cfg, &c);
	if (ret)
		goto out;
	ret = 1;
	r = collector_start(c);
	if (r < 0) {
		ret = cmd_fail(r, NULL, "enabling the events");
		goto out;
	}
	if (child) {
		ret = release_child(&o, &child, &go_fd, err_fd);
		if (ret)
			goto out;
		ret = 1;
	}

	log_info("recording %zu events on %zu CPUs into %s '%s'%s; Ctrl-C to stop",
		 session_stats(collector_session(c))->events,
		 session_stats(collector_session(c))->rings, per ? "files named by" : "",
		 per ? o.output : outs.names[0], outs.n > 1 ? " and more" : "");
	status_start(&status);
	while (!stop_requested) {
		unsigned due;

		r = collector_poll(c, &due);
		status_draw(&status, session_stats(collector_session(c)));
		if (r < 0) {
			status_clear(&status);
			/* Keep what was collected: stop here, write it, and fail afterwards. */
			failed = cmd_fail(r, NULL,
					  "reading samples; writing what was recorded so far");
			break;
		}
		if (child && child_changed) {
			child_changed = 0;
			if (waitpid(child, &child_status, WNOHANG) == child) {
				child_exited = true;
				break;
			}
		}
		if (due & COLLECTOR_END)
			break;
		if (per && (new_window || (due & COLLECTOR_CUT))) {
			bool at_once = new_window;

			new_window = 0;
			/* SIGHUP in a pause: the next window starts now, nothing to write. */
			if (!collector_paused(c)) {
				status_clear(&status);
				r = collector_cut(c, &w);
				if (r < 0) {
					failed = cmd_fail(r, NULL, "cutting a window");
					break;
				}
				if (write_periodic(&w, &o, per, kinds, nkinds, &outs, argc, argv,
						   session_stats(collector_session(c)), &meter))
					failed = 1;
				collector_window_release(&w);
			}
			r = at_once ? collector_resume(c) : 0;
			if (r < 0) {
				failed = cmd_fail(r, NULL, "starting the next window");
				break;
			}
		}
		/* A command's end is its SIGCHLD, which gives its exit status. */
		if ((due & COLLECTOR_GONE) && !child) {
			log_info("every profiled process has exited");
			break;
		}
	}

	status_clear(&status);
	/* Stopped between windows: the events were off, there is nothing to write. */
	paused = collector_paused(c);
	r = collector_stop(c, &w);
	if (r == -ENOMEM && !w.n) {
		ret = cmd_fail(r, NULL, "keeping the profile");
		goto out;
	}
	if (r < 0)
		failed = cmd_fail(r, NULL, "reading the last samples; writing what was recorded");
	if (w.symbolize_error)
		failed = cmd_fail(w.symbolize_error, NULL,
				  "symbolizing; writing the names found so far");
	print_symbolize_notes(pipe.sym);
	if (per) {
		if (!paused && write_periodic(&w, &o, per, kinds, nkinds, &outs, argc, argv,
					      session_stats(collector_session(c)), &meter))
			failed = 1;
	} else {
		ret = write_window(&w, &outs, o.format, argc, argv,
				   session_stats(collector_session(c)));
		if (ret)
			goto out;
	}
	{
		bool alloc = false;

		for (size_t k = 0; k < nkinds; k++)
			alloc |= kinds[k] == &kind_alloc;
		print_summary(
			session_stats(collector_session(c)), &outs,
			alloc ? "give --alloc-rate more bytes or --call-graph a smaller "
				"dwarf,SIZE; attached, preloading libcprof-alloc.so costs less"
			      : "lower -F or profile fewer CPUs");
	}
	for (size_t k = 0; k < nkinds && log_get_level() >= LOG_WARN; k++) {
		char line[256];

		session_kind_summary(collector_session(c), k, line, sizeof(line));
		if (line[0])
			fprintf(stderr, "cprof: --kind %s: %s\n", kinds[k]->name, line);
	}
	if (pipe.unwinder)
		print_unwind_summary(pipe.unwinder, o.verify_unwind);
	ret = failed;

	if (child && !child_exited) {
		/* The recording ended first (duration or signal): end the command too. */
		(void)kill(child, SIGTERM);
		(void)waitpid(child, &child_status, 0);
	}
	/*
	 * A command that ran to its end gives its own status, 128+N when signal
	 * N ended it. A recording stopped by signal N exits 128+N too, as perf
	 * record does and as shells expect of an interrupted program; the
	 * profile is written either way. --duration running out is success.
	 */
	if (!failed && child && child_exited)
		ret = child_status_code(child_status);
	else if (!failed && stop_requested)
		ret = 128 + stop_requested;
	child = 0;
out:
	if (child) {
		(void)kill(child, SIGKILL);
		(void)waitpid(child, NULL, 0);
	}
	if (go_fd >= 0)
		(void)close(go_fd);
	if (err_fd >= 0)
		(void)close(err_fd);
	outputs_release(&outs);
	periodic_free(per);
	collector_window_release(&w);
	collector_free(c);
	pipeline_close(&pipe);
	target_release(&tg);
	return ret;
}
