/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/perf/reader.h"
#include "lib/perf/ring.h"
#include "lib/perf/decode.h"
#include "lib/perf/sampler.h"

#define DEFAULT_MAX_QUEUED ((size_t)64 << 20)
#define POLL_MS 100
/*
 * The reader allocates only while the queue grows past what it had: the
 * batches delivered come back as spares with their buffers. A reader that
 * mapped and unmapped memory every pass would take its process's mmap
 * lock, which an ordinary thread may hold when a thousand others preempt
 * it (the reader stalled 100 ms and more, and the rings overflowed); and
 * the main thread freeing the reader's memory would take its arena's lock.
 * A few spares, each no larger than a busy machine's pass, bound what is kept.
 */
#define MAX_SPARE 4
#define MAX_SPARE_BYTES ((size_t)8 << 20)

/*
 * One pass over every ring: its records back to back, each 8-aligned as in
 * the ring. The session's thread alone counts the holds on a batch taken.
 */
struct reader_batch {
	struct reader_batch *next;
	size_t len, cap;
	unsigned char *data;
	unsigned holds;
};

struct reader {
	struct sampler *sampler;
	struct reader_config cfg;
	pthread_t thread;
	bool started;

	/* Shared with the thread, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t ready; /* a batch was queued, or the thread ended */
	struct reader_batch *head, *tail;
	struct reader_batch *spare; /* delivered, their buffers kept for reuse */
	size_t nspare;
	size_t queued;
	bool stop, done, hup;
	/* reader_sync's requests, and the last one a pass answered. */
	uint64_t sync_asked, sync_done;
	bool realtime; /* the thread got SCHED_FIFO */
	struct reader_stats stats;
};

static void batch_free(struct reader_batch *b)
{
	if (!b)
		return;
	free(b->data);
	free(b);
}

/* A batch to fill: a spare one emptied, or a new one. */
static struct reader_batch *batch_get(struct reader *r)
{
	struct reader_batch *b;

	pthread_mutex_lock(&r->lock);
	b = r->spare;
	if (b) {
		r->spare = b->next;
		r->nspare--;
	}
	pthread_mutex_unlock(&r->lock);
	if (!b)
		return calloc(1, sizeof(*b));
	b->next = NULL;
	b->len = 0;
	return b;
}

/* b kept as a spare, if few are; false when it is not. The lock is held. */
static bool keep_spare(struct reader *r, struct reader_batch *b)
{
	if (r->nspare >= MAX_SPARE || b->cap > MAX_SPARE_BYTES)
		return false;
	b->next = r->spare;
	r->spare = b;
	r->nspare++;
	return true;
}

/* Done with b: kept as a spare or freed. */
static void batch_put(struct reader *r, struct reader_batch *b)
{
	bool kept;

	pthread_mutex_lock(&r->lock);
	kept = keep_spare(r, b);
	pthread_mutex_unlock(&r->lock);
	if (!kept)
		batch_free(b);
}

/* Room for n more bytes at the end of b; NULL when out of memory. */
static unsigned char *batch_room(struct reader_batch *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		unsigned char *data;

		while (cap < b->len + n)
			cap *= 2;
		data = realloc(b->data, cap);
		if (!data)
			return NULL;
		b->data = data;
		b->cap = cap;
	}
	return b->data + b->len;
}

/*
 * Copy rec into b. A sample's user stack copy is the last field of the
 * record (nothing after it is asked for): SIZE bytes reserved, of which the
 * kernel filled dyn_size. Such a sample is copied cut to what was filled —
 * often a few hundred bytes of the 16 KiB — with its size field rewritten:
 * copying the rest was an eighth of cprof's CPU, and it would fill the
 * queue a hundred times faster.
 */
static int batch_add(struct reader_batch *b, const struct sampler *s,
		     const struct perf_event_header *rec)
{
	struct perf_record smp;
	size_t head, keep;
	unsigned char *dst;
	uint64_t size, type;
	int event = rec->type == PERF_RECORD_SAMPLE ? sampler_event_of(s, rec) : -1;

	type = event >= 0 ? sampler_sample_type(s, (size_t)event) : 0;
	if ((type & PERF_SAMPLE_STACK_USER) &&
	    perf_record_decode(rec, type, sampler_regs_mask(s), &smp) == 0 && smp.u.s.stack) {
		head = (size_t)((const unsigned char *)smp.u.s.stack - (const unsigned char *)rec);
		keep = (smp.u.s.stack_size + 7) & ~(size_t)7;
		memcpy(&size, (const unsigned char *)smp.u.s.stack - 8, 8);
		if (keep + 64 < size) {
			dst = batch_room(b, head + keep + 8);
			if (!dst)
				return -ENOMEM;
			memcpy(dst, rec, head);
			memcpy(dst + head, smp.u.s.stack, keep);
			memcpy(dst + head - 8, &(uint64_t){keep}, 8);
			memcpy(dst + head + keep, &smp.u.s.stack_size, 8);
			((struct perf_event_header *)(void *)dst)->size =
				(uint16_t)(head + keep + 8);
			b->len += head + keep + 8;
			return 0;
		}
	}
	dst = batch_room(b, rec->size);
	if (!dst)
		return -ENOMEM;
	memcpy(dst, rec, rec->size);
	b->len += rec->size;
	return 0;
}

/*
 * One pass: every ring drained into a new batch. Out of memory, a ring is
 * left unread (the kernel keeps or drops its records) rather than lose the
 * records already copied.
 */
static struct reader_batch *read_pass(struct reader *r)
{
	struct reader_batch *b = batch_get(r);

	if (!b)
		return NULL;
	for (size_t i = 0; i < sampler_nrings(r->sampler); i++) {
		struct ring *ring = sampler_ring(r->sampler, i);
		const struct perf_event_header *rec;

		if (ring_read_init(ring) == 0)
			continue;
		while ((rec = ring_next(ring)))
			if (batch_add(b, r->sampler, rec) < 0)
				break;
		ring_read_done(ring);
	}
	return b;
}

/* Called with the lock held. */
static void queue_batch(struct reader *r, struct reader_batch *b)
{
	if (!b->len) {
		if (!keep_spare(r, b))
			batch_free(b);
		return;
	}
	if (r->tail)
		r->tail->next = b;
	else
		r->head = b;
	r->tail = b;
	r->queued += b->len;
	if (r->queued > r->stats.peak_queued)
		r->stats.peak_queued = r->queued;
}

static void *run(void *arg)
{
	struct reader *r = arg;
	bool stop = false;

	while (!stop) {
		bool hup = false, full;
		struct reader_batch *b = NULL;
		uint64_t sync;

		(void)sampler_wait(r->sampler, POLL_MS, &hup);
		pthread_mutex_lock(&r->lock);
		stop = r->stop;
		sync = r->sync_asked;
		full = r->queued >= r->cfg.max_queued && sync == r->sync_done;
		r->hup |= hup;
		if (full && !stop)
			r->stats.full_passes++;
		pthread_mutex_unlock(&r->lock);
		/* The last pass reads even past the bound: the recording's end must be seen. */
		if (!full || stop)
			b = read_pass(r);
		pthread_mutex_lock(&r->lock);
		if (b)
			queue_batch(r, b);
		r->sync_done = sync;
		if (stop)
			r->done = true;
		pthread_cond_broadcast(&r->ready);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/*
 * Where the caller may (root, CAP_SYS_NICE), the reader runs ahead of every
 * ordinary task: on a machine with a thousand runnable threads an ordinary
 * thread waits its turn for longer than a ring takes to fill. It is born
 * SCHED_FIFO, not switched once it first runs: that first turn could come
 * seconds late. It only copies records and sleeps in poll, a few percent of
 * one CPU at most, and the kernel's RT throttling bounds even a bug's cost.
 * Returns 0, or the error of pthread_create (EPERM where not allowed).
 */
static int create_realtime(struct reader *r)
{
	struct sched_param rt = {.sched_priority = 1};
	pthread_attr_t attr;
	int e;

	e = pthread_attr_init(&attr);
	if (e)
		return e;
	e = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	if (!e)
		e = pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	if (!e)
		e = pthread_attr_setschedparam(&attr, &rt);
	if (!e)
		e = pthread_create(&r->thread, &attr, run, r);
	(void)pthread_attr_destroy(&attr);
	return e;
}

int reader_new(struct sampler *s, const struct reader_config *cfg, struct reader **ret)
{
	struct reader *r = calloc(1, sizeof(*r));
	pthread_mutexattr_t mattr;
	sigset_t all, old;
	int e;

	if (!r)
		return -ENOMEM;
	r->sampler = s;
	r->cfg = *cfg;
	if (!r->cfg.max_queued)
		r->cfg.max_queued = DEFAULT_MAX_QUEUED;
	/*
	 * Priority inheritance: the main thread holding the lock while a
	 * thousand ordinary threads preempt it would stall the reader behind it.
	 */
	pthread_mutexattr_init(&mattr);
	(void)pthread_mutexattr_setprotocol(&mattr, PTHREAD_PRIO_INHERIT);
	/* (A kernel without PI futexes: an ordinary lock.) */
	if (pthread_mutex_init(&r->lock, &mattr) != 0)
		pthread_mutex_init(&r->lock, NULL);
	pthread_mutexattr_destroy(&mattr);
	pthread_cond_init(&r->ready, NULL);
	/* Signals are the main thread's to handle: the reader is born with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = create_realtime(r);
	r->realtime = e == 0;
	if (e)
		e = pthread_create(&r->thread, NULL, run, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		reader_free(r);
		return -e;
	}
	r->started = true;
	*ret = r;
	return 0;
}

void reader_hold(struct reader_batch *b)
{
	b->holds++;
}

void reader_release(struct reader *r, struct reader_batch *b)
{
	if (--b->holds == 0)
		batch_put(r, b);
}

/*
 * Hand each queued batch to fn, oldest first; the lock is not held
 * meanwhile. The take holds each batch while fn sees it; fn's own holds
 * keep it past the take.
 */
static int deliver(struct reader *r, struct reader_batch *list, reader_fn fn, void *ctx)
{
	int ret = 0;

	while (list) {
		struct reader_batch *b = list;

		list = b->next;
		b->next = NULL;
		b->holds = 1;
		for (size_t off = 0; off < b->len && ret == 0;) {
			const struct perf_event_header *rec = (const void *)(b->data + off);

			ret = fn(ctx, rec, b);
			off += rec->size;
		}
		if (ret == 0)
			ret = fn(ctx, NULL, NULL);
		reader_release(r, b);
		if (ret < 0)
			break;
	}
	while (list) {
		struct reader_batch *b = list;

		list = b->next;
		batch_put(r, b);
	}
	return ret;
}

int reader_take(struct reader *r, int timeout_ms, reader_fn fn, void *ctx, bool *ret_hup)
{
	struct reader_batch *list;
	struct timespec until;

	pthread_mutex_lock(&r->lock);
	if (!r->head && !r->done && timeout_ms > 0) {
		(void)clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!r->head && !r->done) {
			if (pthread_cond_timedwait(&r->ready, &r->lock, &until) == ETIMEDOUT)
				break;
		}
	}
	list = r->head;
	r->head = r->tail = NULL;
	r->queued = 0;
	*ret_hup = r->hup;
	pthread_mutex_unlock(&r->lock);
	return deliver(r, list, fn, ctx);
}

void reader_sync(struct reader *r)
{
	uint64_t want;

	if (!r || !r->started)
		return;
	pthread_mutex_lock(&r->lock);
	want = ++r->sync_asked;
	pthread_mutex_unlock(&r->lock);
	sampler_wake(r->sampler);
	pthread_mutex_lock(&r->lock);
	while (r->sync_done < want && !r->done)
		pthread_cond_wait(&r->ready, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

void reader_stop(struct reader *r)
{
	if (!r || !r->started)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_mutex_unlock(&r->lock);
	sampler_wake(r->sampler);
	pthread_join(r->thread, NULL);
	r->started = false;
}

void reader_free(struct reader *r)
{
	if (!r)
		return;
	reader_stop(r);
	while (r->head) {
		struct reader_batch *b = r->head;

		r->head = b->next;
		batch_free(b);
	}
	while (r->spare) {
		struct reader_batch *b = r->spare;

		r->spare = b->next;
		batch_free(b);
	}
	pthread_cond_destroy(&r->ready);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void reader_get_stats(const struct reader *r, struct reader_stats *ret)
{
	*ret = r->stats;
	ret->realtime = r->realtime;
	for (size_t i = 0; i < sampler_nrings(r->sampler); i++)
		ret->corrupt += ring_corrupt(sampler_ring(r->sampler, i));
}
