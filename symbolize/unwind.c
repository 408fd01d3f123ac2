/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "lib/perf/arch.h"
#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/collect/proc.h"
#include "lib/perf/decode.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/cfi.h"
#include "symbolize/internal.h"
#include "symbolize/unwind.h"

/* An executable mapping of a file, for the fast unwinder: pc - bias is the file's vaddr. */
struct umod {
	uint64_t start, end, bias;
	struct elf_file *f;
};

/* A file's whole extent in a process, as libdwfl would have its module: [start, end). */
struct urange {
	uint64_t start, end, bias;
	struct elf_file *f;
	const char *path; /* the first map's; valid until the maps change */
};

/*
 * What the unwinder keeps of a process: where its files are mapped, built
 * anew when its maps change (a new process costs this and nothing more),
 * and a Dwfl made only when a sample needs libdwfl, once per process.
 */
struct uproc {
	int32_t pid;
	const struct proc *proc; /* the model's object it was built for */
	uint64_t generation;	 /* of proc's maps when the tables were built */
	struct umod *mods;	 /* code mappings, sorted by start */
	size_t nmods, mods_cap;
	/*
	 * The last two found and the last gap between two: a stack's frames are
	 * mostly in a file or two, and JIT code, in none, alternates with its
	 * runtime's (node's frames were a tenth of a binary search each).
	 */
	size_t mod_hint[2];
	uint64_t gap_start, gap_end;
	struct urange *ranges; /* files, sorted by start */
	size_t nranges, ranges_cap;
	Dwfl *dwfl;		  /* NULL until libdwfl is needed */
	uint64_t dwfl_generation; /* of the maps last reported to it */
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

	/* Compare every fast walk with libdwfl's (unwind_verify). */
	bool verify;
	struct unwind_stats stats;
	struct session_frame *check;
	size_t check_cap;

	/* The walk in progress. */
	struct session_frame *frames;
	size_t nframes, max;
	bool have_fp;
	Dwarf_Word last_fp;
	/* The last frame's sp (its callee's CFA): every frame's must be above the last's. */
	uint64_t last_sp;
	/* libdwfl's walk went down the stack or out of the copy: it ends there, truncated. */
	bool went_down;
	bool clone_parent; /* the fast walk stepped over a leaf (clone, PLT) by a rule libdwfl lacks
			    */
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

/* A word of the current sample's stack copy: anything on the stack is in it, or nowhere. */
static bool stack_word(const struct unwind *u, uint64_t addr, uint64_t *ret)
{
	if (addr < u->cur.sp || addr - u->cur.sp + sizeof(*ret) > u->cur.stack_size)
		return false;
	memcpy(ret, u->cur.stack + (addr - u->cur.sp), sizeof(*ret));
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwind *u = arg;

	(void)dwfl;
	return stack_word(u, addr, result) || read_file(u, addr, result);
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
	free(up->mods);
	free(up->ranges);
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

static int umod_cmp(const void *a, const void *b)
{
	const struct umod *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int urange_cmp(const void *a, const void *b)
{
	const struct urange *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The load bias that map m of file f implies (DESIGN.md: the PT_LOAD whose
 * page-aligned p_offset is the mapping's pgoff). False when no segment is.
 */
static bool map_bias(const struct elf_file *f, const struct proc_map *m, size_t page, uint64_t *ret)
{
	for (size_t k = 0; k < f->nloads; k++)
		if ((f->loads[k].p_offset & ~(page - 1)) == m->pgoff) {
			*ret = m->start - (f->loads[k].p_vaddr & ~(page - 1));
			return true;
		}
	return false;
}

static const struct umod *umod_find(struct uproc *up, uint64_t pc)
{
	size_t lo;

	for (int i = 0; i < 2; i++) {
		lo = up->mod_hint[i];
		if (lo < up->nmods && up->mods[lo].start <= pc && pc < up->mods[lo].end)
			return &up->mods[lo];
	}
	if (pc >= up->gap_start && pc < up->gap_end)
		return NULL;
	lo = UPPER_BOUND(up->mods, up->nmods, struct umod, end, pc);
	if (lo < up->nmods && up->mods[lo].start <= pc) {
		up->mod_hint[1] = up->mod_hint[0];
		up->mod_hint[0] = lo;
		return &up->mods[lo];
	}
	up->gap_start = lo > 0 ? up->mods[lo - 1].end : 0;
	up->gap_end = lo < up->nmods ? up->mods[lo].start : UINT64_MAX;
	return NULL;
}

/* The file whose extent holds pc, as dwfl_addrmodule would find its module. */
static const struct urange *urange_find(const struct uproc *up, uint64_t pc)
{
	size_t lo = UPPER_BOUND(up->ranges, up->nranges, struct urange, start, pc);

	return lo > 0 && pc < up->ranges[lo - 1].end ? &up->ranges[lo - 1] : NULL;
}

/* Has this pass already placed the file that path names? Files per process are few. */
static bool placed(const struct uproc *up, const char *path)
{
	for (size_t i = 0; i < up->nranges; i++)
		if (strcmp(up->ranges[i].path, path) == 0)
			return true;
	return false;
}

/*
 * Where the process's files are: each file once, at the load bias given by
 * its first mapping (DESIGN.md: report each ELF once per process at that
 * bias), and its code mappings at that bias for the fast walk.
 */
static void build_tables(struct unwind *u, struct uproc *up, struct proc *p)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);

	up->nmods = up->nranges = 0;
	up->gap_start = up->gap_end = 0;
	for (size_t i = 0; i < p->nmaps; i++) {
		struct proc_map *m = &p->maps[i];
		GElf_Addr low, high;
		struct elf_file *f;
		uint64_t bias, b;

		if ((m->path[0] != '/' && strcmp(m->path, "[vdso]") != 0) || placed(up, m->path))
			continue;
		f = elfcache_get(u->files, p->pid, m);
		/* CFI that would make libdw allocate gigabytes: unwound as code with no file. */
		if (!f || !f->elf || !cfi_file_is_sane(f) || !map_bias(f, m, page, &bias))
			continue;
		elfcache_extent(f, &low, &high);
		if (VEC_PUSH_RESERVE(up->ranges, up->nranges, up->ranges_cap) < 0)
			break;
		up->ranges[up->nranges++] =
			(struct urange){bias + low, bias + high, bias, f, m->path};
		/* Its code mappings: not another copy of the file elsewhere. */
		for (size_t j = i; j < p->nmaps; j++) {
			const struct proc_map *x = &p->maps[j];

			if ((x->prot & PROT_EXEC) && strcmp(x->path, m->path) == 0 &&
			    map_bias(f, x, page, &b) && b == bias &&
			    VEC_PUSH_RESERVE(up->mods, up->nmods, up->mods_cap) == 0)
				up->mods[up->nmods++] = (struct umod){x->start, x->end, bias, f};
		}
	}
	/* Maps of different files interleave: the tables are sorted once, here.
	 * (A process still being exec'd may have none: no NULL to qsort.) */
	if (up->nmods > 1)
		qsort(up->mods, up->nmods, sizeof(*up->mods), umod_cmp);
	if (up->nranges > 1)
		qsort(up->ranges, up->nranges, sizeof(*up->ranges), urange_cmp);
	up->generation = p->generation;
}

/* The process's tables, created or brought up to date. NULL when out of memory. */
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
		if (VEC_PUSH_RESERVE(u->procs, u->nprocs, u->procs_cap) < 0 ||
		    hashmap_insert(&u->proc_index, hash_u64((uint64_t)(uint32_t)p->pid, 0),
				   (uint32_t)u->nprocs) < 0) {
			uproc_free(up);
			return NULL;
		}
		u->procs[u->nprocs++] = up;
	}
	if (up->generation != p->generation)
		build_tables(u, up, p);
	return up;
}

/*
 * The process's Dwfl for libdwfl's walk: made on first need, its modules
 * those of the tables (re-reporting an unchanged module keeps it, with its
 * CFI parsed; modules not reported again are dropped). NULL when libdwfl
 * cannot unwind this process.
 */
static Dwfl *uproc_dwfl(struct unwind *u, struct uproc *up)
{
	if (!up->dwfl) {
		up->dwfl = dwfl_begin(elfcache_unwind_callbacks(u->files));
		if (!up->dwfl)
			return NULL;
		up->dwfl_generation = up->generation - 1;
	}
	if (up->dwfl_generation != up->generation) {
		dwfl_report_begin(up->dwfl);
		for (size_t i = 0; i < up->nranges; i++)
			(void)elfcache_report(u->files, up->ranges[i].f, up->dwfl,
					      up->ranges[i].bias);
		(void)dwfl_report_end(up->dwfl, NULL, NULL);
		up->dwfl_generation = up->generation;
	}
	if (!up->attached) {
		/* Once per Dwfl (libdwfl allows no more); the architecture comes from its modules.
		 */
		up->attached = dwfl_attach_state(up->dwfl, NULL, up->pid, &thread_callbacks, u);
		if (!up->attached)
			log_debug("unwind: pid %d: %s", up->pid, dwfl_errmsg(-1));
	}
	return up->attached ? up->dwfl : NULL;
}

/* Unwinding. */

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind *u = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	/*
	 * A caller's sp is its callee's CFA, above the callee's sp: a frame
	 * whose sp is not (a stack switch, a misread rule) is no caller.
	 */
	if (dwfl_frame_reg(state, arch_dwarf_sp(), &sp) == 0) {
		if (u->nframes > 0 && (sp <= u->last_sp || sp - u->cur.sp > u->cur.stack_size)) {
			u->went_down = true;
			return DWARF_CB_ABORT;
		}
		u->last_sp = sp;
	}
	u->frames[u->nframes++] = (struct session_frame){.pc = pc, .caller = !activation};
	/* Where CFI runs out, the frame pointer of the last good frame is the way on. */
	u->have_fp = dwfl_frame_reg(state, arch_dwarf_fp(), &u->last_fp) == 0;
	return u->nframes < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/*
 * Frame pointers from fp on: saved fp at [fp], return address at [fp + 8],
 * for as long as the chain stays in the stack copy, moves up the stack and
 * returns into mapped code. A saved fp of 0 is the outermost frame. An fp
 * below the last frame's sp is a stale value, not this frame's.
 */
static void walk_frame_pointers(struct unwind *u, uint64_t fp)
{
	if (fp < u->last_sp)
		return;
	while (u->nframes < u->max) {
		uint64_t next, ra;

		if ((fp & 7) || !stack_word(u, fp, &next) || !stack_word(u, fp + 8, &ra) ||
		    ra == 0 || !proc_map_find(u->cur.p, ra))
			return;
		u->frames[u->nframes++] = (struct session_frame){.pc = ra, .caller = true};
		if (next <= fp)
			return;
		fp = next;
	}
}

/* Where CFI ran out: frame pointers from u->last_fp on, if there is one. */
static void fp_tail(struct unwind *u)
{
	if (u->have_fp)
		walk_frame_pointers(u, u->last_fp);
}

/*
 * Every walk ends here, whichever found its frames. The stack is cut
 * before a return address in no executable mapping (data the walk took
 * for one), and after an entry (complete: the thread's first frame) or a
 * stack switch (what lies above is on a stack the sample did not copy).
 * It is complete only at an entry, or where the outermost frame's CFI
 * marks it so (the ABI's undefined return address): however a walk
 * stopped otherwise, on a failed read, a rule it could not apply or a
 * zero return address, the rest of the stack is not known to be empty.
 */
static void settle(struct unwind *u, struct uproc *up, bool *ret_complete)
{
	size_t n = u->nframes;
	const struct proc_map *m = NULL;
	const struct umod *mod = NULL;
	/* Where the last frame's module (or the gap without one) holds: the next is mostly there.
	 */
	uint64_t mod_lo = 1, mod_hi = 0;

	*ret_complete = false;
	for (size_t i = 0; i < n; i++) {
		const struct session_frame *fr = &u->frames[i];
		/* A return address is the instruction after the call: the call's function. */
		const uint64_t at = fr->pc - (fr->caller ? 1 : 0);
		enum fn_class class;

		if (!m || at < m->start || at >= m->end)
			m = proc_map_find(u->cur.p, at);
		if (i > 0 && (!m || !(m->prot & PROT_EXEC))) {
			n = i;
			break;
		}
		if (up && (at < mod_lo || at >= mod_hi)) {
			mod = umod_find(up, at);
			mod_lo = mod ? mod->start : up->gap_start;
			mod_hi = mod ? mod->end : up->gap_end;
		}
		class = mod ? elfcache_fn_class(u->files, mod->f, at - mod->bias) : FN_PLAIN;
		/*
		 * An entry sampled in, with callers found beyond it, was not its
		 * thread's first frame: a parent in clone (fast_walk).
		 */
		if (class == FN_ENTRY && i == 0 && !fr->caller && n > 1) {
			const struct proc_map *next = proc_map_find(u->cur.p, u->frames[1].pc - 1);

			if (next && (next->prot & PROT_EXEC))
				continue;
		}
		if (class != FN_PLAIN) {
			*ret_complete = class == FN_ENTRY;
			u->nframes = i + 1;
			return;
		}
	}
	u->nframes = n;
	if (n > 0 && up) {
		const struct session_frame *fr = &u->frames[n - 1];
		const uint64_t at = fr->pc - (fr->caller ? 1 : 0);
		const struct umod *last = umod_find(up, at);
		struct cfi_rule r;

		*ret_complete = last &&
				cfi_rule_at(u->files, last->f, at - last->bias, &r) == CFI_FOUND &&
				r.ra == CFI_UNDEFINED;
	}
}

/* libdwfl's walk of the current sample into u->frames: the reference, and the fallback. */
static void slow_walk(struct unwind *u, struct uproc *up, uint64_t pc)
{
	Dwfl *dwfl;
	int r;

	u->nframes = 0;
	u->have_fp = false;
	u->went_down = false;
	u->last_sp = u->cur.sp;
	dwfl = up ? uproc_dwfl(u, up) : NULL;
	if (dwfl) {
		r = dwfl_getthread_frames(dwfl, u->cur.tid, frame_cb, u);
		/*
		 * Its end (an undefined return address, a failed read of the stack
		 * copy: frame pointers cannot read past it either), the frame limit,
		 * or a frame that was no caller: settled as it is.
		 */
		if (r == 0 || u->nframes == u->max || u->went_down)
			return;
		if (log_get_level() >= LOG_DEBUG) {
			uint64_t last = u->nframes ? u->frames[u->nframes - 1].pc : pc;
			Dwfl_Module *m = dwfl_addrmodule(dwfl, last);
			Dwarf_Addr start = 0;
			const char *name =
				m ? dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL)
				  : NULL;

			log_debug(
				"unwind: pid %d: stopped after %zu frames at %#llx (%s+%#llx): %s",
				up->pid, u->nframes, (unsigned long long)last,
				name ? name : "no module", (unsigned long long)(last - start),
				r < 0 ? dwfl_errmsg(-1) : "aborted");
		}
	}
	if (u->nframes == 0) {
		/* No module to unwind with: the sampled pc, then frame pointers. */
		u->frames[u->nframes++] = (struct session_frame){.pc = pc};
		u->last_fp = u->cur.fp;
		u->have_fp = true;
	}
	fp_tail(u);
}

enum walk {
	WALK_DONE,     /* frames and completeness decided */
	WALK_FP_TAIL,  /* CFI ran out: frame pointers from u->last_fp, if u->have_fp */
	WALK_FALLBACK, /* nothing decided: libdwfl must walk the sample */
};

/* The registers the fast walk follows from frame to frame. */
struct walk_regs {
	uint64_t sp, fp;
	bool fp_known;
};

/*
 * Step over a frame that has no CFI by its frame pointer, as libdwfl's
 * x86-64 backend does (then CFI takes over again): the return address at
 * [fp + 8], the caller's fp at [fp], its sp at fp + 16, which must be above
 * the current sp. WALK_FP_TAIL where libdwfl would give up on the step.
 */
static enum walk fp_step(struct unwind *u, struct walk_regs *w, uint64_t *ret_ra)
{
	uint64_t prev_fp;

	if (!w->fp_known || w->fp == 0 || w->sp >= w->fp + 16) {
		u->have_fp = w->fp_known;
		u->last_fp = w->fp;
		u->last_sp = w->sp;
		return WALK_FP_TAIL;
	}
	if (!stack_word(u, w->fp, &prev_fp) || !stack_word(u, w->fp + 8, ret_ra) || *ret_ra == 0)
		return WALK_FALLBACK;
	w->sp = w->fp + 16;
	w->fp = prev_fp;
	return WALK_DONE;
}

/*
 * The fast walk: each frame's rule from the file's cached CFI rules (cfi.h)
 * applied to the stack copy, libdwfl's semantics without its per-frame
 * interpretation and allocations. Falls back, having decided nothing, when
 * a frame needs more than the rules express, a file has .debug_frame where
 * .eh_frame is silent, or a saved register lies outside the stack copy:
 * libdwfl then walks the sample from the start (--verify-unwind checks the
 * two agree).
 */
/* The word at sp, when it is an address in code of the process. */
static bool return_address_at(struct unwind *u, uint64_t sp, uint64_t *ret)
{
	const struct proc_map *m;

	return stack_word(u, sp, ret) && (m = proc_map_find(u->cur.p, *ret - 1)) &&
	       (m->prot & PROT_EXEC);
}

/*
 * Is the code at at (in module m) a leaf that pushed nothing: clone's
 * parent half, or the first instruction of a PLT entry (its jmp through
 * the GOT)? A static binary's IRELATIVE PLT has no CFI at all, where a
 * dynamic one's has; sampled on that jmp, the return address is at sp.
 */
static bool pushes_nothing(struct unwind *u, const struct umod *m, uint64_t at)
{
	GElf_Addr off = 1;
	const char *sym;
	size_t len;

	if (elfcache_fn_class(u->files, m->f, at - m->bias) == FN_ENTRY)
		return true;
	if (!elfcache_in_plt(m->f, at - m->bias))
		return false;
	sym = elfcache_symbol(u->files, m->f, at - m->bias, &off);
	len = sym ? strlen(sym) : 0;
	return off == 0 && len > 4 && strcmp(sym + len - 4, "@plt") == 0;
}

static enum walk fast_walk(struct unwind *u, struct uproc *up, uint64_t pc)
{
	struct walk_regs w = {u->cur.sp, u->cur.fp, true};

	u->nframes = 0;
	u->clone_parent = false;
	for (;;) {
		/* A return address is the instruction after the call: the call's rule applies. */
		const uint64_t at = u->nframes == 0 ? pc : pc - 1;
		const struct umod *m;
		enum cfi_found found;
		struct cfi_rule r;
		enum walk step;
		uint64_t cfa, ra;

		u->frames[u->nframes] = (struct session_frame){.pc = pc, .caller = u->nframes > 0};
		if (++u->nframes == u->max)
			return WALK_DONE;
		m = umod_find(up, at);
		if (m)
			found = cfi_rule_at(u->files, m->f, at - m->bias, &r);
		else if (urange_find(up, at))
			return WALK_FALLBACK; /* a module part the table does not hold */
		else
			found = CFI_NO_FDE; /* code in no file: JIT */
		if (found == CFI_TOO_HARD)
			return WALK_FALLBACK;
		if (found == CFI_NO_FDE && u->nframes == 1 && m && pushes_nothing(u, m, at) &&
		    return_address_at(u, w.sp, &ra)) {
			/*
			 * The parent in clone/clone3, sampled in the syscall (thread
			 * creation): glibc ends the CFI before the syscall, whose
			 * child half starts the new thread. It is a leaf that
			 * pushed nothing: its return address is at sp. Where sp
			 * holds no code address (a new thread's first frame),
			 * frame pointers are tried as for any code without CFI.
			 */
			u->clone_parent = true;
			w.sp += 8;
			pc = ra;
			continue;
		}
		if (found == CFI_NO_FDE) {
			step = fp_step(u, &w, &ra);
			if (step != WALK_DONE)
				return step;
			pc = ra;
			continue;
		}
		if (r.cfa_reg == arch_dwarf_sp())
			cfa = w.sp + (uint64_t)(int64_t)r.cfa_off;
		else if (w.fp_known)
			cfa = w.fp + (uint64_t)(int64_t)r.cfa_off;
		else
			return WALK_FALLBACK;
		/* The ABI's mark of the outermost frame (_start, clone): settle() sees it too. */
		if (r.ra == CFI_UNDEFINED)
			return WALK_DONE;
		if (r.ra == CFI_IN_REG) {
			/*
			 * The return address in a register (vfork's parent, in the
			 * syscall): registers are known at the sampled frame only,
			 * and there the CFA may be sp itself, the address popped.
			 * libdwfl stops here; so the step is marked as clone's is.
			 */
			if (u->nframes != 1 || cfa < w.sp)
				return u->nframes != 1 ? WALK_FALLBACK : WALK_DONE;
			ra = u->cur.regs[r.ra_off];
			u->clone_parent = true;
			w.sp = cfa;
			if (ra == 0)
				return WALK_DONE;
			pc = ra;
			continue;
		}
		/* A caller's sp, the CFA, is above its callee's: else this is no frame. */
		if (cfa <= w.sp)
			return WALK_DONE;
		if (!stack_word(u, cfa + (uint64_t)(int64_t)r.ra_off, &ra)) {
			if (cfa + (uint64_t)(int64_t)r.ra_off < u->cur.sp + u->cur.stack_size)
				return WALK_FALLBACK;
			/* Deeper than the stack copy: the walk ends here, short of the entry. */
			return WALK_DONE;
		}
		if (r.fp == CFI_AT_CFA) {
			const uint64_t slot = cfa + (uint64_t)(int64_t)r.fp_off;

			/*
			 * A slot below sp: an epilogue has popped it (the CFI of
			 * GCC's epilogues keeps the rule until the return). The
			 * value is not in the copy; libdwfl leaves the register
			 * unknown and walks on, and so does this walk.
			 */
			if (slot < w.sp)
				w.fp_known = false;
			else if (!stack_word(u, slot, &w.fp))
				return WALK_FALLBACK;
		} else if (r.fp == CFI_UNDEFINED) {
			w.fp_known = false;
		}
		w.sp = cfa;
		/* libdwfl too ends the walk at a zero return address. */
		if (ra == 0)
			return WALK_DONE;
		pc = ra;
	}
}

/* Walk again with libdwfl alone and count a difference from the fast walk's frames. */
static void verify(struct unwind *u, struct uproc *up, uint64_t pc, bool *ret_complete)
{
	const size_t n = u->nframes;
	const bool complete = *ret_complete;
	bool same;

	/* libdwfl stops in clone: nothing to compare the fast walk's frames beyond it with. */
	if (u->clone_parent)
		return;
	u->stats.verified++;
	if (vec_reserve(&u->check, &u->check_cap, n ? n : 1, sizeof(*u->check)) < 0)
		return;
	memcpy(u->check, u->frames, n * sizeof(*u->check));
	slow_walk(u, up, pc);
	settle(u, up, ret_complete);
	same = u->nframes == n && *ret_complete == complete;
	for (size_t i = 0; same && i < n; i++)
		same = u->check[i].pc == u->frames[i].pc &&
		       u->check[i].caller == u->frames[i].caller;
	if (same)
		return;
	u->stats.differed++;
	log_debug("unwind: pid %d tid %d pc %#" PRIx64 ": fast walk %zu frames%s, libdwfl %zu%s",
		  up->pid, u->cur.tid, pc, n, complete ? " complete" : "", u->nframes,
		  *ret_complete ? " complete" : "");
	for (size_t i = 0; i < n || i < u->nframes; i++)
		log_debug("  #%zu fast %#" PRIx64 " libdwfl %#" PRIx64, i,
			  i < n ? u->check[i].pc : 0, i < u->nframes ? u->frames[i].pc : 0);
}

/* -v -v: where a fast walk left a stack incomplete, by file and offset. */
static void log_cut(struct unwind *u, struct uproc *up)
{
	const struct session_frame *fr = &u->frames[u->nframes - 1];
	const uint64_t at = fr->pc - (fr->caller ? 1 : 0);
	const struct umod *mod = umod_find(up, at);
	const struct proc_map *m = proc_map_find(u->cur.p, at);

	log_debug("unwind: pid %d: fast walk cut after %zu frames at %s+%#llx (sp %#llx, fp %#llx)",
		  u->cur.p->pid, u->nframes, m ? m->path : "no map",
		  (unsigned long long)(mod ? at - mod->bias : at), (unsigned long long)u->cur.sp,
		  (unsigned long long)u->cur.fp);
}

static int unwind_sample(void *ctx, struct proc *p, const struct perf_record *smp,
			 struct session_frame *frames, size_t max, bool *ret_complete)
{
	struct unwind *u = ctx;
	struct uproc *up;
	uint64_t pc;

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

	up = uproc_get(u, p);
	switch (up ? fast_walk(u, up, pc) : WALK_FALLBACK) {
	case WALK_FP_TAIL:
		fp_tail(u);
		__attribute__((fallthrough)); /* clang wants it spelled so */
	case WALK_DONE:
		u->stats.fast++;
		settle(u, up, ret_complete);
		if (!*ret_complete && u->nframes && log_get_level() >= LOG_DEBUG)
			log_cut(u, up);
		if (u->verify)
			verify(u, up, pc, ret_complete);
		return (int)u->nframes;
	case WALK_FALLBACK:
		break;
	}
	u->stats.slow++;
	slow_walk(u, up, pc);
	settle(u, up, ret_complete);
	return (int)u->nframes;
}

void unwind_verify(struct unwind *u, bool on)
{
	u->verify = on;
}

void unwind_get_stats(const struct unwind *u, struct unwind_stats *ret)
{
	*ret = u->stats;
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
	free(u->check);
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
