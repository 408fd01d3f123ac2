/* SPDX-License-Identifier: MIT */
#include <string.h>

#if defined(__x86_64__)
#include <asm/perf_regs.h>
#include <sys/user.h>
#endif

#include "lib/perf/arch.h"

#if defined(__x86_64__)

/*
 * x86-64. perf_regs order: AX BX CX DX SI DI BP SP IP FLAGS CS SS DS ES FS GS
 * R8..R15. DWARF order (System V psABI): 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi,
 * 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 return address (rip).
 */
static const int dwarf_to_perf[ARCH_DWARF_NREGS] = {
	PERF_REG_X86_AX,  PERF_REG_X86_DX,  PERF_REG_X86_CX,  PERF_REG_X86_BX,	PERF_REG_X86_SI,
	PERF_REG_X86_DI,  PERF_REG_X86_BP,  PERF_REG_X86_SP,  PERF_REG_X86_R8,	PERF_REG_X86_R9,
	PERF_REG_X86_R10, PERF_REG_X86_R11, PERF_REG_X86_R12, PERF_REG_X86_R13, PERF_REG_X86_R14,
	PERF_REG_X86_R15, PERF_REG_X86_IP,
};

uint64_t arch_kernel_start(void)
{
	return 0xffff800000000000ULL;
}

uint64_t arch_regs_mask(void)
{
	uint64_t mask = 0;

	for (int i = 0; i < ARCH_DWARF_NREGS; i++)
		mask |= 1ULL << dwarf_to_perf[i];
	return mask;
}

unsigned arch_dwarf_fp(void)
{
	return 6;
}

unsigned arch_dwarf_sp(void)
{
	return 7;
}

unsigned arch_dwarf_ra(void)
{
	return 16;
}

#else

uint64_t arch_kernel_start(void)
{
	return 1ULL << 63;
}

uint64_t arch_regs_mask(void)
{
	return 0;
}

unsigned arch_dwarf_fp(void)
{
	return 0;
}

unsigned arch_dwarf_sp(void)
{
	return 0;
}

unsigned arch_dwarf_ra(void)
{
	return 0;
}

#endif

bool arch_call_regs(const uint64_t *regs, size_t nregs, struct arch_call *ret)
{
	uint64_t dwarf[ARCH_DWARF_NREGS], fp, pc;

	if (!arch_dwarf_regs(regs, nregs, dwarf, &ret->sp, &fp, &pc))
		return false;
#if defined(__x86_64__)
	/* System V: rdi, rsi, rdx; rax returns (DWARF numbers 5, 4, 1 and 0). */
	ret->args[0] = dwarf[5];
	ret->args[1] = dwarf[4];
	ret->args[2] = dwarf[1];
	ret->value = dwarf[0];
#endif
	return true;
}

size_t arch_regs_from_ptrace(const void *user_regs, size_t size, uint64_t *ret,
			     int64_t *ret_syscall)
{
#if defined(__x86_64__)
	struct user_regs_struct u;
	uint64_t by_perf[PERF_REG_X86_64_MAX] = {0}, mask = arch_regs_mask();
	size_t k = 0;

	if (size < sizeof(u))
		return 0;
	memcpy(&u, user_regs, sizeof(u));
	by_perf[PERF_REG_X86_AX] = u.rax;
	by_perf[PERF_REG_X86_BX] = u.rbx;
	by_perf[PERF_REG_X86_CX] = u.rcx;
	by_perf[PERF_REG_X86_DX] = u.rdx;
	by_perf[PERF_REG_X86_SI] = u.rsi;
	by_perf[PERF_REG_X86_DI] = u.rdi;
	by_perf[PERF_REG_X86_BP] = u.rbp;
	by_perf[PERF_REG_X86_SP] = u.rsp;
	by_perf[PERF_REG_X86_IP] = u.rip;
	by_perf[PERF_REG_X86_R8] = u.r8;
	by_perf[PERF_REG_X86_R9] = u.r9;
	by_perf[PERF_REG_X86_R10] = u.r10;
	by_perf[PERF_REG_X86_R11] = u.r11;
	by_perf[PERF_REG_X86_R12] = u.r12;
	by_perf[PERF_REG_X86_R13] = u.r13;
	by_perf[PERF_REG_X86_R14] = u.r14;
	by_perf[PERF_REG_X86_R15] = u.r15;
	for (int bit = 0; bit < PERF_REG_X86_64_MAX; bit++)
		if (mask & (1ULL << bit))
			ret[k++] = by_perf[bit];
	/* orig_rax: the call's number while in one (rax then holds its -ERESTART*), else -1. */
	*ret_syscall = (int64_t)u.orig_rax;
	return k;
#else
	(void)user_regs;
	(void)size;
	(void)ret;
	*ret_syscall = -1;
	return 0;
#endif
}

bool arch_dwarf_regs(const uint64_t *regs, size_t nregs, uint64_t *dwarf, uint64_t *ret_sp,
		     uint64_t *ret_fp, uint64_t *ret_pc)
{
#if defined(__x86_64__)
	uint64_t mask = arch_regs_mask();
	uint64_t by_perf[64];
	size_t k = 0;

	/* The sample holds the masked registers in increasing perf_regs order. */
	memset(by_perf, 0, sizeof(by_perf));
	for (int bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		if (k >= nregs)
			return false;
		by_perf[bit] = regs[k++];
	}
	for (int i = 0; i < ARCH_DWARF_NREGS; i++)
		dwarf[i] = by_perf[dwarf_to_perf[i]];
	*ret_sp = by_perf[PERF_REG_X86_SP];
	*ret_fp = by_perf[PERF_REG_X86_BP];
	*ret_pc = by_perf[PERF_REG_X86_IP];
	return true;
#else
	(void)regs;
	(void)nregs;
	(void)dwarf;
	(void)ret_sp;
	(void)ret_fp;
	(void)ret_pc;
	return false;
#endif
}
