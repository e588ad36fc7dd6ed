/*
 * tests/gnumach/standin.c: what GNU Mach's tests/testlib.c and its
 * bootstrap give the tests, for Linux processes on libmotrace-mach, and a
 * runner that calls the tests' functions one by one, each in a child
 * process of its own, and counts their checks.
 *
 *   PROGRAM FUNCTION...   runs each FUNCTION (a test function of the GNU
 *                         Mach test file linked in); one line each:
 *                         "ok NAME: N checks" or "not ok NAME: P of N
 *                         checks passed (why)"; exits 1 if any failed
 *
 * GNU Mach's test file is compiled with its main renamed (run.sh); its
 * functions are found by name in the program (linked -rdynamic).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <testlib.h>

/* GNU Mach's tests/user-qemu.mk gives the markers these values. */
const char *TEST_SUCCESS_MARKER = "gnumach-test-success-and-reboot";
const char *TEST_FAILURE_MARKER = "gnumach-test-failure";

/* Shared with the runner, so that a function that crashes is counted. */
struct counts {
	unsigned passed, failed;
};
static struct counts *counts;

void mo_gt_check(int ok, const char *what, const char *msg, int ret)
{
	if (ok) {
		__atomic_add_fetch(&counts->passed, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_add_fetch(&counts->failed, 1, __ATOMIC_SEQ_CST);
	if (what)
		printf("%s: %s failed: %s\n", TEST_FAILURE_MARKER, what, msg);
	else if (ret)
		printf("%s %s (0x%x): %s\n", TEST_FAILURE_MARKER, e2s(ret), ret, msg);
	else
		printf("%s: %s\n", TEST_FAILURE_MARKER, msg);
	fflush(stdout);
}

const char *e2s(int err)
{
	static const struct { int v; const char *s; } names[] = {
		{ KERN_SUCCESS, "KERN_SUCCESS" },
		{ KERN_INVALID_ADDRESS, "KERN_INVALID_ADDRESS" },
		{ KERN_INVALID_ARGUMENT, "KERN_INVALID_ARGUMENT" },
		{ KERN_FAILURE, "KERN_FAILURE" },
		{ KERN_INVALID_NAME, "KERN_INVALID_NAME" },
		{ KERN_INVALID_TASK, "KERN_INVALID_TASK" },
		{ KERN_INVALID_RIGHT, "KERN_INVALID_RIGHT" },
		{ KERN_INVALID_VALUE, "KERN_INVALID_VALUE" },
		{ KERN_NAME_EXISTS, "KERN_NAME_EXISTS" },
		{ KERN_INVALID_HOST, "KERN_INVALID_HOST" },
		{ MACH_SEND_INVALID_DEST, "MACH_SEND_INVALID_DEST" },
		{ MACH_SEND_INVALID_RIGHT, "MACH_SEND_INVALID_RIGHT" },
		{ MACH_SEND_INVALID_TYPE, "MACH_SEND_INVALID_TYPE" },
		{ MACH_SEND_INVALID_MEMORY, "MACH_SEND_INVALID_MEMORY" },
		{ MACH_RCV_INTERRUPTED, "MACH_RCV_INTERRUPTED" },
		{ MACH_RCV_TOO_LARGE, "MACH_RCV_TOO_LARGE" },
		{ MIG_BAD_ID, "MIG_BAD_ID" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].v == err)
			return names[i].s;
	return "error";
}

const char *e2s_gnumach(int err)
{
	return e2s(err);
}

void halt(void)
{
	fflush(stdout);
	_exit(counts->failed ? 1 : 0);
}

int msleep(uint32_t timeout)
{
	struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

struct start {
	void (*routine)(void *);
	void *arg;
};

static void *thread_main(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	s.routine(s.arg);
	return NULL;
}

/*
 * GNU Mach's testlib_thread_start.c makes a thread with thread_create and
 * thread_set_state; here it is a POSIX thread. There are no thread ports
 * to return (mach/README.md, "Threads").
 */
thread_t test_thread_start(task_t task, void (*routine)(void *), void *arg)
{
	pthread_t th;
	struct start *s = malloc(sizeof(*s));

	(void)task;
	if (!s)
		FAILURE("test_thread_start: out of memory");
	s->routine = routine;
	s->arg = arg;
	if (pthread_create(&th, NULL, thread_main, s))
		FAILURE("test_thread_start: pthread_create failed");
	pthread_detach(th);
	return MACH_PORT_NULL;
}

/*
 * The bootstrap gives GNU Mach's tests send rights to the privileged host
 * port and the device master port, whose receive rights are the kernel's.
 * Here each is a port whose receive right waits in a message queued on a
 * port of the stand-in's: a name that holds a send right alone.
 */
static mach_port_t away_send_right(void)
{
	static mach_port_t keep;
	mach_port_t p;
	struct {
		mach_msg_header_t h;
		mach_msg_type_t t;
		mach_port_t port;
	} m;

	if (!keep && mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &keep))
		FAILURE("bootstrap: no port to keep receive rights in");
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &p) ||
	    mach_port_insert_right(mach_task_self(), p, p, MACH_MSG_TYPE_MAKE_SEND))
		FAILURE("bootstrap: cannot make a port");
	memset(&m, 0, sizeof(m));
	m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.h.msgh_size = sizeof(m);
	m.h.msgh_remote_port = keep;
	m.t.msgt_name = MACH_MSG_TYPE_MOVE_RECEIVE;
	m.t.msgt_size = 32;
	m.t.msgt_number = 1;
	m.t.msgt_inline = 1;
	m.port = p;
	if (mach_msg(&m.h, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL))
		FAILURE("bootstrap: cannot send a receive right away");
	return p;
}

mach_port_t host_priv(void)
{
	static mach_port_t p;

	if (!p)
		p = away_send_right();
	return p;
}

mach_port_t device_priv(void)
{
	static mach_port_t p;

	if (!p)
		p = away_send_right();
	return p;
}

kern_return_t mo_gt_thread_terminate(mach_port_t thread)
{
	if (thread == mach_thread_self())
		pthread_exit(NULL);
	return KERN_INVALID_ARGUMENT;
}

void wait_thread_terminated(thread_t th)
{
	(void)th;
	FAILURE("wait_thread_terminated: libmotrace-mach has no thread ports");
}

void wait_thread_suspended(thread_t th)
{
	(void)th;
	FAILURE("wait_thread_suspended: libmotrace-mach has no thread ports");
}

/* Runs FN in a child; prints its line; 1 if it passed. */
static int run_one(const char *name, void (*fn)(void))
{
	pid_t pid;
	int st;
	char why[64] = "";

	counts->passed = counts->failed = 0;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 0;
	}
	if (pid == 0) {
		alarm(120);
		printf("# %s()\n", name);
		fn();
		fflush(stdout);
		_exit(counts->failed ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), " (%s)", WTERMSIG(st) == SIGALRM ?
			 "timed out" : strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) && !counts->failed)
		snprintf(why, sizeof(why), " (exit %d)", WEXITSTATUS(st));
	if (!why[0] && !counts->failed) {
		printf("ok %s: %u checks\n", name, counts->passed);
		return 1;
	}
	printf("not ok %s: %u of %u checks passed%s\n", name, counts->passed,
	       counts->passed + counts->failed, why);
	return 0;
}

/* Lets GNU Mach's test file keep its own main (renamed by run.sh). */
int main(int argc, char **argv)
{
	int failed = 0;

	counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FUNCTION...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		void (*fn)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, argv[i]);

		if (!fn) {
			printf("not ok %s: no such function in the test\n", argv[i]);
			failed++;
			continue;
		}
		failed += !run_one(argv[i], fn);
	}
	return failed ? 1 : 0;
}
