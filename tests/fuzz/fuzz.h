/* SPDX-License-Identifier: MIT */
#ifndef CPROF_TESTS_FUZZ_FUZZ_H
#define CPROF_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * The one function every fuzz target defines, as libFuzzer calls it: run the
 * code under test on size bytes at data (which the target must not keep or
 * write). Returns 0; anything else is reserved by libFuzzer. A target that
 * crashes, leaks or trips a sanitizer has found a bug.
 *
 * Built with -Dfuzz=true, libFuzzer supplies main(); otherwise run-corpus.c
 * does, replaying files as a normal test.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
