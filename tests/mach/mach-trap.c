/*
 * tests/mach/mach-trap.c: mach_msg_trap is the trap: an interrupted
 * receive returns MACH_RCV_INTERRUPTED whatever the options (GNU Mach
 * ipc/ipc_mqueue.c, ipc_mqueue_receive; MACH_RCV_INTERRUPT is libmach's,
 * <mach/message.h>); mach_msg() without MACH_RCV_INTERRUPT receives on
 * (tests/t1023-mach-trap.sh). A signal interrupts the receive here.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <mach.h>

#include "tests/mach/mo-test.h"

static mach_port_t port;
static volatile int done, use_trap, option;
static mach_msg_return_t result;
static int signals;

static void on_signal(int sig)
{
	(void)sig;
	__atomic_add_fetch(&signals, 1, __ATOMIC_SEQ_CST);
}

static void *receiver(void *arg)
{
	union { mach_msg_header_t h; char b[256]; } m;

	(void)arg;
	if (use_trap)
		result = mach_msg_trap(&m.h, MACH_RCV_MSG | option, 0, sizeof(m),
				       port, 0, MACH_PORT_NULL);
	else
		result = mach_msg(&m.h, MACH_RCV_MSG | option, 0, sizeof(m), port,
				  0, MACH_PORT_NULL);
	__atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Receives in a thread and signals it until the receive returns or
 * TRIES signals went; then a message ends a receive still waiting.
 */
static mach_msg_return_t run(int trap, int opt, int tries)
{
	pthread_t th;
	mach_msg_header_t h = { 0 };

	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port));
	use_trap = trap;
	option = opt;
	done = 0;
	signals = 0;
	if (pthread_create(&th, NULL, receiver, NULL))
		die("pthread_create failed");
	for (int i = 0; i < tries && !__atomic_load_n(&done, __ATOMIC_SEQ_CST); i++) {
		usleep(20000);
		pthread_kill(th, SIGUSR1);
	}
	if (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
		h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
		h.msgh_size = sizeof(h);
		h.msgh_remote_port = port;
		h.msgh_id = 5;
		KR(mach_msg(&h, MACH_SEND_MSG, sizeof(h), 0, MACH_PORT_NULL, 0,
			    MACH_PORT_NULL));
	}
	pthread_join(th, NULL);
	if (!signals)
		die("the receiving thread saw no signal");
	return result;
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
	CHECK("mach_msg_trap, interrupted", run(1, 0, 500), MACH_RCV_INTERRUPTED);
	CHECK("mach_msg with MACH_RCV_INTERRUPT, interrupted",
	      run(0, MACH_RCV_INTERRUPT, 500), MACH_RCV_INTERRUPTED);
	CHECK("mach_msg without it receives on", run(0, 0, 20), MACH_MSG_SUCCESS);
	printf("trap: mach_msg_trap returns MACH_RCV_INTERRUPTED when interrupted; mach_msg receives on\n");
	return 0;
}
