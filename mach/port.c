/*
 * mach/port.c: the task's name space, port rights and notifications.
 *
 * Semantics follow GNU Mach's ipc/ipc_right.c and ipc/ipc_port.c: a name
 * denotes at most one port; send and receive rights for one port share
 * its name, each send-once right has a name of its own; a port's send
 * rights are counted once per name holding them plus once per right in a
 * message (ip_srights), and when that count falls to zero a no-senders
 * notification goes to the port's nsrequest; when a port dies, names
 * holding send or send-once rights for it become dead names and
 * dead-name requests are answered (Mach 3 Kernel Interfaces,
 * mach_port_request_notification).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mach.h>

#include "mach/ipc.h"

/* GNU Mach keeps user references in 16 bits (ipc/ipc_entry.h). */
#ifndef MACH_PORT_UREFS_MAX
#define MACH_PORT_UREFS_MAX ((mach_port_urefs_t)((1 << 16) - 1))
#endif

pthread_mutex_t mo_lock = PTHREAD_MUTEX_INITIALIZER;

static struct entry *table;
static uint32_t table_size;	/* entries in table; name 0 is never used */
static uint32_t free_head;

struct entry *mo_space_lookup(uint32_t name)
{
	if (name == 0 || name >= table_size || !table[name].type)
		return NULL;
	return &table[name];
}

static void table_grow(uint32_t need)
{
	uint32_t n = table_size ? table_size : 64;

	while (n <= need)
		n *= 2;
	table = realloc(table, n * sizeof(*table));
	if (!table)
		abort();
	memset(table + table_size, 0, (n - table_size) * sizeof(*table));
	/* New names go on the free list in increasing order. */
	for (uint32_t i = n - 1; i >= (table_size ? table_size : 1); i--) {
		table[i].next_free = free_head;
		free_head = i;
	}
	table_size = n;
}

uint32_t mo_space_alloc(struct entry **e)
{
	uint32_t name;

	if (!free_head)
		table_grow(table_size);
	name = free_head;
	free_head = table[name].next_free;
	memset(&table[name], 0, sizeof(table[name]));
	*e = &table[name];
	return name;
}

/* Takes NAME off the free list, for mach_port_insert_right. */
static struct entry *space_alloc_name(uint32_t name)
{
	uint32_t *pp;

	if (name >= table_size)
		table_grow(name);
	for (pp = &free_head; *pp; pp = &table[*pp].next_free)
		if (*pp == name) {
			*pp = table[name].next_free;
			memset(&table[name], 0, sizeof(table[name]));
			return &table[name];
		}
	return NULL;
}

void mo_space_free(uint32_t name)
{
	memset(&table[name], 0, sizeof(table[name]));
	table[name].next_free = free_head;
	free_head = name;
}

struct kport *mo_kport_new(int kind)
{
	struct kport *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	p->refs = 1;
	p->kind = kind;
	p->tailp = &p->head;
	pthread_cond_init(&p->cond, NULL);
	return p;
}

void mo_kport_ref(struct kport *p)
{
	p->refs++;
}

void mo_kport_unref(struct kport *p)
{
	if (!p || --p->refs)
		return;
	/* The link references a proxy (or a port that came over one) holds. */
	mo_link_unref(p->link);
	mo_link_unref(p->mv_link);
	if (p->tapid)
		mo_tap_forget(p);
	pthread_cond_destroy(&p->cond);
	free(p);
}

void mo_kport_enqueue(struct kport *p, struct kmsg *m)
{
	static uint64_t arrivals;

	m->arrival = ++arrivals;
	m->next = NULL;
	*p->tailp = m;
	p->tailp = &m->next;
	p->qlen++;
	if (p->waiters)
		mo_cond_wake(&p->cond, 0);
	if (p->pset && p->pset->waiters)
		mo_cond_wake(&p->pset->cond, 0);
	mo_io_wake_for(p);
}

/*
 * Builds a notification as GNU Mach's ipc/ipc_notify.c does: sent to a
 * send-once right, no reply port, one inline word (a port name or a
 * count) for the ones that carry it (mach/notify.h).
 */
void mo_notify_send(struct kport *to, int id, uint32_t word, int word_is_name)
{
	int has_word = id != MACH_NOTIFY_SEND_ONCE;
	struct kmsg *m = mo_kmsg_alloc(has_word ? 40 : 32, 0, 0);
	mach_msg_type_t t = {
		word_is_name ? MACH_MSG_TYPE_PORT_NAME : MACH_MSG_TYPE_INTEGER_32,
		32, 1, 1, 0, 0, 0
	};

	m->dest.port = to;
	m->dest.type = MACH_MSG_TYPE_PORT_SEND_ONCE;
	((mach_msg_header_t *)m->bytes)->msgh_id = id;
	if (has_word) {
		memcpy(m->bytes + 32, &t, 4);
		memcpy(m->bytes + 36, &word, 4);
	}
	mo_kmsg_send(m);
}

/*
 * A proxy that no right refers to any more (names, messages and links
 * all count in srights and sorights) leaves the tables that keep it, so
 * that a long session does not keep every port it ever saw. The caller
 * holds a reference.
 */
void mo_proxy_gc(struct kport *p)
{
	/*
	 * A receive right we moved to the peer (WK_MOVED) stays known by its
	 * id until it dies there or the link closes: it may come home
	 * (recv.c, moved_to), and its DEAD frame names it by that id.
	 */
	if (p->kind != KP_PROXY || p->srights || p->sorights || p->name ||
	    p->exports || !p->link || p->rkind == WK_MOVED)
		return;
	if (p->rkind == WK_RECEIVER && mo_idmap_get(p->link->imports, p->rid) == p) {
		mo_idmap_del(p->link->imports, p->rid);
		mo_kport_unref(p);
	}
	if (p->id && mo_idmap_get(mo_exports, p->id) == p) {
		mo_idmap_del(mo_exports, p->id);
		mo_kport_unref(p);
	}
}

void mo_srights_dec(struct kport *p)
{
	struct kport *ns;

	if (p->srights == 0)
		return;
	if (--p->srights)
		return;
	if (p->kind == KP_LOCAL && p->nsrequest) {
		ns = p->nsrequest;
		p->nsrequest = NULL;
		mo_notify_send(ns, MACH_NOTIFY_NO_SENDERS, p->mscount, 0);
	} else if (p->kind == KP_PROXY) {
		if (p->got_sends) {
			mo_link_send_release(p->link, p->rid, p->rkind, p->got_sends, 0);
			p->got_sends = 0;
		}
		mo_proxy_gc(p);
	}
}

/* A send-once right was destroyed unused. */
static void sonce_destroyed(struct kport *p)
{
	if (p->sorights)
		p->sorights--;
	if (p->kind == KP_PROXY) {
		mo_link_send_release(p->link, p->rid, p->rkind, 0, 1);
		mo_proxy_gc(p);
	} else if (p->kind == KP_LOCAL) {
		/* GNU Mach ipc_notify_send_once: the receiver hears of it. */
		mo_kport_ref(p);
		mo_notify_send(p, MACH_NOTIFY_SEND_ONCE, 0, 0);
	}
}

void mo_right_release(struct kport *p, unsigned type)
{
	if (!p)
		return;
	switch (type) {
	case MACH_MSG_TYPE_PORT_SEND:
		mo_srights_dec(p);
		break;
	case MACH_MSG_TYPE_PORT_SEND_ONCE:
		sonce_destroyed(p);
		break;
	case MACH_MSG_TYPE_PORT_RECEIVE:
		mo_kport_kill(p);
		break;
	}
	mo_kport_unref(p);
}

static struct kport dead_port = { .refs = 1, .kind = KP_DEAD };

struct kport *mo_kport_dead(void)
{
	dead_port.refs++;
	return &dead_port;
}

uint32_t mo_space_copyout(struct kport *p, unsigned type)
{
	struct entry *e;
	uint32_t name;

	if (!p)
		return MACH_PORT_NULL;
	if (p->kind == KP_DEAD) {
		mo_kport_unref(p);
		return MACH_PORT_DEAD;
	}
	if (type == MACH_MSG_TYPE_PORT_SEND_ONCE) {
		name = mo_space_alloc(&e);
		e->type = MACH_PORT_TYPE_SEND_ONCE;
		e->urefs = 1;
		e->port = p;
		return name;
	}
	if (p->name) {
		e = &table[p->name];
		if (type == MACH_MSG_TYPE_PORT_SEND) {
			if (e->type & MACH_PORT_TYPE_SEND)
				mo_srights_dec(p);	/* merged into the name's right */
			e->type |= MACH_PORT_TYPE_SEND;
			/* GNU Mach ipc_right_copyout, overflow TRUE: pegged */
			if (e->urefs + 1 < MACH_PORT_UREFS_MAX)
				e->urefs++;
		} else {
			e->type |= MACH_PORT_TYPE_RECEIVE;
			p->has_recv_name = 1;
		}
		mo_kport_unref(p);
		return p->name;
	}
	name = mo_space_alloc(&e);
	e->port = p;
	p->name = name;
	if (type == MACH_MSG_TYPE_PORT_SEND) {
		e->type = MACH_PORT_TYPE_SEND;
		e->urefs = 1;
	} else {
		e->type = MACH_PORT_TYPE_RECEIVE;
		p->has_recv_name = 1;
	}
	return name;
}

/* The name lost the right(s) in TYPE bits; frees it when none are left. */
static void entry_drop(uint32_t name, uint32_t type)
{
	struct entry *e = &table[name];
	struct kport *p = e->port;

	e->type &= ~type;
	if (type & MACH_PORT_TYPE_SEND)
		e->urefs = 0;
	if (e->type & ~(MACH_PORT_TYPE_DNREQUEST))
		return;
	if (e->dnrequest) {
		/* GNU Mach ipc_right_dealloc: the requester hears the name went. */
		struct kport *dn = e->dnrequest;

		e->dnrequest = NULL;
		mo_notify_send(dn, MACH_NOTIFY_PORT_DELETED, name, 1);
	}
	if (p && p->name == name)
		p->name = 0;
	mo_space_free(name);
	mo_kport_unref(p);
}

/* Empties a dead port's queue and unlinks it from the sets. */
static void kport_drain(struct kport *p)
{
	struct kmsg *m;

	while ((m = p->head)) {
		p->head = m->next;
		mo_kmsg_destroy(m);
	}
	p->tailp = &p->head;
	p->qlen = 0;
}

static void pset_remove(struct kport *p)
{
	struct kport **pp;

	if (!p->pset)
		return;
	for (pp = &p->pset->members; *pp; pp = &(*pp)->pset_next)
		if (*pp == p) {
			*pp = p->pset_next;
			break;
		}
	p->pset = NULL;
	p->pset_next = NULL;
}

void mo_kport_kill(struct kport *p)
{
	struct kexport *x, *nx;
	struct kport *ns;

	if (p->kind == KP_DEAD || p->dying)
		return;
	p->dying = 1;
	mo_kport_ref(p);
	if (p->tapped)
		mo_tap_dead(p);
	if (p->kind == KP_LOCAL) {
		kport_drain(p);
		pset_remove(p);
		if (p->waiters)
			mo_cond_wake(&p->cond, 1);
		if ((ns = p->nsrequest)) {
			p->nsrequest = NULL;
			mo_right_release(ns, MACH_MSG_TYPE_PORT_SEND_ONCE);
		}
	} else if (p->kind == KP_PROXY) {
		if (p->link) {
			if (p->rkind == WK_RECEIVER &&
			    mo_idmap_get(p->link->imports, p->rid) == p) {
				mo_idmap_del(p->link->imports, p->rid);
				p->refs--;	/* the map's reference; we hold one */
			}
			mo_link_unref(p->link);
			p->link = NULL;
		}
	}
	/* Whoever holds rights through us hears of it (doc/wire.md, DEAD). */
	for (x = p->exports; x; x = nx) {
		nx = x->next;
		if (p->id)
			mo_link_send_dead(x->link, WK_SENDER, p->id);
		mo_link_unref(x->link);
		free(x);
	}
	p->exports = NULL;
	if (p->mv_link) {
		mo_link_send_dead(p->mv_link, WK_RECEIVER, p->mv_id);
		mo_link_unref(p->mv_link);
		p->mv_link = NULL;
	}
	if (p->id && mo_idmap_get(mo_exports, p->id) == p) {
		mo_idmap_del(mo_exports, p->id);
		p->refs--;
	}
	p->kind = KP_DEAD;
	/* Every name for the port becomes a dead name (ipc_right_check). */
	for (uint32_t n = 1; n < table_size; n++) {
		struct entry *e = &table[n];
		struct kport *dn;

		if (e->port != p || !(e->type & (MACH_PORT_TYPE_SEND |
						 MACH_PORT_TYPE_SEND_ONCE |
						 MACH_PORT_TYPE_RECEIVE)))
			continue;
		if (e->type & MACH_PORT_TYPE_RECEIVE) {
			e->type &= ~MACH_PORT_TYPE_RECEIVE;
			if (!(e->type & MACH_PORT_TYPE_SEND)) {
				entry_drop(n, 0);
				continue;
			}
		}
		if (e->type & MACH_PORT_TYPE_SEND_ONCE)
			e->urefs = 1;
		e->type = MACH_PORT_TYPE_DEAD_NAME;
		e->port = NULL;
		if (p->name == n)
			p->name = 0;
		mo_kport_unref(p);
		if ((dn = e->dnrequest)) {
			e->dnrequest = NULL;
			e->urefs++;	/* the notification carries a reference */
			mo_notify_send(dn, MACH_NOTIFY_DEAD_NAME, n, 1);
		}
	}
	mo_kport_unref(p);
}

/* The calls of mach_port.defs, as local functions (glibc does the same). */

static int bad_task(mach_port_t task)
{
	return !mo_is_task(task);
}

kern_return_t mach_port_allocate(mach_port_t task, mach_port_right_t right,
				 mach_port_t *name)
{
	struct entry *e;
	struct kport *p;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	mo_init();
	pthread_mutex_lock(&mo_lock);
	switch (right) {
	case MACH_PORT_RIGHT_RECEIVE:
		p = mo_kport_new(KP_LOCAL);
		*name = mo_space_alloc(&e);
		e->type = MACH_PORT_TYPE_RECEIVE;
		e->port = p;
		p->name = *name;
		p->has_recv_name = 1;
		break;
	case MACH_PORT_RIGHT_PORT_SET:
		*name = mo_space_alloc(&e);
		e->type = MACH_PORT_TYPE_PORT_SET;
		e->pset = calloc(1, sizeof(*e->pset));
		if (!e->pset)
			abort();
		e->pset->name = *name;
		pthread_cond_init(&e->pset->cond, NULL);
		break;
	case MACH_PORT_RIGHT_DEAD_NAME:
		*name = mo_space_alloc(&e);
		e->type = MACH_PORT_TYPE_DEAD_NAME;
		e->urefs = 1;
		break;
	default:
		pthread_mutex_unlock(&mo_lock);
		return KERN_INVALID_VALUE;
	}
	pthread_mutex_unlock(&mo_lock);
	return KERN_SUCCESS;
}

static void pset_destroy(uint32_t name)
{
	struct kpset *s = table[name].pset;

	while (s->members)
		pset_remove(s->members);
	if (s->waiters) {
		/* Receivers wake and find the name gone; freed by the last one. */
		s->name = 0;
		mo_cond_wake(&s->cond, 1);
	} else {
		pthread_cond_destroy(&s->cond);
		free(s);
	}
	table[name].pset = NULL;
	table[name].type = 0;
	mo_space_free(name);
}

/* Destroys the receive right held under NAME. */
static void receive_destroy(uint32_t name)
{
	struct kport *p = table[name].port;

	p->has_recv_name = 0;
	mo_kport_kill(p);
}

static kern_return_t mod_refs(uint32_t name, mach_port_right_t right,
			      int delta)
{
	struct entry *e = mo_space_lookup(name);
	int64_t n;

	if (!e)
		return KERN_INVALID_NAME;
	switch (right) {
	case MACH_PORT_RIGHT_RECEIVE:
		if (!(e->type & MACH_PORT_TYPE_RECEIVE))
			return KERN_INVALID_RIGHT;
		if (delta < -1 || delta > 0)
			return KERN_INVALID_VALUE;
		if (delta == -1)
			receive_destroy(name);
		return KERN_SUCCESS;
	case MACH_PORT_RIGHT_SEND_ONCE:
		if (!(e->type & MACH_PORT_TYPE_SEND_ONCE))
			return KERN_INVALID_RIGHT;
		if (delta < -1 || delta > 0)
			return KERN_INVALID_VALUE;
		if (delta == -1) {
			struct kport *p = e->port;

			e->port = NULL;
			entry_drop(name, MACH_PORT_TYPE_SEND_ONCE);
			mo_right_release(p, MACH_MSG_TYPE_PORT_SEND_ONCE);
		}
		return KERN_SUCCESS;
	case MACH_PORT_RIGHT_PORT_SET:
		if (!(e->type & MACH_PORT_TYPE_PORT_SET))
			return KERN_INVALID_RIGHT;
		if (delta < -1 || delta > 0)
			return KERN_INVALID_VALUE;
		if (delta == -1)
			pset_destroy(name);
		return KERN_SUCCESS;
	case MACH_PORT_RIGHT_SEND:
	case MACH_PORT_RIGHT_DEAD_NAME: {
		uint32_t bit = right == MACH_PORT_RIGHT_SEND ?
			MACH_PORT_TYPE_SEND : MACH_PORT_TYPE_DEAD_NAME;

		if (!(e->type & bit)) {
			/* A send right whose port died reads as a dead name. */
			if (right == MACH_PORT_RIGHT_SEND &&
			    (e->type & MACH_PORT_TYPE_DEAD_NAME))
				bit = MACH_PORT_TYPE_DEAD_NAME;
			else
				return KERN_INVALID_RIGHT;
		}
		n = (int64_t)e->urefs + delta;
		if (n < 0)
			return KERN_INVALID_VALUE;
		if (n > MACH_PORT_UREFS_MAX)
			return KERN_UREFS_OVERFLOW;
		e->urefs = (uint32_t)n;
		if (n == 0) {
			struct kport *p = e->port;

			if (bit == MACH_PORT_TYPE_SEND) {
				mo_kport_ref(p);
				entry_drop(name, bit);
				mo_srights_dec(p);
				mo_kport_unref(p);
			} else {
				entry_drop(name, bit);
			}
		}
		return KERN_SUCCESS;
	}
	default:
		return KERN_INVALID_VALUE;
	}
}

kern_return_t mach_port_mod_refs(mach_port_t task, mach_port_t name,
				 mach_port_right_t right,
				 mach_port_delta_t delta)
{
	kern_return_t kr;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	kr = mod_refs(name, right, delta);
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_deallocate(mach_port_t task, mach_port_t name)
{
	struct entry *e;
	kern_return_t kr;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	if (!e)
		kr = KERN_INVALID_NAME;
	else if (e->type & MACH_PORT_TYPE_SEND_ONCE)
		kr = mod_refs(name, MACH_PORT_RIGHT_SEND_ONCE, -1);
	else if (e->type & MACH_PORT_TYPE_DEAD_NAME)
		kr = mod_refs(name, MACH_PORT_RIGHT_DEAD_NAME, -1);
	else if (e->type & MACH_PORT_TYPE_SEND)
		kr = mod_refs(name, MACH_PORT_RIGHT_SEND, -1);
	else
		kr = KERN_INVALID_RIGHT;
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_destroy(mach_port_t task, mach_port_t name)
{
	struct entry *e;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	if (!e) {
		pthread_mutex_unlock(&mo_lock);
		return KERN_INVALID_NAME;
	}
	if (e->type & MACH_PORT_TYPE_PORT_SET)
		mod_refs(name, MACH_PORT_RIGHT_PORT_SET, -1);
	else if (e->type & MACH_PORT_TYPE_SEND_ONCE)
		mod_refs(name, MACH_PORT_RIGHT_SEND_ONCE, -1);
	else {
		if (e->type & MACH_PORT_TYPE_SEND) {
			e->urefs = 1;
			mod_refs(name, MACH_PORT_RIGHT_SEND, -1);
		}
		if ((e = mo_space_lookup(name)) &&
		    (e->type & MACH_PORT_TYPE_RECEIVE))
			receive_destroy(name);
		if ((e = mo_space_lookup(name)) &&
		    (e->type & MACH_PORT_TYPE_DEAD_NAME)) {
			e->urefs = 1;
			mod_refs(name, MACH_PORT_RIGHT_DEAD_NAME, -1);
		}
	}
	pthread_mutex_unlock(&mo_lock);
	return KERN_SUCCESS;
}

kern_return_t mach_port_move_member(mach_port_t task, mach_port_t member,
				    mach_port_t after)
{
	struct entry *m, *s = NULL;
	kern_return_t kr = KERN_SUCCESS;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	m = mo_space_lookup(member);
	if (after != MACH_PORT_NULL)
		s = mo_space_lookup(after);
	if (!m || (after != MACH_PORT_NULL && !s))
		kr = KERN_INVALID_NAME;
	else if (!(m->type & MACH_PORT_TYPE_RECEIVE) ||
		 (s && !(s->type & MACH_PORT_TYPE_PORT_SET)))
		kr = KERN_INVALID_RIGHT;
	else {
		struct kport *p = m->port;

		pset_remove(p);
		if (s) {
			p->pset = s->pset;
			p->pset_next = s->pset->members;
			s->pset->members = p;
			if (p->head && s->pset->waiters)
				mo_cond_wake(&s->pset->cond, 0);
		}
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * Takes a right of DISP (a MACH_MSG_TYPE_* disposition) out of the space
 * for NAME, as mach_msg does for a message (GNU Mach
 * ipc_right_copyin). Returns the port with a reference for the right, and
 * in *type the right as a receiver sees it.
 */
kern_return_t mo_right_copyin(uint32_t name, unsigned disp, struct kport **out,
			   unsigned *type, int check_only)
{
	struct entry *e;
	struct kport *p;

	*out = NULL;
	*type = mo_type_received(disp);
	if (name == MACH_PORT_NULL)
		return KERN_SUCCESS;
	if (name == MACH_PORT_DEAD) {
		if (!check_only)
			*out = mo_kport_dead();
		return KERN_SUCCESS;
	}
	e = mo_space_lookup(name);
	if (!e)
		return KERN_INVALID_NAME;
	p = e->port;
	switch (disp) {
	case MACH_MSG_TYPE_MOVE_RECEIVE:
		if (!(e->type & MACH_PORT_TYPE_RECEIVE))
			return KERN_INVALID_RIGHT;
		if (check_only)
			return KERN_SUCCESS;
		mo_kport_ref(p);
		pset_remove(p);
		p->has_recv_name = 0;
		/* ipc_right_copyin: the payload stays with the task that set it. */
		p->has_payload = 0;
		entry_drop(name, MACH_PORT_TYPE_RECEIVE);
		if (p->waiters)
			mo_cond_wake(&p->cond, 1);
		break;
	case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MOVE_SEND:
		if (e->type & MACH_PORT_TYPE_DEAD_NAME) {
			if (!check_only) {
				*out = mo_kport_dead();
				if (disp == MACH_MSG_TYPE_MOVE_SEND)
					mod_refs(name, MACH_PORT_RIGHT_DEAD_NAME, -1);
			}
			return KERN_SUCCESS;
		}
		if (!(e->type & MACH_PORT_TYPE_SEND))
			return KERN_INVALID_RIGHT;
		if (check_only)
			return KERN_SUCCESS;
		mo_kport_ref(p);
		/* The name keeps a right unless its last reference moved out. */
		if (disp == MACH_MSG_TYPE_COPY_SEND || e->urefs > 1)
			p->srights++;
		if (disp == MACH_MSG_TYPE_MOVE_SEND && --e->urefs == 0)
			entry_drop(name, MACH_PORT_TYPE_SEND);
		break;
	case MACH_MSG_TYPE_MAKE_SEND:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
		if (!(e->type & MACH_PORT_TYPE_RECEIVE))
			return KERN_INVALID_RIGHT;
		if (check_only)
			return KERN_SUCCESS;
		mo_kport_ref(p);
		if (disp == MACH_MSG_TYPE_MAKE_SEND) {
			p->srights++;
			p->mscount++;
		} else {
			p->sorights++;
		}
		break;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE:
		if (e->type & MACH_PORT_TYPE_DEAD_NAME) {
			if (!check_only) {
				*out = mo_kport_dead();
				mod_refs(name, MACH_PORT_RIGHT_DEAD_NAME, -1);
			}
			return KERN_SUCCESS;
		}
		if (!(e->type & MACH_PORT_TYPE_SEND_ONCE))
			return KERN_INVALID_RIGHT;
		if (check_only)
			return KERN_SUCCESS;
		e->port = NULL;
		entry_drop(name, MACH_PORT_TYPE_SEND_ONCE);
		break;
	default:
		return KERN_INVALID_VALUE;
	}
	*out = p;
	return KERN_SUCCESS;
}

kern_return_t mach_port_insert_right(mach_port_t task, mach_port_t name,
				     mach_port_t poly,
				     mach_msg_type_name_t polyPoly)
{
	struct entry *e, *pe;
	struct kport *p, *target;
	unsigned type;
	kern_return_t kr;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	/* Send and send-once rights only; a receive right keeps its name. */
	if (polyPoly == MACH_MSG_TYPE_MOVE_RECEIVE)
		return KERN_INVALID_VALUE;
	pthread_mutex_lock(&mo_lock);
	kr = mo_right_copyin(poly, polyPoly, &p, &type, 1);
	if (kr != KERN_SUCCESS)
		goto out;
	pe = mo_space_lookup(poly);
	target = pe ? pe->port : NULL;
	if (!target || target->kind == KP_DEAD) {
		kr = KERN_INVALID_CAPABILITY;
		goto out;
	}
	e = mo_space_lookup(name);
	if (e) {
		/* GNU Mach ipc_object_copyout_name: only the port's own name. */
		if (type == MACH_MSG_TYPE_PORT_SEND_ONCE || e->port != target) {
			kr = KERN_NAME_EXISTS;
			goto out;
		}
	} else {
		if (type != MACH_MSG_TYPE_PORT_SEND_ONCE && target->name) {
			kr = KERN_RIGHT_EXISTS;
			goto out;
		}
		if (!space_alloc_name(name)) {
			kr = KERN_NAME_EXISTS;
			goto out;
		}
	}
	/* Checked: now take the right (the table does not move any more). */
	mo_right_copyin(poly, polyPoly, &p, &type, 0);
	if (e) {
		mo_space_copyout(p, type);
		goto out;
	}
	e = &table[name];
	e->port = p;	/* the right's reference goes to the name */
	e->urefs = 1;
	if (type == MACH_MSG_TYPE_PORT_SEND_ONCE) {
		e->type = MACH_PORT_TYPE_SEND_ONCE;
	} else {
		e->type = MACH_PORT_TYPE_SEND;
		p->name = name;
	}
out:
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_request_notification(mach_port_t task,
					     mach_port_t name,
					     mach_msg_id_t variant,
					     mach_port_mscount_t sync,
					     mach_port_t notify,
					     mach_msg_type_name_t notifyPoly,
					     mach_port_t *previous)
{
	struct entry *e;
	struct kport *n = NULL, *old = NULL;
	unsigned type;
	kern_return_t kr;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	*previous = MACH_PORT_NULL;
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	if (!e) {
		kr = KERN_INVALID_NAME;
		goto out;
	}
	if (notify != MACH_PORT_NULL) {
		if (notifyPoly != MACH_MSG_TYPE_MAKE_SEND_ONCE &&
		    notifyPoly != MACH_MSG_TYPE_MOVE_SEND_ONCE) {
			kr = KERN_INVALID_VALUE;
			goto out;
		}
		kr = mo_right_copyin(notify, notifyPoly, &n, &type, 0);
		if (kr != KERN_SUCCESS)
			goto out;
		e = mo_space_lookup(name);
	}
	switch (variant) {
	case MACH_NOTIFY_NO_SENDERS: {
		struct kport *p = e ? e->port : NULL;

		if (!e || !(e->type & MACH_PORT_TYPE_RECEIVE)) {
			kr = KERN_INVALID_RIGHT;
			break;
		}
		old = p->nsrequest;
		p->nsrequest = NULL;
		kr = KERN_SUCCESS;
		if (n && p->srights == 0 && sync <= p->mscount)
			/* ipc_port_nsrequest: armed with no senders, it fires now */
			mo_notify_send(n, MACH_NOTIFY_NO_SENDERS, p->mscount, 0);
		else
			p->nsrequest = n;
		n = NULL;
		break;
	}
	case MACH_NOTIFY_DEAD_NAME:
		if (!e || !(e->type & (MACH_PORT_TYPE_SEND |
				       MACH_PORT_TYPE_SEND_ONCE |
				       MACH_PORT_TYPE_DEAD_NAME))) {
			kr = KERN_INVALID_RIGHT;
			break;
		}
		kr = KERN_SUCCESS;
		if (e->type & MACH_PORT_TYPE_DEAD_NAME) {
			if (n && sync) {
				e->urefs++;
				mo_notify_send(n, MACH_NOTIFY_DEAD_NAME, name, 1);
				n = NULL;
			} else if (n) {
				kr = KERN_INVALID_ARGUMENT;
			}
			break;
		}
		old = e->dnrequest;
		e->dnrequest = n;
		n = NULL;
		break;
	default:
		kr = KERN_INVALID_VALUE;
	}
	if (old)
		*previous = mo_space_copyout(old, MACH_MSG_TYPE_PORT_SEND_ONCE);
	if (n)
		mo_right_release(n, MACH_MSG_TYPE_PORT_SEND_ONCE);
out:
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_type(mach_port_t task, mach_port_t name,
			     mach_port_type_t *ptype)
{
	struct entry *e;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	if (e) {
		*ptype = e->type;
		if (e->dnrequest)
			*ptype |= MACH_PORT_TYPE_DNREQUEST;
	}
	pthread_mutex_unlock(&mo_lock);
	return e ? KERN_SUCCESS : KERN_INVALID_NAME;
}

kern_return_t mach_port_get_refs(mach_port_t task, mach_port_t name,
				 mach_port_right_t right,
				 mach_port_urefs_t *refs)
{
	static const uint32_t bits[] = {
		[MACH_PORT_RIGHT_SEND] = MACH_PORT_TYPE_SEND,
		[MACH_PORT_RIGHT_RECEIVE] = MACH_PORT_TYPE_RECEIVE,
		[MACH_PORT_RIGHT_SEND_ONCE] = MACH_PORT_TYPE_SEND_ONCE,
		[MACH_PORT_RIGHT_PORT_SET] = MACH_PORT_TYPE_PORT_SET,
		[MACH_PORT_RIGHT_DEAD_NAME] = MACH_PORT_TYPE_DEAD_NAME,
	};
	struct entry *e;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	if (right >= MACH_PORT_RIGHT_NUMBER)
		return KERN_INVALID_VALUE;
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	if (e) {
		if (!(e->type & bits[right]))
			*refs = 0;
		else if (right == MACH_PORT_RIGHT_SEND ||
			 right == MACH_PORT_RIGHT_DEAD_NAME)
			*refs = e->urefs;
		else
			*refs = 1;
	}
	pthread_mutex_unlock(&mo_lock);
	return e ? KERN_SUCCESS : KERN_INVALID_NAME;
}

/*
 * The port of the receive right NAME, for the calls on one
 * (ipc_port_translate_receive: KERN_INVALID_NAME, KERN_INVALID_RIGHT);
 * mo_lock held.
 */
static struct kport *receive_right(mach_port_t task, mach_port_t name,
				   kern_return_t *kr)
{
	struct entry *e = mo_space_lookup(task);

	/* bad_task's test, with mo_lock already held */
	if (!e || !(e->type & MACH_PORT_TYPE_SEND) || e->port != mo_task_port) {
		*kr = KERN_INVALID_TASK;
		return NULL;
	}
	e = mo_space_lookup(name);
	if (!e)
		*kr = KERN_INVALID_NAME;
	else if (!(e->type & MACH_PORT_TYPE_RECEIVE))
		*kr = KERN_INVALID_RIGHT;
	else
		*kr = KERN_SUCCESS;
	return *kr == KERN_SUCCESS ? e->port : NULL;
}

kern_return_t mach_port_set_qlimit(mach_port_t task, mach_port_t name,
				   mach_port_msgcount_t qlimit)
{
	struct kport *p;
	kern_return_t kr;

	/* Queues here are unbounded: a send to a local port never blocks. */
	pthread_mutex_lock(&mo_lock);
	if ((p = receive_right(task, name, &kr))) {
		if (qlimit > MACH_PORT_QLIMIT_MAX)
			kr = KERN_INVALID_VALUE;	/* ipc/mach_port.c */
		else
			p->qlimit = qlimit;
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_set_mscount(mach_port_t task, mach_port_t name,
				    mach_port_mscount_t mscount)
{
	struct kport *p;
	kern_return_t kr;

	pthread_mutex_lock(&mo_lock);
	if ((p = receive_right(task, name, &kr)))
		p->mscount = mscount;
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/* Receive status and protected payloads (the Hurd's libports asks for both). */

/*
 * GNU Mach ipc/mach_port.c, mach_port_get_receive_status: the set it is
 * in, its next sequence number, make-send count, queue limit and
 * length, send-once rights, whether send rights exist (in this task or
 * any other: srights counts them wherever they are) and whether a
 * no-senders notification is requested. Port-destroyed requests are
 * not kept here, so mps_pdrequest is always FALSE.
 */
kern_return_t mach_port_get_receive_status(mach_port_t task, mach_port_t name,
					   mach_port_status_t *status)
{
	struct kport *p;
	kern_return_t kr;

	pthread_mutex_lock(&mo_lock);
	if ((p = receive_right(task, name, &kr))) {
		memset(status, 0, sizeof(*status));
		status->mps_pset = p->pset ? p->pset->name : MACH_PORT_NULL;
		status->mps_seqno = p->seqno;
		status->mps_mscount = p->mscount;
		status->mps_qlimit = p->qlimit ? p->qlimit : MACH_PORT_QLIMIT_DEFAULT;
		status->mps_msgcount = p->qlen;
		status->mps_sorights = p->sorights;
		status->mps_srights = p->srights > 0;
		status->mps_pdrequest = FALSE;
		status->mps_nsrequest = p->nsrequest != NULL;
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * GNU Mach ipc/mach_port.c, mach_port_set_protected_payload: messages
 * received from the port from now on carry PAYLOAD in
 * msgh_protected_payload, their local bits MACH_MSG_TYPE_PROTECTED_PAYLOAD
 * (msg.c, msg_copyout), instead of the port's name.
 */
kern_return_t mach_port_set_protected_payload(mach_port_t task, mach_port_t name,
					      unsigned long payload)
{
	struct kport *p;
	kern_return_t kr;

	pthread_mutex_lock(&mo_lock);
	if ((p = receive_right(task, name, &kr))) {
		p->payload = payload;
		p->has_payload = 1;
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_clear_protected_payload(mach_port_t task, mach_port_t name)
{
	struct kport *p;
	kern_return_t kr;

	pthread_mutex_lock(&mo_lock);
	if ((p = receive_right(task, name, &kr))) {
		p->payload = 0;
		p->has_payload = 0;
	}
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * The rest of mach_port.defs that GNU Mach's own tests use (tests/
 * test-mach_port.c): names, rename, allocate_name, get_set_status,
 * extract_right, set_seqno, as GNU Mach's ipc/mach_port.c has them.
 */

/* GNU Mach's MACH_PORT_NAME_VALID: neither MACH_PORT_NULL nor DEAD. */
static int name_valid(mach_port_t name)
{
	return name != MACH_PORT_NULL && name != MACH_PORT_DEAD;
}

/* Fresh pages for an array returned out of line (MIG's dealloc: the
 * caller gives them back with vm_deallocate). */
static void *out_array(size_t n, size_t elem)
{
	return mo_pages_alloc(n ? n * elem : elem, 1);
}

/* What mach_port_type says of the name in E (ipc/mach_port.c,
 * mach_port_names_helper; a send right whose port died is a dead name
 * here already, mo_kport_kill). */
static mach_port_type_t entry_type(const struct entry *e)
{
	mach_port_type_t t = e->type;

	if (e->dnrequest)
		t |= MACH_PORT_TYPE_DNREQUEST;
	return t;
}

kern_return_t mach_port_names(mach_port_t task, mach_port_name_array_t *names,
			      mach_msg_type_number_t *namesCnt,
			      mach_port_type_array_t *types,
			      mach_msg_type_number_t *typesCnt)
{
	mach_port_t *nv;
	mach_port_type_t *tv;
	uint32_t n = 0, i;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	for (i = 1; i < table_size; i++)
		if (table[i].type)
			n++;
	nv = out_array(n, sizeof(*nv));
	tv = out_array(n, sizeof(*tv));
	if (!nv || !tv) {
		pthread_mutex_unlock(&mo_lock);
		if (nv)
			mo_pages_release(nv, n * sizeof(*nv));
		if (tv)
			mo_pages_release(tv, n * sizeof(*tv));
		return KERN_RESOURCE_SHORTAGE;
	}
	n = 0;
	for (i = 1; i < table_size; i++)
		if (table[i].type) {
			nv[n] = i;
			tv[n++] = entry_type(&table[i]);
		}
	pthread_mutex_unlock(&mo_lock);
	*names = nv;
	*types = tv;
	*namesCnt = *typesCnt = n;
	return KERN_SUCCESS;
}

/*
 * GNU Mach ipc/ipc_object.c, ipc_object_rename: the rights move to the
 * new name, with their references and requests; the old name is free.
 */
kern_return_t mach_port_rename(mach_port_t task, mach_port_t oname,
			       mach_port_t nname)
{
	struct entry *o, *n;
	struct entry save;
	kern_return_t kr = KERN_SUCCESS;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	if (!name_valid(nname))
		return KERN_INVALID_VALUE;
	pthread_mutex_lock(&mo_lock);
	if (!mo_space_lookup(oname)) {
		kr = KERN_INVALID_NAME;
		goto out;
	}
	if (mo_space_lookup(nname) || !(n = space_alloc_name(nname))) {
		kr = KERN_NAME_EXISTS;
		goto out;
	}
	o = &table[oname];	/* space_alloc_name may have moved the table */
	save = *o;
	memset(o, 0, sizeof(*o));
	mo_space_free(oname);
	n = &table[nname];
	*n = save;
	n->next_free = 0;
	if (n->port && n->port->name == oname)
		n->port->name = nname;
	if (n->pset)
		n->pset->name = nname;
out:
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_allocate_name(mach_port_t task, mach_port_right_t right,
				      mach_port_t name)
{
	struct entry *e;
	struct kport *p;
	kern_return_t kr = KERN_SUCCESS;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	if (!name_valid(name))
		return KERN_INVALID_VALUE;
	if (right != MACH_PORT_RIGHT_RECEIVE && right != MACH_PORT_RIGHT_PORT_SET &&
	    right != MACH_PORT_RIGHT_DEAD_NAME)
		return KERN_INVALID_VALUE;
	pthread_mutex_lock(&mo_lock);
	if (mo_space_lookup(name) || !(e = space_alloc_name(name))) {
		kr = KERN_NAME_EXISTS;
		goto out;
	}
	switch (right) {
	case MACH_PORT_RIGHT_RECEIVE:
		p = mo_kport_new(KP_LOCAL);
		e->type = MACH_PORT_TYPE_RECEIVE;
		e->port = p;
		p->name = name;
		p->has_recv_name = 1;
		break;
	case MACH_PORT_RIGHT_PORT_SET:
		e->type = MACH_PORT_TYPE_PORT_SET;
		e->pset = calloc(1, sizeof(*e->pset));
		if (!e->pset)
			abort();
		e->pset->name = name;
		pthread_cond_init(&e->pset->cond, NULL);
		break;
	default:
		e->type = MACH_PORT_TYPE_DEAD_NAME;
		e->urefs = 1;
		break;
	}
out:
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_get_set_status(mach_port_t task, mach_port_t name,
				       mach_port_name_array_t *members,
				       mach_msg_type_number_t *membersCnt)
{
	struct entry *e;
	struct kport *p;
	mach_port_t *v;
	uint32_t n = 0;
	kern_return_t kr = KERN_SUCCESS;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	pthread_mutex_lock(&mo_lock);
	e = mo_space_lookup(name);
	if (!e) {
		kr = KERN_INVALID_NAME;
		goto out;
	}
	if (!(e->type & MACH_PORT_TYPE_PORT_SET)) {
		kr = KERN_INVALID_RIGHT;
		goto out;
	}
	for (p = e->pset->members; p; p = p->pset_next)
		n++;
	if (!(v = out_array(n, sizeof(*v)))) {
		kr = KERN_RESOURCE_SHORTAGE;
		goto out;
	}
	n = 0;
	for (p = e->pset->members; p; p = p->pset_next)
		v[n++] = p->name;	/* ip_receiver_name (mach_port_gst_helper) */
	*members = v;
	*membersCnt = n;
out:
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

/*
 * GNU Mach: ipc_object_copyin of the right, as if the space sent it in a
 * message, then (the caller being the task itself) MIG's copyout of the
 * reply into the same space: *poly is the caller's name for the right it
 * got, *polyPoly its type as received.
 */
kern_return_t mach_port_extract_right(mach_port_t task, mach_port_t name,
				      mach_msg_type_name_t msgt_name,
				      mach_port_t *poly,
				      mach_msg_type_name_t *polyPoly)
{
	struct kport *p;
	unsigned type;
	kern_return_t kr;

	if (bad_task(task))
		return KERN_INVALID_TASK;
	if (msgt_name < MACH_MSG_TYPE_MOVE_RECEIVE ||
	    msgt_name > MACH_MSG_TYPE_MAKE_SEND_ONCE)
		return KERN_INVALID_VALUE;	/* MACH_MSG_TYPE_PORT_ANY */
	pthread_mutex_lock(&mo_lock);
	if (!name_valid(name) || !mo_space_lookup(name)) {
		kr = KERN_INVALID_NAME;
		goto out;
	}
	kr = mo_right_copyin(name, msgt_name, &p, &type, 1);
	if (kr != KERN_SUCCESS)
		goto out;
	mo_right_copyin(name, msgt_name, &p, &type, 0);
	*poly = mo_space_copyout(p, type);
	*polyPoly = type;
out:
	pthread_mutex_unlock(&mo_lock);
	return kr;
}

kern_return_t mach_port_set_seqno(mach_port_t task, mach_port_t name,
				  mach_port_seqno_t seqno)
{
	struct kport *p;
	kern_return_t kr;

	pthread_mutex_lock(&mo_lock);
	if ((p = receive_right(task, name, &kr)))
		p->seqno = seqno;	/* ipc_port_set_seqno */
	pthread_mutex_unlock(&mo_lock);
	return kr;
}
