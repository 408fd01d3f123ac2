/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "lib/collect/kinds.h"
#include "lib/collect/proc.h"
#include "lib/collect/session.h"
#include "lib/perf/arch.h"
#include "lib/perf/decode.h"
#include "lib/perf/merge.h"
#include "lib/perf/reader.h"

#define MAX_FRAMES 1024
/*
 * Unwind times kept for the median: a uniform sample of at most this many
 * (256 KiB), so a recording that runs for weeks holds no more than a short one.
 */
#define MAX_TIMINGS (1u << 16)

#define MAX_KINDS SAMPLER_MAX_EVENTS

enum label_key { LABEL_PID, LABEL_TID, LABEL_COMM, LABEL_PROCESS, LABEL_TIME, LABEL_CPU, NLABELS };

/* A profile mapping id known for a map of the process model (by its serial). */
struct mapping_id {
	uint64_t serial;
	uint32_t id;
};

struct output;

/* What a kind's hooks are given: the session and the kind's output. */
struct kind_out {
	struct session *s;
	struct output *o;
};

/*
 * One kind's profile and the ids the session keeps into it. All but the
 * kind, its state and out belong to the profile: a rotation drops them
 * with the profile handed over.
 */
struct output {
	const struct kind *kind;
	void *state; /* the kind's own, for the whole recording */
	struct kind_out out;
	struct profile *profile;
	uint32_t label_keys[NLABELS];
	uint32_t nanoseconds;	     /* the unit of the time label */
	uint32_t kernel_mapping;     /* profile mapping id, 0 until the first kernel frame */
	uint32_t truncated_location; /* the "[truncated]" frame, 0 until needed */
	struct mapping_id *mappings; /* the maps sampled so far, by serial */
	size_t nmappings, mappings_cap;
	struct hashmap mapping_index;
	struct mapping_id last; /* the map of the previous frame: stacks stay in one map a while */
	struct named_location *named; /* kernel frames known by name (session_add_stack) */
	size_t nnamed, named_cap;
};

/* A location made for a kernel frame known by name and offset. */
struct named_location {
	uint32_t name; /* string */
	uint64_t offset;
	uint32_t id;
};

/* A frame of a collected stack, not yet a profile location. */
enum { FRAME_KERNEL, FRAME_USER, FRAME_TRUNCATED };
struct frame {
	uint64_t pc;
	bool caller; /* a return address */
	uint8_t where;
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
	bool paused; /* events disabled between windows (session_pause) */
	struct timespec start_mono, window_mono;
	int64_t window_realtime_ns;
	uint32_t *unwind_ns; /* a sample of unwind times, for the median */
	size_t nunwind_ns, unwind_ns_cap;
	uint64_t ntimings_seen, rng;
	uint32_t locs[MAX_FRAMES];
	struct session_frame frames[MAX_FRAMES];
	struct frame stack[MAX_FRAMES]; /* the sample's stack, collected (collect_stack) */
	size_t nstack;
	uint64_t last_time; /* the time of the latest record processed */
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
	free(o->named);
	hashmap_release(&o->mapping_index);
	*o = (struct output){.kind = o->kind, .state = o->state, .out = o->out};
}

/* A fresh, empty profile for the output's kind: its types and label keys. */
static int output_reset(struct session *s, struct output *o)
{
	static const char *const keys[NLABELS] = {"pid", "tid", "comm", "process", "time", "cpu"};
	struct output fresh = {
		.kind = o->kind, .state = o->state, .out = o->out, .profile = profile_new()};
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
		int m = s->outputs[k].kind->events(&s->cfg.kind_options, specs);

		if (m < 0)
			return m;
		if (m > KIND_MAX_EVENTS || n + (size_t)m > SAMPLER_MAX_EVENTS)
			return -EINVAL;
		for (size_t i = 0; i < (size_t)m; i++, n++) {
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

/* The merge is done with a record of batch. */
static void release_batch(void *ctx, void *batch)
{
	struct session *s = ctx;

	reader_release(s->reader, batch);
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
	s->rng = 0x9e3779b97f4a7c15ULL;
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
	for (size_t k = 0; k < s->noutputs; k++) {
		struct output *o = &s->outputs[k];

		o->kind = cfg->nkinds ? cfg->kinds[k] : kind_default();
		o->out = (struct kind_out){.s = s, .o = o};
	}
	s->merge = merge_new(release_batch, s);
	s->procs = proc_table_new();
	if (!s->merge || !s->procs) {
		r = -ENOMEM;
		goto out;
	}
	r = list_events(s);
	for (size_t k = 0; k < s->noutputs && r == 0; k++) {
		struct output *o = &s->outputs[k];

		if (o->kind->state_new)
			r = o->kind->state_new(&s->cfg.kind_options, &o->state);
		if (r == 0)
			r = output_reset(s, o);
	}
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

	/* A kind with no events (snapshot) is given its stacks by session_add_stack. */
	if (s->cfg.sampler.nevents == 0)
		goto out;
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
	merge_free(s->merge);	/* its records are in the reader's batches */
	reader_free(s->reader); /* before the rings it reads */
	sampler_free(s->sampler);
	proc_table_free(s->procs);
	for (size_t k = 0; k < s->noutputs; k++) {
		struct output *o = &s->outputs[k];

		if (o->state)
			o->kind->state_free(o->state);
		output_release(o);
	}
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
	/*
	 * The whole host: names before the events run as well as after. A
	 * process born before the events and gone within milliseconds has no
	 * record to name it, and after them it may not last until /proc is
	 * read; read before them, it is named unless it was born in the few
	 * microseconds between. The second pass reads only the newcomers.
	 */
	if (!s->cfg.child && !s->cfg.npids && !s->cfg.ntids) {
		r = proc_table_scan_names(s->procs, proc_root(s));
		if (r < 0)
			return r;
	}
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

/* The profile mapping of the kernel, interned at its first frame. */
static int kernel_mapping(struct output *o)
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
	return 0;
}

static int kernel_location(struct output *o, uint64_t pc, uint32_t flags, uint32_t *ret)
{
	int r = kernel_mapping(o);

	return r < 0 ? r : profile_intern_location(o->profile, o->kernel_mapping, pc, flags, ret);
}

/*
 * A kernel frame known by its name and offset alone: a location already
 * symbolized, at address 0 of the kernel's mapping, one per name and
 * offset (a snapshot's frames repeat across threads; a linear search
 * over what a few hundred kernel functions give is enough).
 */
static int named_location(struct output *o, const struct session_named_frame *f, uint32_t *ret)
{
	struct profile_function fn = {0};
	struct profile_line line = {0};
	uint32_t name;
	int r = profile_intern(o->profile, f->name, &name);

	if (r < 0)
		return r;
	for (size_t i = 0; i < o->nnamed; i++)
		if (o->named[i].name == name && o->named[i].offset == f->offset) {
			*ret = o->named[i].id;
			return 0;
		}
	r = f->mark ? 0 : kernel_mapping(o);
	if (r == 0)
		r = VEC_PUSH_RESERVE(o->named, o->nnamed, o->named_cap);
	fn.name = fn.system_name = name;
	if (r == 0)
		r = profile_intern_function(o->profile, &fn, &line.function);
	if (r == 0)
		r = profile_add_location(o->profile, f->mark ? 0 : o->kernel_mapping, 0,
					 PROFILE_LOCATION_SYMBOLIZED |
						 (f->mark ? 0 : PROFILE_LOCATION_HAS_SYMOFF),
					 &line, 1, ret);
	if (r == 0 && !f->mark)
		r = profile_set_sym_offset(o->profile, *ret, f->offset);
	if (r < 0)
		return r;
	o->named[o->nnamed++] = (struct named_location){name, f->offset, *ret};
	return 0;
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
	uint64_t hash;
	uint32_t idx;
	int r;

	if (o->last.serial == pm->serial && o->last.id) {
		*ret = o->last.id;
		return 0;
	}
	hash = hash_u64(pm->serial, 0);
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

/*
 * A sample's stack is taken in two steps: collected (kernel callchain,
 * user frames walked or unwound) while the sample's stack copy and address
 * space are current, then resolved into one profile's locations. The CPU
 * kind does both at once; a kind that waits for an interval's end keeps
 * the frames (kind_out_hold) and resolves them when it adds the sample.
 */
static int append_frame(struct session *s, uint64_t pc, bool caller, uint8_t where)
{
	if (s->nstack >= MAX_FRAMES)
		return 0;
	s->stack[s->nstack++] = (struct frame){.pc = pc, .caller = caller, .where = where};
	return 0;
}

/*
 * Keep an unwind time in the sample the median comes from: every one until
 * MAX_TIMINGS, then each replacing a random kept one with the odds that
 * keep the sample uniform over all (reservoir sampling).
 */
static void keep_timing(struct session *s, int64_t ns)
{
	uint32_t v = ns > UINT32_MAX ? UINT32_MAX : ns < 0 ? 0 : (uint32_t)ns;
	uint64_t seen = ++s->ntimings_seen;

	if (s->nunwind_ns < MAX_TIMINGS) {
		if (VEC_PUSH_RESERVE(s->unwind_ns, s->nunwind_ns, s->unwind_ns_cap) == 0)
			s->unwind_ns[s->nunwind_ns++] = v;
		return;
	}
	/* xorshift64: a cheap generator is enough to pick which to replace. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	if (s->rng % seen < MAX_TIMINGS)
		s->unwind_ns[s->rng % MAX_TIMINGS] = v;
}

/* DWARF mode: the user part of the stack, unwound from the sample's registers and stack copy. */
static int unwound_user(struct session *s, struct proc *p, const struct perf_record *smp)
{
	const struct session_unwinder *u = s->cfg.unwinder;
	struct timespec t0, t1;
	bool complete = false;
	int k;

	if (!p->nmaps && !p->rescanned) {
		/* A process we have seen no maps of: /proc has them. */
		p->rescanned = true;
		(void)proc_rescan_maps(p, proc_root(s));
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	k = u->unwind(u->ctx, p, smp, s->frames, MAX_FRAMES - s->nstack - 1, &complete);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	if (k < 0)
		return k;
	keep_timing(s, elapsed_ns(&t0, &t1));
	for (int i = 0; i < k; i++)
		(void)append_frame(s, s->frames[i].pc, s->frames[i].caller, FRAME_USER);
	s->stats.unwound++;
	if (!complete && k > 0) {
		s->stats.truncated++;
		(void)append_frame(s, 0, false, FRAME_TRUNCATED);
	}
	return 0;
}

/* The user pc of smp's registers, when it is in an executable map of p. */
static bool user_pc(struct session *s, struct proc *p, const struct perf_record *smp, uint64_t *ret)
{
	uint64_t dwarf[ARCH_DWARF_NREGS], sp, fp;

	const struct proc_map *m;

	/* Not user_map: its one rescan of /proc/PID/maps is for frames, not this test. */
	(void)s;
	return arch_dwarf_regs(smp->u.s.regs, smp->u.s.nr_regs, dwarf, &sp, &fp, ret) &&
	       (m = proc_map_find(p, *ret)) != NULL;
}

/* Collect smp's stack into s->stack: the kernel's callchain, then the user frames. */
static int collect_stack(struct session *s, struct proc *p, const struct perf_record *smp)
{
	s->nstack = 0;
	if (smp->u.s.callchain) {
		enum { CTX_NONE, CTX_KERNEL, CTX_USER } ctx = CTX_NONE;
		bool first = true;

		for (uint64_t i = 0; i < smp->u.s.nr_callchain && s->nstack < MAX_FRAMES; i++) {
			uint64_t pc = smp->u.s.callchain[i];

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
			/*
			 * The kernel follows user frame pointers wherever they lead: a
			 * return address in no executable mapping is data, where code
			 * without frame pointers left the chain. The stack ends there.
			 */
			if (ctx == CTX_USER && !first && !user_map(s, p, pc)) {
				(void)append_frame(s, 0, false, FRAME_TRUNCATED);
				break;
			}
			/* The first pc of each context is where it was interrupted. */
			(void)append_frame(s, pc, !first,
					   ctx == CTX_KERNEL ? FRAME_KERNEL : FRAME_USER);
			first = false;
		}
	}
	if (s->cfg.unwinder && smp->u.s.regs_abi && p) {
		int r = smp->u.s.stack ? unwound_user(s, p, smp) : 0;

		if (r < 0)
			return r;
		/*
		 * A thread in code of its process whose stack the kernel could not
		 * copy (a fault on the stack's own page): the kernel's frames,
		 * the user pc, and the mark that the rest is not known. Not an exec replacing the
		 * address space: its old image's pc is in no map the model still has, and the
		 * kernel's frames are all there is.
		 */
		uint64_t pc;

		if (!smp->u.s.stack && s->nstack && user_pc(s, p, smp, &pc)) {
			(void)append_frame(s, pc, false, FRAME_USER);
			(void)append_frame(s, 0, false, FRAME_TRUNCATED);
		}
	}
	if (s->nstack == 0) {
		/* No callchain asked for (or none usable): the sampled ip alone. */
		bool kernel =
			(smp->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;

		(void)append_frame(s, smp->u.s.ip, false, kernel ? FRAME_KERNEL : FRAME_USER);
	}
	return 0;
}

/* Resolve frames into o's profile's locations, into locs. */
static int resolve_stack(struct session *s, struct output *o, struct proc *p,
			 const struct frame *frames, size_t n, uint32_t *locs)
{
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = &frames[i];
		uint32_t flags = f->caller ? PROFILE_LOCATION_CALLER : 0;
		int r = f->where == FRAME_KERNEL ? kernel_location(o, f->pc, flags, &locs[i])
			: f->where == FRAME_USER ? user_location(s, o, p, f->pc, flags, &locs[i])
						 : truncated_location(o, &locs[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* The thread a sample is charged to: where it ran, when, and its process (NULL for pid 0). */
struct thread_at {
	int32_t pid, tid;
	uint32_t cpu;
	uint64_t time;
};

/* Add a sample with the resolved stack s->locs[0..n) to o's profile. */
static int add_sample(struct session *s, struct output *o, struct proc *p,
		      const struct thread_at *at, size_t n, const int64_t *values,
		      const struct kind_label *extra, size_t nextra)
{
	struct profile_label labels[NLABELS + KIND_MAX_LABELS];
	const char *comm, *pcomm;
	size_t nl = NLABELS;
	int r;

	if (nextra > KIND_MAX_LABELS)
		return -EINVAL;
	if (p && !p->sampled) {
		p->sampled = true;
		s->stats.processes++;
	}
	/* pid 0 is the idle task of every CPU; perf calls it swapper, and so do we. */
	comm = at->pid == 0 ? "swapper" : proc_table_name(s->procs, proc_root(s), at->pid, at->tid);
	pcomm = p && p->comm[0] ? p->comm : comm;
	s->stats.unnamed += !comm;
	labels[0] = (struct profile_label){.key = o->label_keys[LABEL_PID], .num = at->pid};
	labels[1] = (struct profile_label){.key = o->label_keys[LABEL_TID], .num = at->tid};
	labels[2] = (struct profile_label){.key = o->label_keys[LABEL_COMM]};
	labels[3] = (struct profile_label){.key = o->label_keys[LABEL_PROCESS]};
	labels[4] = (struct profile_label){.key = o->label_keys[LABEL_TIME],
					   .num = (int64_t)at->time,
					   .num_unit = o->nanoseconds};
	labels[5] = (struct profile_label){.key = o->label_keys[LABEL_CPU], .num = at->cpu};
	r = profile_intern(o->profile, comm ? comm : "[unknown]", &labels[2].str);
	if (r == 0)
		r = profile_intern(o->profile, pcomm ? pcomm : "[unknown]", &labels[3].str);
	for (size_t i = 0; i < nextra && r == 0; i++, nl++) {
		const struct kind_label *k = &extra[i];

		labels[nl] = (struct profile_label){.num = k->num};
		r = profile_intern(o->profile, k->key, &labels[nl].key);
		if (r == 0 && k->str)
			r = profile_intern(o->profile, k->str, &labels[nl].str);
		if (r == 0 && !k->str && k->unit)
			r = profile_intern(o->profile, k->unit, &labels[nl].num_unit);
	}
	if (r < 0)
		return r;
	/*
	 * With times every sample is its own; without, equal ones merge: the
	 * time and cpu labels are left out and the kind's moved up.
	 */
	if (s->cfg.keep_times) {
		r = profile_add_sample(o->profile, s->locs, n, values, labels, nl, 0);
	} else {
		memmove(&labels[LABEL_TIME], &labels[NLABELS], nextra * sizeof(*labels));
		r = profile_add_sample(o->profile, s->locs, n, values, labels, LABEL_TIME + nextra,
				       PROFILE_ADD_MERGE);
	}
	if (r < 0)
		return r;
	s->stats.samples++;
	return 0;
}

/* The process of a sample's pid (created empty when unknown), NULL for pid 0 and below. */
static int proc_of(struct session *s, int32_t pid, struct proc **ret)
{
	*ret = NULL;
	return pid > 0 ? proc_table_get(s->procs, pid, ret) : 0;
}

int kind_out_add(struct kind_out *out, const struct perf_record *smp, const int64_t *values,
		 const struct kind_label *labels, size_t nlabels)
{
	struct session *s = out->s;
	struct thread_at at = {smp->pid, smp->tid, smp->cpu, smp->time};
	struct proc *p;
	int r = proc_of(s, smp->pid, &p);

	if (r == 0)
		r = collect_stack(s, p, smp);
	if (r == 0)
		r = resolve_stack(s, out->o, p, s->stack, s->nstack, s->locs);
	return r < 0 ? r : add_sample(s, out->o, p, &at, s->nstack, values, labels, nlabels);
}

int session_add_stack(struct session *s, const struct perf_record *smp, const char *comm,
		      const struct session_named_frame *kernel, size_t nkernel,
		      const int64_t *values, const struct kind_label *labels, size_t nlabels)
{
	struct output *o = &s->outputs[0];
	struct thread_at at = {smp->pid, smp->tid, smp->cpu, smp->time};
	struct proc *p;
	int r = proc_of(s, smp->pid, &p);

	if (nkernel > MAX_FRAMES / 2)
		nkernel = MAX_FRAMES / 2;
	if (r == 0 && comm)
		r = proc_table_comm(s->procs, smp->pid, smp->tid, comm, false);
	for (size_t i = 0; i < nkernel && r == 0; i++)
		r = named_location(o, &kernel[i], &s->locs[i]);
	s->nstack = 0;
	if (r == 0 && smp->u.s.regs_abi && s->cfg.unwinder && p)
		r = collect_stack(s, p, smp);
	if (r == 0 && s->nstack > MAX_FRAMES - nkernel)
		s->nstack = MAX_FRAMES - nkernel;
	if (r == 0)
		r = resolve_stack(s, o, p, s->stack, s->nstack, s->locs + nkernel);
	return r < 0 ? r : add_sample(s, o, p, &at, nkernel + s->nstack, values, labels, nlabels);
}

struct kind_stack {
	struct thread_at at;
	size_t n;
	struct frame frames[];
};

int kind_out_hold(struct kind_out *out, const struct perf_record *smp, struct kind_stack **ret)
{
	struct session *s = out->s;
	struct kind_stack *st;
	struct proc *p;
	int r = proc_of(s, smp->pid, &p);

	if (r == 0)
		r = collect_stack(s, p, smp);
	if (r < 0)
		return r;
	st = malloc(sizeof(*st) + s->nstack * sizeof(st->frames[0]));
	if (!st)
		return -ENOMEM;
	st->at = (struct thread_at){smp->pid, smp->tid, smp->cpu, smp->time};
	st->n = s->nstack;
	memcpy(st->frames, s->stack, s->nstack * sizeof(st->frames[0]));
	*ret = st;
	return 0;
}

int kind_out_add_held(struct kind_out *out, const struct kind_stack *st, const int64_t *values,
		      const struct kind_label *labels, size_t nlabels)
{
	struct session *s = out->s;
	struct proc *p;
	int r = proc_of(s, st->at.pid, &p);

	if (r == 0)
		r = resolve_stack(s, out->o, p, st->frames, st->n, s->locs);
	return r < 0 ? r : add_sample(s, out->o, p, &st->at, st->n, values, labels, nlabels);
}

void kind_stack_drop_leaf(struct kind_stack *st)
{
	if (st->n && st->frames[0].where != FRAME_TRUNCATED) {
		st->n--;
		memmove(st->frames, st->frames + 1, st->n * sizeof(st->frames[0]));
	}
}

int32_t kind_stack_tid(const struct kind_stack *st)
{
	return st->at.tid;
}

uint64_t kind_stack_time(const struct kind_stack *st)
{
	return st->at.time;
}

void kind_stack_free(struct kind_stack *st)
{
	free(st);
}

void kind_out_unpaired(struct kind_out *out)
{
	out->s->stats.unpaired++;
}

/* A sample of event ev of the list, to the kind of that event. */
static int on_sample(struct session *s, const struct perf_record *smp, size_t ev)
{
	struct output *o = &s->outputs[s->events[ev].output];
	int64_t values[KIND_MAX_VALUES] = {0};

	/* An event of every task on its CPU, while following some: theirs only. */
	if (s->specs[ev].cpu_wide && (s->cfg.npids || s->cfg.ntids || s->cfg.child) &&
	    !proc_table_find(s->procs, smp->pid))
		return 0;
	if (o->kind->sample)
		return o->kind->sample(o->state, &o->out, smp, s->events[ev].index);
	o->kind->values(smp, s->events[ev].index, values);
	return kind_out_add(&o->out, smp, values, NULL, 0);
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

/* Forks, exits and losses concern every kind that follows records. */
static int tell_kinds(struct session *s, const struct perf_record *rec)
{
	for (size_t k = 0; k < s->noutputs; k++) {
		struct output *o = &s->outputs[k];
		int r = o->kind->record ? o->kind->record(o->state, &o->out, rec) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

/* The end of a window at time now: kinds close or carry what they hold. */
static int flush_kinds(struct session *s, uint64_t now, bool final)
{
	for (size_t k = 0; k < s->noutputs; k++) {
		struct output *o = &s->outputs[k];
		int r = o->kind->flush ? o->kind->flush(o->state, &o->out, now, final) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

static int on_record(void *ctx, const struct perf_event_header *rec)
{
	struct session *s = ctx;
	int ev = sampler_event_of(s->sampler, rec);
	struct perf_record smp;
	uint64_t type = ev < 0 ? 0 : sampler_sample_type(s->sampler, (size_t)ev);
	int r;

	r = ev < 0 ? -EINVAL : perf_record_decode(rec, type, s->regs_mask, &smp);
	if (r < 0) {
		s->stats.bad_records++;
		return 0;
	}
	/* A fixed period the records do not carry: the event's. */
	if (smp.type == PERF_RECORD_SAMPLE && !(type & PERF_SAMPLE_PERIOD))
		smp.u.s.period = s->specs[ev].rate;
	if (smp.time > s->last_time)
		s->last_time = smp.time;
	switch (smp.type) {
	case PERF_RECORD_SAMPLE:
		return on_sample(s, &smp, (size_t)ev);
	case PERF_RECORD_SWITCH:
	case PERF_RECORD_SWITCH_CPU_WIDE: {
		/* Asked for by one event of one kind: that kind's alone. */
		struct output *o = &s->outputs[s->events[ev].output];

		return o->kind->record ? o->kind->record(o->state, &o->out, &smp) : 0;
	}
	case PERF_RECORD_MMAP2:
		return on_mmap(s, &smp);
	case PERF_RECORD_COMM:
		if (!(smp.misc & PERF_RECORD_MISC_COMM_EXEC))
			return proc_table_comm(s->procs, smp.pid, smp.tid, smp.u.comm.comm, false);
		forget(s, smp.pid);
		r = proc_table_comm(s->procs, smp.pid, smp.tid, smp.u.comm.comm, true);
		return r < 0 ? r : tell_kinds(s, &smp);
	case PERF_RECORD_FORK:
		if (smp.pid != smp.u.task.ppid)
			forget(s, smp.pid); /* a reused pid */
		/*
		 * A parent born just before the events ran may have no name yet: it
		 * has just forked, so /proc can still say, and the child inherits it.
		 */
		(void)proc_table_name(s->procs, proc_root(s), smp.u.task.ppid, smp.u.task.ptid);
		r = proc_table_fork(s->procs, smp.pid, smp.u.task.ppid, smp.tid, smp.u.task.ptid);
		return r < 0 ? r : tell_kinds(s, &smp);
	case PERF_RECORD_EXIT:
		if (smp.pid == smp.tid)
			forget(s, smp.pid);
		proc_table_exit(s->procs, smp.pid, smp.tid);
		return tell_kinds(s, &smp);
	case PERF_RECORD_LOST:
	case PERF_RECORD_LOST_SAMPLES:
		s->stats.lost += smp.u.lost.lost;
		return tell_kinds(s, &smp);
	case PERF_RECORD_THROTTLE:
		s->stats.throttled++;
		return 0;
	default:
		return 0;
	}
}

/*
 * A record the reader took: into the time-ordered merge, where it stays in
 * the reader's batch until delivered; the end of a pass: a merge round.
 */
static int on_read(void *ctx, const struct perf_event_header *rec, struct reader_batch *batch)
{
	struct session *s = ctx;
	int r;

	if (!rec)
		return merge_round(s->merge, on_record, s);
	r = merge_push_ref(s->merge, rec, perf_record_time(rec, s->time_type), batch);
	if (r == 0)
		reader_hold(batch);
	return r;
}

int session_poll(struct session *s, int timeout_ms, bool *ret_hup)
{
	return reader_take(s->reader, timeout_ms, on_read, s, ret_hup);
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
	if (r == 0) {
		/* What is still open closes at the end: the stop, or a later last record. */
		uint64_t end = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;

		r = flush_kinds(s, end > s->last_time ? end : s->last_time, true);
	}
	if (s->nunwind_ns) {
		s->stats.unwind_median_ns =
			select_u32(s->unwind_ns, s->nunwind_ns, s->nunwind_ns / 2);
	}
	return r;
}

int session_pause(struct session *s)
{
	struct timespec now;
	uint64_t end;
	bool hup;
	int r;

	if (!s->running || s->paused)
		return 0;
	r = sampler_disable(s->sampler);
	if (r < 0)
		return r;
	s->paused = true;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	reader_sync(s->reader);
	r = reader_take(s->reader, 0, on_read, s, &hup);
	if (r == 0)
		r = merge_flush(s->merge, on_record, s);
	if (r < 0)
		return r;
	/* No switch-in is recorded while paused: a wait still open ends at the pause. */
	end = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
	return flush_kinds(s, end > s->last_time ? end : s->last_time, true);
}

static void forget_gone(void *ctx, int32_t pid)
{
	forget(ctx, pid);
}

int session_resume(struct session *s)
{
	struct timespec now;
	int r;

	if (!s->running || !s->paused)
		return 0;
	/* The window rotated in at the pause starts now. */
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	s->window_realtime_ns += elapsed_ns(&s->window_mono, &now);
	s->window_mono = now;
	for (size_t k = 0; k < s->noutputs; k++)
		profile_set_time(s->outputs[k].profile, s->window_realtime_ns, 0);
	/* Events first, as at the start: no process is born unseen in between. */
	r = sampler_enable(s->sampler);
	if (r < 0)
		return r;
	s->paused = false;
	r = proc_table_resync(s->procs, proc_root(s), forget_gone, s);
	if (r == 0 && !(s->cfg.child || s->cfg.npids || s->cfg.ntids))
		r = proc_table_scan_all(s->procs, proc_root(s));
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

void session_kind_summary(const struct session *s, size_t i, char *buf, size_t size)
{
	const struct output *o = &s->outputs[i];

	if (size)
		buf[0] = '\0';
	if (o->kind->summarize && o->state)
		o->kind->summarize(o->state, buf, size);
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

	/*
	 * Kinds close the window at the last record read: the records after
	 * it, with later times, belong to the next.
	 */
	if (s->running) {
		r = flush_kinds(s, s->last_time, false);
		if (r < 0)
			return r;
	}
	/* Every new profile first: out of memory, nothing changes hands. */
	for (size_t k = 0; k < s->noutputs; k++) {
		fresh[k] = (struct output){.kind = s->outputs[k].kind,
					   .state = s->outputs[k].state,
					   .out = s->outputs[k].out};
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
