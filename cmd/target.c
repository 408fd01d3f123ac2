/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "cmd/target.h"
#include "lib/base/log.h"
#include "lib/base/parse.h"
#include "lib/perf/tracefs.h"
#include "symbolize/probe.h"

void target_opts_init(struct target_opts *o)
{
	*o = (struct target_opts){
		.freq = 999,
		.event = "cpu-clock",
		.kind = "cpu",
		.callgraph = SAMPLER_CALLGRAPH_DWARF,
		.stack_size = DEFAULT_STACK_SIZE,
		.alloc_rate = ALLOCATOR_DEFAULT_RATE,
	};
}

static int parse_call_graph(const char *arg, struct target_opts *o)
{
	uint64_t size = DEFAULT_STACK_SIZE;

	if (strcmp(arg, "fp") == 0) {
		o->callgraph = SAMPLER_CALLGRAPH_FP;
		return 0;
	}
	if (strcmp(arg, "none") == 0) {
		o->callgraph = SAMPLER_CALLGRAPH_NONE;
		return 0;
	}
	if (strncmp(arg, "dwarf", 5) != 0 || (arg[5] != '\0' && arg[5] != ','))
		return -EINVAL;
	if (arg[5] == ',' && (parse_uint(arg + 6, 8, SAMPLER_STACK_MAX, &size) < 0 || size % 8))
		return -EINVAL;
	o->callgraph = SAMPLER_CALLGRAPH_DWARF;
	o->stack_size = (uint32_t)size;
	return 0;
}

int target_option(int c, const char *arg, struct target_opts *o, const char *usage)
{
	switch (c) {
	case 'a':
		o->all_cpus = true;
		return 1;
	case 'p':
		o->pid_list = arg;
		return 1;
	case 't':
		o->tid_list = arg;
		return 1;
	case 'C':
		o->cpu_list = arg;
		return 1;
	case 'F':
		if (parse_uint(arg, 1, 100000, &o->freq) < 0)
			return cmd_usage_error(usage, "invalid frequency '%s'", arg), -1;
		return 1;
	case 'c':
		if (parse_uint(arg, 1, UINT64_MAX >> 1, &o->count) < 0)
			return cmd_usage_error(usage, "invalid count '%s'", arg), -1;
		return 1;
	case 'e':
		o->event = arg;
		return 1;
	case 'g':
		o->callgraph = SAMPLER_CALLGRAPH_FP;
		return 1;
	case TARGET_OPT_KIND:
		o->kind = arg;
		return 1;
	case TARGET_OPT_ALLOC_RATE:
		if (parse_size(arg, 1, UINT64_MAX >> 2, &o->alloc_rate) < 0)
			return cmd_usage_error(usage, "invalid --alloc-rate '%s' (bytes: 512K, 1M)",
					       arg),
			       -1;
		return 1;
	case TARGET_OPT_CALL_GRAPH:
		if (parse_call_graph(arg, o) < 0)
			return cmd_usage_error(usage,
					       "invalid call-graph '%s' (fp, none, dwarf or "
					       "dwarf,SIZE with SIZE a multiple of 8 up to %u)",
					       arg, SAMPLER_STACK_MAX),
			       -1;
		return 1;
	default:
		return 0;
	}
}

/* A tracefs error, for what needed it. Returns the exit code. */
static int tracefs_error(int r, const char *what)
{
	switch (r) {
	case -ENODEV:
		return cmd_fail(r, "mount it: mount -t tracefs nodev /sys/kernel/tracing",
				"%s needs tracefs, which is not mounted", what);
	case -EACCES:
	case -EPERM:
		return cmd_fail(r, "run cprof as root", "%s needs tracefs, which is root's", what);
	case -ENOENT:
		return cmd_fail(r, "list them in /sys/kernel/tracing/available_events",
				"this kernel has no tracepoint %s", what);
	default:
		return cmd_fail(r, NULL, "%s", what);
	}
}

/* -e kprobe:FUNC or uprobe:PATH:FUNC into c->event. Returns 0, or an exit code (reported). */
static int resolve_probe(const char *name, struct target_event *c, const char *usage)
{
	bool user = strncmp(name, "uprobe:", 7) == 0;
	const char *spec = name + 7, *last = strrchr(spec, ':');
	uint64_t off = 0;
	int r;

	if (user &&
	    (!last || last == spec || !last[1] || (size_t)(last - spec) >= sizeof(c->path) ||
	     strlen(last + 1) >= sizeof(c->func)))
		return cmd_usage_error(usage, "invalid uprobe '%s' (uprobe:PATH:FUNCTION)", name);
	if (!user && (!spec[0] || strlen(spec) >= sizeof(c->func)))
		return cmd_usage_error(usage, "invalid kprobe '%s' (kprobe:FUNCTION)", name);
	if (user) {
		(void)snprintf(c->path, sizeof(c->path), "%.*s", (int)(last - spec), spec);
		(void)snprintf(c->func, sizeof(c->func), "%s", last + 1);
		r = probe_offset(c->path, c->func, &off);
		if (r == -ESRCH)
			return cmd_fail(r, "nm -D or readelf -s list what it has",
					"no function '%s' in '%s'", c->func, c->path);
		if (r < 0)
			return cmd_fail(r, NULL, "cannot place a uprobe in '%s'", c->path);
	} else {
		(void)snprintf(c->func, sizeof(c->func), "%s", spec);
	}
	r = sampler_event_probe(name, c->func, user ? c->path : NULL, off, &c->event);
	if (r < 0)
		return cmd_fail(
			r,
			user ? "it needs CONFIG_UPROBE_EVENTS"
			     : "it needs CONFIG_KPROBE_EVENTS; a tracepoint (-e SYSTEM:NAME) "
			       "may do",
			"this kernel has no %s PMU", user ? "uprobe" : "kprobe");
	return 0;
}

/*
 * -e as a named event (cycles, page-faults…), a tracepoint SYSTEM:NAME
 * whose id tracefs gives, or a probe (kprobe:FUNC, uprobe:PATH:FUNC), into
 * *c. Returns the event, or NULL with *ret_exit set (reported).
 */
static const struct sampler_event *resolve_event(const char *name, struct target_event *c,
						 const char *usage, int *ret_exit)
{
	const struct sampler_event *e = sampler_event_find(name);
	const char *colon = strchr(name, ':');
	char *system = c->system;
	size_t size = sizeof(c->system);
	uint64_t id;
	int r;

	if (e)
		return e;
	if (strncmp(name, "kprobe:", 7) == 0 || strncmp(name, "uprobe:", 7) == 0) {
		*ret_exit = resolve_probe(name, c, usage);
		return *ret_exit ? NULL : &c->event;
	}
	if (!colon || (size_t)(colon - name) >= size || !colon[1]) {
		*ret_exit = cmd_usage_error(usage, "unknown event '%s'", name);
		return NULL;
	}
	(void)snprintf(system, size, "%.*s", (int)(colon - name), name);
	r = tracefs_event_id(system, colon + 1, &id);
	if (r < 0) {
		*ret_exit = tracefs_error(r, name);
		return NULL;
	}
	c->event = (struct sampler_event){
		.name = name,
		.type = PERF_TYPE_TRACEPOINT,
		.config = id,
		.value_type = name,
		.value_unit = "count",
		.every = true,
	};
	return &c->event;
}

/* --kind's list into kinds (each once). Returns how many, or 0 after a usage error. */
static size_t parse_kinds(const char *list, const struct kind **kinds, size_t max,
			  const char *usage)
{
	char *copy = strdup(list), *tok, *save = NULL;
	size_t n = 0;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct kind *k = kind_find(tok);
		bool seen = false;

		if (!k || n == max) {
			if (k)
				(void)cmd_usage_error(usage, "too many kinds in '%s'", list);
			else
				(void)cmd_usage_error(
					usage,
					"unknown kind '%s' (cpu, offcpu, wall, mutex, "
					"threadcreate, alloc)",
					tok);
			free(copy);
			return 0;
		}
		for (size_t i = 0; i < n; i++)
			seen |= kinds[i] == k;
		if (!seen)
			kinds[n++] = k;
	}
	free(copy);
	if (n == 0)
		(void)cmd_usage_error(usage, "no kind in '%s'", list);
	return n;
}

/*
 * The targets of the options into the session's config: -C, -p or -t (each
 * checked to exist and be ours to profile). Returns 0, or an exit code
 * already reported.
 */
static int set_targets(const struct target_opts *o, struct session_config *cfg, bool **cpus,
		       int32_t **pids, const char *usage)
{
	if (o->cpu_list) {
		int ncpu = sampler_online_cpus(cpus);

		if (ncpu < 0)
			return cmd_fail(ncpu, NULL, "reading the CPU list");
		if (parse_cpu_list(o->cpu_list, *cpus, (size_t)ncpu) < 0)
			return cmd_usage_error(usage, "invalid CPU list '%s' (this machine has %d)",
					       o->cpu_list, ncpu);
		cfg->sampler.cpus = *cpus;
		cfg->sampler.ncpus = (size_t)ncpu;
	}
	if (o->pid_list || o->tid_list) {
		const char *list = o->pid_list ? o->pid_list : o->tid_list;
		size_t n;

		if (parse_id_list(list, pids, &n) < 0)
			return cmd_usage_error(usage, "invalid %s list '%s'",
					       o->pid_list ? "pid" : "tid", list);
		for (size_t i = 0; i < n; i++) {
			/* kill(0) accepts thread ids too; EPERM: someone else's, unless we are
			 * root. */
			if (kill((*pids)[i], 0) < 0 && (errno == ESRCH || errno == EPERM))
				return cmd_fail(-errno,
						errno == EPERM ? "it belongs to another user: run "
								 "cprof as root"
							       : NULL,
						"cannot profile %s %d", o->pid_list ? "pid" : "tid",
						(*pids)[i]);
		}
		if (o->pid_list) {
			cfg->pids = *pids;
			cfg->npids = n;
		} else {
			cfg->tids = *pids;
			cfg->ntids = n;
		}
	}
	return 0;
}

static int open_error(int r, const struct target_opts *o)
{
	char hint[200];
	int paranoid = sampler_paranoid();
	/* What each kind of target needs: -a the whole CPU (0), a process's user space 2. */
	int need = o->all_cpus ? 0 : 2;

	switch (r) {
	case -EACCES:
	case -EPERM:
		if (paranoid <= need) /* the setting allows it: the target is another user's */
			return cmd_fail(r, "it belongs to another user: run cprof as root",
					"perf_event_open");
		(void)snprintf(hint, sizeof(hint),
			       "run as root, or set kernel.perf_event_paranoid to %d or lower "
			       "(sysctl -w kernel.perf_event_paranoid=%d) or grant CAP_PERFMON",
			       need, need);
		return cmd_fail(r, hint, "perf_event_open");
	case -ENOENT:
	case -EOPNOTSUPP:
		return cmd_fail(r, "this machine has no such counter; try -e cpu-clock",
				"event '%s'", o->event);
	case -EMFILE:
		return cmd_fail(r, "raise the limit with 'ulimit -n'",
				"perf_event_open (one file per thread and CPU)");
	case -ENODEV:
		return cmd_fail(r, "check the list given to -C", "no usable CPU");
	default:
		return cmd_fail(r, NULL, "perf_event_open");
	}
}

/*
 * --kind alloc's probes, for its target: a command gets the preload
 * library, a process what allocator_for_process finds. Returns 0 or the
 * exit code of the failure, said.
 */
static int bind_alloc(struct target *t, const struct target_opts *o, const char *usage,
		      struct collector_config *cfg)
{
	int r;

	if (!o->command && !cfg->session.npids)
		return cmd_usage_error(usage,
				       "--kind alloc follows processes: give -p PID or a command");
	if (o->command) {
		r = allocator_for_command(o->alloc_rate, &t->alloc);
		if (r == -ENOENT)
			return cmd_fail(r,
					"build it (it is preload/ in the build tree) or set "
					"CPROF_ALLOC_LIBRARY to its path",
					"cannot find cprof's preload library libcprof-alloc.so");
		if (r < 0)
			return cmd_fail(r, "set CPROF_ALLOC_LIBRARY to cprof's own",
					"'%s' is not cprof's preload library", t->alloc.path);
	} else {
		r = allocator_for_process(cfg->session.pids[0], o->alloc_rate, &t->alloc);
		if (r == 0 && !t->alloc.target.hooks)
			allocator_measure_trap(&t->alloc, o->callgraph == SAMPLER_CALLGRAPH_DWARF
								  ? o->stack_size
								  : 0);
		if (r == -ENOENT)
			return cmd_fail(r, "is it a program of the malloc family (C, C++, Rust)?",
					"no malloc found in pid %d's executable or libc",
					cfg->session.pids[0]);
		if (r < 0)
			return cmd_fail(r, NULL, "finding the allocator of pid %d",
					cfg->session.pids[0]);
	}
	cfg->session.kind_options.alloc = &t->alloc.target;
	if (t->alloc.target.hooks && !cfg->session.sampler.ring_pages)
		cfg->session.sampler.ring_pages = ALLOCATOR_HOOK_RING_PAGES;
	return 0;
}

int target_bind(struct target *t, const struct target_opts *o, const char *usage,
		struct collector_config *cfg)
{
	int ret = 0;

	*t = (struct target){0};
	t->nkinds = parse_kinds(o->kind, t->kinds, SAMPLER_MAX_EVENTS, usage);
	if (!t->nkinds)
		return EXIT_USAGE;
	cfg->session.kinds = t->kinds;
	cfg->session.nkinds = t->nkinds;
	cfg->session.kind_options.event = resolve_event(o->event, &t->custom, usage, &ret);
	if (!cfg->session.kind_options.event)
		return ret;
	cfg->session.kind_options.freq = o->freq;
	cfg->session.kind_options.count = o->count;
	cfg->session.sampler.callgraph = o->callgraph;
	cfg->session.sampler.stack_size = o->stack_size;
	ret = set_targets(o, &cfg->session, &t->cpus, &t->pids, usage);
	for (size_t k = 0; k < t->nkinds && !ret; k++) {
		/* What each kind opens, now: tracefs missing is a clear error, not a fallback. */
		struct sampler_spec specs[KIND_MAX_EVENTS];
		char what[96];
		int r;

		if (t->kinds[k] == &kind_alloc) {
			ret = bind_alloc(t, o, usage, cfg);
			if (ret)
				break;
		}
		r = t->kinds[k]->events(&cfg->session.kind_options, specs);
		(void)snprintf(what, sizeof(what), "--kind %s", t->kinds[k]->name);
		if (r == -ENODEV && t->kinds[k] == &kind_alloc)
			ret = cmd_fail(r, "it needs CONFIG_UPROBE_EVENTS",
				       "this kernel has no uprobe PMU for --kind alloc");
		else if (r < 0)
			ret = tracefs_error(r, what);
	}
	return ret;
}

void target_release(struct target *t)
{
	free(t->cpus);
	free(t->pids);
	t->cpus = NULL;
	t->pids = NULL;
}

int target_open(const struct target_opts *o, const struct collector_config *cfg,
		struct collector **ret)
{
	const struct collector_fallbacks *fb;
	int r = collector_open(cfg, ret);

	if (r == -ESRCH && (cfg->session.npids || cfg->session.ntids))
		return cmd_fail(r, NULL, "cannot profile %s %s", o->pid_list ? "pid" : "tid",
				o->pid_list ? o->pid_list : o->tid_list);
	if (r < 0)
		return open_error(r, o);
	fb = collector_fallbacks(*ret);
	if (fb->event_error)
		log_warn("event '%s' is not supported here (%s); falling back to cpu-clock",
			 o->event, strerror(-fb->event_error));
	if (fb->user_only_paranoid)
		log_warn("kernel.perf_event_paranoid is %d: recording user space only; "
			 "for kernel frames set it to 1 or lower, or run as root",
			 fb->user_only_paranoid);
	return 0;
}
