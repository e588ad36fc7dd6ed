/*
 * motrace-plugin.h: the ABI of motrace plugins (doc/plugins.md).
 *
 * A plugin is an ELF shared object that exports two symbols:
 *
 *   const unsigned motrace_plugin_abi = MOTRACE_PLUGIN_ABI;
 *   int motrace_plugin_register(struct motrace_plugin *p,
 *                               const struct motrace_host *host);
 *
 * motrace reads both from the file with libelf before it loads it, and
 * refuses a file that is not such an object (another class or machine, no
 * register function, another ABI version, a file or folder others may
 * write). The register function fills P: a name and the callbacks it
 * wants; any may be NULL. A callback that returns -1 (with ERR) is
 * reported and its plugin is unloaded; the tracer goes on.
 *
 * Build one with: cc -shared -fPIC $(pkg-config --cflags motrace-plugin) ...
 */
#ifndef MOTRACE_PLUGIN_H
#define MOTRACE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MOTRACE_PLUGIN_ABI 1
#define MOTRACE_UNKNOWN 0xffffffffu	/* no kernel, no object */

enum motrace_event_kind {
	MOTRACE_FORWARDED,	/* passed on as it came */
	MOTRACE_INJECTED,	/* made by motrace */
	MOTRACE_DROPPED,	/* not passed on, by a rule or a plugin */
	MOTRACE_DELAYED,	/* held back for a time; passed on later */
	MOTRACE_HELD,		/* held for the user */
	MOTRACE_RELEASED,	/* a held or delayed message, now passed on */
	MOTRACE_CONSUMED,	/* an answer to an injected message, kept by motrace */
};

enum motrace_dir {
	MOTRACE_K2M,		/* kernel to manager */
	MOTRACE_M2K,		/* manager to kernel */
};

/* Which of the call's fields a message has (motrace_event.has). */
#define MOTRACE_HAS_OFFSET	0x01u
#define MOTRACE_HAS_LENGTH	0x02u	/* length or size, or the data's */
#define MOTRACE_HAS_ACCESS	0x04u	/* desired_access or lock_value */
#define MOTRACE_HAS_RETURN	0x08u	/* should_return */
#define MOTRACE_HAS_FLUSH	0x10u	/* should_flush */
#define MOTRACE_HAS_REPLY	0x20u	/* a reply port was given */

/* One message event, as the log shows it. */
struct motrace_event {
	int kind;		/* enum motrace_event_kind */
	int dir;		/* enum motrace_dir */
	unsigned kernel;	/* the log's kN */
	unsigned object;
	uint64_t t_ns;		/* monotonic time */
	uint64_t delay_ns;	/* MOTRACE_DELAYED: for how long */
	int32_t id;		/* the Mach message id */
	const char *name;	/* "memory_object_data_request", or NULL */
	const char *text;	/* the message as the log shows it */
	unsigned has;		/* MOTRACE_HAS_* */
	uint64_t offset, length;
	uint32_t access;	/* VM_PROT_* bits */
	uint32_t should_return, should_flush;
	const uint8_t *msg;	/* the message's bytes (x86_64 layout) */
	size_t len;
};

/* A diagnostic of the checker's, or of a plugin's. */
struct motrace_diag {
	const char *name;	/* "two-writers" */
	const char *text;
	unsigned kernel, object;
	uint64_t offset;
};

enum motrace_action {
	MOTRACE_PASS,
	MOTRACE_DROP,
	MOTRACE_DELAY,		/* by delay_ns */
	MOTRACE_HOLD,		/* until released (for hold_ns, if not 0) */
};

/*
 * What a verdict callback decides for a message before motrace's rules
 * judge it: an action, and fields to rewrite (by the .defs argument name,
 * e.g. "lock_value"; inline numbers only).
 */
struct motrace_verdict {
	int action;		/* enum motrace_action; MOTRACE_PASS as given */
	uint64_t delay_ns, hold_ns;
	unsigned nset;
	struct {
		const char *field;
		uint64_t value;
	} set[8];
};

/* A command the plugin adds to motrace's command table. */
struct motrace_plugin_command {
	const char *name;
	const char *usage;	/* its arguments */
	const char *help;	/* one line */
	int (*run)(void *ctx, int argc, char **argv, FILE *out, char *err,
		   size_t errlen);
};

/* What motrace offers a plugin. */
struct motrace_host {
	unsigned abi;		/* MOTRACE_PLUGIN_ABI */
	void *ctx;
	/* Raises diagnostic NAME (one of the plugin's diag_names). */
	void (*diag)(void *ctx, const char *name, unsigned kernel,
		     unsigned object, uint64_t offset, const char *text);
	/* A note in the log. */
	void (*note)(void *ctx, const char *text);
};

struct motrace_plugin {
	const char *name;
	const char *summary;	/* one line for "plugin list" */
	void *ctx;		/* passed back to every callback */
	/* Starts with the argument of --plugin NAME=ARG (or NULL). */
	int (*start)(void *ctx, const char *arg, char *err, size_t errlen);
	int (*event)(void *ctx, const struct motrace_event *ev, char *err,
		     size_t errlen);
	int (*diag)(void *ctx, const struct motrace_diag *d, char *err,
		    size_t errlen);
	int (*verdict)(void *ctx, const struct motrace_event *ev,
		       struct motrace_verdict *v, char *err, size_t errlen);
	/* The session ends: write what is written at the end, to OUT. */
	int (*finish)(void *ctx, FILE *out, char *err, size_t errlen);
	/* It is unloaded: free what it holds. */
	void (*stop)(void *ctx);
	const struct motrace_plugin_command *commands;	/* ends with a NULL name */
	const char *const *diag_names;	/* its diagnostics; ends with NULL */
};

/* The plugin's own definitions of the two symbols. */
extern const unsigned motrace_plugin_abi;
int motrace_plugin_register(struct motrace_plugin *p,
			    const struct motrace_host *host);

#endif
