/*
 * tests/gnumach/standin-missing.c: answers for the calls GNU Mach's tests
 * make that libmotrace-mach may not have, in a library of their own that
 * run.sh links after libmotrace-mach: the dynamic linker takes the
 * library's own call whenever it has one, and these only stand for
 * what it lacks. Each says once on stderr that the call is missing and
 * answers MIG_BAD_ID, what a MIG stub gets from a server without the
 * routine, so that the test's check fails by name.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <mach.h>

#include <syscalls.h>

static void missing(const char *call)
{
	static char said[16][40];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < 16 && said[i][0]; i++)
		if (!strcmp(said[i], call))
			break;
	if (i < 16 && !said[i][0]) {
		snprintf(said[i], sizeof(said[i]), "%s", call);
		fprintf(stderr, "gnumach-standin: %s is not in libmotrace-mach\n", call);
	}
	pthread_mutex_unlock(&lock);
}

#define MISSING(call) (missing(#call), MIG_BAD_ID)

mach_port_t mach_thread_self(void)
{
	missing("mach_thread_self");
	return MACH_PORT_NULL;
}

/* In the library since GNU Mach's tests were first run on it: these
 * answer for an older library. */
kern_return_t mach_port_names(mach_port_t task, mach_port_name_array_t *names,
			      mach_msg_type_number_t *namesCnt,
			      mach_port_type_array_t *types,
			      mach_msg_type_number_t *typesCnt)
{
	(void)task, (void)names, (void)types;
	*namesCnt = *typesCnt = 0;
	return MISSING(mach_port_names);
}

kern_return_t mach_port_rename(mach_port_t task, mach_port_t old_name,
			       mach_port_t new_name)
{
	(void)task, (void)old_name, (void)new_name;
	return MISSING(mach_port_rename);
}

kern_return_t mach_port_allocate_name(mach_port_t task, mach_port_right_t right,
				      mach_port_t name)
{
	(void)task, (void)right, (void)name;
	return MISSING(mach_port_allocate_name);
}

mach_port_t mach_host_self(void)
{
	missing("mach_host_self");
	return MACH_PORT_NULL;
}

kern_return_t host_get_time(mach_port_t host, time_value_t *current_time)
{
	(void)host, (void)current_time;
	return MISSING(host_get_time);
}
