/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_CALLGRIND_H
#define CPROF_LIB_VIEWS_CALLGRIND_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * The callgrind format (KCachegrind, callgrind_annotate): one fn block per
 * function with its self cost and, per callee, the cost of the samples that
 * went through that call (each call counted once per sample). The event is
 * named after the sample type ("cpu_nanoseconds"). Returns 0, -ENOMEM, -EIO.
 */
int callgrind_write(const struct stacks *st, FILE *out);

#endif
