/*
 * cli/common.h: what several commands do alike: ABI option, option
 * errors, reading the one input, merging their options with the trace
 * options.
 */
#ifndef MO_CLI_COMMON_H
#define MO_CLI_COMMON_H

#include <getopt.h>

#include "decode/decode.h"
#include "util/strbuf.h"

#ifndef MOTRACE_VERSION
#define MOTRACE_VERSION "0.1"
#endif

/* Parses --abi's value; 0, or -1 after a message naming CMD. */
int cli_abi(const char *cmd, const char *arg, enum mo_abi *out);
/* For getopt's ':' and '?': prints what is wrong; returns 2. */
int cli_bad_option(const char *cmd, int c, char **argv);
/*
 * Reads the command's one input (ARGV[OPTIND], or standard input when
 * there is none or it is "-") into IN; *PATH names it. Returns 0, or 2
 * after a message.
 */
int cli_read_input(const char *cmd, int argc, char **argv, int optind,
		   struct strbuf *in, const char **path);
/* OUT = OWN followed by the trace options and a terminator; OUT must hold 32 more. */
void cli_longopts(struct option *out, const struct option *own, size_t nown);

#endif
