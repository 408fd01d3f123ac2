/* SPDX-License-Identifier: MIT */
/*
 * Not a kernel: a tiny image linked where x86-64 kernels are, with DWARF,
 * to check symbolization through a vmlinux (KASLR slide from _stext,
 * inline chains) without a real one. Built with -mcmodel=kernel -nostdlib.
 */
void _stext(void);
void _stext(void)
{
}

static volatile unsigned long state;

static inline __attribute__((always_inline)) unsigned long fake_mix(unsigned long x)
{
	for (int i = 0; i < 64; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

__attribute__((noinline)) unsigned long fake_read_zero(unsigned long n);
__attribute__((noinline)) unsigned long fake_read_zero(unsigned long n)
{
	return fake_mix(n + state);
}
