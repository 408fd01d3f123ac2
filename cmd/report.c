/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/base/log.h"
#include "lib/base/parse.h"
#include "lib/views/stacks.h"
#include "lib/views/view.h"
#include "proto/pprof.h"
#include "symbolize/objtool.h"
#include "symbolize/source.h"

static const char usage[] =
	"usage: cprof report [VIEW] [FILTERS] [FILE]\n"
	"\n"
	"Show a pprof profile (default cprof.pb.gz), gzip or raw, written by cprof or by\n"
	"Go's runtime/pprof. Views write to stdout, or to FILE where they take one.\n"
	"\n"
	"Views (one):\n"
	"      --top                 functions by flat value, as 'go tool pprof -top' (default)\n"
	"      --tree                the call tree, root first, with cumulative shares\n"
	"      --traces              every sample's stack, as 'go tool pprof -traces'\n"
	"      --folded              folded stacks (flamegraph.pl, inferno, speedscope)\n"
	"      --perf-script         'perf script' text (stackcollapse-perf.pl, speedscope,\n"
	"                            the Firefox Profiler)\n"
	"      --flamegraph[=FILE]   an interactive SVG flame graph\n"
	"      --callgrind[=FILE]    callgrind format (KCachegrind, callgrind_annotate)\n"
	"      --dot[=FILE]          a call graph for Graphviz's dot\n"
	"      --threads-summary     distinct stacks with how many samples (threads, for\n"
	"                            a snapshot) share each, as Go's goroutine?debug=1\n"
	"      --threads             every sample (thread) with its labels and whole stack,\n"
	"                            as Go's goroutine?debug=2\n"
	"      --list RE             source lines of the functions matching RE, with flat\n"
	"                            and cum per line, as 'go tool pprof -list'\n"
	"      --disasm RE           their instructions, with the samples at each address,\n"
	"                            as 'go tool pprof -disasm' (binutils' objdump)\n"
	"      --weblist[=FILE] RE   one HTML page of both: source lines, heat-coloured,\n"
	"                            each opening into its instructions (default\n"
	"                            weblist.html)\n"
	"\n"
	"Sources (--list, --weblist):\n"
	"      --source-path DIRS    where to look for source files, ':'-separated (default\n"
	"                            the current directory), each and its parents; then\n"
	"                            debuginfod, when DEBUGINFOD_URLS is set\n"
	"      --trim-path PREFIX    prefixes to remove from the profile's file names\n"
	"\n"
	"Filters and shaping (every view):\n"
	"  -i, --sample-index NAME|N which value (default: the profile's default, else its\n"
	"                            last sample type, as pprof does)\n"
	"      --pid N, --tid N      only samples with this pid / tid label\n"
	"      --comm NAME           only samples whose comm or process label is NAME\n"
	"      --focus RE            only samples with a frame matching RE\n"
	"      --ignore RE           no samples with a frame matching RE\n"
	"      --hide RE             remove frames matching RE from the stacks\n"
	"      --lines               one frame per source line, not per function\n"
	"      --diff-base FILE      show the difference from FILE (top: negative values\n"
	"                            shrank; flame graph: red grew, blue shrank)\n"
	"  -n, --nodecount N         top: rows at most; dot: nodes at most (default 80)\n"
	"      --nodefraction F      top, tree: hide what is under F of the total\n"
	"                            (default 0.005, as pprof; 0 shows everything)\n"
	"      --icicle              flame graph with the root at the top\n"
	"      --title TEXT          flame graph title\n"
	"      --max-memory SIZE     the most memory a profile may take to read and expand\n"
	"                            (default 1G): a guard against hostile files\n"
	"  -h, --help                show this help\n"
	"\n"
	"Examples:\n"
	"  cprof report\n"
	"  cprof report -n 20 --comm server all.pb.gz\n"
	"  cprof report --flamegraph=cpu.svg --hide '^__libc_start' cpu.pb.gz\n"
	"  cprof report --perf-script cpu.pb.gz | stackcollapse-perf.pl | flamegraph.pl > f.svg\n"
	"  cprof report --diff-base before.pb.gz after.pb.gz\n"
	"  cprof report --sample-index alloc_space heap.pb.gz\n"
	"  cprof report --list '^hot_a$' --source-path ~/src/hot cpu.pb.gz\n"
	"  cprof report --disasm '^hot_a$' cpu.pb.gz\n"
	"  cprof report --weblist=hot.html 'hot_' cpu.pb.gz\n";

struct report_opts {
	const char *file;
	const char *sample_index;
	const char *diff_base;
	uint64_t nodecount;
	uint64_t max_memory;
	struct view_options view;
	struct stacks_options filter;
	int views;	    /* how many view options were given */
	const char *symbol; /* --list's, --disasm's or --weblist's regular expression */
	struct source_find source;
};

static int parse_fraction(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* isfinite: NaN passes every comparison below by failing it. */
	if (end == s || *end || errno || !isfinite(v) || v < 0 || v > 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct report_opts *o)
{
	enum {
		OPT_TOP = 0x100,
		OPT_TREE,
		OPT_TRACES,
		OPT_FOLDED,
		OPT_PERF_SCRIPT,
		OPT_FLAMEGRAPH,
		OPT_CALLGRIND,
		OPT_DOT,
		OPT_THREADS_SUMMARY,
		OPT_THREADS,
		OPT_NODEFRACTION,
		OPT_PID,
		OPT_TID,
		OPT_COMM,
		OPT_FOCUS,
		OPT_IGNORE,
		OPT_HIDE,
		OPT_LINES,
		OPT_DIFF_BASE,
		OPT_ICICLE,
		OPT_TITLE,
		OPT_MAX_MEMORY,
		OPT_LIST,
		OPT_DISASM,
		OPT_WEBLIST,
		OPT_SOURCE_PATH,
		OPT_TRIM_PATH,
	};
	static const struct option options[] = {
		{"top", no_argument, NULL, OPT_TOP},
		{"tree", no_argument, NULL, OPT_TREE},
		{"traces", no_argument, NULL, OPT_TRACES},
		{"folded", no_argument, NULL, OPT_FOLDED},
		{"perf-script", no_argument, NULL, OPT_PERF_SCRIPT},
		{"flamegraph", optional_argument, NULL, OPT_FLAMEGRAPH},
		{"callgrind", optional_argument, NULL, OPT_CALLGRIND},
		{"dot", optional_argument, NULL, OPT_DOT},
		{"threads-summary", no_argument, NULL, OPT_THREADS_SUMMARY},
		{"threads", no_argument, NULL, OPT_THREADS},
		{"nodecount", required_argument, NULL, 'n'},
		{"sample-index", required_argument, NULL, 'i'},
		{"nodefraction", required_argument, NULL, OPT_NODEFRACTION},
		{"pid", required_argument, NULL, OPT_PID},
		{"tid", required_argument, NULL, OPT_TID},
		{"comm", required_argument, NULL, OPT_COMM},
		{"focus", required_argument, NULL, OPT_FOCUS},
		{"ignore", required_argument, NULL, OPT_IGNORE},
		{"hide", required_argument, NULL, OPT_HIDE},
		{"lines", no_argument, NULL, OPT_LINES},
		{"diff-base", required_argument, NULL, OPT_DIFF_BASE},
		{"icicle", no_argument, NULL, OPT_ICICLE},
		{"title", required_argument, NULL, OPT_TITLE},
		{"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
		{"list", required_argument, NULL, OPT_LIST},
		{"disasm", required_argument, NULL, OPT_DISASM},
		{"weblist", optional_argument, NULL, OPT_WEBLIST},
		{"source-path", required_argument, NULL, OPT_SOURCE_PATH},
		{"trim-path", required_argument, NULL, OPT_TRIM_PATH},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t v;
	int c;

	*o = (struct report_opts){
		.file = "cprof.pb.gz",
		.view.nodefraction = 0.005,
		.max_memory = PPROF_MAX_MEMORY,
	};
	optind = 0;
	opterr = 0;
	/* No '+': options may follow the file, as GNU tools and perf allow. */
	while ((c = getopt_long(argc, argv, "n:i:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_TOP:
		case OPT_TREE:
		case OPT_TRACES:
		case OPT_FOLDED:
		case OPT_PERF_SCRIPT:
		case OPT_FLAMEGRAPH:
		case OPT_CALLGRIND:
		case OPT_DOT:
		case OPT_THREADS_SUMMARY:
		case OPT_THREADS:
			o->view.kind = (enum view_kind)(VIEW_TOP + (c - OPT_TOP));
			o->view.file = optarg;
			o->views++;
			break;
		case 'n':
			if (parse_uint(optarg, 1, UINT32_MAX, &o->nodecount) < 0)
				return cmd_usage_error(usage, "invalid node count '%s'", optarg),
				       -1;
			o->view.nodecount = o->nodecount;
			break;
		case 'i':
			o->sample_index = optarg;
			break;
		case OPT_NODEFRACTION:
			if (parse_fraction(optarg, &o->view.nodefraction) < 0)
				return cmd_usage_error(usage, "invalid node fraction '%s'", optarg),
				       -1;
			break;
		case OPT_PID:
		case OPT_TID:
			if (parse_uint(optarg, 0, INT32_MAX, &v) < 0)
				return cmd_usage_error(usage, "invalid %s '%s'",
						       c == OPT_PID ? "pid" : "tid", optarg),
				       -1;
			if (c == OPT_PID) {
				o->filter.has_pid = true;
				o->filter.pid = (int64_t)v;
			} else {
				o->filter.has_tid = true;
				o->filter.tid = (int64_t)v;
			}
			break;
		case OPT_COMM:
			o->filter.comm = optarg;
			break;
		case OPT_FOCUS:
			o->filter.focus = optarg;
			break;
		case OPT_IGNORE:
			o->filter.ignore = optarg;
			break;
		case OPT_HIDE:
			o->filter.hide = optarg;
			break;
		case OPT_LINES:
			o->filter.lines = true;
			break;
		case OPT_DIFF_BASE:
			o->diff_base = optarg;
			break;
		case OPT_ICICLE:
			o->view.icicle = true;
			break;
		case OPT_TITLE:
			o->view.title = optarg;
			break;
		case OPT_MAX_MEMORY:
			if (parse_size(optarg, 1 << 20, SIZE_MAX, &o->max_memory) < 0)
				return cmd_usage_error(usage,
						       "invalid memory size '%s' (e.g. 512M, 4G)",
						       optarg),
				       -1;
			o->filter.max_memory = (size_t)o->max_memory;
			break;
		case OPT_LIST:
		case OPT_DISASM:
			o->view.kind = c == OPT_LIST ? VIEW_LIST : VIEW_DISASM;
			o->symbol = optarg;
			o->views++;
			break;
		case OPT_WEBLIST:
			o->view.kind = VIEW_WEBLIST;
			o->view.file = optarg ? optarg : "weblist.html";
			o->views++;
			break;
		case OPT_SOURCE_PATH:
			o->source.search_path = optarg;
			break;
		case OPT_TRIM_PATH:
			o->source.trim_path = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cmd_option_error(usage, c, argv);
		}
	}
	if (o->views > 1)
		return cmd_usage_error(usage, "give one view at a time"), -1;
	/* --weblist's regular expression is its first argument, before the file. */
	if (o->view.kind == VIEW_WEBLIST) {
		if (optind >= argc)
			return cmd_usage_error(usage, "--weblist needs a regular expression: "
						      "--weblist[=FILE] RE [PROFILE]"),
			       -1;
		o->symbol = argv[optind++];
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]), -1;
	return 1;
}

static int load(const char *file, size_t max_memory, struct profile **ret)
{
	int r = pprof_read_file(file, max_memory, ret);
	char size[32];

	(void)snprintf(size, sizeof(size), "%zu MiB", max_memory >> 20);
	switch (r) {
	case 0:
		break;
	case -EBADMSG:
		log_err("cannot read '%s': its gzip data is corrupt or truncated", file);
		break;
	case -ENODEV:
		log_err("cannot read '%s': it is a device, not a profile", file);
		break;
	case -EINVAL:
		log_err("cannot read '%s': it is not a valid pprof profile", file);
		break;
	case -EFBIG:
		log_err("cannot read '%s': it is larger than a quarter of --max-memory (%s); "
			"raise --max-memory if the file is trusted",
			file, size);
		break;
	case -E2BIG:
		log_err("cannot read '%s': it expands to more than --max-memory (%s); "
			"raise --max-memory if the file is trusted",
			file, size);
		break;
	default:
		(void)cmd_fail(r, NULL, "cannot read '%s'", file);
		break;
	}
	return r;
}

/* --disasm's and --weblist's binaries, as the views ask for them: symbolize/objtool.h. */
static int objs_symbols(void *ctx, const struct profile *p, uint32_t mapping, const regex_t *re,
			struct code_sym **ret, size_t *ret_n)
{
	return objtool_symbols(ctx, p, mapping, re, ret, ret_n);
}

static int objs_disasm(void *ctx, const struct profile *p, uint32_t mapping, uint64_t start,
		       uint64_t end, struct code_insn **ret, size_t *ret_n)
{
	return objtool_disasm(ctx, p, mapping, start, end, ret, ret_n);
}

/* A listing's source file: the search path, trimmed prefixes, debuginfod (symbolize/source.h). */
static FILE *open_source(void *ctx, const char *file, const char *build_id)
{
	return source_find_open(ctx, file, build_id);
}

int cmd_report(int argc, char **argv)
{
	struct profile *p = NULL, *base = NULL;
	struct stacks *st = NULL, *base_st = NULL;
	struct report_opts o;
	struct source_opener opener = {.ctx = &o.source, .open = open_source};
	struct disasm_ops disasm_ops;
	struct objtool *objs = NULL;
	regex_t symbol;
	bool compiled = false;
	int r, ret = 1;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : 0;
	if (load(o.file, (size_t)o.max_memory, &p) < 0)
		goto out;
	if (o.diff_base && load(o.diff_base, (size_t)o.max_memory, &base) < 0)
		goto out;

	o.filter.sample_index = stacks_sample_index(p, o.sample_index);
	if (o.filter.sample_index < 0) {
		if (p->ntypes == 0)
			log_err("'%s' has no sample types: nothing to show", o.file);
		else
			log_err("'%s' has no sample type '%s'", o.file, o.sample_index);
		goto out;
	}
	if (base && (base->ntypes <= (size_t)o.filter.sample_index ||
		     strcmp(profile_str(base, base->types[o.filter.sample_index].type),
			    profile_str(p, p->types[o.filter.sample_index].type)) != 0)) {
		log_err("'%s' and '%s' do not have the same sample types to compare", o.file,
			o.diff_base);
		goto out;
	}
	/* The flame graph colors by difference; the other views show base values negated. */
	r = stacks_build(p, o.view.kind == VIEW_FLAMEGRAPH ? NULL : base, &o.filter, &st);
	if (r == 0 && base && o.view.kind == VIEW_FLAMEGRAPH)
		r = stacks_build(base, NULL, &o.filter, &base_st);
	if (r == -EINVAL) {
		log_err("invalid regular expression in --focus, --ignore or --hide");
		ret = EXIT_USAGE;
		goto out;
	}
	if (r == -E2BIG) {
		log_err("'%s': its stacks expand to more than --max-memory (%zu MiB); raise "
			"--max-memory if the file is trusted",
			o.file, (size_t)o.max_memory >> 20);
		goto out;
	}
	if (r < 0) {
		ret = cmd_fail(r, NULL, "preparing the report");
		goto out;
	}
	o.view.base_stacks = base_st;
	if (o.symbol) {
		if (regcomp(&symbol, o.symbol, REG_EXTENDED | REG_NOSUB) != 0) {
			ret = cmd_usage_error(usage, "invalid regular expression '%s'", o.symbol);
			goto out;
		}
		compiled = true;
		o.view.symbol = &symbol;
		o.view.source = &opener;
	}
	if (o.view.kind == VIEW_DISASM || o.view.kind == VIEW_WEBLIST) {
		r = objtool_new(&objs);
		if (r < 0) {
			ret = cmd_fail(r, NULL, "preparing the disassembly");
			goto out;
		}
		disasm_ops = (struct disasm_ops){objs, objs_symbols, objs_disasm};
		o.view.disasm = &disasm_ops;
	}
	r = view_write(&o.view, st);
	if (r == -ENOENT && o.symbol) {
		log_err("no function in '%s' matches '%s'", o.file, o.symbol);
		goto out;
	}
	if (r == -E2BIG) {
		log_err("'%s' would print more than 10,000,000 perf-script records (each sample is "
			"repeated as often as it was counted); use --folded or --traces",
			o.file);
		goto out;
	}
	if (r < 0) {
		ret = cmd_fail(r, NULL, "writing %s", o.view.file ? o.view.file : "the report");
		goto out;
	}
	ret = 0;
out:
	if (compiled)
		regfree(&symbol);
	objtool_free(objs);
	stacks_free(st);
	stacks_free(base_st);
	profile_free(p);
	profile_free(base);
	return ret;
}
