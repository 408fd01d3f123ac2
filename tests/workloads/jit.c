/* SPDX-License-Identifier: MIT */
/*
 * A tiny JIT: copies a spin loop into anonymous executable memory and runs
 * it until killed, as node or a JVM runs generated code. No perf map is
 * written: the tests write (or forge) /tmp/perf-PID.map themselves.
 * Usage:
 *	jit FD		write "START SIZE\n" of the code to FD once it runs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
#if defined(__x86_64__)
	/* mov ecx, 1000000; 1: dec ecx; jnz 1b; ret */
	static const unsigned char code[] = {0xb9, 0x40, 0x42, 0x0f, 0x00,
					     0xff, 0xc9, 0x75, 0xfc, 0xc3};
#else
#error "no spin loop for this architecture"
#endif
	void (*spin)(void);
	FILE *ready;
	void *mem;

	if (argc != 2)
		return 2;
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem, code, sizeof(code));
	__builtin___clear_cache((char *)mem, (char *)mem + sizeof(code));
	spin = (void (*)(void))mem;
	ready = fdopen(atoi(argv[1]), "w");
	if (!ready)
		return 1;
	fprintf(ready, "%lx %zx\n", (unsigned long)mem, sizeof(code));
	fclose(ready);
	for (;;)
		spin();
}
