/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_INTERNAL_H
#define CPROF_SYMBOLIZE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Helpers shared inside symbolize/ only. */

/* Kernel symbols from a kallsyms file, sorted for lookup. */
struct kallsyms;

/*
 * Load the text symbols of path (normally /proc/kallsyms). Returns 0 and *ret
 * (free with kallsyms_free), -errno when it cannot be read, or -ENODATA when
 * every address is hidden (kernel.kptr_restrict).
 */
int kallsyms_load(const char *path, struct kallsyms **ret);

/* NULL-safe. */
void kallsyms_free(struct kallsyms *k);

/*
 * The symbol containing addr: its name (borrowed until kallsyms_free), and
 * the module in *ret_module ("" for the kernel itself). NULL when none.
 */
const char *kallsyms_lookup(const struct kallsyms *k, uint64_t addr, const char **ret_module);

#endif
