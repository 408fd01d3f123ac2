/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/vec.h"

int vec_reserve(void *arr, size_t *cap, size_t need, size_t elem_size)
{
	void *old, *grown;
	size_t n;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / elem_size)
		return -ENOMEM;
	/* arr is really a T**: read and write it through memcpy to stay type-clean. */
	memcpy(&old, arr, sizeof(old));
	grown = realloc(old, n * elem_size);
	if (!grown)
		return -ENOMEM;
	memcpy(arr, &grown, sizeof(grown));
	*cap = n;
	return 0;
}
