/*
 * plugins/loader.h: loading plugins (plugins/motrace-plugin.h) into a
 * session: checked with libelf before dlopen, fed the trace's events and
 * diagnostics, asked for their verdict on each message before the rules,
 * unloaded when one of their callbacks fails.
 */
#ifndef MO_PLUGIN_LOADER_H
#define MO_PLUGIN_LOADER_H

#include <stdio.h>

#include "tracer/engine.h"
#include "tracer/trace.h"

struct mo_plugins;

/* A set of plugins for the session of TR (allocation failure aborts). */
struct mo_plugins *mo_plugins_new(struct mo_trace *tr);
/* Lets the plugins judge E's messages (live traffic). */
void mo_plugins_attach(struct mo_plugins *ps, struct mo_engine *e);

/*
 * Checks the plugin file PATH as the loader does, without loading it.
 * Returns 0, or -1 with ERR naming the reason.
 */
int mo_plugin_check(const char *path, char *err, size_t errlen);

/*
 * Loads SPEC: FILE or NAME (looked up in $MOTRACE_PLUGIN_PATH, then
 * ~/.local/lib/motrace/plugins, the installed folder, then plugins/
 * beside the program, as in the build tree), with
 * "=ARG" for its start. Returns 0, or -1 with ERR.
 */
int mo_plugin_load(struct mo_plugins *ps, const char *spec, char *err,
		   size_t errlen);
/* Unloads plugin NAME; 0, or -1 with ERR. */
int mo_plugin_unload(struct mo_plugins *ps, const char *name, char *err,
		     size_t errlen);
void mo_plugins_list(const struct mo_plugins *ps, FILE *out);
unsigned mo_plugins_count(const struct mo_plugins *ps);

/*
 * Runs ARGV[0] if a plugin has that command: 1 run (its status in
 * *STATUS: 0 or -1 with ERR), 0 no plugin has it.
 */
int mo_plugins_command(struct mo_plugins *ps, int argc, char **argv,
		       FILE *out, int *status, char *err, size_t errlen);
/* Every plugin command, for help and completion: calls FN for each. */
void mo_plugins_each_command(const struct mo_plugins *ps,
			     void (*fn)(void *ctx, const char *name,
					const char *usage, const char *help),
			     void *ctx);

/* The session ends: each plugin's finish, to OUT. */
void mo_plugins_finish(struct mo_plugins *ps, FILE *out);
void mo_plugins_free(struct mo_plugins *ps);

#endif
