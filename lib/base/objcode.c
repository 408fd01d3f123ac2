/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "lib/base/objcode.h"

void code_syms_free(struct code_sym *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

void code_insns_free(struct code_insn *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].text);
		free(v[i].function);
		free(v[i].file);
	}
	free(v);
}
