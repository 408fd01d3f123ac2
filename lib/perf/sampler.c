/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "lib/perf/arch.h"
#include "lib/base/log.h"
#include "lib/base/parse.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "lib/perf/decode.h"
#include "lib/perf/sampler.h"

#define DEFAULT_RING_PAGES 128 /* 512 KiB with 4 KiB pages, perf's default for root */
#define DWARF_RING_PAGES 512   /* 2 MiB: ~128 samples of 16 KiB stack copies */
#define MIN_RING_PAGES 8

/* A named event: perf's spelling, its type and config, and its pprof value type. */
#define EVENT(name_, type_, config_, vtype, vunit)                                    \
	{                                                                             \
		.name = name_, .type = type_, .config = config_, .value_type = vtype, \
		.value_unit = vunit                                                   \
	}

static const struct sampler_event events[] = {
	EVENT("cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "cpu", "nanoseconds"),
	EVENT("task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "cpu", "nanoseconds"),
	EVENT("page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page-faults", "count"),
	EVENT("faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page-faults", "count"),
	EVENT("context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES,
	      "context-switches", "count"),
	EVENT("cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, "context-switches",
	      "count"),
	EVENT("cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, "cpu-migrations",
	      "count"),
	EVENT("cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles", "count"),
	EVENT("cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles", "count"),
	EVENT("instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions",
	      "count"),
	EVENT("cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "cache-misses",
	      "count"),
	EVENT("branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, "branch-misses",
	      "count"),
};

const struct sampler_event *sampler_event_find(const char *name)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(events[i].name, name) == 0)
			return &events[i];
	return NULL;
}

const struct sampler_event *sampler_event_default(void)
{
	return &events[0];
}

int sampler_event_probe(const char *name, const char *func, const char *path, uint64_t off,
			struct sampler_event *ret)
{
	const char *pmu = path ? "/sys/bus/event_source/devices/uprobe/type"
			       : "/sys/bus/event_source/devices/kprobe/type";
	FILE *f = fopen(pmu, "re");
	unsigned type;
	int n;

	if (!f)
		return -ENODEV;
	n = fscanf(f, "%u", &type);
	(void)fclose(f);
	if (n != 1)
		return -ENODEV;
	*ret = (struct sampler_event){
		.name = name,
		.type = type,
		.config1 = (uint64_t)(uintptr_t)(path ? path : func),
		.config2 = path ? off : 0,
		.value_type = name,
		.value_unit = "count",
		.every = true,
		.probe = true,
		.kernel_probe = !path,
	};
	return 0;
}

/* Samplers alive in this process: switch_all's prctl switches all their events at once. */
static int live_samplers;

struct sampler {
	int *fds;
	size_t nfds, fds_cap;
	bool *wide; /* per fd: an event of every task on its CPU (no task to hang up) */
	size_t wide_cap;
	struct ring **rings;
	struct pollfd *pfds; /* one per ring (one of its events' fds), then the wake fd */
	/*
	 * Per ring, its events' fds: fds[ring_fd[i]..ring_end[i]), ring_fd[i]
	 * the one polled. Any event joined to a ring is woken with it; one
	 * whose thread exited polls hung up for ever, and the next is polled.
	 */
	size_t *ring_fd, *ring_end;
	size_t nrings;
	size_t nhup; /* rings whose every event's task is gone, out of the poll set */
	int wake_fd; /* an eventfd: sampler_wake ends a wait */
	size_t nevents;
	uint64_t sample_types[SAMPLER_MAX_EVENTS]; /* per event of the list */
	const char *filters[SAMPLER_MAX_EVENTS];   /* borrowed from the config, during open */
	bool cpu_wide[SAMPLER_MAX_EVENTS];
	uint64_t regs_mask;
	/* With several events: every opened event's id and its index in the list, by id. */
	struct sampler_id {
		uint64_t id;
		size_t event;
	} * ids;
	size_t nids, ids_cap;
};

int sampler_online_cpus(bool **ret)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	char buf[256];
	bool *cpus;
	FILE *f;
	int r;

	if (n <= 0)
		return -EINVAL;
	cpus = calloc((size_t)n, sizeof(*cpus));
	if (!cpus)
		return -ENOMEM;
	f = fopen("/sys/devices/system/cpu/online", "re");
	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		r = parse_cpu_list(buf, cpus, (size_t)n);
	} else {
		r = -ENOENT;
	}
	if (f)
		(void)fclose(f);
	if (r < 0) /* no sysfs: assume every configured CPU is online */
		for (long i = 0; i < n; i++)
			cpus[i] = true;
	*ret = cpus;
	return (int)n;
}

/* Does an event copy a stack at every hit, or every Nth, rather than at a frequency? */
static bool bursty_stacks(const struct sampler_config *cfg)
{
	for (size_t i = 0; i < cfg->nevents; i++)
		if (cfg->events[i].stack && !cfg->events[i].freq)
			return true;
	return false;
}

/* Event i of the list: the first carries the side-band records. */
static void fill_attr(const struct sampler_config *cfg, size_t i, bool tasks, size_t ring_bytes,
		      struct perf_event_attr *attr)
{
	const struct sampler_spec *e = &cfg->events[i];

	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = e->type;
	attr->config = e->config;
	attr->config1 = e->config1;
	attr->config2 = e->config2;
	attr->freq = e->freq;
	attr->sample_period = e->rate; /* sample_freq shares its place */
	attr->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
	/*
	 * Not with a period of more than one event: the kernel then records
	 * every software event or tracepoint hit with its count as the period,
	 * ignoring sample_period (perf_swevent_event). The period is the
	 * config's then (sampler_spec.rate).
	 */
	if (e->freq || e->rate <= 1)
		attr->sample_type |= PERF_SAMPLE_PERIOD;
	if (cfg->nevents > 1)
		attr->sample_type |= PERF_SAMPLE_IDENTIFIER;
	if (e->raw)
		attr->sample_type |= PERF_SAMPLE_RAW;
	attr->context_switch = e->context_switch;
	if (e->stack && cfg->callgraph == SAMPLER_CALLGRAPH_FP)
		attr->sample_type |= PERF_SAMPLE_CALLCHAIN;
	if (e->stack && e->user_stack)
		attr->exclude_callchain_kernel = 1;
	if (e->stack && cfg->callgraph == SAMPLER_CALLGRAPH_DWARF) {
		/* The kernel walks its own part; the user part is ours to unwind. */
		attr->sample_type |=
			PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		attr->exclude_callchain_user = 1;
		attr->sample_regs_user = arch_regs_mask();
		attr->sample_stack_user = cfg->stack_size;
	}
	if (e->regs) {
		attr->sample_type |= PERF_SAMPLE_REGS_USER;
		attr->sample_regs_user = arch_regs_mask();
	}
	/*
	 * An event of every task on a CPU cannot wait for the target's exec:
	 * it starts at once (the records before the exec are no target's).
	 */
	attr->disabled = !(cfg->enable_on_exec && e->cpu_wide);
	attr->enable_on_exec = cfg->enable_on_exec && !e->cpu_wide;
	attr->inherit = tasks && !e->no_inherit && !e->cpu_wide;
	attr->exclude_kernel = cfg->exclude_kernel;
	attr->exclude_hv = 1;
	/* Side-band records to keep the process model current, stamped like samples. */
	attr->sample_id_all = 1;
	if (i == 0) {
		attr->mmap = 1;
		attr->mmap2 = 1;
		attr->comm = 1;
		attr->comm_exec = 1;
		attr->task = 1;
		attr->build_id = 1;
	}
	/* One clock on every CPU, so records from different rings compare. */
	attr->use_clockid = 1;
	attr->clockid = CLOCK_MONOTONIC;
	/*
	 * Sampling at a frequency, wake the reader half full: half the room
	 * is left while it drains, and it runs ahead of ordinary tasks. Every
	 * wakeup costs the reader and the session a context switch each (tens
	 * of microseconds in a VM): waking a quarter full was 15 % more of
	 * cprof's CPU on CPython at 999 Hz. Events taken at every hit come in
	 * bursts, and keep three quarters of room: half full, a ping-pong at
	 * 45,000 switches a second lost 1,600-36,000 records in 10 s (a
	 * quarter: 11,000-17,000), and a uprobe hit 777 times in a row lost a
	 * third of them.
	 */
	attr->watermark = 1;
	attr->wakeup_watermark = (uint32_t)(ring_bytes / (bursty_stacks(cfg) ? 4 : 2));
}

static int event_open(struct perf_event_attr *attr, int32_t pid, int cpu)
{
	int fd = (int)syscall(SYS_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd >= 0 || !attr->build_id || (errno != EINVAL && errno != E2BIG))
		return fd < 0 ? -errno : fd;
	/* Kernels before 5.12 know no build_id bit: MMAP2 then carries device and inode. */
	log_debug("perf_event_open: no build_id in mmap2 records on this kernel");
	attr->build_id = 0;
	fd = (int)syscall(SYS_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrings; i++)
		ring_free(s->rings[i]);
	for (size_t i = 0; i < s->nfds; i++)
		(void)close(s->fds[i]);
	if (s->wake_fd >= 0)
		(void)close(s->wake_fd);
	__atomic_sub_fetch(&live_samplers, 1, __ATOMIC_RELAXED);
	free(s->rings);
	free(s->pfds);
	free(s->ring_fd);
	free(s->ring_end);
	free(s->fds);
	free(s->wide);
	free(s->ids);
	free(s);
}

static int add_fd(struct sampler *s, int fd, bool wide)
{
	int r = VEC_PUSH_RESERVE(s->fds, s->nfds, s->fds_cap);

	if (r == 0)
		r = VEC_PUSH_RESERVE(s->wide, s->nfds, s->wide_cap);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	s->wide[s->nfds] = wide;
	s->fds[s->nfds++] = fd;
	return 0;
}

/* Remember which event fd is, to tell its records from the other events'. */
static int add_id(struct sampler *s, int fd, size_t event)
{
	uint64_t id;
	int r;

	if (s->nevents == 1)
		return 0;
	if (ioctl(fd, PERF_EVENT_IOC_ID, &id) < 0)
		return -errno;
	r = VEC_PUSH_RESERVE(s->ids, s->nids, s->ids_cap);
	if (r < 0)
		return r;
	s->ids[s->nids++] = (struct sampler_id){.id = id, .event = event};
	return 0;
}

/*
 * Open this CPU's events, every event of the list for each thread, and map
 * its ring; the first event opened owns the ring, the others write into it.
 */
static int open_cpu(struct sampler *s, struct perf_event_attr *attrs, int cpu, const int32_t *tids,
		    size_t ntids, size_t *pages)
{
	int leader = -1, r = 0;
	size_t opened = 0;

	for (size_t i = 0; i < (ntids ? ntids : 1) * s->nevents; i++) {
		int32_t pid = ntids ? tids[i / s->nevents] : -1;
		size_t event = i % s->nevents;
		int fd;

		if (s->cpu_wide[event]) {
			if (i >= s->nevents)
				continue; /* opened with the first task, for all */
			pid = -1;
		}
		fd = event_open(&attrs[event], pid, cpu);

		if (fd == -ESRCH) {
			/* The thread exited since we listed it: nothing to sample there. */
			i += s->nevents - 1 - event;
			continue;
		}
		if (fd < 0)
			return fd;
		r = add_fd(s, fd, s->cpu_wide[event]);
		if (r == 0)
			r = add_id(s, fd, event);
		/*
		 * A filter only saves the ring the records it would drop: the
		 * kind checks what it reads either way, so one the kernel
		 * refuses (an old kernel's syntax) is done without.
		 */
		if (r == 0 && s->filters[event] &&
		    ioctl(fd, PERF_EVENT_IOC_SET_FILTER, s->filters[event]) < 0)
			log_debug("tracepoint filter '%s' refused: %s", s->filters[event],
				  strerror(errno));
		if (r < 0)
			return r;
		opened++;
		if (leader < 0) {
			struct ring *ring;

			leader = fd;
			/* Should fit_ring guess wrong, settle for less than asked. */
			while ((r = ring_open(fd, *pages, &ring)) == -EPERM &&
			       *pages > MIN_RING_PAGES)
				*pages /= 2;
			if (r < 0)
				return r;
			s->rings[s->nrings] = ring;
			s->ring_fd[s->nrings] = s->nfds - 1;
			s->pfds[s->nrings++] = (struct pollfd){.fd = fd, .events = POLLIN};
		} else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, leader) < 0) {
			return -errno;
		}
	}
	if (opened)
		s->ring_end[s->nrings - 1] = s->nfds;
	return opened ? 0 : -ESRCH;
}

/*
 * Unprivileged users may lock kernel.perf_event_mlock_kb per CPU for rings
 * (the kernel multiplies it by the online CPUs); root is not limited. Fit
 * the ring under it, so the wakeup watermark is set for the real size.
 */
static size_t fit_ring(size_t pages)
{
	unsigned long kb = 516;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), max;
	FILE *f;

	if (geteuid() == 0)
		return pages;
	f = fopen("/proc/sys/kernel/perf_event_mlock_kb", "re");
	if (f) {
		if (fscanf(f, "%lu", &kb) != 1)
			kb = 516;
		(void)fclose(f);
	}
	max = kb * 1024 / page; /* the control page counts too */
	while (pages > MIN_RING_PAGES && pages + 1 > max)
		pages /= 2;
	return pages;
}

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct sampler_id *)a)->id, y = ((const struct sampler_id *)b)->id;

	return x < y ? -1 : x > y;
}

int sampler_open(const struct sampler_config *cfg, const int32_t *tids, size_t ntids,
		 struct sampler **ret)
{
	size_t pages = cfg->ring_pages				   ? cfg->ring_pages
		       : cfg->callgraph == SAMPLER_CALLGRAPH_DWARF ? DWARF_RING_PAGES
								   : DEFAULT_RING_PAGES;
	struct perf_event_attr attrs[SAMPLER_MAX_EVENTS];
	bool *online = NULL, stacks = false;
	struct sampler *s;
	int ncpu, r;

	if (cfg->nevents == 0 || cfg->nevents > SAMPLER_MAX_EVENTS)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	__atomic_add_fetch(&live_samplers, 1, __ATOMIC_RELAXED);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		r = -errno;
		goto out;
	}
	ncpu = sampler_online_cpus(&online);
	if (ncpu < 0) {
		r = ncpu;
		goto out;
	}
	s->rings = calloc((size_t)ncpu, sizeof(*s->rings));
	s->pfds = calloc((size_t)ncpu + 1, sizeof(*s->pfds));
	s->ring_fd = calloc((size_t)ncpu, sizeof(*s->ring_fd));
	s->ring_end = calloc((size_t)ncpu, sizeof(*s->ring_end));
	if (!s->rings || !s->pfds || !s->ring_fd || !s->ring_end) {
		r = -ENOMEM;
		goto out;
	}
	pages = fit_ring(pages);
	s->nevents = cfg->nevents;
	for (size_t i = 0; i < cfg->nevents; i++) {
		fill_attr(cfg, i, ntids > 0, pages * (size_t)sysconf(_SC_PAGESIZE), &attrs[i]);
		s->sample_types[i] = attrs[i].sample_type;
		s->filters[i] = cfg->events[i].filter;
		s->cpu_wide[i] = cfg->events[i].cpu_wide;
		s->regs_mask |= attrs[i].sample_regs_user;
		stacks |= cfg->events[i].stack;
	}
	if (cfg->callgraph == SAMPLER_CALLGRAPH_DWARF && stacks && !s->regs_mask) {
		r = -EOPNOTSUPP; /* no register table for this architecture */
		goto out;
	}

	r = -ENODEV; /* no CPU selected is online */
	for (int cpu = 0; cpu < ncpu; cpu++) {
		if (!online[cpu])
			continue;
		if (cfg->cpus && ((size_t)cpu >= cfg->ncpus || !cfg->cpus[cpu]))
			continue;
		r = open_cpu(s, attrs, cpu, tids, ntids, &pages);
		if (r < 0)
			goto out;
	}
	if (s->nids)
		qsort(s->ids, s->nids, sizeof(*s->ids), id_cmp);
out:
	free(online);
	if (r < 0) {
		sampler_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static int ioctl_all(struct sampler *s, unsigned long req)
{
	for (size_t i = 0; i < s->nfds; i++)
		if (ioctl(s->fds[i], req, 0) < 0)
			return -errno;
	return 0;
}

/*
 * Every event at once when this is the process's only sampler: prctl's
 * PR_TASK_PERF_EVENTS_* act on every event the process opened, where an
 * ioctl per event costs some 30 µs — 60 ms each way for a process of a
 * thousand threads on two CPUs. With other samplers about (serve), one
 * ioctl per event, so as not to switch theirs.
 */
static int switch_all(struct sampler *s, bool on)
{
	if (__atomic_load_n(&live_samplers, __ATOMIC_RELAXED) == 1 &&
	    prctl(on ? PR_TASK_PERF_EVENTS_ENABLE : PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0) == 0)
		return 0;
	return ioctl_all(s, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE);
}

int sampler_enable(struct sampler *s)
{
	return switch_all(s, true);
}

int sampler_disable(struct sampler *s)
{
	return switch_all(s, false);
}

size_t sampler_nrings(const struct sampler *s)
{
	return s->nrings;
}

struct ring *sampler_ring(const struct sampler *s, size_t i)
{
	return s->rings[i];
}

size_t sampler_nevents(const struct sampler *s)
{
	return s->nfds;
}

int sampler_wait(struct sampler *s, int timeout_ms, bool *ret_hup)
{
	uint64_t n;

	s->pfds[s->nrings] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
	if (poll(s->pfds, s->nrings + 1, timeout_ms) < 0)
		return -errno;
	/*
	 * A hung-up fd polls ready for ever: left in the set, one exited
	 * thread of many (or the command's end, before its parent is told)
	 * would turn every later wait into a spin. The ring's next event is
	 * polled instead; once all have hung up, the ring leaves the set
	 * (poll skips negative fds). Every pass still reads every ring.
	 */
	for (size_t i = 0; i < s->nrings; i++) {
		if (!(s->pfds[i].revents & POLLHUP) || s->pfds[i].fd < 0)
			continue;
		while (++s->ring_fd[i] < s->ring_end[i] && s->wide[s->ring_fd[i]])
			;
		if (s->ring_fd[i] < s->ring_end[i]) {
			s->pfds[i].fd = s->fds[s->ring_fd[i]];
		} else {
			s->pfds[i].fd = -1;
			s->nhup++;
		}
	}
	*ret_hup = s->nrings && s->nhup == s->nrings;
	if (s->pfds[s->nrings].revents & POLLIN)
		(void)!read(s->wake_fd, &n, sizeof(n));
	return 0;
}

void sampler_wake(struct sampler *s)
{
	(void)!write(s->wake_fd, &(uint64_t){1}, sizeof(uint64_t));
}

int sampler_event_of(const struct sampler *s, const struct perf_event_header *rec)
{
	uint64_t id;
	size_t i;

	if (s->nevents == 1)
		return 0;
	id = perf_record_id(rec, s->sample_types[0]);
	i = UPPER_BOUND(s->ids, s->nids, struct sampler_id, id, id);
	return i > 0 && s->ids[i - 1].id == id ? (int)s->ids[i - 1].event : -1;
}

uint64_t sampler_sample_type(const struct sampler *s, size_t i)
{
	return s->sample_types[i];
}

uint64_t sampler_regs_mask(const struct sampler *s)
{
	return s->regs_mask;
}

int sampler_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int level = 2;

	if (f) {
		if (fscanf(f, "%d", &level) != 1)
			level = 2;
		(void)fclose(f);
	}
	return level;
}
