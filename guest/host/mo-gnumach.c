/*
 * guest/host/mo-gnumach.c: the real GNU Mach kernel as a kernel side.
 *
 * Boots qemu with the prepared kernel and the agent, relays the memory
 * object traffic of the agent's workload and connects it to a pager. Until
 * mach/ can reach a pager's address, the only address is "builtin", the
 * test pager of testpager.c. Every message is printed through decode/;
 * the kernel's own messages can be saved as hex lines for
 * "motrace decode --abi user32 --hex".
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "decode/render.h"
#include "guest/host/machpeer.h"
#include "guest/host/relay.h"
#include "guest/host/testpager.h"
#include "guest/host/vm.h"
#include "util/strbuf.h"

#ifndef MO_GUEST_DIR
#define MO_GUEST_DIR "/usr/local/lib/motrace/guest"
#endif

static const char usage[] =
	"usage: mo-gnumach [options] ADDR [ADDR...] SCRIPT|-\n"
	"\n"
	"Boot GNU Mach under qemu, map a memory object with the real kernel and\n"
	"run SCRIPT over it (mo-map's language, doc/mo-map.1), the object served\n"
	"by the pager at ADDR: a pager's address as mo-map takes it (unix:PATH,\n"
	"tcp:HOST:PORT), 'builtin' (the host's test pager, through the relay) or\n"
	"'guest' (a pager inside the guest, the benchmark's floor). Each further\n"
	"ADDR is one more object (object 1, 2, 3: the script's 'object N'), mapped\n"
	"after the first with the same size; 'guest' serves one object only.\n"
	"Agent-only\n"
	"words, with the built-in or in-guest pager: 'pager clean OFF',\n"
	"'pager flush OFF', 'pager flushall' (the pager returns dirty data),\n"
	"'pager error OFF', 'pager zero OFF' (the test pager answers OFF's next\n"
	"data_request with data_error or data_unavailable), 'mark start',\n"
	"'mark end N' (time N fault cycles, see --stats).\n"
	"\n"
	"  --size N          bytes to map (default 64K; 'p' suffix: pages)\n"
	"  --threads N       run the script in N threads (1, at most 8)\n"
	"  --log FILE        every message in motrace check form: kN> from the\n"
	"                    kernel, kN< to it ('-': standard output)\n"
	"  --kernel-id N     the N of kN> in the log (0)\n"
	"  --log-times       prefix message lines with @SECONDS\n"
	"  --hex FILE        the kernel's messages as hex words (motrace decode --hex)\n"
	"  --console FILE    keep the guest's console in FILE (default: a file in\n"
	"                    $TMPDIR, removed after a run that went well)\n"
	"  --timeout S       give up on a guest after S seconds (60)\n"
	"  --stats           message counts and fault cycles per second on stderr\n"
	"  --spin N          the agent looks at an empty ring N times before it\n"
	"                    sleeps until the host rings its serial line (20000)\n"
	"  --pool N          pages of the guest's RAM the host writes the pager's\n"
	"                    data into (64, at most 1024; 0: it goes through the\n"
	"                    ring, and the agent copies it)\n"
	"  --secret FILE     the shared secret for ADDR\n"
	"  --kernel FILE, --agent FILE, --qemu PROGRAM\n"
	"                    the prepared kernel, the agent, qemu-system-x86_64\n"
	"  -q, --quiet       print nothing but errors\n"
	"  -h, --help        this help\n"
	"\n"
	"Exit status: 0 when the script finished, 1 on a boot or run error, 2 on\n"
	"a usage error.\n";

/* The host side's threads' scheduler slice (vm_set_slice). */
#define HOST_SLICE_NS 100000

/* What the agent's script buffer holds (guest/agent/script.c MAX_TEXT). */
#define SCRIPT_MAX 8191

/* The agent's objects, at most (guest/agent/agent.h AGENT_MAX_OBJECTS). */
#define MAX_OBJECTS 4

/* One object: its pager, and the agent's port that stands for it. */
struct object {
	struct testpager tp;
	struct machpeer *mp;	/* a real pager at an address, or NULL */
	uint32_t port;		/* from the agent's "object N PORT" */
};

/*
 * A host message in the agent's ring, logged when the agent hands it to
 * the kernel ("sent", doc/guest.md): GNU Mach serves it then.
 */
struct unsent {
	struct unsent *next;
	uint32_t seq, len;
	uint8_t msg[];
};

#define MAX_REPLIES 64

struct run {
	struct relay relay;
	pthread_mutex_t send_lock;	/* the host ring: one producer at a time */
	struct unsent *unsent, **unsent_tail;	/* under lock, in ring order */
	/* The agent's reply ports, each for an object (newest last, a ring). */
	struct { uint32_t port; unsigned obj; } replies[MAX_REPLIES];
	unsigned nreplies;
	struct object obj[MAX_OBJECTS];
	unsigned nobj;
	pthread_mutex_t lock;	/* the log and the guest watch: two threads */
	struct vm vm;
	FILE *log, *hex;
	struct strbuf line;
	int done;		/* the agent said "done" */
	int stats, quiet;
	unsigned long spin;	/* the agent's polls of an empty ring before it sleeps */
	unsigned long pool;	/* pages of the agent's page pool asked for */
	unsigned kernel_id;	/* the N of kN> in the log */
	int log_times;		/* @SECONDS before each message line */
	double t0;
	const char *script;	/* its text, sent before the guest starts */
	size_t script_len;
	uint32_t kernel_msgs, pager_msgs;
	unsigned long waits, rings;	/* doorbell sleeps, and those it ended */
	unsigned long kicks;		/* the guest woken by its serial port */
	double mark_start, mark_end;	/* when the agent's marks arrived */
	unsigned long cycles;
	double deadline;
	char err[300];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One message into the log (and, from the kernel, the hex file). */
static void record(struct run *run, const uint8_t *msg, uint32_t len,
		   int from_kernel)
{
	struct mo_render_opts ro = { 0 };
	struct mo_decoded d;
	uint32_t i;

	pthread_mutex_lock(&run->lock);
	if (run->log) {
		mo_decode(msg, len, MO_ABI_USER32, &d);
		strbuf_reset(&run->line);
		mo_render_text(&run->line, msg, &d, &ro);
		/* motrace check's form: kN> to the manager, kN< to the kernel. */
		if (run->log_times)
			fprintf(run->log, "@%.6f ", now() - run->t0);
		fprintf(run->log, "k%u%c %s\n", run->kernel_id, from_kernel ? '>' : '<',
			run->line.buf);
	}
	if (from_kernel && run->hex) {
		for (i = 0; i + 4 <= len; i += 4)
			fprintf(run->hex, "%s%08x", i == 0 ? "" : i == 24 ? "  " : " ",
				(uint32_t)msg[i] | (uint32_t)msg[i + 1] << 8 |
				(uint32_t)msg[i + 2] << 16 | (uint32_t)msg[i + 3] << 24);
		fputc('\n', run->hex);
	}
	pthread_mutex_unlock(&run->lock);
}

/*
 * A kernel message belongs to the object whose port it came to (its
 * local port as the agent received it: user32 header word 3).
 */
static struct object *object_of(struct run *run, const uint8_t *msg, uint32_t len)
{
	uint32_t local;
	unsigned i;

	if (len < 24)
		return NULL;
	memcpy(&local, msg + 12, 4);
	for (i = 0; i < run->nobj; i++)
		if (run->obj[i].port && run->obj[i].port == local)
			return &run->obj[i];
	pthread_mutex_lock(&run->lock);
	for (i = run->nreplies; i-- > 0 && run->nreplies - i <= MAX_REPLIES;)
		if (run->replies[i % MAX_REPLIES].port == local) {
			unsigned obj = run->replies[i % MAX_REPLIES].obj;

			pthread_mutex_unlock(&run->lock);
			return &run->obj[obj];
		}
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static int peer_msg(void *ctx, const uint8_t *msg, uint32_t len,
		    const struct relay_ool *ool, int nool)
{
	struct run *run = ctx;
	struct object *o;

	run->kernel_msgs++;
	record(run, msg, len, 1);
	o = object_of(run, msg, len);
	if (!o) {
		snprintf(run->err, sizeof(run->err),
			 "agent: a kernel message (%u bytes) to a port that is no object's", len);
		return -1;
	}
	if (o->mp) {
		if (machpeer_on_msg(o->mp, msg, len, ool, nool) < 0) {
			if (!run->err[0])
				snprintf(run->err, sizeof(run->err), "pager: %s", machpeer_error(o->mp));
			return -1;
		}
		return 0;
	}
	if (testpager_on_msg(&o->tp, msg, len, ool, nool) < 0) {
		snprintf(run->err, sizeof(run->err), "test pager: %s", o->tp.err);
		return -1;
	}
	return 0;
}

/* The agent's lines (doc/guest.md, CTL), one handler each. */
static int ctl_cmd(struct run *run, const char *text)
{
	char verb[16];
	unsigned page, obj;

	if (sscanf(text, "cmd %15s %u %u", verb, &page, &obj) != 3 || obj >= run->nobj) {
		snprintf(run->err, sizeof(run->err), "agent: bad request '%s'", text);
		return -1;
	}
	if (run->obj[obj].mp) {
		snprintf(run->err, sizeof(run->err),
			 "agent: '%.60s': pager words need the built-in test pager", text);
		return -1;
	}
	if (testpager_cmd(&run->obj[obj].tp, verb, page) < 0) {
		snprintf(run->err, sizeof(run->err), "test pager: %s", run->obj[obj].tp.err);
		return -1;
	}
	return 0;
}

/* The agent's port for object N: "object N PORT", before any mapping. */
static int ctl_object(struct run *run, const char *text)
{
	unsigned n, port;

	if (sscanf(text, "object %u %u", &n, &port) != 2 || n >= run->nobj || port == 0) {
		snprintf(run->err, sizeof(run->err), "agent: bad line '%.60s' (%u objects)",
			 text, run->nobj);
		return -1;
	}
	run->obj[n].port = port;
	return 0;
}

/* The host message of ring frame SEQ, taken out of the queue, or NULL. */
static struct unsent *take_unsent(struct run *run, uint32_t seq)
{
	struct unsent **pp, *u;

	pthread_mutex_lock(&run->lock);
	for (pp = &run->unsent; (u = *pp); pp = &u->next)
		if (u->seq == seq) {
			*pp = u->next;
			if (!*pp)
				run->unsent_tail = pp;
			break;
		}
	pthread_mutex_unlock(&run->lock);
	return u;
}

/* The agent's reply port REPLY, for object OBJ: its messages go to that pager. */
static void add_reply(struct run *run, unsigned reply, unsigned obj)
{
	pthread_mutex_lock(&run->lock);
	run->replies[run->nreplies % MAX_REPLIES].port = reply;
	run->replies[run->nreplies % MAX_REPLIES].obj = obj;
	run->nreplies++;
	pthread_mutex_unlock(&run->lock);
}

/*
 * "sent SEQ REPLY OFF OBJ": the agent hands host frame SEQ to the kernel
 * now, in the order of the kernel's messages around it; REPLY, when not
 * 0, is the reply port it made for the message's send-once right, written
 * at byte OFF in its place (doc/guest.md).
 */
static int ctl_sent(struct run *run, const char *text)
{
	unsigned seq, reply, off, obj;
	struct unsent *u;

	if (sscanf(text, "sent %u %u %u %u", &seq, &reply, &off, &obj) != 4 ||
	    obj >= run->nobj) {
		snprintf(run->err, sizeof(run->err), "agent: bad line '%.60s'", text);
		return -1;
	}
	if (!run->log) {
		/* No mark but for a reply port (ring.h, MO_SHM_MARKS): nothing queued. */
		if (reply)
			add_reply(run, reply, obj);
		return 0;
	}
	u = take_unsent(run, seq);
	if (!u) {
		/* Its sender may hold the ring still, about to queue it. */
		pthread_mutex_lock(&run->send_lock);
		pthread_mutex_unlock(&run->send_lock);
		u = take_unsent(run, seq);
	}
	if (!u) {
		snprintf(run->err, sizeof(run->err), "agent: sent %u: no such message from the host", seq);
		return -1;
	}
	if (reply) {
		if (off < 12 || off > u->len - 4) {
			snprintf(run->err, sizeof(run->err), "agent: '%.60s': no reply port at byte %u of %u",
				 text, off, u->len);
			free(u);
			return -1;
		}
		memcpy(u->msg + off, &reply, 4);
		add_reply(run, reply, obj);
	}
	record(run, u->msg, u->len, 0);
	free(u);
	return 0;
}

/* At the end: what the kernel never took still goes into the log. */
static void log_unsent(struct run *run)
{
	struct unsent *u;

	while ((u = run->unsent)) {
		run->unsent = u->next;
		pthread_mutex_lock(&run->lock);
		if (run->log)
			fprintf(run->log, "# host: the agent never said it sent frame %u to the kernel\n", u->seq);
		pthread_mutex_unlock(&run->lock);
		record(run, u->msg, u->len, 0);
		free(u);
	}
	run->unsent_tail = &run->unsent;
}

static int ctl_mark(struct run *run, const char *text)
{
	if (strcmp(text, "mark start") == 0)
		run->mark_start = now();
	else if (sscanf(text, "mark end %lu", &run->cycles) == 1)
		run->mark_end = now();
	return 0;
}

static int ctl_done(struct run *run, const char *text)
{
	run->done = 1;
	return 0;
}

/* Something the agent noticed, for the log only. */
static int ctl_note(struct run *run, const char *text)
{
	return 0;
}

static int ctl_error(struct run *run, const char *text)
{
	snprintf(run->err, sizeof(run->err), "agent: %s", text);
	return -1;
}

/*
 * The agent must speak our frame version and the user32 profile. Its page
 * pool, if it made one, is named by now (ring.h, MO_SHM_POOL).
 */
static int ctl_hello(struct run *run, const char *text)
{
	struct mo_shm_header *h = run->relay.shm;
	uint32_t pages = h->pool_pages;
	void *pool;

	if (strcmp(text, "hello mo-agent 1 user32") != 0) {
		snprintf(run->err, sizeof(run->err),
			 "agent: '%.100s' is not 'hello mo-agent 1 user32' (an agent from another build?)", text);
		return -1;
	}
	if (!(h->flags & MO_SHM_POOL) || pages == 0)
		return 0;
	if (pages > run->pool) {
		snprintf(run->err, sizeof(run->err), "agent: a page pool of %u pages (%lu asked for)",
			 pages, run->pool);
		return -1;
	}
	pool = vm_map_ram(&run->vm, h->pool_phys, (size_t)pages * MO_POOL_PAGE_SIZE);
	if (!pool) {
		snprintf(run->err, sizeof(run->err), "agent's page pool: %s", run->vm.err);
		return -1;
	}
	pthread_mutex_lock(&run->send_lock);
	relay_pool_attach(&run->relay, pool, pages);
	pthread_mutex_unlock(&run->send_lock);
	return 0;
}

/* The script's output, as mo-map prints it. */
static int ctl_out(struct run *run, const char *text)
{
	if (!run->quiet)
		printf("%s\n", text + 4);
	return 0;
}

static const struct {
	const char *prefix;
	int logged;
	int (*handle)(struct run *, const char *);
} ctl_table[] = {
	{ "cmd ", 0, ctl_cmd },
	{ "object ", 0, ctl_object },
	{ "sent ", 0, ctl_sent },
	{ "mark ", 1, ctl_mark },
	{ "done", 1, ctl_done },
	{ "error", 1, ctl_error },
	{ "note ", 1, ctl_note },
	{ "out ", 1, ctl_out },
	{ "hello ", 1, ctl_hello },
};

static int peer_ctl(void *ctx, const char *text)
{
	struct run *run = ctx;
	size_t i;

	for (i = 0; i < sizeof(ctl_table) / sizeof(ctl_table[0]); i++) {
		if (strncmp(text, ctl_table[i].prefix, strlen(ctl_table[i].prefix)) != 0)
			continue;
		if (ctl_table[i].logged && run->log) {
			pthread_mutex_lock(&run->lock);
			fprintf(run->log, "# agent: %s\n", text);
			pthread_mutex_unlock(&run->lock);
		}
		return ctl_table[i].handle(run, text);
	}
	snprintf(run->err, sizeof(run->err), "agent: unknown line '%.100s'", text);
	return -1;
}

static const struct relay_peer peer = { peer_msg, peer_ctl };

static int pager_send(void *ctx, const void *msg, uint32_t len,
		      const struct relay_ool *ool, int nool)
{
	struct run *run = ctx;
	struct unsent *u;
	int rc;

	__atomic_add_fetch(&run->pager_msgs, 1, __ATOMIC_RELAXED);
	if (!run->log) {
		/* Nothing to log: no queue for the marks (ring.h, MO_SHM_MARKS). */
		pthread_mutex_lock(&run->send_lock);
		rc = relay_send_msg(&run->relay, msg, len, ool, nool);
		pthread_mutex_unlock(&run->send_lock);
		if (rc < 0)
			snprintf(run->err, sizeof(run->err), "relay: %s", run->relay.err);
		return rc;
	}
	u = malloc(sizeof(*u) + len);
	if (!u)
		abort();
	u->next = NULL;
	u->len = len;
	memcpy(u->msg, msg, len);
	pthread_mutex_lock(&run->send_lock);
	rc = relay_send_msg(&run->relay, msg, len, ool, nool);
	if (rc == 0) {
		u->seq = run->relay.last_seq;
		pthread_mutex_lock(&run->lock);
		*run->unsent_tail = u;
		run->unsent_tail = &u->next;
		pthread_mutex_unlock(&run->lock);
	}
	pthread_mutex_unlock(&run->send_lock);
	if (rc < 0) {
		free(u);
		snprintf(run->err, sizeof(run->err), "relay: %s", run->relay.err);
	}
	return rc;
}

static int pager_answer(void *ctx, const char *text)
{
	struct run *run = ctx;
	int rc;

	pthread_mutex_lock(&run->send_lock);
	rc = relay_send_ctl(&run->relay, text);
	pthread_mutex_unlock(&run->send_lock);
	if (rc < 0) {
		snprintf(run->err, sizeof(run->err), "relay: %s", run->relay.err);
		return -1;
	}
	return 0;
}

static void pager_note(void *ctx, const char *text)
{
	struct run *run = ctx;

	pthread_mutex_lock(&run->lock);
	if (run->log)
		fprintf(run->log, "# pager: %s\n", text);
	pthread_mutex_unlock(&run->lock);
}

/* Checks the guest; -1 with run->err when it died, hung or failed. */
static int watch(struct run *run)
{
	int st;

	pthread_mutex_lock(&run->lock);
	st = vm_check(&run->vm);
	pthread_mutex_unlock(&run->lock);

	if (st < 0) {
		snprintf(run->err, sizeof(run->err), "%s", run->vm.err);
		return -1;
	}
	if (st == 1 && !run->done) {
		snprintf(run->err, sizeof(run->err),
			 "qemu exited (status %d) before the workload finished (console: %s)",
			 run->vm.status, run->vm.console);
		return -1;
	}
	if (now() > run->deadline) {
		snprintf(run->err, sizeof(run->err),
			 "guest hung: the workload did not finish in time (console: %s)",
			 run->vm.console);
		return -1;
	}
	return st;
}

static void run_kick(void *ctx)
{
	struct run *run = ctx;

	run->kicks++;
	vm_kick(&run->vm);
}

/* While waiting for room in the agent's ring: is the guest still there? */
static int relay_idle(void *ctx)
{
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
	return watch(ctx) < 0 ? -1 : 0;
}

/* Replies the pagers still wait for, of every object. */
static unsigned pending(struct run *run)
{
	unsigned i, n = 0;

	for (i = 0; i < run->nobj; i++)
		n += run->obj[i].mp ? machpeer_pending(run->obj[i].mp) : run->obj[i].tp.nlocks;
	return n;
}

/*
 * Serves the ring until the end of the run. With nothing in it, the
 * host sleeps on the guest's doorbell (vm.c): host_waiting tells the
 * agent to ring for its next frame; the ring is looked at once more after
 * setting it, so a frame committed meanwhile is not left waiting. The
 * sleep ends at least every 10 ms to watch the guest.
 */
static int run_loop(struct run *run)
{
	struct mo_shm_header *shm = run->relay.shm;
	double next_watch = 0;

	for (;;) {
		int n = relay_poll(&run->relay, &peer, run);

		if (n < 0) {
			if (!run->err[0])
				snprintf(run->err, sizeof(run->err), "relay: %s", run->relay.err);
			return -1;
		}
		if (n > 0)
			continue;
		/*
		 * The agent ends the run when we say so: only once no
		 * lock_completed is still due, or it would be lost.
		 */
		if (run->done && pending(run) == 0 && shm->host_state != MO_PEER_DONE) {
			shm->host_state = MO_PEER_DONE;
			relay_kick(&run->relay);
		}
		if (now() >= next_watch) {
			int st = watch(run);

			if (st < 0)
				return -1;
			if (st == 1)
				return relay_poll(&run->relay, &peer, run) < 0 ? -1 : 0;
			/* Off the vCPU's CPU, so that serving a fault does not stop it. */
			vm_steer(&run->vm);
			next_watch = now() + 0.01;
		}
		__atomic_store_n(&shm->host_waiting, 1, __ATOMIC_SEQ_CST);
		if (mo_ring_load(&shm->g2h.tail) == shm->g2h.head) {
			run->waits++;
			run->rings += vm_wait_bell(&run->vm, 10);
		}
		__atomic_store_n(&shm->host_waiting, 0, __ATOMIC_SEQ_CST);
	}
}

/*
 * SIGINT, SIGTERM, SIGHUP (a test's timeout, ^C): stop qemu and remove
 * the shared memory before dying, so nothing is left running.
 */
static struct run *running;

static void on_signal(int sig)
{
	if (running)
		vm_release(&running->vm);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Where the kernel and the agent are: guest/NAME beside this program in
 * the build folder, ../lib/motrace/guest/NAME from an installed program
 * (wherever the tree was moved), else MO_GUEST_DIR/NAME.
 */
static const char *guest_file(const char *name)
{
	static const char *const beside[] = { "guest", "../lib/motrace/guest" };
	static char buf[2][PATH_MAX];
	static int k;
	char *b = buf[k++ & 1], exe[PATH_MAX], *p;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	if (n > 0) {
		exe[n] = 0;
		p = strrchr(exe, '/');
		*p = 0;
	}
	for (i = 0; n > 0 && i < sizeof(beside) / sizeof(beside[0]); i++) {
		if (snprintf(b, PATH_MAX, "%s/%s/%s", exe, beside[i], name) < PATH_MAX &&
		    access(b, R_OK) == 0)
			return b;
	}
	snprintf(b, PATH_MAX, "%s/%s", MO_GUEST_DIR, name);
	return b;
}

/* The shared memory before qemu starts: the rings, and the script in h2g. */
static void init_shm(void *shm, void *ctx)
{
	struct run *run = ctx;

	relay_init_shm(shm);
	/* Only a log shows where the kernel took each message. */
	if (run->log)
		((struct mo_shm_header *)shm)->flags |= MO_SHM_MARKS;
	((struct mo_shm_header *)shm)->spin = run->spin;
	/* What the agent makes, if MO_SHM_POOL: it says how much it made. */
	((struct mo_shm_header *)shm)->pool_pages = run->pool;
	relay_attach(&run->relay, shm);
	if (relay_send_script(&run->relay, run->script, run->script_len) < 0)
		abort();	/* SCRIPT_MAX is far below a ring's size */
}

/* Reads SCRIPT (or standard input for "-"); returns it or NULL (message printed). */
static char *read_script(const char *name, size_t *len)
{
	FILE *f = strcmp(name, "-") ? fopen(name, "r") : stdin;
	char *buf;

	if (!f) {
		fprintf(stderr, "mo-gnumach: cannot open '%s': %s\n", name, strerror(errno));
		return NULL;
	}
	buf = malloc(SCRIPT_MAX + 2);
	if (!buf)
		abort();
	*len = fread(buf, 1, SCRIPT_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (*len > SCRIPT_MAX) {
		fprintf(stderr, "mo-gnumach: %s: longer than the agent's %d bytes\n", name, SCRIPT_MAX);
		free(buf);
		return NULL;
	}
	buf[*len] = 0;
	return buf;
}

/* A size: decimal, 0x hex, K or M, or N'p' pages (as mo-map takes it). */
static int parse_size(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	if (end == s || errno)
		return -1;
	if (*end == 'p')
		*v *= 4096, end++;
	else if (*end == 'K' || *end == 'k')
		*v *= 1024, end++;
	else if (*end == 'M')
		*v *= 1024 * 1024, end++;
	return *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 'T' },
		{ "secret", required_argument, NULL, 'K' },
		{ "kernel-id", required_argument, NULL, 'I' },
		{ "log-times", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "console", required_argument, NULL, 'c' },
		{ "hex", required_argument, NULL, 'x' },
		{ "log", required_argument, NULL, 'l' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "agent", required_argument, NULL, 'a' },
		{ "qemu", required_argument, NULL, 'E' },
		{ "stats", no_argument, NULL, 'S' },
		{ "spin", required_argument, NULL, 'P' },
		{ "pool", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config cfg = {
		.qemu = "qemu-system-x86_64",
		.kernel = guest_file("gnumach.elf32"),
		.agent = guest_file("mo-agent"),
		.console = NULL,
	};
	struct testpager_out out;
	static struct run run;
	const char *hex = NULL, *logname = NULL, *secret = NULL;
	struct machpeer_out mout;
	static char console_tmp[PATH_MAX];
	struct strbuf args = STRBUF_INIT;
	unsigned long size = 65536, threads = 1;

	run.spin = MO_SPIN_DEFAULT;
	run.pool = MO_POOL_PAGES;
	double timeout = 60, t0;
	char *end;
	unsigned i;
	int c, rc, in_guest;

	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size) < 0 || size == 0 || size % 4096 ||
			    size > 0x10000000) {
				fprintf(stderr, "mo-gnumach: --size: '%s' is not a whole number of pages up to 256M\n", optarg);
				return 2;
			}
			break;
		case 'T':
			threads = strtoul(optarg, &end, 0);
			if (*end || threads == 0 || threads > 8) {
				fprintf(stderr, "mo-gnumach: --threads: '%s' is not 1 to 8\n", optarg);
				return 2;
			}
			break;
		case 'Q':
		case 'q':
			run.quiet = 1;
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || timeout <= 0) {
				fprintf(stderr, "mo-gnumach: --timeout: '%s' is not a number of seconds\n", optarg);
				return 2;
			}
			break;
		case 'c': cfg.console = optarg; break;
		case 'K': secret = optarg; break;
		case 'L': run.log_times = 1; break;
		case 'I':
			run.kernel_id = strtoul(optarg, &end, 0);
			if (*end || run.kernel_id > 999) {
				fprintf(stderr, "mo-gnumach: --kernel-id: '%s' is not 0 to 999\n", optarg);
				return 2;
			}
			break;
		case 'x': hex = optarg; break;
		case 'l': logname = optarg; break;
		case 'k': cfg.kernel = optarg; break;
		case 'a': cfg.agent = optarg; break;
		case 'E': cfg.qemu = optarg; break;
		case 'S': run.stats = 1; break;
		case 'P':
			run.spin = strtoul(optarg, &end, 0);
			if (*end || !*optarg || run.spin > 100000000) {
				fprintf(stderr, "mo-gnumach: --spin: '%s' is not 0 to 100000000\n", optarg);
				return 2;
			}
			break;
		case 'O':
			run.pool = strtoul(optarg, &end, 0);
			if (*end || !*optarg || run.pool > MO_POOL_MAX) {
				fprintf(stderr, "mo-gnumach: --pool: '%s' is not 0 to %u pages\n",
					optarg, MO_POOL_MAX);
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		fputs(usage, stderr);
		return 2;
	}
	run.nobj = argc - optind - 1;
	if (run.nobj > MAX_OBJECTS) {
		fprintf(stderr, "mo-gnumach: %u addresses: the agent maps at most %d objects\n",
			run.nobj, MAX_OBJECTS);
		return 2;
	}
	in_guest = strcmp(argv[optind], "guest") == 0;
	for (i = 0; i < run.nobj; i++)
		if (run.nobj > 1 && strcmp(argv[optind + i], "guest") == 0) {
			fprintf(stderr, "mo-gnumach: 'guest' serves one object: it cannot be one of %u addresses\n",
				run.nobj);
			return 2;
		}
	strbuf_addf(&args, "%s %lu %lu %u", in_guest ? "local" : "relay",
		    size / 4096, threads, run.nobj);
	cfg.agent_args = args.buf;
	/* The host's data goes into the guest's RAM (ring.h, MO_SHM_POOL). */
	cfg.share_ram = !in_guest && run.pool > 0;
	run.script = read_script(argv[argc - 1], &run.script_len);
	if (!run.script)
		return 1;

	if (logname && !strcmp(logname, "-"))
		run.log = stdout;
	else if (logname && !(run.log = fopen(logname, "w"))) {
		fprintf(stderr, "mo-gnumach: %s: %s\n", logname, strerror(errno));
		return 1;
	}
	if (hex && !(run.hex = fopen(hex, "w"))) {
		fprintf(stderr, "mo-gnumach: %s: %s\n", hex, strerror(errno));
		return 1;
	}
	if (run.log)
		setvbuf(run.log, NULL, _IOLBF, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	strbuf_init(&run.line, 256);
	out.send = pager_send;
	out.answer = pager_answer;
	out.note = pager_note;
	out.ctx = &run;
	pthread_mutex_init(&run.lock, NULL);
	pthread_mutex_init(&run.send_lock, NULL);
	run.unsent_tail = &run.unsent;
	mout.send = pager_send;
	mout.note = pager_note;
	mout.ctx = &run;
	/* Before any thread starts (the pagers' links): they inherit it (vm.h). */
	vm_set_slice(HOST_SLICE_NS);
	for (i = 0; i < run.nobj; i++) {
		const char *addr = argv[optind + i];

		testpager_init(&run.obj[i].tp, &out);
		if (strcmp(addr, "builtin") != 0 && strcmp(addr, "guest") != 0) {
			run.obj[i].mp = machpeer_new(addr, secret, &mout);
			if (!run.obj[i].mp)
				return 1;
		}
	}

	/* Without --console, one is kept only when something went wrong. */
	if (!cfg.console) {
		snprintf(console_tmp, sizeof(console_tmp), "%s/mo-gnumach-%d.console",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
		cfg.console = console_tmp;
	}
	running = &run;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	t0 = run.t0 = now();
	if (vm_start(&run.vm, &cfg, init_shm, &run) < 0) {
		fprintf(stderr, "mo-gnumach: %s\n", run.vm.err);
		vm_release(&run.vm);
		return 1;
	}
	run.relay.idle = relay_idle;
	run.relay.idle_ctx = &run;
	run.relay.kick = run_kick;
	run.relay.kick_ctx = &run;
	run.deadline = t0 + timeout;
	rc = run_loop(&run);
	log_unsent(&run);
	if (rc == 0 && (!WIFEXITED(run.vm.status) || WEXITSTATUS(run.vm.status) != 0)) {
		snprintf(run.err, sizeof(run.err), "qemu ended with status 0x%x (console: %s)",
			 run.vm.status, cfg.console);
		rc = -1;
	}
	/*
	 * The pager threads write into the ring: they stop before its
	 * memory goes with the machine.
	 */
	for (i = 0; i < run.nobj; i++)
		machpeer_free(run.obj[i].mp);
	vm_release(&run.vm);
	if (run.stats) {
		fprintf(stderr, "mo-gnumach: %u kernel messages, %u pager messages, %.2f s\n",
			run.kernel_msgs, run.pager_msgs, now() - t0);
		fprintf(stderr, "mo-gnumach: %lu sleeps on the doorbell, %lu ended by a ring\n",
			run.waits, run.rings);
		fprintf(stderr, "mo-gnumach: the guest's serial doorbell rung %lu times\n", run.kicks);
		fprintf(stderr, "mo-gnumach: %lu regions of the host's data through the agent's page pool, %lu through the ring\n",
			(unsigned long)run.relay.pool_regions, (unsigned long)run.relay.ring_regions);
		if (run.mark_end > run.mark_start && run.mark_start > 0)
			fprintf(stderr, "mo-gnumach: %lu fault cycles in %.3f s: %.0f per second\n",
				run.cycles, run.mark_end - run.mark_start,
				run.cycles / (run.mark_end - run.mark_start));
	}
	if (run.hex && fclose(run.hex) != 0 && rc == 0) {
		snprintf(run.err, sizeof(run.err), "%s: %s", hex, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		fprintf(stderr, "mo-gnumach: %s\n", run.err);
	else if (cfg.console == console_tmp)
		unlink(console_tmp);
	for (i = 0; i < run.nobj; i++)
		testpager_release(&run.obj[i].tp);
	strbuf_release(&run.line);
	strbuf_release(&args);
	free((char *)run.script);
	return rc < 0 ? 1 : 0;
}
