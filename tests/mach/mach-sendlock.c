/*
 * tests/mach/mach-sendlock.c: mach_msg writes a message to its link's
 * socket after letting the library's lock go (mach/link.c, "Deferred
 * writes"), so that the peer it wakes cannot preempt a thread that holds
 * it; and several threads sending at once on one link still lose nothing
 * and keep each thread's order.
 *
 *   mach-sendlock serve ADDR N     publishes a port at ADDR, receives N
 *                                  messages, checks that each sender
 *                                  thread's numbers follow one another
 *   mach-sendlock send ADDR N T    T threads send N messages in all to
 *                                  ADDR (every 8th with a page out of
 *                                  line) and say how many of the socket
 *                                  writes made inside their mach_msg ran
 *                                  with the library's lock held
 *
 * The program's own send() and sendmsg() stand in for libc's in the
 * statically linked library: they look at whether the calling thread owns
 * mo_lock (glibc's mutex records its owner's thread id) and make the
 * system call.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <mach.h>
#include <mach/motrace.h>

#define MAX_THREADS 16

extern pthread_mutex_t mo_lock;	/* mach/port.c */

static __thread int in_send;	/* this thread is inside its mach_msg send */
static unsigned long held, free_writes;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void probe(void)
{
	int mine;

	if (!in_send)
		return;
	mine = mo_lock.__data.__owner == (int)syscall(SYS_gettid);
	pthread_mutex_lock(&count_lock);
	if (mine)
		held++;
	else
		free_writes++;
	pthread_mutex_unlock(&count_lock);
}

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
	probe();
	return syscall(SYS_sendmsg, fd, mh, flags);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	probe();
	return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

struct numbered {
	mach_msg_header_t h;
	mach_msg_type_t t;
	unsigned thread, n;
	mach_msg_type_long_t ot;
	vm_address_t data;
};

static int serve(const char *addr, unsigned count)
{
	mach_port_t port;
	unsigned next[MAX_THREADS] = { 0 }, i;
	struct {
		struct numbered m;
		char spare[256];
	} in;

	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port) ||
	    mo_mach_publish(addr, port, NULL, NULL) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (i = 0; i < count; i++) {
		mach_msg_return_t mr = mach_msg(&in.m.h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0,
						sizeof(in), port, 30000, MACH_PORT_NULL);

		if (mr) {
			fprintf(stderr, "serve: receive %u of %u: 0x%x\n", i + 1, count, mr);
			return 1;
		}
		if (in.m.thread >= MAX_THREADS || in.m.n != next[in.m.thread]) {
			fprintf(stderr, "serve: thread %u's message %u came where %u was due\n",
				in.m.thread, in.m.n,
				in.m.thread < MAX_THREADS ? next[in.m.thread] : 0);
			return 1;
		}
		next[in.m.thread]++;
		if (in.m.h.msgh_bits & MACH_MSGH_BITS_COMPLEX) {
			const unsigned char *d = (const unsigned char *)in.m.data;

			if (d[0] != (unsigned char)in.m.thread || d[4095] != (unsigned char)in.m.n) {
				fprintf(stderr, "serve: thread %u's message %u: its page is wrong\n",
					in.m.thread, in.m.n);
				return 1;
			}
			vm_deallocate(mach_task_self(), in.m.data, 4096);
		}
	}
	printf("received %u, each thread's in order\n", count);
	return 0;
}

struct sender {
	pthread_t t;
	mach_port_t dest;
	unsigned id, count;
	int failed;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	static unsigned char pages[MAX_THREADS][4096] __attribute__((aligned(4096)));

	for (unsigned n = 0; n < s->count; n++) {
		struct numbered m;
		int ool = n % 8 == 7;

		memset(&m, 0, sizeof(m));
		m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) |
				(ool ? MACH_MSGH_BITS_COMPLEX : 0);
		m.h.msgh_size = ool ? sizeof(m) : offsetof(struct numbered, ot);
		m.h.msgh_remote_port = s->dest;
		m.h.msgh_id = 1000;
		m.t.msgt_name = MACH_MSG_TYPE_INTEGER_32;
		m.t.msgt_size = 32;
		m.t.msgt_number = 2;
		m.t.msgt_inline = TRUE;
		m.thread = s->id;
		m.n = n;
		if (ool) {
			pages[s->id][0] = (unsigned char)s->id;
			pages[s->id][4095] = (unsigned char)n;
			m.ot.msgtl_header.msgt_longform = TRUE;
			m.ot.msgtl_header.msgt_inline = FALSE;
			m.ot.msgtl_name = MACH_MSG_TYPE_BYTE;
			m.ot.msgtl_size = 8;
			m.ot.msgtl_number = 4096;
			m.data = (vm_address_t)pages[s->id];
		}
		in_send = 1;
		if (mach_msg(&m.h, MACH_SEND_MSG, m.h.msgh_size, 0, MACH_PORT_NULL,
			     MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL)) {
			in_send = 0;
			s->failed = 1;
			return NULL;
		}
		in_send = 0;
	}
	return NULL;
}

static int send_all(const char *addr, unsigned count, unsigned nthreads)
{
	struct sender s[MAX_THREADS];
	mach_port_t dest;
	unsigned i;
	int failed = 0;

	if (nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "send: 1 to %d threads\n", MAX_THREADS);
		return 2;
	}
	if (mo_mach_lookup(addr, NULL, &dest) < 0)
		return 1;
	for (i = 0; i < nthreads; i++) {
		s[i].dest = dest;
		s[i].id = i;
		s[i].count = count / nthreads + (i < count % nthreads);
		s[i].failed = 0;
		if (pthread_create(&s[i].t, NULL, send_thread, &s[i]))
			return 1;
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(s[i].t, NULL);
		failed |= s[i].failed;
	}
	if (failed) {
		fprintf(stderr, "send: a mach_msg failed\n");
		return 1;
	}
	printf("sent %u in %u threads; socket writes inside mach_msg: %lu with the library's lock held, %lu without\n",
	       count, nthreads, held, free_writes);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_all(argv[2], (unsigned)strtoul(argv[3], NULL, 10),
				(unsigned)strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: mach-sendlock serve ADDR N | send ADDR N THREADS\n");
	return 2;
}
