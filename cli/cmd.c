/* cli/cmd.c: the table of motrace's commands. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_check_entry,
	&cmd_decode_entry,
	&cmd_help_entry,
	&cmd_replay_entry,
	&cmd_trace_entry,
	NULL
};

const struct cmd_entry *cmd_find(const char *name)
{
	const struct cmd_entry *found = NULL;
	size_t n = strlen(name);
	int matches = 0;

	for (const struct cmd_entry *const *c = cmd_table; *c; c++) {
		if (!strcmp((*c)->name, name))
			return *c;
		if (n && !strncmp((*c)->name, name, n)) {
			found = *c;
			matches++;
		}
	}
	if (matches == 1)
		return found;
	if (matches > 1)
		fprintf(stderr, "motrace: '%s' is ambiguous\n", name);
	else
		fprintf(stderr, "motrace: unknown command '%s' (see motrace --help)\n",
			name);
	return NULL;
}

void cmd_list(FILE *out)
{
	for (const struct cmd_entry *const *c = cmd_table; *c; c++)
		fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
}
