/* SPDX-License-Identifier: MIT */
/*
 * cprof snapshot: every thread's stack at one instant (Go's goroutine
 * profile, for native processes), through ptrace (lib/collect/snapshot.h).
 * Each process's threads are stopped together, their registers and
 * stacks copied, and released; unwinding and symbolizing come after,
 * with the same unwinder and symbolizer as record. The profile has one
 * sample per thread (threads/count), labelled pid, tid, comm, process,
 * state, syscall and wchan; pprof views and --format text merge identical
 * stacks. How long each process was stopped is said and kept in the
 * profile's comments.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "cmd/snapshot.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/base/parse.h"
#include "lib/collect/kinds.h"
#include "lib/collect/proc.h"
#include "lib/collect/session.h"
#include "lib/collect/snapshot.h"
#include "lib/perf/arch.h"

#define DEFAULT_MAX_STACK (8u << 20) /* the usual stack rlimit: whole stacks */
#define MAX_REPEAT 100000

static const char usage[] =
	"usage: cprof snapshot (-p PID[,PID...] | -a) [-o FILE] [--format FMT]\n"
	"                      [--repeat N [--interval SECONDS]]\n"
	"\n"
	"Take the stack of every thread at one instant, as Go's goroutine profile does:\n"
	"the threads of each process are stopped together through ptrace (no signal is\n"
	"sent), their registers and stacks copied, and released; the stacks are unwound\n"
	"and symbolized after. Each sample is a thread (threads/count), labelled pid,\n"
	"tid, comm, process, state (R S D T Z …), syscall and wchan; kernel stacks are\n"
	"read from /proc (root). Threads in uninterruptible sleep (D) are not stopped:\n"
	"their kernel stack is what they have to say.\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID[,PID...]   the processes to take (a thread id stands for its\n"
	"                           process)\n"
	"  -a, --all                every process cprof may trace, kernel threads included\n"
	"  -o, --output FILE        where to write (default snapshot.pb.gz for pprof,\n"
	"                           standard output for the text formats)\n"
	"      --format FMT         pprof (default), text (each distinct stack with its\n"
	"                           thread count, as goroutine?debug=1), threads (every\n"
	"                           thread and its stack, as debug=2), perf-script, folded\n"
	"      --repeat N           take N snapshots into one profile (a poor man's\n"
	"                           wall-clock profile of a stuck process)\n"
	"      --interval SECONDS   between them (default 0.1)\n"
	"      --stack-size SIZE    the most stack copied per thread (default 8M)\n"
	"  -h, --help               show this help\n"
	"\n"
	"SIGINT/SIGTERM between snapshots write the ones taken; the threads are never\n"
	"left stopped or traced (the kernel releases them even if cprof is killed).\n"
	"\n"
	"Examples:\n"
	"  cprof snapshot -p 4242 --format text\n"
	"  cprof snapshot -p 4242 --repeat 50 --interval 0.2 -o stuck.pb.gz\n"
	"  go tool pprof -traces snapshot.pb.gz\n";

struct snapshot_opts {
	int32_t *pids;
	size_t npids;
	bool all;
	const char *output;
	enum view_kind format;
	uint64_t repeat;
	uint64_t interval_ns;
	uint64_t max_stack;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

static int parse_format(const char *s, enum view_kind *ret)
{
	static const struct {
		const char *name;
		enum view_kind kind;
	} formats[] = {
		{"pprof", VIEW_TOP},	   {"text", VIEW_THREADS_SUMMARY},
		{"threads", VIEW_THREADS}, {"perf-script", VIEW_PERF_SCRIPT},
		{"folded", VIEW_FOLDED},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(s, formats[i].name) == 0) {
			*ret = formats[i].kind;
			return 0;
		}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct snapshot_opts *o)
{
	static const struct option options[] = {
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"repeat", required_argument, NULL, 'r'},
		{"interval", required_argument, NULL, 'I'},
		{"stack-size", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*o = (struct snapshot_opts){
		.format = VIEW_TOP,
		.repeat = 1,
		.interval_ns = 100000000,
		.max_stack = DEFAULT_MAX_STACK,
	};
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:ao:h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			free(o->pids);
			o->pids = NULL;
			if (parse_id_list(optarg, &o->pids, &o->npids) < 0)
				return cmd_usage_error(usage, "invalid pid list '%s'", optarg), -1;
			break;
		case 'a':
			o->all = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &o->format) < 0)
				return cmd_usage_error(usage,
						       "unknown format '%s' (pprof, text, threads, "
						       "perf-script or folded)",
						       optarg),
				       -1;
			break;
		case 'r':
			if (parse_uint(optarg, 1, MAX_REPEAT, &o->repeat) < 0)
				return cmd_usage_error(usage, "invalid --repeat '%s' (1 to %u)",
						       optarg, MAX_REPEAT),
				       -1;
			break;
		case 'I':
			if (parse_seconds(optarg, &o->interval_ns) < 0)
				return cmd_usage_error(usage, "invalid --interval '%s'", optarg),
				       -1;
			break;
		case 's':
			if (parse_size(optarg, 4096, 1ULL << 30, &o->max_stack) < 0)
				return cmd_usage_error(usage,
						       "invalid --stack-size '%s' (4K to 1G)",
						       optarg),
				       -1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			return cmd_option_error(usage, c, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]), -1;
	if (o->all == (o->npids > 0))
		return cmd_usage_error(usage, "give -p PID or -a"), -1;
	if (!o->output)
		o->output = o->format == VIEW_TOP ? "snapshot.pb.gz" : "-";
	return 0;
}

static int64_t mono_ns(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Every process now, but cprof itself: -a. */
static int all_pids(int32_t **ret, size_t *ret_n)
{
	int32_t *tids = NULL;
	size_t n = 0;
	int r = proc_list_processes("/proc", &tids, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (tids[i] == getpid())
			tids[i] = tids[--n];
	*ret = tids;
	*ret_n = n;
	return 0;
}

/* Why ptrace was refused, as one line's hint. */
static const char *ptrace_hint(char *buf, size_t size)
{
	long scope = cmd_sysctl("/proc/sys/kernel/yama/ptrace_scope", 0);

	if (scope >= 3)
		(void)snprintf(buf, size,
			       "Yama's kernel.yama.ptrace_scope is %ld: no process may be traced "
			       "until reboot",
			       scope);
	else if (scope > 0)
		(void)snprintf(buf, size,
			       "Yama's kernel.yama.ptrace_scope is %ld: run cprof as root, or "
			       "'sysctl kernel.yama.ptrace_scope=0'",
			       scope);
	else
		(void)snprintf(buf, size, "run cprof as root or as the process's owner");
	return buf;
}

/* A process's name for messages, from /proc (the snapshot may have none). */
static void proc_name(int32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		(void)fclose(f);
	}
}

/* Why process pid could not be taken, in one line: what went wrong and what to do. */
static void describe_refusal(int r, const struct snapshot *s, int32_t pid, char *why, size_t size)
{
	char hint[160], name[32];

	switch (r) {
	case -ESRCH:
		(void)snprintf(why, size, "cannot snapshot process %d: %s; check the pid", pid,
			       strerror(-r));
		break;
	case -EBUSY:
		proc_name(s->tracer, name, sizeof(name));
		(void)snprintf(
			why, size,
			"cannot snapshot process %d: it is already traced by process %d (%s); "
			"detach that debugger or tracer first",
			pid, s->tracer, name[0] ? name : "?");
		break;
	case -EPERM:
	case -EACCES:
		(void)snprintf(why, size, "cannot trace process %d: %s; %s", pid, strerror(-r),
			       ptrace_hint(hint, sizeof(hint)));
		break;
	default:
		(void)snprintf(why, size, "cannot snapshot process %d: %s", pid, strerror(-r));
	}
}

/* Give s's threads to the session, each a sample of one thread. */
static int add_process(struct session *session, const struct snapshot *s, uint64_t time)
{
	const int64_t one = 1;

	for (size_t i = 0; i < s->nthreads; i++) {
		const struct snapshot_thread *t = &s->threads[i];
		struct session_named_frame kernel[65];
		struct kind_label labels[3];
		char state[2] = {t->state, '\0'}, nr[24];
		const char *call = NULL;
		size_t nl = 0, nk = t->nkernel < 64 ? t->nkernel : 64;
		uint64_t dwarf[ARCH_DWARF_NREGS], sp, fp, pc = 0;
		struct perf_record smp = {
			.type = PERF_RECORD_SAMPLE,
			.misc = PERF_RECORD_MISC_USER,
			.pid = s->pid,
			.tid = t->tid,
			.time = time,
		};
		int r;

		for (size_t k = 0; k < nk; k++)
			kernel[k] = (struct session_named_frame){.name = t->kernel[k].name,
								 .offset = t->kernel[k].offset};
		if (t->nregs && arch_dwarf_regs(t->regs, t->nregs, dwarf, &sp, &fp, &pc)) {
			smp.u.s.regs_abi = PERF_SAMPLE_REGS_ABI_64;
			smp.u.s.regs = t->regs;
			smp.u.s.nr_regs = (uint32_t)t->nregs;
			smp.u.s.stack = t->stack_size ? t->stack : NULL;
			smp.u.s.stack_size = t->stack_size;
			smp.u.s.ip = pc;
		}
		/* A thread with nothing to show still counts, under a mark that says why. */
		if (!nk && !smp.u.s.regs_abi)
			kernel[nk++] = (struct session_named_frame){
				.name = t->state == 'Z' || t->state == 'X' ? "[zombie]"
					: s->kernel_thread		   ? "[kernel thread]"
									   : "[no stack]",
				.mark = true};
		labels[nl++] = (struct kind_label){.key = "state", .str = state};
		if (t->syscall >= 0) {
			call = snapshot_syscall_name(t->syscall);
			if (!call) {
				(void)snprintf(nr, sizeof(nr), "%lld", (long long)t->syscall);
				call = nr;
			}
			labels[nl++] = (struct kind_label){.key = "syscall", .str = call};
		}
		if (t->wchan[0])
			labels[nl++] = (struct kind_label){.key = "wchan", .str = t->wchan};
		r = session_add_stack(session, &smp, t->comm, kernel, nk, &one, labels, nl);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * One snapshot of every target into the session. A process refused or
 * gone is counted (-a, or after the first snapshot) or fails the run (a
 * -p process at the first). Returns 0 or a negative errno, why said.
 */
static int take_all(const struct snapshot_run *run, const int32_t *pids, size_t npids, bool first,
		    struct session *session, struct snapshot_tally *tl, char *why, size_t why_size)
{
	struct snapshot_options so = {.max_stack = run->max_stack};
	struct profile *comments_to = session_profile(session, 0);
	uint64_t time = (uint64_t)mono_ns();

	for (size_t i = 0; i < npids; i++) {
		struct snapshot s;
		int r = snapshot_take(pids[i], &so, &s);

		if (r < 0) {
			if (!run->all && first) {
				describe_refusal(r, &s, pids[i], why, why_size);
				snapshot_release(&s);
				return r;
			}
			if (r == -ESRCH)
				tl->gone++;
			else
				tl->refused++;
			snapshot_release(&s);
			continue;
		}
		tl->processes++;
		tl->threads += s.nthreads;
		tl->vanished += s.vanished;
		if (s.stopped_ns) {
			char line[160];

			tl->stops++;
			tl->stopped_sum_ns += s.stopped_ns;
			if (s.stopped_ns > tl->stopped_max_ns)
				tl->stopped_max_ns = s.stopped_ns;
			log_info("process %d: %zu threads, stopped for %.3f ms", s.pid, s.nthreads,
				 (double)s.stopped_ns / 1e6);
			if (!run->all) {
				(void)snprintf(line, sizeof(line),
					       "stopped: process %d, %zu threads, for %.3f ms",
					       s.pid, s.nthreads, (double)s.stopped_ns / 1e6);
				(void)profile_add_comment(comments_to, line);
			}
		}
		r = add_process(session, &s, time);
		snapshot_release(&s);
		if (r < 0) {
			(void)snprintf(why, why_size, "adding the stacks of process %d: %s",
				       pids[i], strerror(-r));
			return r;
		}
	}
	return 0;
}

static bool stopping(const struct snapshot_run *run)
{
	return run->stop && *run->stop;
}

/* Sleep ns, or less when a stop signal arrives. */
static void pause_between(const struct snapshot_run *run, uint64_t ns)
{
	struct timespec t = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};

	while (!stopping(run) && nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

int snapshot_collect(const struct snapshot_run *run, int argc, char **argv, struct profile **ret,
		     struct snapshot_tally *tl, char *why, size_t why_size)
{
	struct collector_config cfg = {
		.session =
			{
				.sampler = {.callgraph = SAMPLER_CALLGRAPH_DWARF},
				.nkinds = 1,
			},
	};
	const struct kind *kinds[1] = {&kind_threads};
	struct session *session = NULL;
	struct profile *profile = NULL;
	struct symbolize_stats ss;
	struct timespec start_rt;
	int64_t start = mono_ns();
	const int32_t *pids = run->pids;
	int32_t *all = NULL;
	size_t npids = run->npids;
	struct pipeline pl;
	int r = 0;

	*tl = (struct snapshot_tally){0};
	(void)clock_gettime(CLOCK_REALTIME, &start_rt);
	if (run->all) {
		r = all_pids(&all, &npids);
		if (r < 0) {
			(void)snprintf(why, why_size, "listing processes in /proc: %s",
				       strerror(-r));
			return r;
		}
		pids = all;
	}
	cfg.session.kinds = kinds;
	if (pipeline_open(&pl, (struct symbolize_options){0}, &cfg) != 0)
		r = -EIO; /* said by pipeline_open */
	if (r == 0)
		r = session_open(&cfg.session, &session);
	if (r < 0 && r != -EIO)
		(void)snprintf(why, why_size, "setting up the snapshot: %s", strerror(-r));
	for (uint64_t i = 0; r == 0 && i < run->repeat && !stopping(run); i++) {
		if (i)
			pause_between(run, run->interval_ns);
		if (stopping(run))
			break;
		r = take_all(run, pids, npids, i == 0, session, tl, why, why_size);
		tl->snapshots += r == 0;
	}
	if (r == 0) {
		r = session_rotate(session, &profile);
		if (r < 0)
			(void)snprintf(why, why_size, "building the profile: %s", strerror(-r));
	}
	if (r == 0) {
		profile_set_time(profile, (int64_t)start_rt.tv_sec * 1000000000 + start_rt.tv_nsec,
				 mono_ns() - start);
		pipeline_add_comments(profile, argc, argv);
		r = symbolize_profile(pl.sym, profile, &ss);
		pipeline_add_cost(profile, NULL, true);
		if (r < 0)
			(void)snprintf(why, why_size, "symbolizing: %s", strerror(-r));
	}
	session_free(session);
	pipeline_close(&pl);
	free(all);
	if (r < 0) {
		profile_free(profile);
		return r;
	}
	*ret = profile;
	return 0;
}

static void print_summary(const struct snapshot_tally *tl, const char *output)
{
	uint64_t snapshots = tl->snapshots;

	char extra[160] = "";

	if (log_get_level() < LOG_WARN)
		return;
	if (tl->vanished || tl->gone || tl->refused)
		(void)snprintf(extra, sizeof(extra),
			       " (%zu threads exited meanwhile, %zu processes gone, %zu refused)",
			       tl->vanished, tl->gone, tl->refused);
	fprintf(stderr,
		"cprof: %zu thread%s of %zu process%s in %llu snapshot%s, each process stopped "
		"%.3f ms on average, %.3f ms at most%s; wrote %s\n",
		tl->threads, tl->threads == 1 ? "" : "s", tl->processes,
		tl->processes == 1 ? "" : "es", (unsigned long long)snapshots,
		snapshots == 1 ? "" : "s",
		tl->stops ? (double)tl->stopped_sum_ns / (double)tl->stops / 1e6 : 0.0,
		(double)tl->stopped_max_ns / 1e6, extra,
		strcmp(output, "-") == 0 ? "standard output" : output);
}

int cmd_snapshot(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	struct snapshot_opts o;
	struct snapshot_tally tl;
	struct profile *profile = NULL;
	struct outfile *out = NULL;
	char why[512] = "";
	int r;

	r = parse_args(argc, argv, &o);
	if (r != 0) {
		free(o.pids);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	/* A thread id stands for its process; one that does not exist stops here. */
	for (size_t i = 0; i < o.npids; i++) {
		int32_t pid = o.pids[i];

		r = proc_tgid("/proc", pid, &o.pids[i]);
		if (r < 0) {
			free(o.pids);
			return cmd_fail(r, "check the pid", "cannot snapshot process %d", pid);
		}
		/* A process cannot trace itself; -a leaves cprof out for the same reason. */
		if (o.pids[i] == getpid()) {
			free(o.pids);
			return cmd_usage_error(usage, "cannot snapshot cprof itself (pid %d)", pid);
		}
	}
	/* Open the output first: a path that cannot be written fails before anything is stopped. */
	r = outfile_open(o.output, &out);
	if (r < 0) {
		free(o.pids);
		return cmd_fail(r, NULL, "cannot write '%s'", o.output);
	}
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	r = snapshot_collect(&(struct snapshot_run){.pids = o.pids,
						    .npids = o.npids,
						    .all = o.all,
						    .repeat = o.repeat,
						    .interval_ns = o.interval_ns,
						    .max_stack = o.max_stack,
						    .stop = &stop_requested},
			     argc, argv, &profile, &tl, why, sizeof(why));
	free(o.pids);
	if (r < 0) {
		outfile_abort(out);
		if (why[0])
			log_err("%s", why);
		return 1;
	}
	r = pipeline_write(profile, o.format, out);
	profile_free(profile);
	if (r < 0)
		return cmd_fail(r, NULL, "cannot write '%s'", o.output);
	print_summary(&tl, o.output);
	return stop_requested ? 128 + stop_requested : 0;
}
