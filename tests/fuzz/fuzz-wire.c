/*
 * tests/fuzz/fuzz-wire.c: libFuzzer target for libmotrace-mach's wire
 * side: the frames a link reads (mach/recv.c) and the publisher's
 * handshake (mach/handshake.c), over real sockets, in one process.
 *
 * Input: one control byte, then bytes as a peer would send them.
 *   bit 0 clear: frames on a link that holds a send right to a port P
 *                (as after the BOOTSTRAP frame), so MSG frames can
 *                reach P: P is the process's first export, RECEIVER id 1;
 *                what it queued is destroyed afterwards.
 *   bit 0 set:   a new connection to a published port: the bytes are
 *                the peer's hello and what follows; bit 1 set: the
 *                publisher holds a shared secret.
 * The rest of the control byte is free for libFuzzer to vary.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <mach.h>

#include "mach/link.h"

static mach_port_t new_port(struct kport **kp)
{
	mach_port_t name;
	struct entry *e;

	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &name))
		abort();
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	*kp = e->port;
	pthread_mutex_unlock(&mo_lock);
	return name;
}

static void frames(const uint8_t *data, size_t size)
{
	static struct kport *kp;
	struct kmsg *m;
	struct link *l;
	int sp[2];

	if (!kp)
		new_port(&kp);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		abort();
	pthread_mutex_lock(&mo_lock);
	l = mo_link_new(sp[0], "fuzz");
	l->refs++;	/* ours; the other goes when the link closes */
	mo_link_bootstrap(l, kp);
	/* Byte by byte would find nothing new: frames arrive in two pieces. */
	mo_link_input(l, data, size / 2);
	mo_link_input(l, data + size / 2, size - size / 2);
	mo_link_close(l, NULL);
	mo_link_unref(l);
	while ((m = kp->head)) {
		kp->head = m->next;
		if (!kp->head)
			kp->tailp = &kp->head;
		kp->qlen--;
		mo_kmsg_discard(m, kp);
	}
	pthread_mutex_unlock(&mo_lock);
	close(sp[1]);
}

static void handshake(const uint8_t *data, size_t size, int secret)
{
	static const uint8_t key[WIRE_KEY] = "fuzzing-key-16b";
	struct kport *kp;
	mach_port_t p = new_port(&kp);
	struct mo_pending *pd;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		abort();
	if (size > 4096)
		size = 4096;	/* the socket's buffer takes it all at once */
	if (size && write(sp[1], data, size) < 0)
		abort();
	shutdown(sp[1], SHUT_WR);
	pthread_mutex_lock(&mo_lock);
	mo_kport_ref(kp);
	pthread_mutex_unlock(&mo_lock);
	pd = mo_pending_new(sp[0], "fuzz", kp, secret ? key : NULL, UINT64_MAX);
	/* EOF comes after the bytes: the handshake ends, one way or the other. */
	while (!mo_pending_step(pd))
		;
	mo_pending_free(pd);
	/* Became a link: the I/O thread reads EOF and closes it. */
	close(sp[1]);
	mach_port_destroy(mach_task_self(), p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		handshake(data + 1, size - 1, data[0] & 2);
	else
		frames(data + 1, size - 1);
	return 0;
}
