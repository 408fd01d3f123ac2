/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_ARCH_H
#define CPROF_LIB_PERF_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What differs between architectures, in one place: the start of the
 * kernel's half of the address space, which user registers to sample, and
 * how the kernel's perf_regs order maps onto DWARF register numbers. A
 * second architecture is one more table in arch.c.
 */

/* DWARF registers the unwinder is given (x86-64: rax..r15 and the return address). */
#define ARCH_DWARF_NREGS 17

/* The lowest kernel address; user addresses are below it. */
uint64_t arch_kernel_start(void);

/* The sample_regs_user mask to ask for; 0 where DWARF unwinding is not supported. */
uint64_t arch_regs_mask(void);

/*
 * Sampled user registers (in bit order of arch_regs_mask) to DWARF order.
 * dwarf gets ARCH_DWARF_NREGS values; *ret_sp, *ret_fp and *ret_pc the stack
 * pointer, frame pointer and pc. Returns false when nregs is too short.
 */
bool arch_dwarf_regs(const uint64_t *regs, size_t nregs, uint64_t *dwarf, uint64_t *ret_sp,
		     uint64_t *ret_fp, uint64_t *ret_pc);

/*
 * A stopped thread's registers as PTRACE_GETREGSET's NT_PRSTATUS gives them
 * (user_regs of size bytes) to sampled user registers, arch_regs_mask's
 * bit order, as a sample would hold them: ret gets up to 64. *ret_syscall
 * is the system call the thread was in when it stopped, -1 for none.
 * Returns how many registers, 0 where unsupported or size is too short.
 */
size_t arch_regs_from_ptrace(const void *user_regs, size_t size, uint64_t *ret,
			     int64_t *ret_syscall);

/*
 * DWARF register numbers of the frame pointer, the stack pointer and the
 * return address column. On every supported ABI the caller's stack pointer
 * is the CFA, which the fast unwinder (symbolize/cfi.c) relies on.
 */
/*
 * A function's first three integer arguments (at its entry) and its return
 * value (at its return), from a sample's registers. Returns false when the
 * registers are not all there or the architecture is not known.
 */
struct arch_call {
	uint64_t args[3];
	uint64_t value;
	uint64_t sp;
};
bool arch_call_regs(const uint64_t *regs, size_t nregs, struct arch_call *ret);

unsigned arch_dwarf_fp(void);
unsigned arch_dwarf_sp(void);
unsigned arch_dwarf_ra(void);

#endif
