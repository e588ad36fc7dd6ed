/* cli/motrace.c: the motrace program: options, then one command. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/common.h"

static void usage(FILE *out)
{
	fputs("usage: motrace [OPTIONS] --listen ADDR --to ADDR\n"
	      "       motrace [OPTIONS] -- PAGER [ARGS...]\n"
	      "       motrace COMMAND [ARGS...]\n"
	      "\n"
	      "motrace traces and debugs the Mach external memory management\n"
	      "protocol between kernels and memory managers (pagers).\n"
	      "\n"
	      "Commands:\n", out);
	cmd_list(out);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help\n"
	      "  --version      show the version\n"
	      "\n"
	      "'motrace trace --help' lists the tracing options, 'motrace COMMAND\n"
	      "--help' the others; see also motrace(1).\n", out);
}

int main(int argc, char **argv)
{
	const struct cmd_entry *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("motrace %s\n", MOTRACE_VERSION);
		return 0;
	}
	/* Options first: the main job, tracing. */
	if (argv[1][0] == '-')
		return cmd_trace_main(argc, argv);
	cmd = cmd_find(argv[1]);
	if (!cmd)
		return 2;
	return cmd->exec(argc - 1, argv + 1);
}
