/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_WEBLIST_H
#define CPROF_LIB_VIEWS_WEBLIST_H

#include <regex.h>
#include <stdio.h>

#include "lib/views/disasm.h"
#include "lib/views/source.h"
#include "lib/views/stacks.h"

/*
 * pprof's weblist as one self-contained HTML page: per function matching
 * re (as --list finds them), its source lines with flat and cum,
 * heat-coloured by cum, and each line with instructions opening (an HTML
 * <details>, no script needed) into the instructions objdump attributes to
 * it, with the samples at each address. Works offline, opened from a file.
 * Returns 0, -ENOENT when no function matches, -ENOMEM or -EIO.
 */
int weblist_write(const struct stacks *st, const regex_t *re, const struct source_opener *src,
		  const struct disasm_ops *ops, FILE *out);

#endif
