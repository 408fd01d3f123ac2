/* SPDX-License-Identifier: MIT */
/*
 * Writing one view of a profile, to stdout or to a file (see outfile.h:
 * regular files replaced atomically, devices and pipes written into).
 * Shared by report (any view) and record (--format perf-script / folded).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/callgrind.h"
#include "lib/dot.h"
#include "lib/flamegraph.h"
#include "lib/folded.h"
#include "lib/outfile.h"
#include "lib/script.h"
#include "lib/top.h"
#include "lib/traces.h"
#include "lib/tree.h"

int view_write_to(const struct view_opts *v, const struct stacks *st, FILE *out)
{
	switch (v->kind) {
	case VIEW_TOP: {
		struct top_options o = {.nodecount = v->nodecount, .nodefraction = v->nodefraction};

		return top_write(st, &o, out);
	}
	case VIEW_TREE:
		return tree_write(st, v->nodefraction, out);
	case VIEW_TRACES:
		return traces_write(st, out);
	case VIEW_FOLDED:
		return folded_write(st, out);
	case VIEW_PERF_SCRIPT:
		return script_write(st, out);
	case VIEW_FLAMEGRAPH: {
		struct flamegraph_options o = {
			.title = v->title,
			.icicle = v->icicle,
			.base = v->base_stacks,
		};

		return flamegraph_write(st, &o, out);
	}
	case VIEW_CALLGRIND:
		return callgrind_write(st, out);
	case VIEW_DOT:
		return dot_write(st, v->nodecount ? v->nodecount : 80, out);
	}
	return -EINVAL;
}

int view_write(const struct view_opts *v, const struct stacks *st)
{
	struct outfile *of;
	FILE *out;
	int r;

	r = outfile_open(v->file ? v->file : "-", &of);
	if (r < 0)
		return r;
	out = outfile_stream(of);
	if (!out) {
		r = -errno;
		outfile_abort(of);
		return r;
	}
	return outfile_finish(of, out, view_write_to(v, st, out));
}
