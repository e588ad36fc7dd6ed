/*
 * guest/agent/agent.h: the parts of the agent (see guest/README.md).
 */
#ifndef MO_AGENT_H
#define MO_AGENT_H

#include "guest/agent/rt.h"
#include "guest/ring.h"

/* ivshmem.c: maps BAR2 of the ivshmem device; never fails (rt_fatal). */
void *ivshmem_map(uint32_t size);
/* Rings the host's doorbell (guest/ring.h). */
void ivshmem_ring(void);

#define MAX_THREADS 8	/* workers running the script */
#define AGENT_MAX_OBJECTS 4	/* memory objects of one run */

/* localpager.c: serves one kernel message inside the guest (no relay). */
void local_pager_serve(const void *msg, port_t object);
/* Returns [OFF, OFF+LEN)'s dirty data, flushing it if FLUSH; waits for it. */
void local_pager_lock(uint32_t off, uint32_t len, int flush, port_t object);

/* fault.c: the task's exception port and its handler thread. */
void fault_init(void);
/* start.S: reads *P, or returns 1 on a memory error (fault.c). */
int probe_read(const volatile uint64_t *p, uint64_t *out);

/* script.c: mo-map's workload language (doc/mo-map.1). */
int script_parse(const char *src, uint32_t len);
void script_threads(uint32_t n);
/* Runs the script as thread T (for "+t" and the "tT: " of output). */
void script_run(uint32_t t);

/* agent.c: what the script needs from the agent. */
void agent_ctl(const char *text);
int agent_local(void);		/* the pager is localpager.c */
uint32_t agent_objects(void);	/* how many objects the run maps */
uint32_t agent_base(uint32_t obj);
uint32_t agent_size(void);
int agent_unmapped(uint32_t obj);
void agent_unmap(uint32_t obj);
void agent_map(uint32_t obj);
void agent_pager(uint32_t obj, const char *verb, uint32_t off);

#endif
