/*
 * cli/cmd-help.c: motrace help [COMMAND]: the commands, or one command's
 * help (motrace's own, or a debugger command's).
 */
#include <stdio.h>
#include <string.h>

#include "cli/batch.h"
#include "cli/cmd.h"

static const char help_usage[] = "[COMMAND]";

static int cmd_help(int argc, char **argv)
{
	const struct cmd_entry *cmd;
	const struct dbg_cmd *d;
	char help_opt[] = "--help";

	if (argc < 2) {
		printf("usage: motrace [OPTIONS] --listen ADDR --to ADDR\n"
		       "       motrace [OPTIONS] -- PAGER [ARGS...]\n"
		       "       motrace COMMAND [ARGS...]\n"
		       "\n"
		       "Commands:\n");
		cmd_list(stdout);
		printf("\nDebugger commands (-ex, -x SCRIPT):\n");
		for (d = dbg_table; d->name; d++)
			printf("  %-11s %-40s %s\n", d->name, d->usage, d->help);
		printf("\n'motrace help COMMAND' tells more; see also motrace(1).\n");
		return 0;
	}
	if (argc > 2) {
		fprintf(stderr, "motrace help: one command at most (got %d)\n",
			argc - 1);
		return 2;
	}
	/* Debugger commands first: "help delete" is not "help decode". */
	for (d = dbg_table; d->name; d++)
		if (!strcmp(d->name, argv[1])) {
			printf("usage: %s %s\n\n%s (a debugger command: -ex, -x SCRIPT)\n",
			       d->name, d->usage, d->help);
			return 0;
		}
	cmd = cmd_find(argv[1]);
	if (!cmd)
		return 2;
	{
		char *args[] = { (char *)cmd->name, help_opt, NULL };

		return cmd->exec(2, args);
	}
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = help_usage,
	.summary = "the commands, or one command's help",
	.exec = cmd_help,
};
