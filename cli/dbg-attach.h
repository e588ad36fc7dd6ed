/*
 * cli/dbg-attach.h: the debugger's attach and detach commands (rows of
 * dbg_table in cli/dbg.c; the attachments: tracer/attach.h).
 */
#ifndef MO_DBG_ATTACH_H
#define MO_DBG_ATTACH_H

#include <stdint.h>

struct batch;

/* attach PID|unix:PATH [observe] */
int dbg_run_attach(struct batch *b, const char *args, uint64_t now);
/* detach [PID] [drop] */
int dbg_run_detach(struct batch *b, const char *args, uint64_t now);

#endif
