/*
 * bench/mach-bench.c: round trips through libmotrace-mach between two
 * processes, against a bare Unix-socket ping-pong of the same bytes
 * measured in the same run.
 *
 *   mach-bench [-n ROUNDS] [-c CPU-A,CPU-B]
 *
 * Two payloads: a 64-byte message, and a message with 4 KiB of
 * out-of-line data (echoed back the same way). Two placements: both
 * processes on CPU A ("same core"), and the client on A, the server on B
 * ("cross-core"); the program pins itself and its child with
 * sched_setaffinity. The baseline writes and reads exactly the bytes a
 * frame of doc/wire.md takes for the same message, so the ratio is the
 * cost of the Mach layer on top of the socket.
 */
#include <errno.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <mach.h>
#include <mach/motrace.h>

#pragma pack(push, 4)
struct small {
	mach_msg_header_t h;
	mach_msg_type_t t;
	char data[28];		/* 32 + 4 + 28: 64 bytes */
};
struct ool {
	mach_msg_header_t h;
	mach_msg_type_long_t t;
	vm_address_t data;
};
#pragma pack(pop)

/* Frame bytes of doc/wire.md: 16 header + 16 destination + annotations
 * (16 each: the reply port, each region) + message (padded to 8) +
 * region data (padded to 8). Requests carry a reply right, replies none. */
#define SMALL_SIZE	64
#define FRAME_SMALL_REQ	(16 + 16 + 16 + SMALL_SIZE)
#define FRAME_SMALL_REP	(16 + 16 + SMALL_SIZE)
#define OOL_LEN		4096
#define OOL_MSG		((sizeof(struct ool) + 7) & ~7ul)
#define FRAME_OOL_REQ	(16 + 16 + 16 + 16 + OOL_MSG + OOL_LEN)
#define FRAME_OOL_REP	(16 + 16 + 16 + OOL_MSG + OOL_LEN)

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("mach-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void full(int fd, void *buf, size_t len, int out)
{
	char *p = buf;

	while (len) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			die("baseline %s: %s", out ? "write" : "read",
			    n < 0 ? strerror(errno) : "end of file");
		p += n;
		len -= n;
	}
}

/* The baseline: REQ bytes there, REP bytes back, on a Unix socket pair. */
static double baseline(int rounds, size_t req, size_t rep, int cpu_a, int cpu_b)
{
	int sv[2];
	char buf[2 * 4096 + 512];
	pid_t pid;
	double t0, t1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		pin(cpu_b);
		close(sv[0]);
		for (int i = 0; i < rounds + 1000; i++) {
			full(sv[1], buf, req, 0);
			full(sv[1], buf, rep, 1);
		}
		_exit(0);
	}
	close(sv[1]);
	memset(buf, 1, sizeof(buf));
	for (int i = 0; i < 1000; i++) {
		full(sv[0], buf, req, 1);
		full(sv[0], buf, rep, 0);
	}
	t0 = now_us();
	for (int i = 0; i < rounds; i++) {
		full(sv[0], buf, req, 1);
		full(sv[0], buf, rep, 0);
	}
	t1 = now_us();
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return (t1 - t0) / rounds;
}

/* The echo server: answers each message with its own bytes. */
static void serve(const char *addr, int cpu)
{
	union {
		mach_msg_header_t h;
		struct small s;
		struct ool o;
		char buf[1024];
	} m;
	mach_port_t port;

	pin(cpu);
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port) ||
	    mo_mach_publish(addr, port, NULL, NULL) < 0)
		_exit(1);
	for (;;) {
		mach_port_t reply;

		if (mach_msg(&m.h, MACH_RCV_MSG, 0, sizeof(m), port, 0, 0))
			_exit(1);
		reply = m.h.msgh_remote_port;
		m.h.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0) |
				(m.h.msgh_bits & MACH_MSGH_BITS_COMPLEX);
		m.h.msgh_remote_port = reply;
		m.h.msgh_local_port = MACH_PORT_NULL;
		if (m.h.msgh_bits & MACH_MSGH_BITS_COMPLEX)
			m.o.t.msgtl_header.msgt_deallocate = 1;
		if (mach_msg(&m.h, MACH_SEND_MSG, m.h.msgh_size, 0, 0, 0, 0))
			_exit(1);
	}
}

static double mach_rounds(mach_port_t server, int rounds, int with_ool)
{
	union {
		mach_msg_header_t h;
		struct small s;
		struct ool o;
		char buf[1024];
	} m;
	mach_port_t reply = mig_get_reply_port();
	double t0 = 0;

	for (int i = 0; i < rounds + 1000; i++) {
		size_t size;

		if (i == 1000)
			t0 = now_us();
		memset(&m.h, 0, sizeof(m.h));
		if (with_ool) {
			static char page[OOL_LEN] __attribute__((aligned(4096)));

			m.o.t = (mach_msg_type_long_t){
				{ 0, 0, 0, 0, 1, 0, 0 }, MACH_MSG_TYPE_BYTE, 8, OOL_LEN };
			m.o.data = (vm_address_t)page;
			m.h.msgh_bits = MACH_MSGH_BITS_COMPLEX;
			size = sizeof(m.o);
		} else {
			m.s.t = (mach_msg_type_t){ MACH_MSG_TYPE_BYTE, 8, 28, 1, 0, 0, 0 };
			size = SMALL_SIZE;
		}
		m.h.msgh_bits |= MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
						MACH_MSG_TYPE_MAKE_SEND_ONCE);
		m.h.msgh_remote_port = server;
		m.h.msgh_local_port = reply;
		m.h.msgh_id = 1;
		if (mach_msg(&m.h, MACH_SEND_MSG | MACH_RCV_MSG, size, sizeof(m),
			     reply, 0, 0))
			die("round trip failed");
		if (with_ool)
			vm_deallocate(mach_task_self(), m.o.data, OOL_LEN);
	}
	return (now_us() - t0) / rounds;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define BATCHES 5

static double median(double *v)
{
	qsort(v, BATCHES, sizeof(*v), cmp_double);
	return v[BATCHES / 2];
}

/*
 * One placement: a fresh server process pinned to CPU_B, we on CPU_A.
 * Baseline and library batches alternate, so that a disturbance of the
 * machine falls on both; each figure is the median of its batches.
 */
static void run(const char *dir, const char *where, int rounds, int cpu_a,
		int cpu_b)
{
	char addr[256];
	mach_port_t server = MACH_PORT_NULL;
	double base_s[BATCHES], base_o[BATCHES], mach_s[BATCHES], mach_o[BATCHES];
	int batch = rounds / BATCHES;
	pid_t pid;
	int status;

	snprintf(addr, sizeof(addr), "unix:%s/bench-%d-%d", dir, cpu_a, cpu_b);
	pin(cpu_a);
	pid = fork();
	if (pid == 0)
		serve(addr, cpu_b);
	for (int i = 0; i < 100; i++) {
		if (access(addr + 5, F_OK) == 0)
			break;
		usleep(20000);
	}
	if (mo_mach_lookup(addr, NULL, &server) < 0)
		die("cannot reach the server");
	for (int b = 0; b < BATCHES; b++) {
		base_s[b] = baseline(batch, FRAME_SMALL_REQ, FRAME_SMALL_REP,
				     cpu_a, cpu_b);
		mach_s[b] = mach_rounds(server, batch, 0);
		base_o[b] = baseline(batch, FRAME_OOL_REQ, FRAME_OOL_REP,
				     cpu_a, cpu_b);
		mach_o[b] = mach_rounds(server, batch, 1);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	printf("%-10s (client CPU %d, server CPU %d)\n", where, cpu_a, cpu_b);
	printf("  64-byte message:        baseline %7.2f us  motrace-mach %7.2f us  ratio %.2f\n",
	       median(base_s), median(mach_s), median(mach_s) / median(base_s));
	printf("  4 KiB out-of-line data: baseline %7.2f us  motrace-mach %7.2f us  ratio %.2f\n",
	       median(base_o), median(mach_o), median(mach_o) / median(base_o));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int rounds = 20000, cpu_a = 0, cpu_b = 1, opt;
	char dir[] = "/tmp/mach-bench.XXXXXX";

	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg);
		else if (opt == 'c' && sscanf(optarg, "%d,%d", &cpu_a, &cpu_b) == 2)
			;
		else
			die("usage: mach-bench [-n ROUNDS] [-c CPU-A,CPU-B]");
	}
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	printf("round trip time, median of %d alternating batches of %d rounds;\n"
	       "baseline = bare Unix-socket ping-pong of the same frame bytes\n",
	       BATCHES, rounds / BATCHES);
	/* Each placement in a fresh child: the library (and its I/O thread,
	 * which keeps the CPU it started on) is never used before a fork. */
	fflush(stdout);
	if (fork() == 0) {
		run(dir, "same core", rounds, cpu_a, cpu_a);
		_exit(0);
	}
	wait(NULL);
	if (fork() == 0) {
		run(dir, "cross-core", rounds, cpu_a, cpu_b);
		_exit(0);
	}
	wait(NULL);
	rmdir(dir);
	return 0;
}
