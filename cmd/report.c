/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/top.h"
#include "proto/pprof.h"

static const char usage[] =
	"usage: cprof report [OPTIONS] [FILE]\n"
	"\n"
	"Show a pprof profile (default cprof.pb.gz), gzip or raw, written by cprof or by\n"
	"Go's runtime/pprof, as a table of the functions with the most samples, like\n"
	"'go tool pprof -top'.\n"
	"\n"
	"Options:\n"
	"      --top                 the top table (default)\n"
	"  -n, --nodecount N         show at most N rows\n"
	"  -i, --sample-index NAME|N which value to show (default: the profile's default,\n"
	"                            else its last sample type, as pprof does)\n"
	"      --nodefraction F      hide functions whose cum is at most F of the total\n"
	"                            (default 0.005, as pprof; 0 shows everything)\n"
	"  -h, --help                show this help\n"
	"\n"
	"Examples:\n"
	"  cprof report\n"
	"  cprof report -n 20 server.pb.gz\n"
	"  cprof report --sample-index samples heap.pb.gz\n";

struct report_opts {
	const char *file;
	const char *sample_index;
	uint64_t nodecount;
	double nodefraction;
};

static int parse_fraction(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || v < 0 || v > 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct report_opts *o)
{
	enum { OPT_TOP = 0x100, OPT_NODEFRACTION };
	static const struct option options[] = {
		{"top", no_argument, NULL, OPT_TOP},
		{"nodecount", required_argument, NULL, 'n'},
		{"sample-index", required_argument, NULL, 'i'},
		{"nodefraction", required_argument, NULL, OPT_NODEFRACTION},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*o = (struct report_opts){.file = "cprof.pb.gz", .nodefraction = 0.005};
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:i:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_TOP:
			break;
		case 'n':
			if (parse_uint(optarg, 1, UINT32_MAX, &o->nodecount) < 0)
				return cmd_usage_error(usage, "invalid node count '%s'", optarg), -1;
			break;
		case 'i':
			o->sample_index = optarg;
			break;
		case OPT_NODEFRACTION:
			if (parse_fraction(optarg, &o->nodefraction) < 0)
				return cmd_usage_error(usage, "invalid node fraction '%s'", optarg),
				       -1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			return cmd_usage_error(usage, "option '%s' needs a value", argv[optind - 1]),
			       -1;
		default:
			return cmd_usage_error(usage, "unknown option '%s'", argv[optind - 1]), -1;
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]), -1;
	return 1;
}

static const char *read_error_hint(int r)
{
	switch (r) {
	case -EBADMSG:
		return "its gzip data is corrupt or truncated";
	case -EINVAL:
		return "it is not a valid pprof profile";
	case -EFBIG:
		return "it decompresses to more than 2 GiB";
	default:
		return NULL;
	}
}

int cmd_report(int argc, char **argv)
{
	struct top_options top = {0};
	struct report_opts o;
	struct profile *p = NULL;
	int r, ret = 1;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : 0;

	r = pprof_read_file(o.file, &p);
	if (r < 0) {
		const char *hint = read_error_hint(r);

		if (hint)
			log_err("cannot read '%s': %s", o.file, hint);
		else
			cmd_fail(r, NULL, "cannot read '%s'", o.file);
		return 1;
	}
	top.sample_index = top_sample_index(p, o.sample_index);
	if (top.sample_index < 0) {
		if (p->ntypes == 0)
			log_err("'%s' has no sample types: nothing to show", o.file);
		else
			log_err("'%s' has no sample type '%s'", o.file, o.sample_index);
		goto out;
	}
	top.nodecount = o.nodecount;
	top.nodefraction = o.nodefraction;
	r = top_write(p, &top, stdout);
	if (r == 0 && fflush(stdout) != 0)
		r = -errno;
	if (r < 0) {
		ret = cmd_fail(r, NULL, "writing the report");
		goto out;
	}
	ret = 0;
out:
	profile_free(p);
	return ret;
}
