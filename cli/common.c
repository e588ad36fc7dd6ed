/* cli/common.c: pieces the commands share. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/common.h"
#include "cli/trace-opts.h"

int cli_abi(const char *cmd, const char *arg, enum mo_abi *out)
{
	int abi = mo_abi_from_name(arg);

	if (abi < 0) {
		fprintf(stderr, "%s: unknown ABI profile '%s' (%s)\n", cmd, arg,
			mo_abi_names());
		return -1;
	}
	*out = (enum mo_abi)abi;
	return 0;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
	if (c == ':')
		fprintf(stderr, "%s: option '%s' needs a value\n", cmd,
			argv[optind - 1]);
	else
		fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n", cmd,
			argv[optind - 1], cmd);
	return 2;
}

int cli_read_input(const char *cmd, int argc, char **argv, int optind,
		   struct strbuf *in, const char **path)
{
	FILE *f = stdin;

	*path = "-";
	if (argc - optind > 1) {
		fprintf(stderr, "%s: one input at most (got %d)\n", cmd,
			argc - optind);
		return 2;
	}
	if (optind < argc)
		*path = argv[optind];
	if (strcmp(*path, "-") && !(f = fopen(*path, "rb"))) {
		fprintf(stderr, "%s: cannot open '%s': %s\n", cmd, *path,
			strerror(errno));
		return 2;
	}
	if (strbuf_fread_all(in, f) < 0) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", cmd, *path,
			strerror(errno));
		if (f != stdin)
			fclose(f);
		return 2;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

void cli_longopts(struct option *out, const struct option *own, size_t nown)
{
	size_t n = 0;

	for (size_t i = 0; i < nown; i++)
		out[n++] = own[i];
	for (size_t i = 0; trace_longopts[i].name; i++)
		out[n++] = trace_longopts[i];
	memset(&out[n], 0, sizeof(out[n]));
}
