/*
 * tests/mach/mach-host.c: the host port: mach_host_self, host_get_time,
 * host_info, as GNU Mach's kern/ipc_host.c, kern/mach_clock.c and
 * kern/host.c have them (tests/t1024-mach-host.sh).
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <mach.h>
#include <mach/host_info.h>

#include "tests/mach/mo-test.h"

int main(void)
{
	mach_port_t h = mach_host_self(), rx;
	mach_port_urefs_t r0, r1;
	mach_port_type_t t;
	time_value_t tv;
	struct timeval before, after;
	integer_t info[64];
	mach_msg_type_number_t n;
	host_basic_info_t basic = (host_basic_info_t)info;
	host_sched_info_t sched = (host_sched_info_t)info;
	union {
		mig_reply_header_t r;
		char b[256];
	} m;

	prog = "mach-host";
	CHECK("a name", h != MACH_PORT_NULL && h != MACH_PORT_DEAD, 1);
	KR(mach_port_type(mach_task_self(), h, &t));
	CHECK("a send right", t, MACH_PORT_TYPE_SEND);
	KR(mach_port_get_refs(mach_task_self(), h, MACH_PORT_RIGHT_SEND, &r0));
	CHECK("the same name again", mach_host_self(), h);
	KR(mach_port_get_refs(mach_task_self(), h, MACH_PORT_RIGHT_SEND, &r1));
	CHECK("one reference per call", r1, r0 + 1);
	CHECK("not the task port", h != mach_task_self(), 1);

	gettimeofday(&before, NULL);
	KR(host_get_time(h, &tv));
	gettimeofday(&after, NULL);
	if (tv.seconds < before.tv_sec || tv.seconds > after.tv_sec ||
	    tv.microseconds < 0 || tv.microseconds >= 1000000)
		die("host_get_time says %ld.%06d, the clock %ld to %ld", (long)tv.seconds,
		    tv.microseconds, (long)before.tv_sec, (long)after.tv_sec);
	CHECK("host_get_time on the task port", host_get_time(mach_task_self(), &tv),
	      KERN_INVALID_HOST);

	n = 64;
	KR(host_info(h, HOST_BASIC_INFO, info, &n));
	CHECK("basic count", n, HOST_BASIC_INFO_COUNT);
	CHECK("max_cpus", basic->max_cpus, sysconf(_SC_NPROCESSORS_CONF));
	CHECK("avail_cpus", basic->avail_cpus, sysconf(_SC_NPROCESSORS_ONLN));
	CHECK("memory", basic->memory_size != 0, 1);
	CHECK("cpu_type (CPU_TYPE_X86_64)", basic->cpu_type, 21);
	n = HOST_BASIC_INFO_COUNT - 1;
	CHECK("basic, too small", host_info(h, HOST_BASIC_INFO, info, &n), KERN_FAILURE);
	n = 64;
	KR(host_info(h, HOST_SCHED_INFO, info, &n));
	CHECK("sched count", n, HOST_SCHED_INFO_COUNT);
	CHECK("min_timeout", sched->min_timeout > 0, 1);
	n = 64;
	KR(host_info(h, HOST_PROCESSOR_SLOTS, info, &n));
	CHECK("slots", n, sysconf(_SC_NPROCESSORS_ONLN));
	n = 64;
	CHECK("an unknown flavor", host_info(h, 99, info, &n), KERN_INVALID_ARGUMENT);
	KR(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &rx));
	CHECK("host_info on a receive right", host_info(rx, HOST_BASIC_INFO, info, &n),
	      KERN_INVALID_ARGUMENT);

	/* A message to the host port is answered, never left waiting. */
	memset(&m, 0, sizeof(m));
	m.r.Head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
					    MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m.r.Head.msgh_size = sizeof(m.r.Head);
	m.r.Head.msgh_remote_port = h;
	m.r.Head.msgh_local_port = rx;
	m.r.Head.msgh_id = 2600;
	CHECK("rpc", mach_msg(&m.r.Head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
			      sizeof(m.r.Head), sizeof(m), rx, 5000, MACH_PORT_NULL),
	      MACH_MSG_SUCCESS);
	CHECK("reply id", m.r.Head.msgh_id, 2700);
	CHECK("MIG_BAD_ID", m.r.RetCode, MIG_BAD_ID);
	printf("host: mach_host_self, host_get_time and host_info as GNU Mach's; messages answered\n");
	return 0;
}
