/*
 * cli/handoff.h: motrace --listen A --to P without standing in between
 * (doc/attach.md, "--listen and --to").
 *
 * When the manager at P is a pager on libmotrace-mach that motrace may
 * attach to, motrace binds A itself, attaches to the pager as -p does and
 * hands it A's listening socket over the control socket: kernels that
 * connect to A are the pager's own, as if they had connected to P, and
 * motrace sees their traffic through the tap. Ending motrace, however it
 * ends, is then a detach. Otherwise (or with --relay) motrace relays as
 * the proxy always did, and says once that ending it cuts those kernels
 * off, and why.
 */
#ifndef MO_HANDOFF_H
#define MO_HANDOFF_H

#include "tracer/attach.h"

/*
 * Serves kernels at LISTEN with the manager at TO, handed over or relayed
 * (RELAY: relayed, whatever the pager). Returns 1 when handed over (an
 * attachment more), 0 when relayed, -1 after a message.
 */
int handoff_add(struct mo_proxy *p, const char *listen, const char *to,
		const char *secret, int relay);
/*
 * motrace ends: the unix: sockets handed over are removed first, so that
 * no kernel comes while the pager stops serving them (the detach).
 */
void handoff_unlink(void);

#endif
