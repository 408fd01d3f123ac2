/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hash.h"
#include "lib/base/vec.h"
#include "lib/collect/kinds.h"
#include "lib/perf/arch.h"

/*
 * alloc (Go's heap profile for native code): allocations sampled on
 * average once every RATE bytes (512 KiB by default, Go's
 * MemProfileRate), each sample worth 1/(1 − e^(−size/RATE)) allocations
 * and as many times its size, under Go's four sample types: alloc_objects
 * and alloc_space (every sampled allocation of the window), inuse_objects
 * and inuse_space (those still live at the window's end, or when their
 * process exited or exec'd: what it held then). Period space/bytes, RATE.
 *
 * Two sources, by what cmd/ found for the target (kind_alloc_target):
 * - cprof's preload library (preload/alloc.c) samples in the process and
 *   calls two empty hooks, probed here: cprof_alloc_sampled(size, address,
 *   rate), with the stack, and cprof_alloc_freed(address) for a sampled
 *   block. Cheap: only sampled allocations trap.
 * - The allocator itself (libc's malloc family, or a static binary's):
 *   uprobes at every entry, with the stack, and uretprobes for the address
 *   returned; free's entry. Every call traps, and the sampling by bytes is
 *   done here. A call made from inside another (realloc or posix_memalign
 *   calling malloc) is the outer one's: a thread's calls nest, and an
 *   entry at or above the stack pointer of one still open means that one's
 *   return was lost.
 * A free of a block not sampled (or sampled before the recording) is
 * nothing; in-use reflects allocations made while recording.
 */

/* One event of the kind: a function (or hook) at its entry, or its return. */
struct probe {
	enum kind_alloc_func func;
	bool ret;
};

/* A sampled block still live. */
struct live {
	int32_t pid;
	uint64_t addr;
	int64_t objects, bytes; /* what it stands for, weighted */
	struct kind_stack *stack;
};

/* A thread's allocator call in progress (probing the allocator). */
struct call {
	int32_t tid;
	unsigned depth; /* calls open: the outermost is the one counted */
	uint64_t sp;	/* its stack pointer at entry */
	uint64_t size;
	enum kind_alloc_func func;
	struct kind_stack *stack; /* sampled: the stack at entry; NULL: not sampled */
};

struct alloc_kind {
	bool hooks;
	uint64_t rate;
	uint64_t trap_ns; /* a probe hit's cost to the target */
	uint64_t hits;	  /* probe hits seen */
	struct probe probes[KIND_MAX_EVENTS];
	size_t nprobes;
	int64_t until; /* bytes to the next sample, probing the allocator */
	uint64_t rng;
	struct live *live;
	size_t nlive, live_cap;
	struct hashmap live_index;
	struct call *calls;
	size_t ncalls, calls_cap;
	struct hashmap call_index;
};

static const char *const func_names[KIND_ALLOC_NFUNCS] = {
	"malloc", "calloc", "realloc", "memalign", "aligned_alloc", "posix_memalign", "free",
};

/* The events, in the order events() opens them. */
static size_t plan(const struct kind_alloc_target *t, struct probe *ret)
{
	size_t n = 0;

	if (t->hooks) {
		ret[n++] = (struct probe){KIND_ALLOC_HOOK_SAMPLED, false};
		ret[n++] = (struct probe){KIND_ALLOC_HOOK_FREED, false};
		return n;
	}
	for (int f = 0; f < KIND_ALLOC_NFUNCS; f++) {
		if (!t->offsets[f])
			continue;
		ret[n++] = (struct probe){(enum kind_alloc_func)f, false};
		if (f != KIND_ALLOC_FREE)
			ret[n++] = (struct probe){(enum kind_alloc_func)f, true};
	}
	return n;
}

static int alloc_events(const struct kind_options *o, struct sampler_spec *ret)
{
	const struct kind_alloc_target *t = o->alloc;
	struct probe probes[KIND_MAX_EVENTS];
	size_t n;

	if (!t || !t->path || (!t->hooks && !t->offsets[KIND_ALLOC_MALLOC]))
		return -ENODEV;
	n = plan(t, probes);
	/*
	 * The probes are not inherited (sampler_spec.no_inherit): a software
	 * event that never fires is, and brings the records of every thread
	 * and process the targets create (their names, maps, exits).
	 */
	*ret++ = (struct sampler_spec){
		.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_DUMMY, .rate = 1};
	for (size_t i = 0; i < n; i++) {
		const struct probe *p = &probes[i];
		bool allocates = t->hooks ? p->func == KIND_ALLOC_HOOK_SAMPLED
					  : p->func != KIND_ALLOC_FREE && !p->ret;
		struct sampler_event ev;
		int r = sampler_event_probe("alloc", t->hooks ? "cprof_alloc" : func_names[p->func],
					    t->path, t->offsets[p->func], &ev);

		if (r < 0)
			return r;
		ret[i] = (struct sampler_spec){
			.type = ev.type,
			.config = p->ret ? SAMPLER_UPROBE_RETURN : 0,
			.config1 = ev.config1,
			.config2 = ev.config2,
			.rate = 1,
			.stack = allocates,
			.user_stack = true,
			.regs = true,
			/*
			 * The hooks are in a library only the processes preloading it
			 * map: one event per CPU for all of them (those we follow kept).
			 * The allocator is everyone's: the targets' threads alone.
			 */
			.cpu_wide = t->hooks,
			.no_inherit = !t->hooks,
		};
	}
	return (int)n + 1;
}

static int alloc_setup(struct profile *p, const struct kind_options *o)
{
	static const char *const types[] = {"alloc_objects", "alloc_space", "inuse_objects",
					    "inuse_space"};
	struct profile_value_type period;
	uint32_t unit;
	int r = 0;

	for (size_t i = 0; i < 4 && r == 0; i++)
		r = profile_add_type(p, types[i], i % 2 ? "bytes" : "count");
	if (r == 0)
		r = profile_intern(p, "space", &period.type);
	if (r == 0)
		r = profile_intern(p, "bytes", &unit);
	if (r < 0)
		return r;
	period.unit = unit;
	profile_set_period(p, period, o->alloc ? (int64_t)o->alloc->rate : 0);
	/* As go tool pprof shows a heap profile: what is held. */
	profile_set_default_type(p, p->types[3].type);
	return 0;
}

static int alloc_new(const struct kind_options *o, void **ret)
{
	struct alloc_kind *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	if (o->alloc) {
		k->hooks = o->alloc->hooks;
		k->rate = o->alloc->rate;
		k->nprobes = plan(o->alloc, k->probes);
		k->trap_ns = o->alloc->trap_ns;
	}
	k->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)k;
	*ret = k;
	return 0;
}

static void alloc_free(void *state)
{
	struct alloc_kind *k = state;

	for (size_t i = 0; i < k->nlive; i++)
		kind_stack_free(k->live[i].stack);
	for (size_t i = 0; i < k->ncalls; i++)
		kind_stack_free(k->calls[i].stack);
	hashmap_release(&k->live_index);
	hashmap_release(&k->call_index);
	free(k->live);
	free(k->calls);
	free(k);
}

/* What a sampled block of size bytes stands for, at this rate: Go's scaling. */
static void weigh(uint64_t size, uint64_t rate, int64_t *objects, int64_t *bytes)
{
	double s = size ? (double)size : 1, w = rate ? 1 / -expm1(-s / (double)rate) : 1;

	*objects = llround(w);
	*bytes = llround(s * w);
}

/* Bytes to the next sample: exponentially distributed with mean rate, as Go's. */
static int64_t gap(struct alloc_kind *k)
{
	double u;

	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	u = (double)(((k->rng * 0x2545f4914f6cdd1dULL) >> 11) + 1) * 0x1p-53;
	return (int64_t)(-log(u) * (double)k->rate) + 1;
}

/* Probing the allocator: is an allocation of size bytes sampled? */
static bool take(struct alloc_kind *k, uint64_t size)
{
	if (!k->until)
		k->until = gap(k);
	k->until -= size > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)size;
	if (k->until > 0)
		return false;
	k->until = gap(k);
	return true;
}

/* --- the live blocks, by (pid, address) --- */

struct live_key {
	const struct alloc_kind *k;
	int32_t pid;
	uint64_t addr;
};

static uint64_t live_hash(int32_t pid, uint64_t addr)
{
	return hash_u64(addr, (uint64_t)(uint32_t)pid);
}

static bool live_eq(const void *ctx, uint32_t idx)
{
	const struct live_key *key = ctx;

	return key->k->live[idx].pid == key->pid && key->k->live[idx].addr == key->addr;
}

static struct live *live_find(struct alloc_kind *k, int32_t pid, uint64_t addr)
{
	struct live_key key = {k, pid, addr};
	uint32_t idx;

	return hashmap_find(&k->live_index, live_hash(pid, addr), live_eq, &key, &idx)
		       ? &k->live[idx]
		       : NULL;
}

/* Take item out of the table (its stack stays the caller's), the last one moving into its place. */
static void live_remove(struct alloc_kind *k, struct live *item)
{
	uint32_t idx = (uint32_t)(item - k->live), last = (uint32_t)k->nlive - 1;

	(void)hashmap_remove(&k->live_index, live_hash(item->pid, item->addr), idx);
	if (idx != last) {
		struct live *moved = &k->live[last];
		uint64_t h = live_hash(moved->pid, moved->addr);

		(void)hashmap_remove(&k->live_index, h, last);
		(void)hashmap_insert(&k->live_index, h, idx);
		*item = *moved;
	}
	k->nlive--;
}

/* A sampled block: counted as allocated, and live until freed. Takes stack. */
static int allocated(struct alloc_kind *k, struct kind_out *out, int32_t pid, uint64_t addr,
		     uint64_t size, uint64_t rate, struct kind_stack *stack)
{
	struct live *old = live_find(k, pid, addr);
	int64_t v[4] = {0};
	int r;

	weigh(size, rate, &v[0], &v[1]);
	r = kind_out_add_held(out, stack, v, NULL, 0);
	if (r < 0 || addr == 0) {
		kind_stack_free(stack);
		return r;
	}
	if (old) {
		/* Its free was lost: the block was given again. */
		kind_stack_free(old->stack);
		old->stack = stack;
		old->objects = v[0];
		old->bytes = v[1];
		return 0;
	}
	r = VEC_PUSH_RESERVE(k->live, k->nlive, k->live_cap);
	if (r == 0)
		r = hashmap_insert(&k->live_index, live_hash(pid, addr), (uint32_t)k->nlive);
	if (r < 0) {
		kind_stack_free(stack);
		return r;
	}
	k->live[k->nlive++] = (struct live){pid, addr, v[0], v[1], stack};
	return 0;
}

static void freed(struct alloc_kind *k, int32_t pid, uint64_t addr)
{
	struct live *item = addr ? live_find(k, pid, addr) : NULL;

	if (item) {
		kind_stack_free(item->stack);
		live_remove(k, item);
	}
}

/* What is live is added as in use: every block (pid 0), or process pid's, then forgotten. */
static int add_in_use(struct alloc_kind *k, struct kind_out *out, int32_t pid)
{
	for (size_t i = 0; i < k->nlive; i++) {
		struct live *item = &k->live[i];
		int64_t v[4] = {0, 0, item->objects, item->bytes};
		int r;

		if (pid && item->pid != pid)
			continue;
		r = kind_out_add_held(out, item->stack, v, NULL, 0);
		if (r < 0)
			return r;
		if (pid) {
			kind_stack_free(item->stack);
			live_remove(k, item);
			i--;
		}
	}
	return 0;
}

/* --- calls in progress, by thread --- */

struct call_key {
	const struct alloc_kind *k;
	int32_t tid;
};

static bool call_eq(const void *ctx, uint32_t idx)
{
	const struct call_key *key = ctx;

	return key->k->calls[idx].tid == key->tid;
}

static struct call *call_find(struct alloc_kind *k, int32_t tid, bool create)
{
	struct call_key key = {k, tid};
	uint32_t idx;
	int r;

	if (!create)
		return hashmap_find(&k->call_index, hash_u64((uint64_t)(uint32_t)tid, 0), call_eq,
				    &key, &idx)
			       ? &k->calls[idx]
			       : NULL;
	if (VEC_PUSH_RESERVE(k->calls, k->ncalls, k->calls_cap) < 0)
		return NULL;
	r = hashmap_find_or_add(&k->call_index, hash_u64((uint64_t)(uint32_t)tid, 0), call_eq, &key,
				(uint32_t)k->ncalls, &idx);
	if (r < 0)
		return NULL;
	if (r == 0)
		k->calls[k->ncalls++] = (struct call){.tid = tid};
	return &k->calls[idx];
}

static void call_end(struct call *c)
{
	kind_stack_free(c->stack);
	c->stack = NULL;
	c->depth = 0;
}

/* A thread is gone: its call table entry goes (the last one moving into its place). */
static void call_remove(struct alloc_kind *k, int32_t tid)
{
	struct call *c = call_find(k, tid, false);
	uint32_t idx, last = (uint32_t)k->ncalls - 1;

	if (!c)
		return;
	idx = (uint32_t)(c - k->calls);
	call_end(c);
	(void)hashmap_remove(&k->call_index, hash_u64((uint64_t)(uint32_t)tid, 0), idx);
	if (idx != last) {
		uint64_t h = hash_u64((uint64_t)(uint32_t)k->calls[last].tid, 0);

		(void)hashmap_remove(&k->call_index, h, last);
		(void)hashmap_insert(&k->call_index, h, idx);
		k->calls[idx] = k->calls[last];
	}
	k->ncalls--;
}

/* An allocator function's entry: the size it was asked for, sampled or not. */
static int entered(struct alloc_kind *k, struct kind_out *out, const struct perf_record *smp,
		   enum kind_alloc_func f, const struct arch_call *a)
{
	struct call *c = call_find(k, smp->tid, true);
	uint64_t size;

	if (!c)
		return -ENOMEM;
	if (c->depth && a->sp >= c->sp)
		call_end(c); /* not nested in the open call: that one's return was lost */
	if (c->depth++)
		return 0;
	switch (f) {
	case KIND_ALLOC_CALLOC:
		if (__builtin_mul_overflow(a->args[0], a->args[1], &size))
			size = 0; /* it fails */
		break;
	case KIND_ALLOC_REALLOC:
		freed(k, smp->pid, a->args[0]);
		size = a->args[1];
		break;
	case KIND_ALLOC_MEMALIGN:
	case KIND_ALLOC_ALIGNED_ALLOC:
		size = a->args[1];
		break;
	case KIND_ALLOC_POSIX_MEMALIGN:
		size = a->args[2];
		break;
	default:
		size = a->args[0];
		break;
	}
	c->sp = a->sp;
	c->size = size;
	c->func = f;
	if (size == 0 || !take(k, size))
		return 0;
	return kind_out_hold(out, smp, &c->stack);
}

/* An allocator function's return: the outermost call's block, if its entry was sampled. */
static int returned(struct alloc_kind *k, struct kind_out *out, const struct perf_record *smp,
		    uint64_t value)
{
	struct call *c = call_find(k, smp->tid, false);
	struct kind_stack *stack;
	uint64_t addr = value;

	if (!c || !c->depth)
		return 0; /* its entry was before the recording, or lost */
	if (--c->depth || !c->stack)
		return 0;
	stack = c->stack;
	c->stack = NULL;
	if (c->func == KIND_ALLOC_POSIX_MEMALIGN) {
		/* It returns an error number; the block, in memory we do not see, is not followed.
		 */
		if (value != 0) {
			kind_stack_free(stack);
			return 0;
		}
		addr = 0;
	} else if (addr == 0) {
		kind_stack_free(stack); /* it failed */
		return 0;
	}
	return allocated(k, out, smp->pid, addr, c->size, k->rate, stack);
}

/* The preload library's hook: a block it sampled, with the rate it samples at. */
static int hooked(struct alloc_kind *k, struct kind_out *out, const struct perf_record *smp,
		  const struct arch_call *a)
{
	struct kind_stack *stack;
	int r = kind_out_hold(out, smp, &stack);

	if (r < 0)
		return r;
	/* The hook's own frame: the stack starts at the malloc it was called from. */
	kind_stack_drop_leaf(stack);
	return allocated(k, out, smp->pid, a->args[1], a->args[0], a->args[2], stack);
}

static int alloc_sample(void *state, struct kind_out *out, const struct perf_record *smp, size_t i)
{
	struct alloc_kind *k = state;
	const struct probe *p;
	struct arch_call a;

	k->hits++;
	if (i-- == 0 || i >= k->nprobes || !smp->u.s.regs_abi ||
	    !arch_call_regs(smp->u.s.regs, smp->u.s.nr_regs, &a))
		return 0;
	p = &k->probes[i];
	if (k->hooks) {
		if (p->func == KIND_ALLOC_HOOK_FREED) {
			freed(k, smp->pid, a.args[0]);
			return 0;
		}
		return hooked(k, out, smp, &a);
	}
	if (p->func == KIND_ALLOC_FREE) {
		freed(k, smp->pid, a.args[0]);
		return 0;
	}
	return p->ret ? returned(k, out, smp, a.value) : entered(k, out, smp, p->func, &a);
}

static int alloc_record(void *state, struct kind_out *out, const struct perf_record *rec)
{
	struct alloc_kind *k = state;

	switch (rec->type) {
	case PERF_RECORD_EXIT:
		call_remove(k, rec->tid);
		/* A process's end: what it held then is its in-use. */
		return rec->pid == rec->tid ? add_in_use(k, out, rec->pid) : 0;
	case PERF_RECORD_COMM: /* an exec: the old image's heap is gone with it */
		return add_in_use(k, out, rec->pid);
	case PERF_RECORD_LOST:
	case PERF_RECORD_LOST_SAMPLES:
		/* Any call open may have lost its return: the next entry sees to it. */
		return 0;
	default:
		return 0;
	}
}

/* A window's end: every sampled block still live is in use in it. */
static int alloc_flush(void *state, struct kind_out *out, uint64_t now, bool final)
{
	(void)now;
	(void) final;
	return add_in_use(state, out, 0);
}

/* Probing the allocator, every call trapped: how many, and what that cost the target. */
static void alloc_summarize(void *state, char *buf, size_t size)
{
	const struct alloc_kind *k = state;

	if (k->hooks)
		(void)snprintf(buf, size,
			       "%llu sampled allocations and frees reported by the "
			       "preload library",
			       (unsigned long long)k->hits);
	else if (k->trap_ns)
		(void)snprintf(buf, size,
			       "%llu allocator calls trapped, about %.2f s of the target's time "
			       "(%.1f us each, measured)",
			       (unsigned long long)k->hits, (double)(k->hits * k->trap_ns) / 1e9,
			       (double)k->trap_ns / 1000);
	else
		(void)snprintf(buf, size, "%llu allocator calls trapped",
			       (unsigned long long)k->hits);
}

const struct kind kind_alloc = {
	.name = "alloc",
	.description = "heap allocations (Go's heap profile): allocated and in-use objects and "
		       "bytes, sampled by bytes",
	.events = alloc_events,
	.setup = alloc_setup,
	.state_new = alloc_new,
	.state_free = alloc_free,
	.sample = alloc_sample,
	.record = alloc_record,
	.flush = alloc_flush,
	.summarize = alloc_summarize,
};
