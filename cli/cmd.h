/*
 * cli/cmd.h: motrace's commands, one file each (cli/cmd-NAME.c), one table
 * (cli/cmd.c) with unique-prefix lookup.
 */
#ifndef MO_CMD_H
#define MO_CMD_H

#include <stdio.h>

struct cmd_entry {
	const char *name;
	const char *usage;	/* the arguments, for "usage: motrace NAME ..." */
	const char *summary;	/* one line for motrace --help */
	/* Runs the command; returns the process exit status. */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_trace_entry;

/* The main job, when motrace is run with options rather than a command. */
int cmd_trace_main(int argc, char **argv);
extern const struct cmd_entry cmd_decode_entry;
extern const struct cmd_entry cmd_replay_entry;

/* The command NAME names (a unique prefix will do), or NULL with a message. */
const struct cmd_entry *cmd_find(const char *name);
void cmd_list(FILE *out);

#endif
