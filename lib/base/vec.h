/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_VEC_H
#define CPROF_LIB_BASE_VEC_H

#include <stddef.h>

/*
 * Make room for at least need elements of elem_size bytes in the array *arr
 * of capacity *cap, growing it geometrically. On failure *arr and *cap are
 * untouched. Returns 0 or -ENOMEM.
 */
int vec_reserve(void *arr, size_t *cap, size_t need, size_t elem_size);

/* Typed convenience: make room for one more element after len. */
#define VEC_PUSH_RESERVE(arr, len, cap) vec_reserve(&(arr), &(cap), (len) + 1, sizeof(*(arr)))

#endif
