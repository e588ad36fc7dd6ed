/*
 * guest/agent/agent.h: the parts of the agent (see guest/README.md).
 */
#ifndef MO_AGENT_H
#define MO_AGENT_H

#include "guest/agent/rt.h"
#include "guest/ring.h"

/* ivshmem.c: maps BAR2 of the ivshmem device; never fails (rt_fatal). */
void *ivshmem_map(uint32_t size);

#endif
