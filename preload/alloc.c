/* SPDX-License-Identifier: MIT */
/*
 * libcprof-alloc.so: allocations sampled by bytes, for cprof record --kind
 * alloc. Preloaded into a program (record -- COMMAND sets LD_PRELOAD, or a
 * service's unit does), it interposes the malloc family and, on average
 * once every CPROF_ALLOC_RATE bytes (512 KiB by default, Go's
 * MemProfileRate), calls cprof_alloc_sampled(size, address, rate). A
 * sampled address still live is remembered, and its free calls
 * cprof_alloc_freed(address). Both are empty functions: cprof puts a uprobe
 * on each, and the kernel copies the registers and the stack at the call
 * into cprof's ring like any sample's — unwound by the same unwinder, in
 * time order with the process's mmaps, no shared memory for cprof (often
 * root) to trust (docs/decisions.md). Without cprof the calls cost a few
 * nanoseconds every 512 KiB.
 *
 * The fast path of an allocation is a subtraction from a thread-local
 * counter; of a free, one cache line of the table of sampled addresses.
 * No dependency beyond libc, no allocation of its own:
 * - the next allocator (glibc's, or jemalloc's linked into the program) is
 *   found with dlsym(RTLD_NEXT), which itself allocates: what is asked
 *   for meanwhile comes from a static arena, never freed;
 * - an allocator that calls the malloc family again from inside (a
 *   replacement allocator's initialisation) is passed through, not counted
 *   twice (a thread-local flag);
 * - thread-local state is initial-exec, which takes no allocation;
 * - a pointer from before the library was loaded, or from the arena, is
 *   freed as it should be (the arena's: ignored);
 * - a forked child starts a sampling sequence of its own.
 * C++'s operator new and delete call malloc and free, so they come through
 * here too.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

#define DEFAULT_RATE (512 * 1024)

/* The allocator we stand in front of. */
static struct {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
} next;

enum { UNRESOLVED, RESOLVING, READY };
static int state = UNRESOLVED;
static uint64_t rate = DEFAULT_RATE; /* 0: sampling off */

/*
 * What dlsym allocates before the allocator is known: a bump arena. Each
 * block is preceded by its size, for realloc; nothing is ever given back.
 */
static _Alignas(16) unsigned char arena[64 * 1024];
static size_t arena_used;

static void *arena_alloc(size_t size)
{
	size_t need = (size + 16 + 15) & ~(size_t)15, at;

	at = __atomic_fetch_add(&arena_used, need, __ATOMIC_RELAXED);
	if (size > sizeof(arena) || at + need > sizeof(arena)) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(arena + at, &size, sizeof(size));
	return arena + at + 16;
}

static bool in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	       (const unsigned char *)p < arena + sizeof(arena);
}

/* This thread's sampling: bytes left until the next sample, and its generator. */
static TLS struct {
	int64_t until;
	uint64_t rng;
	bool seeded;
	bool inside; /* in the next allocator: calls back into us are its own */
} tl;

/*
 * The sampled addresses still live: 8 per bucket, a cache line, claimed
 * and released by compare-and-swap. A free looks at one line. When a
 * bucket is full the address is not remembered (its free goes unseen).
 */
#define BUCKETS 8192
static _Alignas(64) uintptr_t sampled[BUCKETS][8];

static uintptr_t *bucket(const void *p)
{
	uint64_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL;

	return sampled[h >> 51];
}

static void remember(void *p)
{
	uintptr_t *b = bucket(p);

	for (int i = 0; i < 8; i++) {
		uintptr_t empty = 0;

		if (__atomic_compare_exchange_n(&b[i], &empty, (uintptr_t)p, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return;
	}
}

static bool forget(const void *p)
{
	uintptr_t *b = bucket(p);

	for (int i = 0; i < 8; i++) {
		uintptr_t want = (uintptr_t)p;

		if (__atomic_load_n(&b[i], __ATOMIC_RELAXED) == want &&
		    __atomic_compare_exchange_n(&b[i], &want, 0, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

/*
 * Where cprof's uprobes go. Exported, so that calls from this library go
 * through the PLT and the compiler keeps them, their arguments in the
 * ABI's registers (rdi, rsi, rdx), and their bodies empty.
 */
EXPORT void cprof_alloc_sampled(size_t size, void *addr, uint64_t every);
EXPORT void cprof_alloc_freed(void *addr);

EXPORT __attribute__((noinline)) void cprof_alloc_sampled(size_t size, void *addr, uint64_t every)
{
	__asm__ volatile("" : : "r"(size), "r"(addr), "r"(every) : "memory");
}

EXPORT __attribute__((noinline)) void cprof_alloc_freed(void *addr)
{
	__asm__ volatile("" : : "r"(addr) : "memory");
}

static uint64_t next_random(void)
{
	/* xorshift64*: enough for picking gaps. */
	tl.rng ^= tl.rng >> 12;
	tl.rng ^= tl.rng << 25;
	tl.rng ^= tl.rng >> 27;
	return tl.rng * 0x2545f4914f6cdd1dULL;
}

/* ln(x) for x in (0, 1], without libm: x = m·2^e, ln m from the atanh series. */
static double log_unit(double x)
{
	union {
		double d;
		uint64_t u;
	} v = {.d = x};
	int e = (int)((v.u >> 52) & 0x7ff) - 1022;
	double m, s, s2;

	v.u = (v.u & ~(0x7ffULL << 52)) | (1022ULL << 52); /* m in [0.5, 1) */
	m = v.d;
	s = (m - 1) / (m + 1);
	s2 = s * s;
	return e * 0.69314718055994531 +
	       2 * s * (1 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9)))));
}

/* Bytes to the next sample: exponentially distributed with mean rate, as Go's. */
static int64_t gap(void)
{
	double u = (double)((next_random() >> 11) + 1) * 0x1p-53; /* (0, 1] */
	double g = -log_unit(u) * (double)rate;

	return g < 1 ? 1 : g > 0x1p62 ? INT64_MAX / 2 : (int64_t)g;
}

static void seed(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	tl.rng = ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^ ((uint64_t)gettid() << 40) ^
		 (uintptr_t)&tl;
	if (!tl.rng)
		tl.rng = 1;
	tl.seeded = true;
	tl.until = gap();
}

static void after_fork_child(void)
{
	seed();
}

/* The next definition of name, into next.name (ISO C has no cast from void * to a function). */
#define LOOKUP(name)                                     \
	do {                                             \
		void *sym_ = dlsym(RTLD_NEXT, #name);    \
		memcpy(&next.name, &sym_, sizeof(sym_)); \
	} while (0)

static void resolve(void)
{
	int expect = UNRESOLVED;
	const char *env;

	if (!__atomic_compare_exchange_n(&state, &expect, RESOLVING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	env = getenv("CPROF_ALLOC_RATE");
	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);

		if (*end == '\0')
			rate = v;
	}
	LOOKUP(malloc);
	LOOKUP(free);
	LOOKUP(calloc);
	LOOKUP(realloc);
	LOOKUP(memalign);
	LOOKUP(posix_memalign);
	LOOKUP(aligned_alloc);
	LOOKUP(valloc);
	LOOKUP(pvalloc);
	(void)pthread_atfork(NULL, NULL, after_fork_child);
	__atomic_store_n(&state, READY, __ATOMIC_RELEASE);
}

/* Is the allocator ready for a call from the program (not from inside itself)? */
static inline bool ready(void)
{
	if (__builtin_expect(__atomic_load_n(&state, __ATOMIC_ACQUIRE) != READY, 0)) {
		resolve();
		if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != READY)
			return false;
	}
	return true;
}

/* Inlined into each function of the family: the hook is called from malloc itself, one frame up. */
static inline __attribute__((always_inline)) void sample(void *p, size_t size)
{
	if (!tl.seeded) {
		/* A thread's first allocation: its counter starts now. */
		int64_t left = tl.until;

		seed();
		tl.until += left;
		if (tl.until > 0)
			return;
	}
	tl.until = gap();
	remember(p);
	cprof_alloc_sampled(size, p, rate);
}

/* Count an allocation the program got: the whole fast path is the subtraction. */
static inline __attribute__((always_inline)) void account(void *p, size_t size)
{
	if (p && rate && (tl.until -= (int64_t)(size ? size : 1)) <= 0)
		sample(p, size);
}

/* A free of p: if it was sampled, say so. */
static inline void release(void *p)
{
	if (forget(p))
		cprof_alloc_freed(p);
}

/* Around calls into the next allocator: calls back from it pass through uncounted. */
#define ENTER()                       \
	bool was_inside_ = tl.inside; \
	tl.inside = true
#define LEAVE() tl.inside = was_inside_

EXPORT void *malloc(size_t size)
{
	void *p;

	if (!ready())
		return arena_alloc(size);
	if (tl.inside)
		return next.malloc(size);
	{
		ENTER();
		p = next.malloc(size);
		LEAVE();
	}
	account(p, size);
	return p;
}

EXPORT void free(void *p)
{
	if (!p || in_arena(p))
		return;
	if (!ready())
		return; /* cannot happen: only the arena gives memory before */
	if (!tl.inside)
		release(p);
	next.free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!ready()) /* static memory is zeroed */
		return arena_alloc(total);
	if (tl.inside)
		return next.calloc(n, size);
	{
		ENTER();
		p = next.calloc(n, size);
		LEAVE();
	}
	account(p, total);
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	void *p;

	if (old && in_arena(old)) {
		size_t had;

		memcpy(&had, (unsigned char *)old - 16, sizeof(had));
		p = malloc(size);
		if (p)
			memcpy(p, old, had < size ? had : size);
		return p;
	}
	if (!ready())
		return arena_alloc(size);
	if (tl.inside)
		return next.realloc(old, size);
	/*
	 * The old block is gone once realloc returns, and another thread may
	 * be given its address at once: its free is said first. (When realloc
	 * fails the block stays, unsampled from then on.)
	 */
	if (old)
		release(old);
	{
		ENTER();
		p = next.realloc(old, size);
		LEAVE();
	}
	account(p, size);
	return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(old, total);
}

/* The aligned ones: counted as their size. */
#define ALIGNED(call, size)          \
	do {                         \
		void *p_;            \
		if (!ready())        \
			return NULL; \
		if (tl.inside)       \
			return call; \
		{                    \
			ENTER();     \
			p_ = call;   \
			LEAVE();     \
		}                    \
		account(p_, size);   \
		return p_;           \
	} while (0)

EXPORT void *memalign(size_t align, size_t size)
{
	ALIGNED(next.memalign(align, size), size);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	ALIGNED(next.aligned_alloc(align, size), size);
}

EXPORT void *valloc(size_t size)
{
	ALIGNED(next.valloc(size), size);
}

EXPORT void *pvalloc(size_t size)
{
	ALIGNED(next.pvalloc(size), size);
}

EXPORT int posix_memalign(void **ret, size_t align, size_t size)
{
	int r;

	if (!ready())
		return ENOMEM;
	if (tl.inside)
		return next.posix_memalign(ret, align, size);
	{
		ENTER();
		r = next.posix_memalign(ret, align, size);
		LEAVE();
	}
	if (r == 0)
		account(*ret, size);
	return r;
}
