/*
 * guest/agent/agent.h: the parts of the agent (see guest/README.md).
 */
#ifndef MO_AGENT_H
#define MO_AGENT_H

#include "guest/agent/rt.h"
#include "guest/ring.h"

/* ivshmem.c: maps BAR2 of the ivshmem device; never fails (rt_fatal). */
void *ivshmem_map(uint32_t size);

/* localpager.c: serves one kernel message inside the guest (no relay). */
void local_pager_serve(const void *msg, port_t object);
/* Returns and flushes [OFF, OFF+LEN) and waits for lock_completed. */
void local_pager_flush(uint32_t off, uint32_t len, port_t object);

#endif
