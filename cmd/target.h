/* SPDX-License-Identifier: MIT */
#ifndef CPROF_CMD_TARGET_H
#define CPROF_CMD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/allocator.h"
#include "lib/collect/collector.h"
#include "lib/collect/kinds.h"
#include "lib/perf/sampler.h"

/*
 * What to record, as the options of every recording command (record, top)
 * spell it: the target (-a, -p, -t, -C), the event (-e, -F, -c), the kinds
 * (--kind) and the call graph (--call-graph, -g). Checked, resolved and
 * bound into a collector's config here, with one error message for each
 * way it can be wrong.
 */
struct target_opts {
	bool all_cpus;
	const char *pid_list;
	const char *tid_list;
	const char *cpu_list;
	uint64_t freq;
	uint64_t count; /* -c: a sample every count events; 0: by -F */
	const char *event;
	const char *kind; /* a list: cpu,offcpu */
	enum sampler_callgraph callgraph;
	uint32_t stack_size;
	uint64_t alloc_rate; /* --alloc-rate: bytes between samples of --kind alloc, on average */
	bool command;	     /* the target is a command to launch (record -- COMMAND) */
};

/*
 * The options every recording command takes, for its getopt_long tables:
 * TARGET_SHORT in its short options, TARGET_LONG in its long ones, and
 * target_option for each option getopt_long returns.
 */
enum { TARGET_OPT_CALL_GRAPH = 0x200, TARGET_OPT_KIND, TARGET_OPT_ALLOC_RATE };
#define TARGET_SHORT "ap:t:C:F:c:e:g"
#define TARGET_LONG                                                                              \
	{"all-cpus", no_argument, NULL, 'a'}, {"pid", required_argument, NULL, 'p'},             \
		{"tid", required_argument, NULL, 't'}, {"cpu", required_argument, NULL, 'C'},    \
		{"freq", required_argument, NULL, 'F'}, {"count", required_argument, NULL, 'c'}, \
		{"event", required_argument, NULL, 'e'},                                         \
		{"kind", required_argument, NULL, TARGET_OPT_KIND},                              \
		{"alloc-rate", required_argument, NULL, TARGET_OPT_ALLOC_RATE},                  \
	{                                                                                        \
		"call-graph", required_argument, NULL, TARGET_OPT_CALL_GRAPH                     \
	}

/*
 * Option c (getopt_long's answer) with its argument into o. Returns 1 when
 * it was one of these, 0 when it is the command's own, or -1 after a usage
 * error (said, with usage).
 */
int target_option(int c, const char *arg, struct target_opts *o, const char *usage);

/* The defaults: cpu-clock at 999 Hz, kind cpu, DWARF with DEFAULT_STACK_SIZE. */
void target_opts_init(struct target_opts *o);

/* Room for what a custom -e event borrows: a tracepoint's system, a probe's file and function. */
struct target_event {
	struct sampler_event event;
	char system[64];
	char path[4096];
	char func[256];
};

/* What a config bound by target_bind borrows, until its collector is freed. */
struct target {
	const struct kind *kinds[SAMPLER_MAX_EVENTS];
	size_t nkinds;
	struct target_event custom;
	bool *cpus;
	int32_t *pids;
	struct allocator alloc; /* --kind alloc's probes */
};

/*
 * Bind o into cfg->session: the kinds (each checked to have what it opens,
 * tracefs for most), the event, the call graph, the CPUs and the processes
 * or threads (each checked to exist and be ours to profile). usage is the
 * command's synopsis for usage errors. Returns 0, or the exit code of the
 * failure, said. target_release either way.
 */
int target_bind(struct target *t, const struct target_opts *o, const char *usage,
		struct collector_config *cfg);

void target_release(struct target *t);

/*
 * collector_open for o, its failures said with what to do about them and
 * its fallbacks (another event, user space only) warned of. Returns 0 and
 * *ret, or the exit code of the failure.
 */
int target_open(const struct target_opts *o, const struct collector_config *cfg,
		struct collector **ret);

#endif
