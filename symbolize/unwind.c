/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "lib/arch.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/sample.h"
#include "lib/vec.h"
#include "symbolize/internal.h"
#include "symbolize/unwind.h"

struct uproc {
	int32_t pid;
	const struct proc *proc; /* the model's object it was built for */
	uint64_t generation;	 /* of proc's maps when last reported */
	Dwfl *dwfl;
	bool attached;
};

struct unwind {
	struct elfcache *files; /* borrowed: the symbolizer shares it */
	struct uproc **procs;
	size_t nprocs, procs_cap;
	struct hashmap proc_index;

	/* The sample being unwound, read by the thread callbacks. */
	struct {
		struct proc *p;
		int32_t tid;
		const unsigned char *stack;
		uint64_t stack_size, sp, fp;
		Dwarf_Word regs[ARCH_DWARF_NREGS];
	} cur;

	/* The walk in progress. */
	struct session_frame *frames;
	size_t nframes, max;
	bool have_fp;
	Dwarf_Word last_fp;
	/*
	 * A read outside the stack copy and the mapped files failed. A register
	 * that could not be restored may end libdwfl's walk as if the frame were
	 * the outermost one, so such a walk must prove it reached an entry point.
	 */
	bool read_failed;
};

/* Thread callbacks: one thread, the current sample's, frozen in its stack copy. */

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct unwind *u = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return u->cur.tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwind *u = arg;

	(void)dwfl;
	*thread_argp = u;
	return tid == u->cur.tid;
}

/* Read-only file contents at a mapped address, for the rare unwind that needs them. */
static bool read_file(struct unwind *u, Dwarf_Addr addr, Dwarf_Word *result)
{
	struct proc_map *m = proc_map_find(u->cur.p, addr);
	struct elf_file *f;
	uint64_t off;

	if (!m || (m->prot & 2) || addr + sizeof(*result) > m->end)
		return false;
	f = elfcache_get(u->files, u->cur.p->pid, m);
	if (!f || !f->elf)
		return false;
	off = addr - m->start + m->pgoff;
	if (f->image)
		return off + sizeof(*result) <= f->image_size &&
		       memcpy(result, (const char *)f->image + off, sizeof(*result));
	return f->fd >= 0 && pread(f->fd, result, sizeof(*result), (off_t)off) == sizeof(*result);
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwind *u = arg;

	(void)dwfl;
	/* Anything on the stack is in the copy the kernel took at the sample. */
	if (addr >= u->cur.sp && addr - u->cur.sp + sizeof(*result) <= u->cur.stack_size) {
		memcpy(result, u->cur.stack + (addr - u->cur.sp), sizeof(*result));
		return true;
	}
	if (read_file(u, addr, result))
		return true;
	u->read_failed = true;
	return false;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwind *u = arg;

	return dwfl_thread_state_registers(thread, 0, ARCH_DWARF_NREGS, u->cur.regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* Processes. */

struct pid_key {
	const struct unwind *u;
	int32_t pid;
};

static bool pid_eq(const void *ctx, uint32_t idx)
{
	const struct pid_key *k = ctx;

	return k->u->procs[idx]->pid == k->pid;
}

static void uproc_free(struct uproc *up)
{
	if (!up)
		return;
	if (up->dwfl)
		dwfl_end(up->dwfl);
	free(up);
}

static struct uproc *uproc_find(struct unwind *u, int32_t pid, uint32_t *ret_idx)
{
	struct pid_key k = {u, pid};
	uint32_t idx;

	if (!hashmap_find(&u->proc_index, hash_u64((uint64_t)(uint32_t)pid, 0), pid_eq, &k, &idx))
		return NULL;
	if (ret_idx)
		*ret_idx = idx;
	return u->procs[idx];
}

static void forget(void *ctx, int32_t pid)
{
	struct unwind *u = ctx;
	uint32_t idx;
	struct uproc *up = uproc_find(u, pid, &idx);

	if (!up)
		return;
	(void)hashmap_remove(&u->proc_index, hash_u64((uint64_t)(uint32_t)pid, 0), idx);
	uproc_free(up);
	/* The last process moves into the hole, and its index entry with it. */
	u->nprocs--;
	if (idx != u->nprocs) {
		struct uproc *last = u->procs[u->nprocs];
		uint64_t h = hash_u64((uint64_t)(uint32_t)last->pid, 0);

		(void)hashmap_remove(&u->proc_index, h, (uint32_t)u->nprocs);
		u->procs[idx] = last;
		/* Cannot fail: the map just had room for one more entry. */
		(void)hashmap_insert(&u->proc_index, h, idx);
	}
}

/*
 * Tell libdwfl the process's modules: each file once, at the load bias
 * given by its executable mapping (DESIGN.md: the PT_LOAD whose page-aligned
 * p_offset is the mapping's pgoff). Re-reporting an unchanged module keeps
 * it, with the CFI already parsed; modules not reported again are dropped.
 */
static void report_modules(struct unwind *u, struct uproc *up, struct proc *p)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);

	dwfl_report_begin(up->dwfl);
	for (size_t i = 0; i < p->nmaps; i++) {
		struct proc_map *m = &p->maps[i];
		const GElf_Phdr *seg = NULL;
		struct elf_file *f;
		bool seen = false;

		if (m->path[0] != '/' && strcmp(m->path, "[vdso]") != 0)
			continue;
		/* One module per file: later maps of the same file are its other segments. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(p->maps[j].path, m->path) == 0;
		if (seen)
			continue;
		f = elfcache_get(u->files, p->pid, m);
		if (!f || !f->elf)
			continue;
		for (size_t j = 0; j < f->nloads && !seg; j++)
			if ((f->loads[j].p_offset & ~(page - 1)) == m->pgoff)
				seg = &f->loads[j];
		if (seg)
			(void)elfcache_report(u->files, f, up->dwfl,
					      m->start - (seg->p_vaddr & ~(page - 1)));
	}
	(void)dwfl_report_end(up->dwfl, NULL, NULL);
	up->generation = p->generation;
}

/* The process's Dwfl, created or brought up to date. NULL when it cannot unwind. */
static struct uproc *uproc_get(struct unwind *u, struct proc *p)
{
	struct uproc *up = uproc_find(u, p->pid, NULL);

	if (up && up->proc != p) {
		/* Same pid, another process (the model replaced it): start over. */
		forget(u, p->pid);
		up = NULL;
	}
	if (!up) {
		up = calloc(1, sizeof(*up));
		if (!up)
			return NULL;
		up->pid = p->pid;
		up->proc = p;
		up->generation = p->generation - 1;
		up->dwfl = dwfl_begin(elfcache_callbacks(u->files));
		if (!up->dwfl || VEC_PUSH_RESERVE(u->procs, u->nprocs, u->procs_cap) < 0 ||
		    hashmap_insert(&u->proc_index, hash_u64((uint64_t)(uint32_t)p->pid, 0),
				   (uint32_t)u->nprocs) < 0) {
			uproc_free(up);
			return NULL;
		}
		u->procs[u->nprocs++] = up;
	}
	if (up->generation != p->generation)
		report_modules(u, up, p);
	if (!up->attached) {
		/* Once per Dwfl (libdwfl allows no more); the architecture comes from its modules.
		 */
		up->attached = dwfl_attach_state(up->dwfl, NULL, p->pid, &thread_callbacks, u);
		if (!up->attached)
			log_debug("unwind: pid %d: %s", p->pid, dwfl_errmsg(-1));
	}
	return up->attached ? up : NULL;
}

/* Unwinding. */

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind *u = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	u->frames[u->nframes++] = (struct session_frame){.pc = pc, .caller = !activation};
	/* Where CFI runs out, the frame pointer of the last good frame is the way on. */
	u->have_fp = dwfl_frame_reg(state, arch_dwarf_fp(), &u->last_fp) == 0;
	return u->nframes < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/*
 * Frame pointers from fp on: saved fp at [fp], return address at [fp + 8],
 * for as long as the chain stays in the stack copy, moves up the stack and
 * returns into mapped code. A saved fp of 0 is the outermost frame.
 */
static bool walk_frame_pointers(struct unwind *u, uint64_t fp)
{
	const uint64_t lo = u->cur.sp, hi = u->cur.sp + u->cur.stack_size;

	while (u->nframes < u->max) {
		uint64_t next, ra;

		if (fp < lo || fp + 16 > hi || (fp & 7))
			return false;
		memcpy(&next, u->cur.stack + (fp - lo), 8);
		memcpy(&ra, u->cur.stack + (fp - lo) + 8, 8);
		if (ra == 0)
			return true;
		if (!proc_map_find(u->cur.p, ra))
			return false;
		u->frames[u->nframes++] = (struct session_frame){.pc = ra, .caller = true};
		if (next == 0)
			return true;
		if (next <= fp)
			return false;
		fp = next;
	}
	return false;
}

/*
 * Does the walk end in a thread's first frame? _start for the main thread,
 * clone/clone3 for the others (glibc and musl spellings).
 */
static bool ends_at_entry(struct unwind *u, struct uproc *up)
{
	static const char *const entries[] = {
		"_start", "__clone", "__clone3", "clone", "clone3", "__start", "_start_c",
	};
	const struct session_frame *f;
	Dwfl_Module *mod;
	const char *name;
	Dwarf_Addr pc;

	if (u->nframes == 0)
		return false;
	f = &u->frames[u->nframes - 1];
	pc = f->pc - (f->caller ? 1 : 0);
	mod = dwfl_addrmodule(up->dwfl, pc);
	name = mod ? dwfl_module_addrname(mod, pc) : NULL;
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (strcmp(name, entries[i]) == 0)
			return true;
	return false;
}

static int unwind_sample(void *ctx, struct proc *p, const struct sample *smp,
			 struct session_frame *frames, size_t max, bool *ret_complete)
{
	struct unwind *u = ctx;
	struct uproc *up;
	uint64_t pc;
	int r;

	*ret_complete = false;
	if (max == 0)
		return 0;
	if (!arch_dwarf_regs(smp->u.s.regs, smp->u.s.nr_regs, u->cur.regs, &u->cur.sp, &u->cur.fp,
			     &pc))
		return 0;
	u->cur.p = p;
	u->cur.tid = smp->tid;
	u->cur.stack = smp->u.s.stack;
	u->cur.stack_size = smp->u.s.stack_size;
	u->frames = frames;
	u->max = max;
	u->nframes = 0;
	u->have_fp = false;
	u->read_failed = false;

	up = uproc_get(u, p);
	if (up) {
		r = dwfl_getthread_frames(up->dwfl, smp->tid, frame_cb, u);
		if (r == 0 && (!u->read_failed || ends_at_entry(u, up))) {
			*ret_complete = true;
			return (int)u->nframes;
		}
		if (r == 0) {
			/* Ran out of stack copy: frame pointers cannot read past it either. */
			return (int)u->nframes;
		}
		if (u->nframes == u->max)
			return (int)u->nframes;
		log_debug("unwind: pid %d: stopped after %zu frames: %s", p->pid, u->nframes,
			  r < 0 ? dwfl_errmsg(-1) : "aborted");
	}
	if (u->nframes == 0) {
		/* No module to unwind with: the sampled pc, then frame pointers. */
		frames[u->nframes++] = (struct session_frame){.pc = pc};
		u->last_fp = u->cur.fp;
		u->have_fp = true;
	}
	if (u->have_fp)
		*ret_complete = walk_frame_pointers(u, u->last_fp) || (up && ends_at_entry(u, up));
	return (int)u->nframes;
}

int unwind_new(struct elfcache *files, struct unwind **ret)
{
	struct unwind *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->files = files;
	*ret = u;
	return 0;
}

void unwind_free(struct unwind *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nprocs; i++)
		uproc_free(u->procs[i]);
	free(u->procs);
	hashmap_release(&u->proc_index);
	free(u);
}

void unwind_bind(struct unwind *u, struct session_unwinder *ret)
{
	*ret = (struct session_unwinder){
		.ctx = u,
		.unwind = unwind_sample,
		.forget = forget,
	};
}
