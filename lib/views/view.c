/* SPDX-License-Identifier: MIT */
/*
 * The dispatcher: one view of a profile's stacks by kind, to a stream or
 * to stdout or a file (outfile.h: regular files replaced atomically,
 * devices and pipes written into). Shared by report (any view) and record
 * (--format perf-script / folded).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/views/callgrind.h"
#include "lib/views/dot.h"
#include "lib/views/flamegraph.h"
#include "lib/views/folded.h"
#include "lib/base/outfile.h"
#include "lib/views/script.h"
#include "lib/views/threads.h"
#include "lib/views/top.h"
#include "lib/views/traces.h"
#include "lib/views/treeview.h"
#include "lib/views/view.h"
#include "lib/views/weblist.h"

int view_write_to(const struct view_options *v, const struct stacks *st, FILE *out)
{
	switch (v->kind) {
	case VIEW_TOP: {
		struct top_options o = {.nodecount = v->nodecount, .nodefraction = v->nodefraction};

		return top_write(st, &o, out);
	}
	case VIEW_TREE:
		return treeview_write(st, v->nodefraction, out);
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
	case VIEW_THREADS_SUMMARY:
		return threads_write_summary(st, out);
	case VIEW_THREADS:
		return threads_write_each(st, out);
	case VIEW_LIST:
		return v->symbol ? source_list_write(st, v->symbol, v->source, out) : -EINVAL;
	case VIEW_DISASM:
		return v->symbol && v->disasm ? disasm_write(st, v->symbol, v->disasm, out)
					      : -EINVAL;
	case VIEW_WEBLIST:
		return v->symbol && v->disasm
			       ? weblist_write(st, v->symbol, v->source, v->disasm, out)
			       : -EINVAL;
	}
	return -EINVAL;
}

int view_write(const struct view_options *v, const struct stacks *st)
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
