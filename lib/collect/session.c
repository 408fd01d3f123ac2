/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/vec.h"
#include "lib/collect/kinds.h"
#include "lib/collect/proc.h"
#include "lib/collect/session.h"
#include "lib/perf/arch.h"
#include "lib/perf/decode.h"
#include "lib/perf/merge.h"
#include "lib/perf/reader.h"

#define MAX_FRAMES 1024
#define MAX_TIMINGS (1u << 20) /* unwind times kept for the median: 4 MiB at most */

#define MAX_KINDS SAMPLER_MAX_EVENTS

enum label_key { LABEL_PID, LABEL_TID, LABEL_COMM, LABEL_PROCESS, LABEL_TIME, LABEL_CPU, NLABELS };

/* A profile mapping id known for a map of the process model (by its serial). */
struct mapping_id {
	uint64_t serial;
	uint32_t id;
};

/*
 * One kind's profile and the ids the session keeps into it. All of it
 * belongs to the profile: a rotation drops it with the profile handed over.
 */
struct output {
	const struct kind *kind;
	struct profile *profile;
	uint32_t label_keys[NLABELS];
	uint32_t nanoseconds;	     /* the unit of the time label */
	uint32_t kernel_mapping;     /* profile mapping id, 0 until the first kernel frame */
	uint32_t truncated_location; /* the "[truncated]" frame, 0 until needed */
	struct mapping_id *mappings; /* the maps sampled so far, by serial */
	size_t nmappings, mappings_cap;
	struct hashmap mapping_index;
	struct mapping_id last; /* the map of the previous frame: stacks stay in one map a while */
};

struct session {
	struct session_config cfg;
	struct output outputs[MAX_KINDS];
	size_t noutputs;
	/* Event i of the sampler's list: the output it feeds, and its index among the kind's. */
	struct {
		uint8_t output, index;
	} events[SAMPLER_MAX_EVENTS];
	struct sampler_spec specs[SAMPLER_MAX_EVENTS];
	struct sampler *sampler;
	struct reader *reader;
	struct merge *merge;
	struct proc_table *procs;
	struct session_stats stats;
	uint64_t regs_mask;
	uint64_t time_type; /* a sample_type giving any record's time (they share the layout) */
	bool running;
	struct timespec start_mono, window_mono;
	int64_t window_realtime_ns;
	uint32_t *unwind_ns; /* a sample of unwind times, for the median */
	size_t nunwind_ns, unwind_ns_cap;
	uint32_t locs[MAX_FRAMES];
	struct session_frame frames[MAX_FRAMES];
};

static const char *proc_root(const struct session *s)
{
	return s->cfg.proc_root ? s->cfg.proc_root : "/proc";
}

/* Free what an output holds into its profile, and the profile. */
static void output_release(struct output *o)
{
	profile_free(o->profile);
	free(o->mappings);
	hashmap_release(&o->mapping_index);
	*o = (struct output){.kind = o->kind};
}

/* A fresh, empty profile for the output's kind: its types and label keys. */
static int output_reset(struct session *s, struct output *o)
{
	static const char *const keys[NLABELS] = {"pid", "tid", "comm", "process", "time", "cpu"};
	struct output fresh = {.kind = o->kind, .profile = profile_new()};
	struct profile *p = fresh.profile;
	int r;

	if (!p)
		return -ENOMEM;
	r = o->kind->setup(p, &s->cfg.kind_options);
	if (r == 0 && p->ntypes > KIND_MAX_VALUES)
		r = -EINVAL; /* a kind with more values than a sample has room for */
	for (int i = 0; i < NLABELS && r == 0; i++)
		r = profile_intern(p, keys[i], &fresh.label_keys[i]);
	if (r == 0)
		r = profile_intern(p, "nanoseconds", &fresh.nanoseconds);
	if (r < 0) {
		output_release(&fresh);
		return r;
	}
	output_release(o);
	*o = fresh;
	return 0;
}

/* The kinds' events as one list, each event knowing its kind's output. */
static int list_events(struct session *s)
{
	size_t n = 0;

	for (size_t k = 0; k < s->noutputs; k++) {
		struct sampler_spec specs[KIND_MAX_EVENTS];
		size_t m = s->outputs[k].kind->events(&s->cfg.kind_options, specs);

		if (m > KIND_MAX_EVENTS || n + m > SAMPLER_MAX_EVENTS)
			return -EINVAL;
		for (size_t i = 0; i < m; i++, n++) {
			s->specs[n] = specs[i];
			s->events[n].output = (uint8_t)k;
			s->events[n].index = (uint8_t)i;
		}
	}
	s->cfg.sampler.events = s->specs;
	s->cfg.sampler.nevents = n;
	return 0;
}

/* Add id to ids[0..*n) unless it is there. The lists are short: what a user typed. */
static int add_unique(int32_t **ids, size_t *n, size_t *cap, int32_t id)
{
	int r;

	for (size_t i = 0; i < *n; i++)
		if ((*ids)[i] == id)
			return 0;
	r = vec_reserve(ids, cap, *n + 1, sizeof(**ids));
	if (r == 0)
		(*ids)[(*n)++] = id;
	return r;
}

/*
 * Follow the given processes (every current thread) or threads (each
 * alone), seeding their processes' maps. Each process and thread once:
 * "-p S,S" or a process and one of its threads must not open every event
 * twice and count every sample twice.
 */
static int seed_targets(struct session *s, int32_t **ret_tids, size_t *ret_n)
{
	const bool threads = s->cfg.ntids > 0;
	const int32_t *ids = threads ? s->cfg.tids : s->cfg.pids;
	const size_t nids = threads ? s->cfg.ntids : s->cfg.npids;
	int32_t *procs = NULL, *all = NULL;
	size_t nprocs = 0, procs_cap = 0, n = 0, cap = 0;
	int r = 0;

	for (size_t i = 0; i < nids && r == 0; i++) {
		int32_t tgid;

		r = proc_tgid(proc_root(s), ids[i], &tgid);
		if (r == 0)
			r = add_unique(&procs, &nprocs, &procs_cap, tgid);
		if (r == 0 && threads)
			r = add_unique(&all, &n, &cap, ids[i]);
	}
	for (size_t i = 0; i < nprocs && r == 0; i++) {
		int32_t *tids = NULL;
		size_t ntids = 0;

		r = proc_table_scan(s->procs, proc_root(s), procs[i]);
		if (r < 0 || threads)
			continue;
		r = proc_list_tasks(proc_root(s), procs[i], &tids, &ntids);
		for (size_t j = 0; j < ntids && r == 0; j++)
			r = add_unique(&all, &n, &cap, tids[j]);
		free(tids);
	}
	free(procs);
	if (r < 0) {
		free(all);
		return r;
	}
	*ret_tids = all;
	*ret_n = n;
	return 0;
}

int session_open(const struct session_config *cfg, struct session **ret)
{
	int32_t *tids = NULL;
	size_t ntids = 0;
	struct session *s;
	int r;

	if (cfg->sampler.callgraph == SAMPLER_CALLGRAPH_DWARF && !cfg->unwinder)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.kind_options.event)
		s->cfg.kind_options.event = sampler_event_default();
	if (!s->cfg.kind_options.freq)
		s->cfg.kind_options.freq = 999;
	s->noutputs = cfg->nkinds ? cfg->nkinds : 1;
	if (s->noutputs > MAX_KINDS) {
		free(s);
		return -EINVAL;
	}
	for (size_t k = 0; k < s->noutputs; k++)
		s->outputs[k].kind = cfg->nkinds ? cfg->kinds[k] : kind_default();
	s->merge = merge_new();
	s->procs = proc_table_new();
	if (!s->merge || !s->procs) {
		r = -ENOMEM;
		goto out;
	}
	r = list_events(s);
	for (size_t k = 0; k < s->noutputs && r == 0; k++)
		r = output_reset(s, &s->outputs[k]);
	if (r < 0)
		goto out;

	if (cfg->child) {
		struct proc *p;

		/* Its maps now are ours; its exec will bring its own. */
		r = proc_table_get(s->procs, cfg->child, &p);
		if (r < 0)
			goto out;
		r = proc_table_comm(s->procs, cfg->child, cfg->child,
				    cfg->child_comm ? cfg->child_comm : "", false);
		if (r < 0)
			goto out;
		tids = malloc(sizeof(*tids));
		if (!tids) {
			r = -ENOMEM;
			goto out;
		}
		tids[0] = cfg->child;
		ntids = 1;
	} else if (cfg->npids || cfg->ntids) {
		r = seed_targets(s, &tids, &ntids);
		if (r < 0)
			goto out;
	}

	r = sampler_open(&s->cfg.sampler, tids, ntids, &s->sampler);
	if (r < 0)
		goto out;
	s->time_type = sampler_sample_type(s->sampler, 0);
	s->regs_mask = sampler_regs_mask(s->sampler);
	s->stats.events = sampler_nevents(s->sampler);
	s->stats.rings = sampler_nrings(s->sampler);
	r = reader_new(s->sampler, &(struct reader_config){0}, &s->reader);
out:
	free(tids);
	if (r < 0) {
		session_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	reader_free(s->reader); /* before the rings it reads */
	sampler_free(s->sampler);
	merge_free(s->merge);
	proc_table_free(s->procs);
	for (size_t k = 0; k < s->noutputs; k++)
		output_release(&s->outputs[k]);
	free(s->unwind_ns);
	free(s);
}

int session_start(struct session *s)
{
	struct timespec rt;
	int r;

	(void)clock_gettime(CLOCK_REALTIME, &rt);
	(void)clock_gettime(CLOCK_MONOTONIC, &s->start_mono);
	s->window_mono = s->start_mono;
	s->stats.start_realtime_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
	s->window_realtime_ns = s->stats.start_realtime_ns;
	for (size_t k = 0; k < s->noutputs; k++)
		profile_set_time(s->outputs[k].profile, s->window_realtime_ns, 0);
	/* With a child, enable_on_exec starts the events at its exec. */
	if (!s->cfg.sampler.enable_on_exec) {
		r = sampler_enable(s->sampler);
		if (r < 0)
			return r;
	}
	s->running = true;
	/*
	 * Maps and threads: /proc is read once the events run, not before, so
	 * no process is born unseen in between. Every change after this point
	 * comes as a record too, and those older than the scan, applied after
	 * it, bring the model to the same state.
	 */
	if (s->cfg.child || s->cfg.npids || s->cfg.ntids)
		return 0;
	/*
	 * Names first, a few microseconds a process: one that was born before
	 * the events ran and lives only milliseconds may be gone before the
	 * full scan reaches it, and its samples would have no name.
	 */
	r = proc_table_scan_names(s->procs, proc_root(s));
	return r < 0 ? r : proc_table_scan_all(s->procs, proc_root(s));
}

/* Stack resolution: frames to profile locations. */

static int kernel_location(struct output *o, uint64_t pc, uint32_t flags, uint32_t *ret)
{
	int r;

	if (!o->kernel_mapping) {
		struct profile_mapping m = {
			.start = arch_kernel_start(),
			.limit = UINT64_MAX,
			.flags = PROFILE_MAPPING_KERNEL,
		};

		r = profile_intern(o->profile, "[kernel.kallsyms]", &m.file);
		if (r < 0)
			return r;
		r = profile_intern_mapping(o->profile, &m, &o->kernel_mapping);
		if (r < 0)
			return r;
	}
	return profile_intern_location(o->profile, o->kernel_mapping, pc, flags, ret);
}

static bool mapping_id_eq(const void *ctx, uint32_t idx)
{
	const struct output *o = ctx;

	return o->mappings[idx].serial == o->last.serial;
}

/* The profile mapping of a map of the process model, interned at its first sample. */
static int mapping_of(struct session *s, struct output *o, struct proc *p, struct proc_map *pm,
		      uint32_t *ret)
{
	static const char hex[] = "0123456789abcdef";
	struct profile_mapping m = {
		.start = pm->start,
		.limit = pm->end,
		.offset = pm->pgoff,
		.pid = p->pid,
	};
	char id[2 * PROC_BUILD_ID_MAX + 1];
	uint64_t hash = hash_u64(pm->serial, 0);
	uint32_t idx;
	int r;

	if (o->last.serial == pm->serial && o->last.id) {
		*ret = o->last.id;
		return 0;
	}
	o->last = (struct mapping_id){.serial = pm->serial};
	r = VEC_PUSH_RESERVE(o->mappings, o->nmappings, o->mappings_cap);
	if (r < 0)
		return r;
	r = hashmap_find_or_add(&o->mapping_index, hash, mapping_id_eq, o, (uint32_t)o->nmappings,
				&idx);
	if (r < 0)
		return r;
	if (r == 1) {
		o->last.id = o->mappings[idx].id;
		*ret = o->last.id;
		return 0;
	}
	/* Not found: the slot at idx is ours to fill, or the index points past the array. */
	if (s->cfg.observer)
		s->cfg.observer->map_sampled(s->cfg.observer->ctx, p->pid, pm);
	r = profile_intern(o->profile, pm->path, &m.file);
	if (r < 0)
		return r;
	for (size_t i = 0; i < pm->build_id_size; i++) {
		id[2 * i] = hex[pm->build_id[i] >> 4];
		id[2 * i + 1] = hex[pm->build_id[i] & 15];
	}
	id[2 * pm->build_id_size] = '\0';
	if (r == 0)
		r = profile_intern(o->profile, id, &m.build_id);
	/* Code in anonymous memory or a memfd is JIT output: its names are per process. */
	if (proc_map_is_anon(pm))
		m.flags |= PROFILE_MAPPING_ANON;
	/* Identical maps of forked processes share one mapping, with the first pid as hint. */
	if (r == 0)
		r = profile_intern_mapping(o->profile, &m, &o->last.id);
	if (r < 0) {
		(void)hashmap_remove(&o->mapping_index, hash, idx);
		o->last = (struct mapping_id){0};
		return r;
	}
	o->mappings[o->nmappings++] = o->last;
	*ret = o->last.id;
	return 0;
}

/* The executable mapping of p holding pc; NULL when there is none. */
static struct proc_map *user_map(struct session *s, struct proc *p, uint64_t pc)
{
	struct proc_map *pm = p ? proc_map_find(p, pc) : NULL;

	if (!pm && p && !p->rescanned) {
		/* Seeded before we saw its mmaps, or a map we missed: /proc knows now. */
		p->rescanned = true;
		if (proc_rescan_maps(p, proc_root(s)) == 0)
			pm = proc_map_find(p, pc);
	}
	return pm;
}

static int user_location(struct session *s, struct output *o, struct proc *p, uint64_t pc,
			 uint32_t flags, uint32_t *ret)
{
	struct proc_map *pm = user_map(s, p, pc);
	uint32_t mapping = 0;
	int r;

	if (pm) {
		r = mapping_of(s, o, p, pm, &mapping);
		if (r < 0)
			return r;
	} else {
		s->stats.unmapped++;
	}
	return profile_intern_location(o->profile, mapping, pc, flags, ret);
}

/* The frame that marks a stack the unwinder could not finish. */
static int truncated_location(struct output *o, uint32_t *ret)
{
	struct profile_function fn = {0};
	struct profile_line line = {0};
	int r;

	if (!o->truncated_location) {
		r = profile_intern(o->profile, "[truncated]", &fn.name);
		if (r < 0)
			return r;
		fn.system_name = fn.name;
		r = profile_intern_function(o->profile, &fn, &line.function);
		if (r < 0)
			return r;
		/* Already symbolized: the symbolizer must leave it alone. */
		r = profile_add_location(o->profile, 0, 0, PROFILE_LOCATION_SYMBOLIZED, &line, 1,
					 &o->truncated_location);
		if (r < 0)
			return r;
	}
	*ret = o->truncated_location;
	return 0;
}

static int64_t elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
}

/* DWARF mode: the user part of the stack, unwound from the sample's registers and stack copy. */
static int unwound_user(struct session *s, struct output *o, struct proc *p,
			const struct perf_record *smp, size_t *n)
{
	const struct session_unwinder *u = s->cfg.unwinder;
	struct timespec t0, t1;
	bool complete = false;
	int k, r;

	if (!p->nmaps && !p->rescanned) {
		/* A process we have seen no maps of: /proc has them. */
		p->rescanned = true;
		(void)proc_rescan_maps(p, proc_root(s));
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	k = u->unwind(u->ctx, p, smp, s->frames, MAX_FRAMES - *n - 1, &complete);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	if (k < 0)
		return k;
	if (s->nunwind_ns < MAX_TIMINGS &&
	    VEC_PUSH_RESERVE(s->unwind_ns, s->nunwind_ns, s->unwind_ns_cap) == 0) {
		int64_t ns = elapsed_ns(&t0, &t1);

		s->unwind_ns[s->nunwind_ns++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	}
	for (int i = 0; i < k; i++) {
		r = user_location(s, o, p, s->frames[i].pc,
				  s->frames[i].caller ? PROFILE_LOCATION_CALLER : 0, &s->locs[*n]);
		if (r < 0)
			return r;
		(*n)++;
	}
	s->stats.unwound++;
	if (!complete && k > 0) {
		s->stats.truncated++;
		r = truncated_location(o, &s->locs[*n]);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

/* A sample of event ev of the list, into the profile of that event's kind. */
static int on_sample(struct session *s, const struct perf_record *smp, size_t ev)
{
	struct output *o = &s->outputs[s->events[ev].output];
	struct profile_label labels[NLABELS];
	int64_t values[KIND_MAX_VALUES] = {0};
	const char *comm, *pcomm;
	struct proc *p = NULL;
	size_t n = 0;
	int r;

	if (smp->pid > 0) {
		r = proc_table_get(s->procs, smp->pid, &p);
		if (r < 0)
			return r;
		if (!p->sampled) {
			p->sampled = true;
			s->stats.processes++;
		}
	}

	if (smp->u.s.callchain) {
		enum { CTX_NONE, CTX_KERNEL, CTX_USER } ctx = CTX_NONE;
		bool first = true, cut = false;

		for (uint64_t i = 0; i < smp->u.s.nr_callchain && n < MAX_FRAMES; i++) {
			uint64_t pc = smp->u.s.callchain[i];
			uint32_t flags;

			if (pc >= PERF_CONTEXT_MAX) {
				/* Guest and unknown (newer, deferred) contexts: skip their frames.
				 */
				ctx = pc == PERF_CONTEXT_KERNEL ? CTX_KERNEL
				      : pc == PERF_CONTEXT_USER ? CTX_USER
								: CTX_NONE;
				first = true;
				continue;
			}
			if (ctx == CTX_NONE)
				continue;
			/* The first pc of each context is where it was interrupted, not a return
			 * address. */
			flags = first ? 0 : PROFILE_LOCATION_CALLER;
			/*
			 * The kernel follows user frame pointers wherever they lead: a
			 * return address in no executable mapping is data, where code
			 * without frame pointers left the chain. The stack ends there.
			 */
			if (ctx == CTX_USER && !first && !user_map(s, p, pc)) {
				cut = true;
				break;
			}
			first = false;
			r = ctx == CTX_KERNEL ? kernel_location(o, pc, flags, &s->locs[n])
					      : user_location(s, o, p, pc, flags, &s->locs[n]);
			if (r < 0)
				return r;
			n++;
		}
		if (cut) {
			r = truncated_location(o, &s->locs[n]);
			if (r < 0)
				return r;
			n++;
		}
	}
	if (s->cfg.unwinder && smp->u.s.regs_abi && smp->u.s.stack && p) {
		r = unwound_user(s, o, p, smp, &n);
		if (r < 0)
			return r;
	}
	if (n == 0) {
		/* No callchain asked for (or none usable): the sampled ip alone. */
		bool kernel =
			(smp->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;

		r = kernel ? kernel_location(o, smp->u.s.ip, 0, &s->locs[0])
			   : user_location(s, o, p, smp->u.s.ip, 0, &s->locs[0]);
		if (r < 0)
			return r;
		n = 1;
	}

	/* pid 0 is the idle task of every CPU; perf calls it swapper, and so do we. */
	comm = smp->pid == 0 ? "swapper"
			     : proc_table_name(s->procs, proc_root(s), smp->pid, smp->tid);
	pcomm = p && p->comm[0] ? p->comm : comm;
	s->stats.unnamed += !comm;
	labels[0] = (struct profile_label){.key = o->label_keys[LABEL_PID], .num = smp->pid};
	labels[1] = (struct profile_label){.key = o->label_keys[LABEL_TID], .num = smp->tid};
	labels[2] = (struct profile_label){.key = o->label_keys[LABEL_COMM]};
	labels[3] = (struct profile_label){.key = o->label_keys[LABEL_PROCESS]};
	labels[4] = (struct profile_label){.key = o->label_keys[LABEL_TIME],
					   .num = (int64_t)smp->time,
					   .num_unit = o->nanoseconds};
	labels[5] = (struct profile_label){.key = o->label_keys[LABEL_CPU], .num = smp->cpu};
	r = profile_intern(o->profile, comm ? comm : "[unknown]", &labels[2].str);
	if (r < 0)
		return r;
	r = profile_intern(o->profile, pcomm ? pcomm : "[unknown]", &labels[3].str);
	if (r < 0)
		return r;
	o->kind->values(smp, s->events[ev].index, values);
	/* With times every sample is its own; without, equal ones merge. */
	r = s->cfg.keep_times
		    ? profile_add_sample(o->profile, s->locs, n, values, labels, NLABELS, 0)
		    : profile_add_sample(o->profile, s->locs, n, values, labels, LABEL_TIME,
					 PROFILE_ADD_MERGE);
	if (r < 0)
		return r;
	s->stats.samples++;
	return 0;
}

static int on_mmap(struct session *s, const struct perf_record *smp)
{
	struct proc_map m = {
		.start = smp->u.mmap.addr,
		.end = smp->u.mmap.addr + smp->u.mmap.len,
		.pgoff = smp->u.mmap.pgoff,
		.ino = smp->u.mmap.ino,
		.dev_major = smp->u.mmap.maj,
		.dev_minor = smp->u.mmap.min,
		.prot = smp->u.mmap.prot,
		.build_id_size = smp->u.mmap.build_id_size,
		.path = (char *)smp->u.mmap.filename,
	};
	struct proc *p;
	int r;

	/* With mmap_data off only executable maps are reported; kernel ones have pid -1. */
	if (smp->pid <= 0)
		return 0;
	memcpy(m.build_id, smp->u.mmap.build_id, sizeof(m.build_id));
	r = proc_table_get(s->procs, smp->pid, &p);
	if (r < 0)
		return r;
	return proc_map_insert(p, &m);
}

/* A process image is gone: the unwinder's state for it is stale. */
static void forget(struct session *s, int32_t pid)
{
	if (s->cfg.unwinder && s->cfg.unwinder->forget)
		s->cfg.unwinder->forget(s->cfg.unwinder->ctx, pid);
}

static int on_record(void *ctx, const struct perf_event_header *rec)
{
	struct session *s = ctx;
	int ev = sampler_event_of(s->sampler, rec);
	struct perf_record smp;
	int r;

	r = ev < 0 ? -EINVAL
		   : perf_record_decode(rec, sampler_sample_type(s->sampler, (size_t)ev),
					s->regs_mask, &smp);
	if (r < 0) {
		s->stats.bad_records++;
		return 0;
	}
	switch (smp.type) {
	case PERF_RECORD_SAMPLE:
		return on_sample(s, &smp, (size_t)ev);
	case PERF_RECORD_MMAP2:
		return on_mmap(s, &smp);
	case PERF_RECORD_COMM:
		if (smp.misc & PERF_RECORD_MISC_COMM_EXEC)
			forget(s, smp.pid);
		return proc_table_comm(s->procs, smp.pid, smp.tid, smp.u.comm.comm,
				       smp.misc & PERF_RECORD_MISC_COMM_EXEC);
	case PERF_RECORD_FORK:
		if (smp.pid != smp.u.task.ppid)
			forget(s, smp.pid); /* a reused pid */
		/*
		 * A parent born just before the events ran may have no name yet: it
		 * has just forked, so /proc can still say, and the child inherits it.
		 */
		(void)proc_table_name(s->procs, proc_root(s), smp.u.task.ppid, smp.u.task.ptid);
		return proc_table_fork(s->procs, smp.pid, smp.u.task.ppid, smp.tid,
				       smp.u.task.ptid);
	case PERF_RECORD_EXIT:
		if (smp.pid == smp.tid)
			forget(s, smp.pid);
		proc_table_exit(s->procs, smp.pid, smp.tid);
		return 0;
	case PERF_RECORD_LOST:
	case PERF_RECORD_LOST_SAMPLES:
		s->stats.lost += smp.u.lost.lost;
		return 0;
	case PERF_RECORD_THROTTLE:
		s->stats.throttled++;
		return 0;
	default:
		return 0;
	}
}

/* A record the reader took: into the time-ordered merge; the end of a pass: a merge round. */
static int on_read(void *ctx, const struct perf_event_header *rec)
{
	struct session *s = ctx;

	if (!rec)
		return merge_round(s->merge, on_record, s);
	return merge_push(s->merge, rec, perf_record_time(rec, s->time_type));
}

int session_poll(struct session *s, int timeout_ms, bool *ret_hup)
{
	return reader_take(s->reader, timeout_ms, on_read, s, ret_hup);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int session_stop(struct session *s)
{
	struct reader_stats rs;
	struct timespec now;
	bool hup;
	int r;

	if (!s->running)
		return 0;
	s->running = false;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	s->stats.duration_ns = elapsed_ns(&s->start_mono, &now);
	for (size_t k = 0; k < s->noutputs; k++)
		profile_set_time(s->outputs[k].profile, s->window_realtime_ns,
				 elapsed_ns(&s->window_mono, &now));
	r = sampler_disable(s->sampler);
	if (r < 0)
		log_debug("disabling events: %s", strerror(-r));
	/* The reader's last pass sees everything written before the events stopped. */
	reader_stop(s->reader);
	r = reader_take(s->reader, 0, on_read, s, &hup);
	if (r < 0)
		return r;
	reader_get_stats(s->reader, &rs);
	s->stats.bad_records += rs.corrupt;
	s->stats.peak_queued = rs.peak_queued;
	r = merge_flush(s->merge, on_record, s);
	if (s->nunwind_ns) {
		qsort(s->unwind_ns, s->nunwind_ns, sizeof(*s->unwind_ns), u32_cmp);
		s->stats.unwind_median_ns = s->unwind_ns[s->nunwind_ns / 2];
	}
	return r;
}

size_t session_nkinds(const struct session *s)
{
	return s->noutputs;
}

const struct kind *session_kind(const struct session *s, size_t i)
{
	return s->outputs[i].kind;
}

struct profile *session_profile(struct session *s, size_t i)
{
	return s->outputs[i].profile;
}

int session_rotate(struct session *s, struct profile **ret)
{
	struct output fresh[MAX_KINDS];
	struct timespec now;
	int64_t now_realtime;
	int r = 0;

	/* Every new profile first: out of memory, nothing changes hands. */
	for (size_t k = 0; k < s->noutputs; k++) {
		fresh[k] = (struct output){.kind = s->outputs[k].kind};
		if (r == 0)
			r = output_reset(s, &fresh[k]);
	}
	if (r < 0) {
		for (size_t k = 0; k < s->noutputs; k++)
			output_release(&fresh[k]);
		return r;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	now_realtime = s->window_realtime_ns + elapsed_ns(&s->window_mono, &now);
	for (size_t k = 0; k < s->noutputs; k++) {
		struct output *o = &s->outputs[k];

		/* A running window ends now; a stopped one has its end already. */
		if (s->running)
			profile_set_time(o->profile, s->window_realtime_ns,
					 elapsed_ns(&s->window_mono, &now));
		ret[k] = o->profile;
		o->profile = NULL;
		output_release(o);
		*o = fresh[k];
		profile_set_time(o->profile, now_realtime, 0);
	}
	s->window_mono = now;
	s->window_realtime_ns = now_realtime;
	return 0;
}

const struct session_stats *session_stats(const struct session *s)
{
	return &s->stats;
}
