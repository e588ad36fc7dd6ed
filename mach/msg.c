/*
 * mach/msg.c: mach_msg() and messages in flight.
 *
 * Sending copies the message in: every right named in the header and the
 * body is taken out of the name space (GNU Mach ipc/ipc_kmsg.c,
 * ipc_kmsg_copyin) and held as a port pointer; out-of-line memory is
 * moved or copied into fresh pages. Receiving copies it out into the
 * receiver's buffer with the rights as names and the dispositions as the
 * receiver sees them (PORT_SEND for MAKE_SEND and so on), the header's
 * ports swapped (msgh_remote_port is the reply port) and the port's next
 * sequence number (ipc_kmsg_copyout_header, ipc_mqueue_receive).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <mach.h>
#include <mach/mig_errors.h>
#include <mach/motrace.h>

#include "mach/ipc.h"

#define PAGE 4096UL
#undef round_page	/* mach_init.h's divides by __vm_page_size */
#define round_page(x) (((x) + PAGE - 1) & ~(PAGE - 1))

struct kmsg *mo_kmsg_alloc(uint32_t size, unsigned nrights, unsigned nool)
{
	size_t head = sizeof(struct kmsg) + nrights * sizeof(struct kright) +
		      nool * sizeof(struct kool);
	struct kmsg *m;

	head = (head + 7) & ~(size_t)7;
	m = calloc(1, head + size);
	if (!m)
		abort();
	m->size = size;
	m->nrights = nrights;
	m->nool = nool;
	m->rights = (struct kright *)(m + 1);
	m->ool = (struct kool *)(m->rights + nrights);
	m->bytes = (uint8_t *)m + head;
	((mach_msg_header_t *)m->bytes)->msgh_size = size;
	return m;
}

void mo_kmsg_destroy(struct kmsg *m)
{
	mo_right_release(m->dest.port, m->dest.type);
	mo_right_release(m->reply.port, m->reply.type);
	for (unsigned i = 0; i < m->nrights; i++)
		mo_right_release(m->rights[i].port, m->rights[i].type);
	for (unsigned i = 0; i < m->nool; i++)
		if (m->ool[i].addr && !m->ool[i].borrowed)
			mo_pages_release(m->ool[i].addr, m->ool[i].size);
	free(m->stack);
	free(m);
}

void mo_kmsg_discard(struct kmsg *m, struct kport *p)
{
	/*
	 * GNU Mach ipc/ipc_kmsg.c, ipc_kmsg_copyout_dest: the destination
	 * right is used up as in a delivery (a send-once right to P owes no
	 * notification), the reply right and the body are destroyed.
	 */
	if (m->dest.type == MACH_MSG_TYPE_PORT_SEND)
		mo_srights_dec(p);
	else if (m->dest.type == MACH_MSG_TYPE_PORT_SEND_ONCE && p->sorights)
		p->sorights--;
	mo_kport_unref(m->dest.port);
	m->dest.port = NULL;
	mo_kmsg_destroy(m);
}

int mo_kmsg_send(struct kmsg *m)
{
	/* A tracer attached through the control socket sees it first. */
	if (m->dest.port && m->dest.port->tapped && mo_tap_divert(m))
		return MACH_MSG_SUCCESS;
	return mo_kmsg_send_now(m);
}

int mo_kmsg_send_now(struct kmsg *m)
{
	struct kport *p = m->dest.port;

	if (!p || p->kind == KP_DEAD) {
		mo_kmsg_destroy(m);
		return MACH_SEND_INVALID_DEST;
	}
	if (p == mo_task_port || p->kobject) {
		mo_task_serve(m);
		return MACH_MSG_SUCCESS;
	}
	if (p == mo_host_port) {
		mo_host_serve(m);
		return MACH_MSG_SUCCESS;
	}
	if (p->kind == KP_LOCAL) {
		mo_kport_enqueue(p, m);
		return MACH_MSG_SUCCESS;
	}
	return mo_link_send(p, m);
}

/* Fresh pages holding a copy of SIZE bytes at SRC. */
static void *ool_copy(const void *src, uint64_t size)
{
	uint8_t *a;

	if (size == 0 || !(a = mo_pages_alloc(size, 0)))
		return NULL;
	memcpy(a, src, size);
	memset(a + size, 0, round_page(size) - size);
	return a;
}

/* The most rights a message's body carries: a MSG frame counts them,
 * with the reply's, in 16 bits (doc/wire.md, "Limits"). */
#define MO_MSG_RIGHTS_MAX 65534

/*
 * An out-of-line port array (GNU Mach ipc/ipc_kmsg.c,
 * ipc_kmsg_copyin_body): 32-bit names in the sender's memory, each
 * checked as an inline one is; an empty one carries nothing.
 */
static mach_msg_return_t ool_ports_check(struct kmsg *m, const struct mo_item *it)
{
	const uint32_t *names;

	if (it->number == 0)
		return MACH_MSG_SUCCESS;
	if (it->size != 32)
		return MACH_SEND_INVALID_TYPE;
	if (it->number > MO_MSG_RIGHTS_MAX)
		return MACH_SEND_NO_BUFFER;
	names = (const uint32_t *)(uintptr_t)mo_item_ool_addr(m->bytes, it, MO_ABI_X86_64);
	if (!names)
		return MACH_SEND_INVALID_MEMORY;
	for (uint32_t i = 0; i < it->number; i++) {
		struct kport *p;
		unsigned t;

		if (mo_right_copyin(names[i], it->name, &p, &t, 1))
			return MACH_SEND_INVALID_RIGHT;
	}
	return MACH_MSG_SUCCESS;
}

/* Takes the rights of an out-of-line port array into region O (index NO). */
static void ool_ports_copyin(struct kmsg *m, const struct mo_item *it,
			     unsigned *nr, unsigned no)
{
	struct kool *o = &m->ool[no];
	unsigned recv = mo_type_received(it->name);
	uint32_t *names = (uint32_t *)(uintptr_t)mo_item_ool_addr(m->bytes, it, MO_ABI_X86_64);

	o->off = it->data_off;
	o->size = (uint64_t)it->number * 4;
	o->ports = 1;
	o->addr = mo_pages_alloc(o->size, 1);
	if (!o->addr)
		abort();
	for (uint32_t i = 0; i < it->number; i++) {
		struct kright *r = &m->rights[(*nr)++];
		unsigned t;

		r->off = 4 * i;
		r->region = no + 1;
		mo_right_copyin(names[i], it->name, &r->port, &t, 0);
		r->type = recv;
	}
	/* msgt_deallocate: the sender's array goes (vm_map_copyin, src_destroy). */
	if (it->dealloc)
		mo_pages_release(names, o->size);
	memset(m->bytes + o->off, 0, 8);
}

/* Counts the rights and regions of a complex body, checking each name. */
static mach_msg_return_t body_check(struct kmsg *m, unsigned *nrights,
				    unsigned *nool)
{
	struct mo_walker w;
	struct mo_header h;
	struct mo_item it;
	mach_msg_return_t mr;
	int r;

	*nrights = *nool = 0;
	if (mo_walk_init(&w, m->bytes, m->size, MO_ABI_X86_64, &h) < 0)
		return MACH_SEND_MSG_TOO_SMALL;
	while ((r = mo_walk_next(&w, &it)) == 1) {
		if (mo_type_is_port(it.name) && !it.is_inline) {
			mr = ool_ports_check(m, &it);
			if (mr)
				return mr;
			if (it.number) {
				*nrights += it.number;
				(*nool)++;
			}
		} else if (mo_type_is_port(it.name)) {
			for (uint32_t i = 0; i < it.number; i++) {
				struct kport *p;
				unsigned t;
				uint32_t name = (uint32_t)mo_item_elem(m->bytes, &it, i);

				if (mo_right_copyin(name, it.name, &p, &t, 1))
					return MACH_SEND_INVALID_RIGHT;
			}
			*nrights += it.number;
		} else if (!it.is_inline && mo_item_bytes(&it)) {
			(*nool)++;
		}
	}
	if (r < 0)
		return MACH_SEND_INVALID_TYPE;
	return *nrights > MO_MSG_RIGHTS_MAX ? MACH_SEND_NO_BUFFER : MACH_MSG_SUCCESS;
}

/* Takes the body's rights and memory; body_check passed. */
static void body_copyin(struct kmsg *m)
{
	struct mo_walker w;
	struct mo_header h;
	struct mo_item it;
	unsigned nr = 0, no = 0;
	int remote = m->dest.port && m->dest.port->kind == KP_PROXY;

	mo_walk_init(&w, m->bytes, m->size, MO_ABI_X86_64, &h);
	while (mo_walk_next(&w, &it) == 1) {
		if (mo_type_is_port(it.name) && !it.is_inline) {
			uint32_t *d = (uint32_t *)(m->bytes + it.desc_off);
			unsigned recv = mo_type_received(it.name);

			if (it.number)
				ool_ports_copyin(m, &it, &nr, no++);
			if (it.longform)
				((uint16_t *)d)[2] = recv;
			else
				*d = (*d & ~0xffu) | recv;
		} else if (mo_type_is_port(it.name)) {
			unsigned recv = mo_type_received(it.name);
			uint32_t *d = (uint32_t *)(m->bytes + it.desc_off);

			for (uint32_t i = 0; i < it.number; i++) {
				struct kright *r = &m->rights[nr++];
				uint32_t name = (uint32_t)mo_item_elem(m->bytes, &it, i);
				unsigned t;

				r->off = it.data_off + 4 * i;
				mo_right_copyin(name, it.name, &r->port, &t, 0);
				r->type = recv;
				memset(m->bytes + r->off, 0, 4);
			}
			/* The receiver sees the rewritten type (ipc_kmsg_copyin_body). */
			if (it.longform)
				((uint16_t *)d)[2] = recv;
			else
				*d = (*d & ~0xffu) | recv;
		} else if (!it.is_inline && mo_item_bytes(&it)) {
			struct kool *o = &m->ool[no++];
			uint64_t addr = mo_item_ool_addr(m->bytes, &it, MO_ABI_X86_64);

			o->off = it.data_off;
			o->size = mo_item_bytes(&it);
			if (it.dealloc && (addr & (PAGE - 1)) == 0) {
				/* Moved, not copied: the sender gave the pages up. */
				o->addr = (void *)(uintptr_t)addr;
			} else if (!it.dealloc && remote) {
				/* Framed before mach_msg returns: read it in place. */
				o->addr = (void *)(uintptr_t)addr;
				o->borrowed = 1;
			} else {
				o->addr = ool_copy((void *)(uintptr_t)addr, o->size);
				if (it.dealloc)
					mo_pages_release((void *)(uintptr_t)addr, o->size);
			}
			memset(m->bytes + o->off, 0, 8);
		}
	}
}

static mach_msg_return_t msg_send(mach_msg_header_t *msg, mach_msg_size_t size)
{
	struct kmsg *m;
	unsigned nrights = 0, nool = 0;
	unsigned rdisp = MACH_MSGH_BITS_REMOTE(msg->msgh_bits);
	unsigned ldisp = MACH_MSGH_BITS_LOCAL(msg->msgh_bits);
	int complex = (msg->msgh_bits & MACH_MSGH_BITS_COMPLEX) != 0;
	mach_msg_return_t mr;
	struct kport *p;
	unsigned t;

	if (size < sizeof(mach_msg_header_t) || (size & 3))
		return MACH_SEND_MSG_TOO_SMALL;
	if (size > MO_MACH_MSG_MAX)
		return MACH_SEND_NO_BUFFER;	/* mach/motrace.h: the limit */
	switch (rdisp) {
	case MACH_MSG_TYPE_MOVE_SEND: case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MAKE_SEND: case MACH_MSG_TYPE_MOVE_SEND_ONCE:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
		break;
	default:
		return MACH_SEND_INVALID_HEADER;
	}
	if (ldisp && ldisp != MACH_MSG_TYPE_MOVE_SEND &&
	    ldisp != MACH_MSG_TYPE_COPY_SEND && ldisp != MACH_MSG_TYPE_MAKE_SEND &&
	    ldisp != MACH_MSG_TYPE_MOVE_SEND_ONCE &&
	    ldisp != MACH_MSG_TYPE_MAKE_SEND_ONCE)
		return MACH_SEND_INVALID_HEADER;

	pthread_mutex_lock(&mo_lock);
	mo_links_defer();
	if (msg->msgh_remote_port == MACH_PORT_NULL ||
	    msg->msgh_remote_port == MACH_PORT_DEAD ||
	    mo_right_copyin(msg->msgh_remote_port, rdisp, &p, &t, 1)) {
		mr = MACH_SEND_INVALID_DEST;
		goto unlock;
	}
	{
		struct entry *e = mo_space_lookup(msg->msgh_remote_port);

		if (e->type & MACH_PORT_TYPE_DEAD_NAME) {
			mr = MACH_SEND_INVALID_DEST;
			goto unlock;
		}
	}
	if (msg->msgh_local_port != MACH_PORT_NULL &&
	    mo_right_copyin(msg->msgh_local_port, ldisp, &p, &t, 1)) {
		mr = MACH_SEND_INVALID_REPLY;
		goto unlock;
	}
	if (complex) {
		/* A scratch copy to walk; the kmsg gets the real counts. */
		struct kmsg probe = { .size = size, .bytes = (uint8_t *)msg };
		uint32_t saved = msg->msgh_size;

		msg->msgh_size = size;
		mr = body_check(&probe, &nrights, &nool);
		msg->msgh_size = saved;
		if (mr)
			goto unlock;
	}
	m = mo_kmsg_alloc(size, nrights, nool);
	memcpy(m->bytes, msg, size);
	((mach_msg_header_t *)m->bytes)->msgh_size = size;
	/* The port fields (and the padding MIG leaves between them) are
	 * carried as rights, not bytes: nothing of the sender's leaks. */
	memset(m->bytes + 8, 0, 20);
	mo_right_copyin(msg->msgh_remote_port, rdisp, &m->dest.port, &t, 0);
	m->dest.type = t;
	if (msg->msgh_local_port != MACH_PORT_NULL) {
		mo_right_copyin(msg->msgh_local_port, ldisp, &m->reply.port, &t, 0);
		m->reply.type = t;
	}
	if (complex)
		body_copyin(m);
	mr = mo_kmsg_send(m);
unlock:
	/* The writes go once mo_lock is let go (link.c, "Deferred writes"). */
	mo_links_write_deferred();
	return mr;
}

/*
 * A message too large for its receiver, refused by a server loop
 * (mo_mach_receive): its sender, if it waits for a reply, gets one that
 * says MIG_BAD_ARGUMENTS (what a MIG server answers a request it cannot
 * take), so that it does not wait forever; the reply right is used up.
 */
static void answer_refused(struct kmsg *m)
{
	mach_msg_header_t *h = (mach_msg_header_t *)m->bytes;
	struct kmsg *r;
	mig_reply_header_t *rh;

	if (!m->reply.port || m->reply.port->kind == KP_DEAD ||
	    (m->reply.type != MACH_MSG_TYPE_PORT_SEND_ONCE &&
	     m->reply.type != MACH_MSG_TYPE_PORT_SEND))
		return;
	r = mo_kmsg_alloc(sizeof(*rh), 0, 0);
	rh = (mig_reply_header_t *)r->bytes;
	rh->Head.msgh_id = h->msgh_id + 100;
	rh->RetCodeType.msgt_name = MACH_MSG_TYPE_INTEGER_32;
	rh->RetCodeType.msgt_size = 32;
	rh->RetCodeType.msgt_number = 1;
	rh->RetCodeType.msgt_inline = 1;
	rh->RetCode = MIG_BAD_ARGUMENTS;
	r->dest = m->reply;
	m->reply.port = NULL;
	m->reply.type = 0;
	mo_kmsg_send(r);
}

/*
 * Copies M out to BUF (RCV_SIZE bytes) as delivered on port P; with
 * REFUSE, a message too large for BUF is answered (answer_refused).
 */
static mach_msg_return_t msg_copyout(struct kmsg *m, struct kport *p,
				     uint32_t seqno, mach_msg_header_t *buf,
				     mach_msg_size_t rcv_size, int refuse)
{
	mach_msg_header_t *h = (mach_msg_header_t *)m->bytes;
	uint32_t bits = h->msgh_bits & MACH_MSGH_BITS_COMPLEX;
	uint32_t local = p->name;

	if (m->size > rcv_size) {
		/*
		 * GNU Mach (ipc/mach_msg.c, mach_msg_receive without
		 * MACH_RCV_LARGE): the message is dequeued and destroyed, the
		 * receiver gets its header with the size it would have needed.
		 */
		buf->msgh_size = m->size;
		buf->msgh_id = h->msgh_id;
		buf->msgh_local_port = local;
		buf->msgh_remote_port = MACH_PORT_NULL;
		buf->msgh_seqno = seqno;
		buf->msgh_bits = 0;
		if (refuse)
			answer_refused(m);
		mo_kmsg_discard(m, p);
		return MACH_RCV_TOO_LARGE;
	}
	memcpy(buf, m->bytes, m->size);
	bits |= MACH_MSGH_BITS(m->reply.type, m->dest.type);
	buf->msgh_bits = bits;
	buf->msgh_size = m->size;
	buf->msgh_remote_port = mo_space_copyout(m->reply.port, m->reply.type);
	buf->msgh_local_port = local;
	if (p->has_payload) {
		/* GNU Mach ipc/ipc_kmsg.c, ipc_kmsg_copyout_header: a port
		 * with a protected payload is named by it, not by its name. */
		buf->msgh_protected_payload = p->payload;
		buf->msgh_bits = MACH_MSGH_BITS_OTHER(bits) |
			MACH_MSGH_BITS(m->reply.type, MACH_MSG_TYPE_PROTECTED_PAYLOAD);
	}
	buf->msgh_seqno = seqno;
	if (m->dest.type == MACH_MSG_TYPE_PORT_SEND)
		mo_srights_dec(p);
	else if (m->dest.type == MACH_MSG_TYPE_PORT_SEND_ONCE && p->sorights)
		p->sorights--;
	mo_kport_unref(m->dest.port);
	for (unsigned i = 0; i < m->nrights; i++) {
		uint32_t name = mo_space_copyout(m->rights[i].port,
					      m->rights[i].type);
		uint8_t *at = m->rights[i].region ?
			(uint8_t *)m->ool[m->rights[i].region - 1].addr : (uint8_t *)buf;

		memcpy(at + m->rights[i].off, &name, 4);
	}
	for (unsigned i = 0; i < m->nool; i++) {
		uint64_t a = (uintptr_t)m->ool[i].addr;

		memcpy((uint8_t *)buf + m->ool[i].off, &a, 8);
	}
	free(m);
	return MACH_MSG_SUCCESS;
}

static struct kmsg *dequeue(struct kport *p)
{
	struct kmsg *m = p->head;

	if (!m)
		return NULL;
	p->head = m->next;
	if (!p->head)
		p->tailp = &p->head;
	p->qlen--;
	mo_link_received(m);
	return m;
}

static int past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/*
 * MACH_RCV_LARGE (GNU Mach ipc/mach_msg.c, mach_msg_receive, and
 * ipc/ipc_mqueue.c, ipc_mqueue_receive): a message larger than the
 * buffer stays queued, and only msgh_size is written, with the size it
 * needs, so that the receiver can try again with a buffer that large.
 */
static int too_large_kept(struct kmsg *m, mach_msg_option_t option,
			  mach_msg_size_t rcv_size, mach_msg_header_t *buf)
{
	if (!(option & MACH_RCV_LARGE) || m->size <= rcv_size)
		return 0;
	buf->msgh_size = m->size;
	return 1;
}

static mach_msg_return_t msg_receive(mach_msg_header_t *buf,
				     mach_msg_option_t option,
				     mach_msg_size_t rcv_size,
				     mach_port_t rcv_name,
				     mach_msg_timeout_t timeout, int refuse)
{
	struct timespec deadline;
	struct entry *e;
	struct kport *p = NULL;
	struct kmsg *m = NULL;
	mach_msg_return_t mr;
	int timed = (option & MACH_RCV_TIMEOUT) != 0;
	int interrupted = 0, masked = 0;
	sigset_t old_mask;

	if (timed) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += timeout / 1000;
		deadline.tv_nsec += (long)(timeout % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_lock(&mo_lock);
	for (;;) {
		pthread_cond_t *cond;
		int *waiters;
		struct kpset *s = NULL;
		int r;

		e = mo_space_lookup(rcv_name);
		if (!e || !(e->type & (MACH_PORT_TYPE_RECEIVE |
				       MACH_PORT_TYPE_PORT_SET))) {
			mr = p ? MACH_RCV_PORT_DIED : MACH_RCV_INVALID_NAME;
			goto out;
		}
		if (e->type & MACH_PORT_TYPE_RECEIVE) {
			if (p && p != e->port) {
				mr = MACH_RCV_PORT_DIED;
				goto out;
			}
			p = e->port;
			if (p->pset) {
				mr = MACH_RCV_IN_SET;
				goto out;
			}
			if (p->head && too_large_kept(p->head, option, rcv_size, buf)) {
				mr = MACH_RCV_TOO_LARGE;
				goto out;
			}
			if ((m = dequeue(p)))
				break;
			cond = &p->cond;
			waiters = &p->waiters;
		} else {
			struct kport *first = NULL;

			/*
			 * A port set has one message queue in Mach (GNU Mach
			 * ipc/ipc_port.c, ipc_port_lock_mqueue: a port in a
			 * set queues on the set's): messages come out in the
			 * order they came in, whichever member they were sent
			 * to. A pager relies on it: data_return before the
			 * lock_completed that follows it on another port.
			 */
			s = e->pset;
			for (p = s->members; p; p = p->pset_next)
				if (p->head && (!first ||
						p->head->arrival < first->head->arrival))
					first = p;
			if (first) {
				p = first;
				if (too_large_kept(p->head, option, rcv_size, buf)) {
					mr = MACH_RCV_TOO_LARGE;
					goto out;
				}
				m = dequeue(p);
				break;
			}
			cond = &s->cond;
			waiters = &s->waiters;
		}
		if (timed && (timeout == 0 || past(&deadline))) {
			mr = MACH_RCV_TIMED_OUT;
			goto out;
		}
		if (interrupted) {
			/* Only a thread reading the links sleeps where a signal
			 * reaches it (README: MACH_RCV_INTERRUPT). */
			mr = MACH_RCV_INTERRUPTED;
			goto out;
		}
		if ((option & MACH_RCV_INTERRUPT) && !masked) {
			/* From here a signal waits for the next sleep (mo_intr_mask). */
			sigset_t all;

			sigfillset(&all);
			sigdelset(&all, SIGSEGV);
			sigdelset(&all, SIGBUS);
			sigdelset(&all, SIGFPE);
			sigdelset(&all, SIGILL);
			sigdelset(&all, SIGTRAP);
			masked = !pthread_sigmask(SIG_BLOCK, &all, &old_mask);
			if (masked)
				mo_intr_mask = &old_mask;
		}
		if (!s)
			mo_kport_ref(p);
		(*waiters)++;
		if ((r = mo_io_reader(s ? NULL : p, s, timed ? &deadline : NULL))) {
			/* This thread read the links; look again. */
			if (r == 2 && (option & MACH_RCV_INTERRUPT))
				interrupted = 1;
			r = 0;
		} else if (option & MACH_RCV_INTERRUPT) {
			/* Asleep where a signal reaches it (mo_io_wait_intr). */
			if (mo_io_wait_intr(cond, timed ? &deadline : NULL))
				interrupted = 1;
		} else {
			struct io_waiter w;

			mo_io_waiter_add(&w, cond);
			if (timed)
				r = pthread_cond_timedwait(cond, &mo_lock, &deadline);
			else
				r = pthread_cond_wait(cond, &mo_lock);
			mo_io_waiter_del(&w);
		}
		(*waiters)--;
		if (s && s->name == 0) {
			/* The set was destroyed while we slept. */
			if (!s->waiters) {
				pthread_cond_destroy(&s->cond);
				free(s);
			}
			mr = MACH_RCV_PORT_DIED;
			goto out;
		}
		if (!s) {
			int dead = p->kind != KP_LOCAL || !p->has_recv_name;

			mo_kport_unref(p);
			if (dead) {
				mr = MACH_RCV_PORT_DIED;
				goto out;
			}
		} else {
			p = NULL;
		}
		(void)r;	/* a timeout shows at the top, after one more look */
	}
	mr = msg_copyout(m, p, p->seqno++, buf, rcv_size, refuse);
out:
	pthread_mutex_unlock(&mo_lock);
	if (masked) {
		mo_intr_mask = NULL;
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	}
	return mr;
}

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_t notify)
{
	mach_msg_return_t mr;

	(void)notify;
	if (option & MACH_SEND_MSG) {
		mr = msg_send(msg, send_size);
		if (mr != MACH_MSG_SUCCESS)
			return mr;
	}
	if (option & MACH_RCV_MSG)
		return msg_receive(msg, option, rcv_size, rcv_name, timeout, 0);
	return MACH_MSG_SUCCESS;
}

mach_msg_return_t mo_mach_receive(mach_msg_header_t *buf, mach_msg_size_t size,
				  mach_port_t name, mach_msg_option_t option,
				  mach_msg_timeout_t timeout)
{
	mach_msg_return_t mr;

	option &= MACH_RCV_TIMEOUT | MACH_RCV_INTERRUPT;
	for (;;) {
		mr = msg_receive(buf, option, size, name, timeout, 1);
		if (mr != MACH_RCV_TOO_LARGE)
			return mr;
		mo_warn("message %d of %u bytes is larger than the receiver's buffer of %u bytes; refused",
			buf->msgh_id, buf->msgh_size, size);
	}
}

/*
 * The trap itself: MACH_RCV_INTERRUPT is libmach's option (GNU Mach
 * <mach/message.h>, "libmach implements"); the kernel's receive ends
 * with MACH_RCV_INTERRUPTED whenever it is interrupted, whatever the
 * option says (ipc/ipc_mqueue.c, ipc_mqueue_receive; ipc/mach_msg.c,
 * mach_msg_interrupt sets it as the trap's return), and mach_msg() is
 * what tries again.
 */
mach_msg_return_t mach_msg_trap(mach_msg_header_t *msg,
				mach_msg_option_t option,
				mach_msg_size_t send_size,
				mach_msg_size_t rcv_size,
				mach_port_t rcv_name,
				mach_msg_timeout_t timeout,
				mach_port_t notify)
{
	return mach_msg(msg, option | MACH_RCV_INTERRUPT, send_size, rcv_size,
			rcv_name, timeout, notify);
}
