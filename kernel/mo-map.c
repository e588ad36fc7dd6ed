/*
 * kernel/mo-map.c: the workload driver. Maps the memory object published
 * at an address with libmo-kernel and runs a small script of reads,
 * writes and checks over it, in one or several threads (doc/mo-map.1;
 * the language is doc/workload.md, which the GNU Mach agent shares).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <mach.h>
#include <mach/motrace.h>

#include "kernel/kernel.h"
#include "kernel/script-words.h"
#include "util/parse.h"
#include "util/strbuf.h"

#define PAGE 4096UL
/* Objects of one run: one per ADDR (doc/workload.md, object N). */
#define MAX_OBJECTS 16

enum op {
	MO_SCRIPT_WORDS(MO_SCRIPT_ENUM)
};

/* The script's words: name, operands (min, max), what it does. */
static const struct {
	const char *name;
	enum op op;
	int min, max;
} words[] = {
	MO_SCRIPT_WORDS(MO_SCRIPT_ROW)
};

struct step {
	enum op op;
	unsigned line;
	uint64_t a[3];
	uint8_t per_thread[3];	/* "+t": plus the thread's number in pages */
	int write;		/* touch ... write */
	unsigned jump;		/* repeat: its end; end: its repeat */
	char *text;		/* echo */
	char *src;		/* the step as written, for -v and signals */
};

/* Where each script thread is, for the report on SIGINT and SIGTERM. */
struct tstate {
	int pc;			/* the step it runs; -1 before, n after the end */
	pid_t tid;
};

static struct {
	struct step *steps;
	unsigned n;
	uint8_t *base;
	uint64_t size;
	unsigned nthreads;
	int quiet, verbose;
	struct tstate *ts;
	struct mo_kernel *k;
	pthread_barrier_t barrier;
	struct {
		mach_port_t port;
		uint8_t *base;
		int unmapped;
	} obj[MAX_OBJECTS];
	unsigned nobj;
	uint64_t offset;
	pthread_mutex_t out_lock;
} S;

static __thread sigjmp_buf bus_jmp;
static __thread volatile int bus_armed;
static __thread unsigned cur_line;
static __thread unsigned cur_obj;	/* object N: the mapping steps use */
static const char *prog = "mo-map";

static void vfail(int status, const char *fmt, va_list ap)
	__attribute__((noreturn, format(printf, 2, 0)));
static void vfail(int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(status);
}

/* A failure of the run: status 1. */
static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(1, fmt, ap);
}

/* A bad option: status 2 (doc/mo-map.1). */
static void bad_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(2, fmt, ap);
}

static void parse_script(FILE *f, const char *name)
{
	char buf[1024], err[160];
	unsigned line = 0, stack[32], depth = 0;

	while (fgets(buf, sizeof(buf), f)) {
		char *w[8], *p = buf, *save;
		int nw = 0;
		struct step st;
		size_t i;

		line++;
		if ((save = strchr(p, '#')))
			*save = '\0';
		for (char *t = strtok_r(p, " \t\r\n", &save); t && nw < 8;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[nw++] = t;
		if (!nw)
			continue;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(words[i].name, w[0]))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			die("%s:%u: unknown word '%s'", name, line, w[0]);
		memset(&st, 0, sizeof(st));
		st.op = words[i].op;
		st.line = line;
		{
			struct strbuf t = STRBUF_INIT;

			for (int j = 0; j < nw; j++) {
				if (j)
					strbuf_addch(&t, ' ');
				strbuf_addstr(&t, w[j]);
			}
			st.src = strdup(t.buf);
			strbuf_release(&t);
		}
		if (st.op == OP_ECHO) {
			struct strbuf t = STRBUF_INIT;

			for (int j = 1; j < nw; j++) {
				if (j > 1)
					strbuf_addch(&t, ' ');
				strbuf_addstr(&t, w[j]);
			}
			st.text = strdup(t.len ? t.buf : "");
			strbuf_release(&t);
		} else {
			int n = nw - 1, last = n;

			if (st.op == OP_TOUCH && n == 3) {
				if (strcmp(w[3], "read") && strcmp(w[3], "write"))
					die("%s:%u: touch takes 'read' or 'write', not '%s'",
					    name, line, w[3]);
				st.write = !strcmp(w[3], "write");
				last = 2;
			}
			if (n < words[i].min || n > words[i].max)
				die("%s:%u: %s takes %d operand(s)", name, line,
				    w[0], words[i].min);
			for (int j = 0; j < last; j++) {
				size_t l = strlen(w[j + 1]);

				if (l > 2 && !strcmp(w[j + 1] + l - 2, "+t")) {
					w[j + 1][l - 2] = '\0';
					st.per_thread[j] = 1;
				}
				if (mo_parse_u64(NULL, w[j + 1], MO_PARSE_PAGES,
						 UINT64_MAX, &st.a[j], err,
						 sizeof(err)) < 0)
					die("%s:%u: %s", name, line, err);
			}
		}
		if (st.op == OP_OBJECT && st.a[0] >= S.nobj)
			die("%s:%u: object %lu: there %s only %u (objects are numbered from 0, one for each ADDR)",
			    name, line, (unsigned long)st.a[0],
			    S.nobj == 1 ? "is" : "are", S.nobj);
		if (st.op == OP_REPEAT) {
			if (depth == 32)
				die("%s:%u: repeat nested too deep", name, line);
			stack[depth++] = S.n;
		} else if (st.op == OP_END) {
			if (!depth)
				die("%s:%u: end without repeat", name, line);
			st.jump = stack[--depth];
		}
		S.steps = realloc(S.steps, (S.n + 1) * sizeof(*S.steps));
		if (!S.steps)
			abort();
		if (st.op == OP_END)
			S.steps[st.jump].jump = S.n;
		S.steps[S.n++] = st;
	}
	if (depth)
		die("%s: repeat without end", name);
}

static void out(unsigned t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(unsigned t, const char *fmt, ...)
{
	va_list ap;

	if (S.quiet)
		return;
	pthread_mutex_lock(&S.out_lock);
	if (S.nthreads > 1)
		printf("t%u: ", t);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&S.out_lock);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n;

	(void)sig;
	(void)uc;
	if (bus_armed)
		siglongjmp(bus_jmp, 1);
	n = snprintf(msg, sizeof(msg),
		     "%s: line %u: memory error at offset %#lx\n", prog,
		     cur_line, (unsigned long)((uint8_t *)si->si_addr - S.obj[cur_obj].base));
	if (write(2, msg, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

static uint64_t *word(uint64_t off, unsigned line)
{
	if (S.obj[cur_obj].unmapped)
		die("line %u: the object is unmapped", line);
	if (off > S.size - 8)
		die("line %u: offset %#lx is beyond the mapping (%#lx bytes)",
		    line, (unsigned long)off, (unsigned long)S.size);
	if (off & 7)
		die("line %u: offset %#lx is not 8-byte aligned, as a word's must be",
		    line, (unsigned long)off);
	return (uint64_t *)(S.obj[cur_obj].base + off);
}

static uint8_t *range(uint64_t off, uint64_t len, unsigned line)
{
	if (S.obj[cur_obj].unmapped)
		die("line %u: the object is unmapped", line);
	if (off > S.size || len > S.size - off)
		die("line %u: range %#lx+%#lx is beyond the mapping (%#lx bytes)",
		    line, (unsigned long)off, (unsigned long)len,
		    (unsigned long)S.size);
	return S.obj[cur_obj].base + off;
}

/* Operand J of a step as thread T sees it. */
static uint64_t opnd(const struct step *st, int j, unsigned t)
{
	return st->a[j] + (st->per_thread[j] ? t * PAGE : 0);
}

/* Reads at the step's offset and wants SIGBUS (data_error). */
static __attribute__((noinline)) void expect_error(unsigned t,
						   const struct step *st)
{
	volatile uint64_t v;

	word(opnd(st, 0, t), st->line);
	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = 0;
		out(t, "memory error at %#lx, as expected",
		    (unsigned long)opnd(st, 0, t));
		return;
	}
	bus_armed = 1;
	v = *(volatile uint64_t *)(S.obj[cur_obj].base + opnd(st, 0, t));
	bus_armed = 0;
	die("line %u: read %#lx at %#lx, expected a memory error", st->line,
	    (unsigned long)v, (unsigned long)opnd(st, 0, t));
}

static void run(unsigned t)
{
	unsigned *count = calloc(S.n + 1, sizeof(*count));

	S.ts[t].tid = (pid_t)syscall(SYS_gettid);
	for (unsigned pc = 0; pc < S.n; pc++) {
		struct step *st = &S.steps[pc];
		volatile uint8_t *p;
		uint64_t v;

		cur_line = st->line;
		__atomic_store_n(&S.ts[t].pc, (int)pc, __ATOMIC_RELAXED);
		if (S.verbose) {
			pthread_mutex_lock(&S.out_lock);
			if (S.nthreads > 1)
				fprintf(stderr, "%s: t%u: line %u: %s\n", prog, t,
					st->line, st->src);
			else
				fprintf(stderr, "%s: line %u: %s\n", prog,
					st->line, st->src);
			pthread_mutex_unlock(&S.out_lock);
		}
		switch (st->op) {
		case OP_READ:
			v = *(volatile uint64_t *)word(opnd(st, 0, t), st->line);
			out(t, "read %#lx %#lx", (unsigned long)opnd(st, 0, t),
			    (unsigned long)v);
			break;
		case OP_WRITE:
			*(volatile uint64_t *)word(opnd(st, 0, t), st->line) = opnd(st, 1, t);
			break;
		case OP_EXPECT:
			v = *(volatile uint64_t *)word(opnd(st, 0, t), st->line);
			if (v != opnd(st, 1, t))
				die("line %u: expect %#lx: read %#lx, expected %#lx",
				    st->line, (unsigned long)opnd(st, 0, t),
				    (unsigned long)v, (unsigned long)opnd(st, 1, t));
			break;
		case OP_ADD:
			/* One locked instruction: the fault is a write fault. */
			__atomic_fetch_add(word(opnd(st, 0, t), st->line), opnd(st, 1, t),
					   __ATOMIC_SEQ_CST);
			break;
		case OP_FILL:
			memset(range(opnd(st, 0, t), opnd(st, 1, t), st->line),
			       (int)opnd(st, 2, t), opnd(st, 1, t));
			break;
		case OP_CHECK:
			p = range(opnd(st, 0, t), opnd(st, 1, t), st->line);
			for (uint64_t i = 0; i < opnd(st, 1, t); i++)
				if (p[i] != (uint8_t)opnd(st, 2, t))
					die("line %u: check: byte at %#lx is %#x, expected %#x",
					    st->line, (unsigned long)(opnd(st, 0, t) + i),
					    p[i], (unsigned)(uint8_t)opnd(st, 2, t));
			break;
		case OP_TOUCH:
			p = range(opnd(st, 0, t), opnd(st, 1, t), st->line);
			for (uint64_t i = 0; i < opnd(st, 1, t); i += PAGE) {
				if (st->write)
					__atomic_fetch_add((uint8_t *)&p[i], 0,
							   __ATOMIC_RELAXED);
				else
					(void)p[i];
			}
			break;
		case OP_SLEEP: {
			struct timespec ts = {
				(time_t)(opnd(st, 0, t) / 1000),
				(long)(opnd(st, 0, t) % 1000) * 1000000
			};

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
			break;
		}
		case OP_ECHO:
			out(t, "%s", st->text);
			break;
		case OP_UNMAP:
			/* Every thread gets here; one unmaps. */
			if (pthread_barrier_wait(&S.barrier) ==
			    PTHREAD_BARRIER_SERIAL_THREAD) {
				/* Pages that could not go back are named. */
				if (mo_kernel_unmap(S.k, S.obj[cur_obj].base) < 0)
					exit(1);
				S.obj[cur_obj].unmapped = 1;
			}
			pthread_barrier_wait(&S.barrier);
			break;
		case OP_MAP:
			/* Maps the object again, at a new address. */
			if (pthread_barrier_wait(&S.barrier) ==
			    PTHREAD_BARRIER_SERIAL_THREAD &&
			    S.obj[cur_obj].unmapped) {
				void *a;

				if (mo_kernel_map(S.k, S.obj[cur_obj].port, S.offset,
						  S.size, &a) < 0)
					exit(1);
				S.obj[cur_obj].base = a;
				S.obj[cur_obj].unmapped = 0;
			}
			pthread_barrier_wait(&S.barrier);
			break;
		case OP_OBJECT:
			/* This thread's steps use object N from here on. */
			cur_obj = (unsigned)st->a[0];
			break;
		case OP_EXPECT_ERROR:
			expect_error(t, st);
			break;
		case OP_REPEAT:
			count[st->jump] = 0;
			if (!st->a[0])
				pc = st->jump;
			break;
		case OP_END:
			if (++count[pc] < S.steps[st->jump].a[0])
				pc = st->jump;
			break;
		}
	}
	__atomic_store_n(&S.ts[t].pc, (int)S.n, __ATOMIC_RELAXED);
	free(count);
}

static void *thread_main(void *arg)
{
	run((unsigned)(uintptr_t)arg);
	return NULL;
}

/* The base of the mapping of the object with port PORT. */
static uint8_t *mapping_of(mach_port_t port)
{
	for (unsigned i = 0; i < S.nobj; i++)
		if (S.obj[i].port == port)
			return S.obj[i].base;
	return S.obj[0].base;
}

/*
 * SIGINT, SIGTERM: say where each thread is and what it waits for (a run
 * stopped by a timeout is a hang to explain), give the object back as
 * the task's end would, then go.
 */
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	const char *signame;
	int sig;

	if (sigwait(set, &sig) != 0)
		return NULL;
	signame = sig == SIGINT ? "SIGINT" : "SIGTERM";
	fflush(stdout);
	for (unsigned t = 0; t < S.nthreads; t++) {
		int pc = __atomic_load_n(&S.ts[t].pc, __ATOMIC_RELAXED);
		struct mo_kernel_wait w;
		char who[16] = "";

		if (S.nthreads > 1)
			snprintf(who, sizeof(who), "t%u ", t);
		if (pc < 0 || pc >= (int)S.n) {
			fprintf(stderr, "%s: %s: %s%s\n", prog, signame,
				who, pc < 0 ? "had not started" : "had finished");
			continue;
		}
		if (S.ts[t].tid && mo_kernel_waiting(S.k, S.ts[t].tid, &w))
			fprintf(stderr, "%s: %s: %sline %u (%s) waits for the "
				"page at offset 0x%lx of object %u (offset 0x%lx "
				"of the mapping): %s\n", prog, signame,
				who, S.steps[pc].line, S.steps[pc].src,
				(unsigned long)w.offset, w.object,
				(unsigned long)(w.addr - (uintptr_t)mapping_of(w.object)), w.why);
		else
			fprintf(stderr, "%s: %s: %sat line %u (%s)\n", prog,
				signame, who, S.steps[pc].line,
				S.steps[pc].src);
	}
	mo_kernel_exit(S.k);
	fflush(stdout);
	_exit(128 + sig);
}

static void usage(FILE *f, int status)
{
	fprintf(f,
		"usage: mo-map [options] ADDR [ADDR...] SCRIPT|-\n"
		"\n"
		"Map the memory object published at ADDR (unix:PATH, tcp:HOST:PORT)\n"
		"with the Linux-hosted kernel and run SCRIPT over it (doc/workload.md).\n"
		"Each further ADDR is one more object (object 1, 2, ...; the script's\n"
		"'object N' chooses), mapped after the first with the same size.\n"
		"\n"
		"  --size N          bytes to map (default 64K; suffixes K, M, G, T,\n"
		"                    and p for pages)\n"
		"  --offset N        offset in the object (0)\n"
		"  --threads N       run the script in N threads (1)\n"
		"  --resident N      page out above N resident pages (no limit)\n"
		"  --log FILE        write every message in motrace check form\n"
		"                    ('-': standard output; also MO_KERNEL_LOG=FILE)\n"
		"  --log-times       prefix log lines with @SECONDS (microseconds)\n"
		"  --kernel-id N     the N of kN> in the log (0)\n"
		"  --secret FILE     the shared secret for ADDR\n"
		"  -q, --quiet       print nothing but errors\n"
		"  -v, --verbose     each step as it runs, and notes from the kernel,\n"
		"                    on stderr\n"
		"  -h, --help        this help\n");
	exit(status);
}

static uint64_t num_opt(const char *opt, const char *s, uint64_t max)
{
	char err[160];
	uint64_t v;

	if (mo_parse_u64(opt, s, MO_PARSE_PAGES, max, &v, err, sizeof(err)) < 0)
		bad_usage("%s", err);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "offset", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "resident", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-times", no_argument, NULL, 'T' },
		{ "kernel-id", required_argument, NULL, 'k' },
		{ "secret", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct mo_kernel_opts ko = { 0 };
	const char *secret = NULL, *logpath = NULL, *script;
	uint64_t offset = 0;
	struct sigaction sa;
	sigset_t set;
	pthread_t sigt, *th;
	FILE *f;
	struct mo_kernel_stats kst;
	void *base;
	int c, status = 0;

	S.size = 16 * PAGE;
	S.nthreads = 1;
	pthread_mutex_init(&S.out_lock, NULL);
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': S.size = num_opt("--size", optarg, UINT64_MAX); break;
		case 'o': offset = num_opt("--offset", optarg, UINT64_MAX); break;
		case 't': S.nthreads = (unsigned)num_opt("--threads", optarg, 256); break;
		case 'r': ko.resident_max = (unsigned)num_opt("--resident", optarg, UINT32_MAX); break;
		case 'l': logpath = optarg; break;
		case 'T': ko.log_times = 1; break;
		case 'k': ko.id = (unsigned)num_opt("--kernel-id", optarg, UINT32_MAX); break;
		case 'S': secret = optarg; break;
		case 'q': S.quiet = 1; break;
		case 'v': ko.verbose = S.verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (argc - optind < 2)
		usage(stderr, 2);
	S.nobj = (unsigned)(argc - optind - 1);
	if (S.nobj > MAX_OBJECTS)
		bad_usage("%u addresses: at most %u objects", S.nobj, MAX_OBJECTS);
	if (!S.nthreads)
		bad_usage("--threads: 1 to 256");
	if (!S.size || (S.size & (PAGE - 1)) || (offset & (PAGE - 1)))
		bad_usage("--size and --offset must be whole pages");
	script = argv[argc - 1];
	f = strcmp(script, "-") ? fopen(script, "r") : stdin;
	if (!f)
		die("cannot open '%s': %s", script, strerror(errno));
	parse_script(f, script);
	if (f != stdin)
		fclose(f);
	if (logpath && !strcmp(logpath, "-")) {
		ko.log = stdout;
	} else if (logpath) {
		ko.log = fopen(logpath, "w");
		if (!ko.log)
			die("cannot open '%s': %s", logpath, strerror(errno));
	} else {
		ko.log = mo_kernel_log_from_env();
	}
	if (getenv("MO_KERNEL_LOG_TIMES"))
		ko.log_times = 1;

	/* Signals: SIGBUS per faulting thread, the rest to one thread. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	for (unsigned i = 0; i < S.nobj; i++)
		if (mo_mach_lookup(argv[optind + i], secret, &S.obj[i].port) < 0)
			exit(2);
	S.k = mo_kernel_new(&ko);
	if (!S.k)
		exit(2);
	/* In address order, as the GNU Mach agent maps them. */
	for (unsigned i = 0; i < S.nobj; i++) {
		if (mo_kernel_map(S.k, S.obj[i].port, offset, S.size, &base) < 0)
			exit(2);
		S.obj[i].base = base;
	}
	S.offset = offset;
	S.ts = calloc(S.nthreads, sizeof(*S.ts));
	if (!S.ts)
		abort();
	for (unsigned i = 0; i < S.nthreads; i++)
		S.ts[i].pc = -1;
	pthread_create(&sigt, NULL, signal_thread, &set);
	pthread_barrier_init(&S.barrier, NULL, S.nthreads);
	th = calloc(S.nthreads, sizeof(*th));
	for (unsigned i = 1; i < S.nthreads; i++)
		pthread_create(&th[i], NULL, thread_main, (void *)(uintptr_t)i);
	run(0);
	for (unsigned i = 1; i < S.nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	for (unsigned i = 0; i < S.nobj; i++) {
		if (S.obj[i].unmapped)
			continue;
		S.obj[i].unmapped = 1;
		if (mo_kernel_unmap(S.k, S.obj[i].base) < 0)
			status = 1;
	}
	/* Pages lost to pageout meanwhile were named when it happened. */
	mo_kernel_stats(S.k, &kst);
	if (kst.pages_lost)
		status = 1;
	if (mo_kernel_free(S.k) < 0)
		status = 1;
	if (ko.log && ko.log != stdout)
		fclose(ko.log);
	return status;
}
