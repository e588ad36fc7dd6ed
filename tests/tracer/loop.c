/*
 * tests/tracer/loop.c: the proxy's one loop waits on its ports, on
 * descriptors and on timers (tracer/engine.h, mo_engine_add_fd).
 *
 * usage: loop
 *
 * A proxy with no object, and a port of its set whose messages this
 * program turns into memory_object_data_request messages (MIG's layout,
 * by the encoder) for the engine, as tracer/attach.c does with a
 * pager's frames. Each part calls mo_proxy_step with a timeout of ten
 * minutes: only what it waits for can end the step (alarm(60) ends a
 * loop that nothing woke). Parts:
 *   timer      a one-shot timer wakes the loop, not before it is due
 *   fd         a pipe written by another thread wakes it; one written
 *              before the step, too
 *   message    a message from another thread wakes it
 *   together   100 messages, 20 bytes on the pipe and a periodic timer
 *              at once, with a subscriber that sleeps on every event:
 *              messages go on and are seen in the order they were sent,
 *              and no callback runs between a message's event and its
 *              sending
 *   removed    a removed timer and a removed descriptor call nothing
 *   twice      a descriptor watched already is refused
 * Prints "ok PART" for each, exits 0; or says what went wrong, exits 1.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mach.h>

#include "decode/encode.h"
#include "tracer/proxy.h"
#include "util/strbuf.h"

#define NMSG 100
#define NBYTES 20

struct state {
	struct mo_proxy *p;
	struct mo_engine *e;
	mach_port_t port;
	int pipe[2];
	/* What happened, in order: "s N" seen, "f N" forwarded, "d" fd, "t" timer. */
	struct strbuf log;
	unsigned seen, forwarded, fds, timers, handled;
	char bytes[NBYTES + 8];
	unsigned nbytes;
	int slow;		/* the subscriber sleeps on each event */
};

static struct state st;

static void fail(const char *what)
{
	fprintf(stderr, "loop: %s\n", what);
	exit(1);
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t offset_of(const struct mo_event *ev)
{
	return ev->d->call.offset;
}

static void on_event(void *ctx, const struct mo_event *ev)
{
	(void)ctx;
	if (st.slow)
		pause_ms(1);
	strbuf_addf(&st.log, "s %llu\n", (unsigned long long)(offset_of(ev) >> 12));
	st.seen++;
}

static void op_forward(void *ctx, struct mo_pmsg *m)
{
	(void)ctx;
	strbuf_addf(&st.log, "f %llu\n", (unsigned long long)(m->d.call.offset >> 12));
	st.forwarded++;
}

static const struct mo_engine_ops test_ops = { .forward = op_forward };

/* A message on our port: its id is the page of a data_request. */
static void on_port(void *ctx, uint8_t *msg, size_t len)
{
	const mach_msg_header_t *h = (const mach_msg_header_t *)msg;
	struct strbuf bytes = STRBUF_INIT;
	struct mo_enc enc;
	struct mo_pmsg *m;
	char call[200], err[200];

	(void)ctx;
	(void)len;
	snprintf(call, sizeof(call),
		 "memory_object_data_request(obj=5, ctl=7, offset=0x%x000, length=0x1000, desired_access=VM_PROT_READ)",
		 (unsigned)h->msgh_id);
	if (mo_parse_call(call, MO_ABI_X86_64, &enc, err, sizeof(err)) < 0 ||
	    mo_encode(MO_ABI_X86_64, &enc, &bytes, err, sizeof(err)) < 0)
		fail(err);
	m = mo_pmsg_new(MO_K2M, 0, 0, 1, mo_now(), bytes.buf, bytes.len,
			MO_ABI_X86_64, NULL);
	m->via = &test_ops;
	strbuf_release(&bytes);
	st.handled++;
	mo_engine_message(st.e, m);
}

static void on_fd(void *ctx, int fd, unsigned revents)
{
	char c;

	(void)ctx;
	if (!(revents & POLLIN))
		fail("the descriptor's callback came without POLLIN");
	if (read(fd, &c, 1) != 1)
		fail("the descriptor said readable but had nothing");
	if (st.nbytes < sizeof(st.bytes))
		st.bytes[st.nbytes++] = c;
	strbuf_addstr(&st.log, "d\n");
	st.fds++;
}

static void on_timer(void *ctx, uint64_t now)
{
	uint64_t *due = ctx;

	if (due && now < *due)
		fail("a timer ran before it was due");
	strbuf_addstr(&st.log, "t\n");
	st.timers++;
}

static void send_id(unsigned id)
{
	mach_msg_header_t h = { 0 };

	h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	h.msgh_size = sizeof(h);
	h.msgh_remote_port = st.port;
	h.msgh_id = (mach_msg_id_t)id;
	if (mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
		     MACH_PORT_NULL) != MACH_MSG_SUCCESS)
		fail("cannot send to the loop's port");
}

static void *write_later(void *arg)
{
	const char *s = arg;

	for (; *s; s++) {
		pause_ms(20 / (unsigned)strlen(arg) + 1);
		if (write(st.pipe[1], s, 1) != 1)
			fail("cannot write the pipe");
	}
	return NULL;
}

static void *send_later(void *arg)
{
	unsigned n = (unsigned)(uintptr_t)arg;

	pause_ms(20);
	for (unsigned i = 0; i < n; i++)
		send_id(i);
	return NULL;
}

/* Steps, each with a long timeout, until *COUNT reaches WANT. */
static void step_until(const unsigned *count, unsigned want, const char *what)
{
	unsigned steps = 0;

	while (*count < want) {
		if (mo_proxy_step(st.p, 600000) != 1)
			fail("the loop ended");
		if (++steps > 100000) {
			fprintf(stderr, "loop: %s: not done after %u turns\n", what, steps);
			exit(1);
		}
	}
}

static void check_together(void)
{
	unsigned next_seen = 0, next_fwd = 0;
	char *line = st.log.buf, *nl, prev = 0;
	unsigned prev_n = 0;

	for (; *line; line = nl + 1) {
		unsigned n = 0;

		nl = strchr(line, '\n');
		*nl = '\0';
		if (line[0] == 's' || line[0] == 'f')
			n = (unsigned)strtoul(line + 2, NULL, 10);
		if (line[0] == 's' && n != next_seen++)
			fail("the subscriber saw a message out of its order");
		if (line[0] == 'f' && n != next_fwd++)
			fail("a message was sent on out of its order");
		/* Logged before it goes: nothing runs between the two. */
		if (line[0] == 'f' && (prev != 's' || prev_n != n))
			fail("something ran between a message's event and its sending");
		prev = line[0];
		prev_n = n;
		*nl = '\n';
	}
	if (next_seen != NMSG || next_fwd != NMSG)
		fail("not every message was seen and sent on");
}

int main(void)
{
	struct mo_trace_opts o = { 0 };
	struct mo_proxy_opts po = { 0 };
	struct mo_subscriber s = { on_event, NULL, NULL, NULL, NULL };
	pthread_t t, t2;
	uint64_t due;
	unsigned id, before;

	alarm(60);
	strbuf_init(&st.log, 0);
	o.out = fopen("/dev/null", "w");
	o.no_time = 1;
	po.trace = mo_trace_new(&o);
	if (!po.trace || mo_trace_subscribe(po.trace, &s) < 0)
		fail("cannot make the trace");
	st.p = mo_proxy_new(&po);
	if (!st.p)
		fail("cannot make the proxy");
	st.e = mo_proxy_engine(st.p);
	st.port = mo_proxy_add_port(st.p, on_port, NULL);
	if (mach_port_insert_right(mach_task_self(), st.port, st.port,
				   MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS)
		fail("cannot make a send right");
	if (pipe(st.pipe) < 0)
		fail("cannot make a pipe");

	due = mo_now() + 20000000ULL;
	mo_engine_add_timer(st.e, due, 0, on_timer, &due);
	step_until(&st.timers, 1, "timer");
	if (mo_engine_next_timer(st.e) != UINT64_MAX)
		fail("a one-shot timer is still there after it ran");
	puts("ok timer");

	if (mo_engine_add_fd(st.e, st.pipe[0], POLLIN, on_fd, NULL) < 0)
		fail("cannot watch the pipe");
	pthread_create(&t, NULL, write_later, "x");
	step_until(&st.fds, 1, "fd");
	pthread_join(t, NULL);
	if (write(st.pipe[1], "y", 1) != 1)
		fail("cannot write the pipe");
	step_until(&st.fds, 2, "fd written before the step");
	if (st.nbytes != 2 || memcmp(st.bytes, "xy", 2))
		fail("the descriptor's bytes are not those written");
	puts("ok fd");

	pthread_create(&t, NULL, send_later, (void *)(uintptr_t)1);
	step_until(&st.handled, 1, "message");
	pthread_join(t, NULL);
	if (st.forwarded != 1 || st.seen != 1)
		fail("the message did not go through the engine");
	puts("ok message");

	strbuf_reset(&st.log);
	st.seen = st.forwarded = st.handled = 0;
	st.nbytes = 0;
	st.fds = 0;
	st.slow = 1;
	before = st.timers;
	id = mo_engine_add_timer(st.e, mo_now() + 1000000ULL, 1000000ULL,
				 on_timer, NULL);
	pthread_create(&t, NULL, send_later, (void *)(uintptr_t)NMSG);
	pthread_create(&t2, NULL, write_later, "abcdefghijklmnopqrst");
	step_until(&st.forwarded, NMSG, "messages together");
	step_until(&st.fds, NBYTES, "bytes together");
	pthread_join(t, NULL);
	pthread_join(t2, NULL);
	if (st.timers == before)
		fail("the periodic timer never ran");
	if (st.nbytes != NBYTES || memcmp(st.bytes, "abcdefghijklmnopqrst", NBYTES))
		fail("the pipe's bytes came out of their order");
	check_together();
	st.slow = 0;
	puts("ok together");

	mo_engine_remove_timer(st.e, id);
	mo_engine_remove_fd(st.e, st.pipe[0]);
	before = st.timers;
	if (write(st.pipe[1], "z", 1) != 1)
		fail("cannot write the pipe");
	due = mo_now() + 30000000ULL;
	mo_engine_add_timer(st.e, due, 0, on_timer, &due);
	step_until(&st.timers, before + 1, "removed");
	if (st.timers != before + 1)
		fail("a removed timer ran");
	if (st.fds != NBYTES)
		fail("a removed descriptor's callback ran");
	{
		struct pollfd pfd = { .fd = st.pipe[0], .events = POLLIN };

		if (poll(&pfd, 1, 0) != 1)
			fail("the removed descriptor's byte was read");
	}
	puts("ok removed");

	if (mo_engine_add_fd(st.e, st.pipe[1], POLLOUT, on_fd, NULL) < 0 ||
	    mo_engine_add_fd(st.e, st.pipe[1], POLLOUT, on_fd, NULL) == 0)
		fail("a descriptor watched already was watched again");
	mo_engine_remove_fd(st.e, st.pipe[1]);
	puts("ok twice");

	mo_proxy_free(st.p);
	mo_trace_finish(po.trace);
	mo_trace_free(po.trace);
	strbuf_release(&st.log);
	return 0;
}
