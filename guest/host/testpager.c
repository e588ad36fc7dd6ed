/*
 * guest/host/testpager.c: the built-in test pager (testpager.h).
 *
 * Kernel messages are read through decode/ (bounds-checked, by schema);
 * replies are built from the user32 structs of msg32.h, which come from
 * MIG. Protocol choices follow PROTOCOL.md and Hurd's libpager.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "guest/host/testpager.h"
#include "msg32.h"

/* mach/memory_object.h, mach/vm_prot.h */
enum {
	RETURN_NONE = 0, RETURN_DIRTY = 1,
	COPY_DELAY = 2,
	PROT_NONE = 0, PROT_WRITE = 2, PROT_NO_CHANGE = 8,
	MAKE_SEND_ONCE = 21,
	KERN_MEMORY_ERROR = 10,	/* mach/kern_return.h */
};

/* Takes PAGE out of LIST (N entries); returns whether it was there. */
static int take(uint32_t *list, uint32_t *n, uint32_t page)
{
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (list[i] == page) {
			list[i] = list[--*n];
			return 1;
		}
	return 0;
}

void testpager_init(struct testpager *tp, const struct testpager_out *out)
{
	memset(tp, 0, sizeof(*tp));
	tp->out = *out;
	tp->page_size = 4096;
}

void testpager_release(struct testpager *tp)
{
	uint32_t i;

	for (i = 0; i < tp->nstore; i++)
		free(tp->store[i]);
	free(tp->store);
	tp->store = NULL;
	tp->nstore = 0;
}

uint32_t testpager_word(uint32_t page, uint32_t i)
{
	return 0x50000000u | (page & 0xffff) << 12 | (i * 4 & 0xfff);
}

static int fail(struct testpager *tp, const char *fmt, uint32_t a, uint32_t b)
{
	snprintf(tp->err, sizeof(tp->err), fmt, a, b);
	return -1;
}

/* Argument I of a decoded message, as a 32-bit value. */
static uint32_t arg(const uint8_t *msg, const struct mo_decoded *d, unsigned i)
{
	return i < d->nitems ? (uint32_t)mo_item_elem(msg, &d->items[i], 0) : 0;
}

static int send(struct testpager *tp, void *m, uint32_t len,
		const struct relay_ool *ool, int nool)
{
	return tp->out.send(tp->out.ctx, m, len, ool, nool);
}

/* memory_object_ready: caching off, so the last unmap terminates (PROTOCOL.md 10). */
static int on_init(struct testpager *tp, const uint8_t *msg,
		   const struct mo_decoded *d, const struct relay_ool *ool)
{
	struct mo32_memory_object_ready_req m;

	tp->object = d->h.local;
	tp->control = arg(msg, d, 0);
	tp->terminated = 0;
	tp->page_size = arg(msg, d, 2);
	if (tp->page_size == 0 || tp->page_size > 65536 ||
	    tp->page_size & (tp->page_size - 1))
		return fail(tp, "memory_object_init: page size 0x%x is not a power of two", tp->page_size, 0);
	mo32_memory_object_ready_req_init(&m);
	m.head.remote = tp->control;
	m.may_cache = 0;
	m.copy_strategy = COPY_DELAY;
	return send(tp, &m, sizeof(m), NULL, 0);
}

/* Read faults get the page locked against writing, so a write unlocks. */
static int on_data_request(struct testpager *tp, const uint8_t *msg,
			   const struct mo_decoded *d, const struct relay_ool *ool)
{
	struct mo32_memory_object_data_supply_req m;
	uint32_t off = arg(msg, d, 1), len = arg(msg, d, 2), access = arg(msg, d, 3);
	struct relay_ool data;
	uint32_t *words, i;
	int rc;

	if (off % tp->page_size || len % tp->page_size || len == 0 || len > 0x20000)
		return fail(tp, "memory_object_data_request: offset 0x%x length 0x%x is not whole pages", off, len);
	/* Asked for by the agent: an error or a zero-filled page (PROTOCOL.md 8). */
	if (take(tp->error_page, &tp->nerror, off / tp->page_size)) {
		struct mo32_memory_object_data_error_req e;

		mo32_memory_object_data_error_req_init(&e);
		e.head.remote = tp->control;
		e.offset = off;
		e.size = len;
		e.error_value = KERN_MEMORY_ERROR;
		return send(tp, &e, sizeof(e), NULL, 0);
	}
	if (take(tp->zero_page, &tp->nzero, off / tp->page_size)) {
		struct mo32_memory_object_data_unavailable_req u;

		mo32_memory_object_data_unavailable_req_init(&u);
		u.head.remote = tp->control;
		u.offset = off;
		u.size = len;
		return send(tp, &u, sizeof(u), NULL, 0);
	}
	words = malloc(len);
	if (!words)
		return fail(tp, "out of memory for 0x%x bytes of page data", len, 0);
	for (i = 0; i < len / 4; i++) {
		uint32_t page = (off + i * 4) / tp->page_size;

		if (page < tp->nstore && tp->store[page])
			memcpy(&words[i], tp->store[page] + (i * 4) % tp->page_size, 4);
		else
			words[i] = testpager_word(page, i % (tp->page_size / 4));
	}
	mo32_memory_object_data_supply_req_init(&m);
	m.head.remote = tp->control;
	m.offset = off;
	m.data.addr = m.data.high = 0;
	m.dataType.number = len;
	/*
	 * The data goes away with the message, as a pager on GNU Mach would
	 * send it (and the log shows it); the agent supplies the kernel a
	 * copy from a buffer of its own instead (agent.c, copy_buf).
	 */
	m.dataType.header |= MO32_TYPE_DEALLOC;
	m.lock_value = access & PROT_WRITE ? PROT_NONE : PROT_WRITE;
	m.precious = 0;
	m.reply_to.name = m.reply_to.high = 0;
	data.data = (const uint8_t *)words;
	data.bytes = len;
	rc = send(tp, &m, sizeof(m), &data, 1);
	free(words);
	return rc;
}

static int lock_request(struct testpager *tp, uint32_t off, uint32_t len,
			int should_return, int flush, int lock, const char *answer)
{
	struct mo32_memory_object_lock_request_req m;

	if (tp->nlocks == TESTPAGER_MAX_LOCKS)
		return fail(tp, "more than %u lock requests outstanding at offset 0x%x", TESTPAGER_MAX_LOCKS, off);
	tp->locks[tp->nlocks].offset = off;
	tp->locks[tp->nlocks].length = len;
	snprintf(tp->locks[tp->nlocks].answer, sizeof(tp->locks[0].answer), "%s", answer);
	tp->nlocks++;
	mo32_memory_object_lock_request_req_init(&m);
	m.head.remote = tp->control;
	m.offset = off;
	m.size = len;
	m.should_return = should_return;
	m.should_flush = flush;
	m.lock_value = lock;
	/* lock_completed comes back on the object port, as a send-once reply. */
	m.reply_to.name = tp->object;
	m.reply_to.high = 0;
	return send(tp, &m, sizeof(m), NULL, 0);
}

/* Grant the access: lock NONE clears the page lock and wakes the fault (PROTOCOL.md 4). */
static int on_data_unlock(struct testpager *tp, const uint8_t *msg,
			  const struct mo_decoded *d, const struct relay_ool *ool)
{
	return lock_request(tp, arg(msg, d, 1), arg(msg, d, 2), RETURN_NONE, 0,
			    PROT_NONE, "");
}

/* lock_completed echoes the request's offset and length (PROTOCOL.md 6). */
static int on_lock_completed(struct testpager *tp, const uint8_t *msg,
			     const struct mo_decoded *d, const struct relay_ool *ool)
{
	uint32_t off = arg(msg, d, 1), len = arg(msg, d, 2);
	unsigned i;

	for (i = 0; i < tp->nlocks; i++)
		if (tp->locks[i].offset == off && tp->locks[i].length == len)
			break;
	if (i == tp->nlocks)
		return fail(tp, "memory_object_lock_completed: no lock_request for offset 0x%x length 0x%x", off, len);
	if (tp->locks[i].answer[0] &&
	    tp->out.answer(tp->out.ctx, tp->locks[i].answer) < 0)
		return -1;
	memmove(&tp->locks[i], &tp->locks[i + 1], (tp->nlocks - i - 1) * sizeof(tp->locks[0]));
	tp->nlocks--;
	return 0;
}

/* Keeps what the kernel returns: the next data_request gets it back. */
static int on_data_return(struct testpager *tp, const uint8_t *msg,
			  const struct mo_decoded *d, const struct relay_ool *ool)
{
	uint32_t off = arg(msg, d, 1), i, w;
	char text[96];

	tp->returns++;
	if (off % tp->page_size || ool[0].bytes % tp->page_size || ool[0].bytes == 0)
		return fail(tp, "memory_object_data_return: offset 0x%x length 0x%x is not whole pages", off, ool[0].bytes);
	for (i = 0; i < ool[0].bytes / tp->page_size; i++) {
		uint32_t page = off / tp->page_size + i;

		if (page >= tp->nstore) {
			uint8_t **n = realloc(tp->store, (page + 1) * sizeof(*n));

			if (!n)
				return fail(tp, "out of memory for page %u of 0x%x bytes", page, tp->page_size);
			memset(n + tp->nstore, 0, (page + 1 - tp->nstore) * sizeof(*n));
			tp->store = n;
			tp->nstore = page + 1;
		}
		if (!tp->store[page] && !(tp->store[page] = malloc(tp->page_size)))
			return fail(tp, "out of memory for page %u of 0x%x bytes", page, tp->page_size);
		memcpy(tp->store[page], ool[0].data + i * tp->page_size, tp->page_size);
		memcpy(&w, tp->store[page], 4);
		snprintf(text, sizeof(text), "data_return page %u word 0 0x%08x", page, w);
		tp->out.note(tp->out.ctx, text);
	}
	return 0;
}

static int on_terminate(struct testpager *tp, const uint8_t *msg,
			const struct mo_decoded *d, const struct relay_ool *ool)
{
	tp->terminated = 1;
	return 0;
}

/* memory_object.defs ids (subsystem 2200). */
static const struct {
	int32_t id;
	int (*handle)(struct testpager *, const uint8_t *,
		      const struct mo_decoded *, const struct relay_ool *);
} handlers[] = {
	{ 2200, on_init },
	{ 2201, on_terminate },
	{ 2203, on_data_request },
	{ 2204, on_data_unlock },
	{ 2206, on_lock_completed },
	{ 2208, on_data_return },
};

int testpager_on_msg(void *ctx, const uint8_t *msg, uint32_t len,
		     const struct relay_ool *ool, int nool)
{
	struct testpager *tp = ctx;
	struct mo_decoded d;
	size_t i;
	uint32_t n;

	if (mo_decode(msg, len, MO_ABI_USER32, &d) < 0 || !d.schema) {
		snprintf(tp->err, sizeof(tp->err), "kernel message: %s", d.err);
		return -1;
	}
	/* Each out-of-line item has its region in the frame, in order. */
	for (i = 0, n = 0; i < d.nitems; i++) {
		if (d.items[i].is_inline)
			continue;
		if ((int)n >= nool || ool[n].bytes != mo_item_bytes(&d.items[i]))
			return fail(tp, "kernel message %d: out-of-line item %u has no matching region",
				    (uint32_t)d.h.id, n);
		n++;
	}
	if ((int)n != nool)
		return fail(tp, "kernel message %d: more regions than its %u out-of-line items",
			    (uint32_t)d.h.id, n);
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].id == d.h.id)
			return handlers[i].handle(tp, msg, &d, ool);
	return fail(tp, "kernel message %d (bits 0x%x) is not one the test pager serves", (uint32_t)d.h.id, d.h.bits);
}

/*
 * The agent's requests: clean returns dirty data and keeps it, flush drops
 * it; flushall N does so for pages 0 to N-1 in one request.
 */
static const struct {
	const char *verb;
	int should_return, flush, whole;
} commands[] = {
	{ "clean", RETURN_DIRTY, 0, 0 },
	{ "flush", RETURN_DIRTY, 1, 0 },
	{ "flushall", RETURN_DIRTY, 1, 1 },
};

int testpager_cmd(struct testpager *tp, const char *verb, uint32_t page)
{
	char answer[48];
	size_t i;

	/* The next data_request of PAGE gets an error or zeros. */
	if (strcmp(verb, "error") == 0 || strcmp(verb, "zero") == 0) {
		int err = verb[0] == 'e';
		uint32_t *n = err ? &tp->nerror : &tp->nzero;

		if (*n == 8)
			return fail(tp, "more than %u pages marked, page %u too", 8, page);
		(err ? tp->error_page : tp->zero_page)[(*n)++] = page;
		snprintf(answer, sizeof(answer), "ok %s %u", verb, page);
		return tp->out.answer(tp->out.ctx, answer);
	}
	/* For testing the agent: memory_object_ready sent to port PAGE. */
	if (strcmp(verb, "misdirect") == 0) {
		struct mo32_memory_object_ready_req m;

		mo32_memory_object_ready_req_init(&m);
		m.head.remote = page;
		return send(tp, &m, sizeof(m), NULL, 0);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(verb, commands[i].verb) != 0)
			continue;
		if (!tp->control) {
			snprintf(tp->err, sizeof(tp->err),
				 "cmd %s %u before memory_object_init", verb, page);
			return -1;
		}
		snprintf(answer, sizeof(answer), "ok %s %u", verb, page);
		if (commands[i].whole)
			return lock_request(tp, 0, page * tp->page_size,
					    commands[i].should_return, commands[i].flush,
					    PROT_NO_CHANGE, answer);
		return lock_request(tp, page * tp->page_size, tp->page_size,
				    commands[i].should_return, commands[i].flush,
				    PROT_NO_CHANGE, answer);
	}
	snprintf(tp->err, sizeof(tp->err), "agent asked for unknown command '%s'", verb);
	return -1;
}
