/*
 * tests/mach/mach-trap.c: mach_msg_trap is the trap: an interrupted
 * receive returns MACH_RCV_INTERRUPTED whatever the options (GNU Mach
 * ipc/ipc_mqueue.c, ipc_mqueue_receive; MACH_RCV_INTERRUPT is libmach's,
 * <mach/message.h>); mach_msg() without MACH_RCV_INTERRUPT receives on
 * (tests/t1023-mach-trap.sh). A signal interrupts the receive here,
 * whether the thread reads the links (in poll) or waits behind the one
 * that does.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <mach.h>

#include "tests/mach/mo-test.h"

#define NTH 3

static mach_port_t port;
static int done, use_trap, option;
static mach_msg_return_t result[NTH];
static pid_t tids[NTH];
static int signals;

static void on_signal(int sig)
{
	(void)sig;
	__atomic_add_fetch(&signals, 1, __ATOMIC_SEQ_CST);
}

static void *receiver(void *arg)
{
	union { mach_msg_header_t h; char b[256]; } m;
	mach_msg_return_t *res = arg;

	__atomic_store_n(&tids[res - result], gettid(), __ATOMIC_SEQ_CST);
	if (use_trap)
		*res = mach_msg_trap(&m.h, MACH_RCV_MSG | option, 0, sizeof(m),
				     port, 0, MACH_PORT_NULL);
	else
		*res = mach_msg(&m.h, MACH_RCV_MSG | option, 0, sizeof(m), port,
				0, MACH_PORT_NULL);
	__atomic_add_fetch(&done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Is thread TID asleep in poll or ppoll (x86_64 system calls 7, 271)? */
static int in_poll(pid_t tid)
{
	char path[64], buf[64];
	FILE *f;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fgets(buf, sizeof(buf), f))
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr == 7 || nr == 271;
}

/*
 * Receives in N threads on one port (one reads the links, the others
 * wait behind it) and signals each until every receive returned or
 * TRIES rounds went; then a message for each ends the receives still
 * waiting. Returns how many ended with WANT.
 */
static int run(int n, int trap, int opt, int tries, mach_msg_return_t want)
{
	pthread_t th[NTH];
	mach_msg_header_t h = { 0 };
	int got = 0;

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port));
	use_trap = trap;
	option = opt;
	done = 0;
	signals = 0;
	memset(tids, 0, sizeof(tids));
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, receiver, &result[i]))
			die("pthread_create failed");
	if (tries == 1) {
		/*
		 * One signal each, once every receiver sleeps in poll: the one
		 * reading the links and those behind it alike (at most 5 s;
		 * a thread asleep elsewhere would miss its signal).
		 */
		for (int i = 0, all = 0; i < 250 && !all; i++) {
			usleep(20000);
			all = 1;
			for (int j = 0; j < n; j++)
				all &= __atomic_load_n(&tids[j], __ATOMIC_SEQ_CST) &&
				       in_poll(tids[j]);
		}
		for (int j = 0; j < n; j++)
			pthread_kill(th[j], SIGUSR1);
		for (int i = 0; i < 100 && __atomic_load_n(&done, __ATOMIC_SEQ_CST) < n; i++)
			usleep(20000);
	}
	for (int i = 0; tries > 1 && i < tries &&
	     __atomic_load_n(&done, __ATOMIC_SEQ_CST) < n; i++) {
		usleep(20000);
		for (int j = 0; j < n; j++)
			pthread_kill(th[j], SIGUSR1);
	}
	h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
	h.msgh_size = sizeof(h);
	h.msgh_remote_port = port;
	h.msgh_id = 5;
	for (int i = __atomic_load_n(&done, __ATOMIC_SEQ_CST); i < n; i++)
		KR(mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
			    MACH_PORT_NULL));
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		got += result[i] == want;
	}
	if (!signals)
		die("the receiving threads saw no signal");
	KR(mach_port_mod_refs(mach_task_self(), port, MACH_PORT_RIGHT_RECEIVE, -1));
	return got;
}

int main(void)
{
	struct sigaction sa;

	prog = "mach-trap";
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* SA_RESTART: the trap is interrupted all the same. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	CHECK("mach_msg_trap, interrupted", run(1, 1, 0, 500, MACH_RCV_INTERRUPTED), 1);
	CHECK("mach_msg_trap in three threads, one signal each",
	      run(NTH, 1, 0, 1, MACH_RCV_INTERRUPTED), NTH);
	CHECK("mach_msg with MACH_RCV_INTERRUPT in three threads, one signal each",
	      run(NTH, 0, MACH_RCV_INTERRUPT, 1, MACH_RCV_INTERRUPTED), NTH);
	CHECK("mach_msg without it receives on", run(NTH, 0, 0, 20, MACH_MSG_SUCCESS), NTH);
	printf("trap: mach_msg_trap returns MACH_RCV_INTERRUPTED when interrupted; mach_msg receives on\n");
	return 0;
}
