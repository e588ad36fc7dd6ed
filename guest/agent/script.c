/*
 * guest/agent/script.c: the workload scripts of mo-map, run in the guest.
 *
 * The language is mo-map's (doc/mo-map.1, SCRIPT; kernel/mo-map.c's word
 * table, map included): one step per line, '#' comments, numbers decimal, 0x hex or N'p' pages, "+t" adds the thread's
 * number in pages, words are 8-byte little-endian. This is a second
 * interpreter of it because the agent has no libc; it follows mo-map's
 * messages. Words only the agent knows:
 *   pager clean OFF | pager flush OFF | pager flushall
 *                   ask the pager to return (and flush) a page or all
 *   pager misdirect P  (tests) the host's pager sends to port P
 *   mark start | mark end N
 *                   timestamps for the benchmark (N fault cycles between)
 *   pager error OFF | pager zero OFF
 *                   the pager answers OFF's next data_request with
 *                   data_error (for expect-error) or data_unavailable
 *   wire OFF | unwire OFF
 *                   vm_wire (mach_host.defs) OFF's page, faulting it in
 *                   first, or unwire it: a lock_request that would change
 *                   a wired page waits in GNU Mach until it is unwired
 */
#include <stdarg.h>

#include "guest/agent/agent.h"
#include "kernel/script-words.h"

/* mo-map's words (kernel/script-words.h), and two of the agent's own. */
enum op {
	MO_SCRIPT_WORDS(MO_SCRIPT_ENUM)
	OP_PAGER, OP_MARK, OP_WIRE, OP_UNWIRE,
};

/* The script's words: name, operands (min, max). */
static const struct {
	const char *name;
	uint8_t op;
	int8_t min, max;
} words[] = {
	MO_SCRIPT_WORDS(MO_SCRIPT_ROW)
	{ "pager", OP_PAGER, 1, 2 },
	{ "mark", OP_MARK, 1, 2 },
	{ "wire", OP_WIRE, 1, 1 },
	{ "unwire", OP_UNWIRE, 1, 1 },
};

/*
 * pager VERB: what the host's test pager is asked to do. misdirect P
 * (tests only) has it send to port P, which the agent must refuse.
 */
static const struct {
	const char *verb;
	int has_offset;
} pager_verbs[] = {
	{ "clean", 1 },
	{ "flush", 1 },
	{ "flushall", 0 },
	{ "misdirect", 1 },
	{ "error", 1 },
	{ "zero", 1 },
};

#define MAX_STEPS 512
#define MAX_TEXT 8192

struct step {
	uint8_t op;
	uint8_t per_thread[3];
	uint8_t write;		/* touch ... write */
	uint8_t verb;		/* pager: pager_verbs index; mark: 0 start, 1 end */
	uint16_t line;
	uint16_t jump;		/* repeat: its end; end: its repeat */
	uint64_t a[3];
	const char *text;	/* echo */
};

static struct step steps[MAX_STEPS];
static uint32_t nsteps;
static char text[MAX_TEXT];	/* the script, cut into words in place */

static struct rt_lock out_lock;
static uint32_t nthreads;
static volatile uint32_t barrier_count, barrier_gen;

/* A number: decimal, 0x hex, or N followed by 'p' for N pages. */
static int parse_num(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	uint32_t base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	if (!*s)
		return -1;
	for (; *s && *s != 'p'; s++) {
		uint32_t d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		n = n * base + d;
	}
	if (*s == 'p') {
		n *= PAGE_SIZE;
		s++;
	}
	*v = n;
	return *s ? -1 : 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int script_parse(const char *src, uint32_t len)
{
	uint32_t stack[32], depth = 0, line = 0, pos = 0;

	if (len >= sizeof(text))
		rt_fatal("script: %u bytes, at most %u", len, (uint32_t)sizeof(text) - 1);
	memcpy(text, src, len);
	text[len] = 0;
	while (pos < len) {
		char *w[8], *p = text + pos, *eol;
		uint32_t nw = 0, i;
		struct step *st;
		int n, last;

		line++;
		for (eol = p; *eol && *eol != '\n'; eol++)
			;
		pos = eol - text + 1;
		*eol = 0;
		for (eol = p; *eol && *eol != '#'; eol++)
			;
		*eol = 0;
		while (*p && nw < 8) {
			while (is_space(*p))
				*p++ = 0;
			if (!*p)
				break;
			w[nw++] = p;
			while (*p && !is_space(*p))
				p++;
		}
		if (!nw)
			continue;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(words[i].name, w[0]))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			rt_fatal("script:%u: unknown word '%s'", line, w[0]);
		if (nsteps == MAX_STEPS)
			rt_fatal("script:%u: more than %u steps", line, MAX_STEPS);
		st = &steps[nsteps];
		memset(st, 0, sizeof(*st));
		st->op = words[i].op;
		st->line = line;
		n = nw - 1;
		last = n;
		if (st->op == OP_ECHO) {
			/* The rest of the line, as written (one space between words). */
			for (i = 2; i < nw; i++)
				w[i][-1] = ' ';
			st->text = nw > 1 ? w[1] : "";
			nsteps++;
			continue;
		}
		if (n < words[i].min || n > words[i].max)
			rt_fatal("script:%u: %s takes %d operand(s)", line, w[0], words[i].min);
		if (st->op == OP_TOUCH && n == 3) {
			if (strcmp(w[3], "read") && strcmp(w[3], "write"))
				rt_fatal("script:%u: touch takes 'read' or 'write', not '%s'", line, w[3]);
			st->write = !strcmp(w[3], "write");
			last = 2;
		}
		if (st->op == OP_PAGER) {
			for (i = 0; i < sizeof(pager_verbs) / sizeof(pager_verbs[0]); i++)
				if (!strcmp(pager_verbs[i].verb, w[1]))
					break;
			if (i == sizeof(pager_verbs) / sizeof(pager_verbs[0]) ||
			    n != 1 + pager_verbs[i].has_offset)
				rt_fatal("script:%u: pager takes clean OFF, flush OFF, flushall, error OFF or zero OFF", line);
			if (agent_local() && i >= 3)
				rt_fatal("script:%u: pager %s needs the host's test pager", line, w[1]);
			st->verb = i;
			w[1] = w[2];
			last = n - 1;
		}
		if (st->op == OP_MARK) {
			if (!strcmp(w[1], "start") && n == 1)
				st->verb = 0;
			else if (!strcmp(w[1], "end") && n == 2)
				st->verb = 1;
			else
				rt_fatal("script:%u: mark takes 'start' or 'end N'", line);
			w[1] = w[2];
			last = n - 1;
		}
		for (i = 0; (int)i < last; i++) {
			uint32_t l = strlen(w[i + 1]);

			if (l > 2 && !strcmp(w[i + 1] + l - 2, "+t")) {
				w[i + 1][l - 2] = 0;
				st->per_thread[i] = 1;
			}
			if (parse_num(w[i + 1], &st->a[i]) < 0)
				rt_fatal("script:%u: '%s' is not a number", line, w[i + 1]);
		}
		if (st->op == OP_OBJECT && st->a[0] >= agent_objects())
			rt_fatal("script:%u: object %u: there %s only %u (objects are numbered from 0, one for each ADDR)",
				 line, (uint32_t)st->a[0], agent_objects() == 1 ? "is" : "are",
				 agent_objects());
		if (st->op == OP_REPEAT) {
			if (depth == 32)
				rt_fatal("script:%u: repeat nested too deep", line);
			stack[depth++] = nsteps;
		} else if (st->op == OP_END) {
			if (!depth)
				rt_fatal("script:%u: end without repeat", line);
			st->jump = stack[--depth];
			steps[st->jump].jump = nsteps;
		}
		nsteps++;
	}
	if (depth)
		rt_fatal("script: repeat without end");
	return 0;
}

/* One line of output: "tN: " first when several threads run. */
static void out(uint32_t t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(uint32_t t, const char *fmt, ...)
{
	char buf[200];
	uint32_t n = 0;
	va_list ap;

	n = rt_snprintf(buf, sizeof(buf), "out ");
	if (nthreads > 1)
		n += rt_snprintf(buf + n, sizeof(buf) - n, "t%u: ", t);
	va_start(ap, fmt);
	rt_vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	rt_lock(&out_lock);
	agent_ctl(buf);
	rt_unlock(&out_lock);
}

/* Operand J of a step as thread T sees it. */
static uint64_t opnd(const struct step *st, int j, uint32_t t)
{
	return st->a[j] + (st->per_thread[j] ? (uint64_t)t * PAGE_SIZE : 0);
}

/* OBJ: the object the thread's steps use (object N). */
static volatile uint64_t *word(uint32_t obj, uint64_t off, const struct step *st)
{
	if (agent_unmapped(obj))
		rt_fatal("line %u: the object is unmapped", st->line);
	if ((off & 7) || off + 8 > agent_size())
		rt_fatal("line %u: offset 0x%x is not an aligned word of the mapping",
			 st->line, (uint32_t)off);
	return (volatile uint64_t *)(agent_base(obj) + (uint32_t)off);
}

static volatile uint8_t *range(uint32_t obj, uint64_t off, uint64_t len, const struct step *st)
{
	if (agent_unmapped(obj))
		rt_fatal("line %u: the object is unmapped", st->line);
	if (off > agent_size() || len > agent_size() - off)
		rt_fatal("line %u: range 0x%x+0x%x is outside the mapping",
			 st->line, (uint32_t)off, (uint32_t)len);
	return (volatile uint8_t *)(agent_base(obj) + (uint32_t)off);
}

/* Every thread waits here; the last one in lets them all go. */
static int barrier(void)
{
	uint32_t gen = __atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&barrier_count, 1, __ATOMIC_ACQ_REL) == nthreads) {
		barrier_count = 0;
		__atomic_store_n(&barrier_gen, gen + 1, __ATOMIC_RELEASE);
		return 1;
	}
	while (__atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE) == gen)
		swtch_pri(0);
	return 0;
}

/*
 * Adds atomically, as mo-map does. A 32-bit task has no 8-byte fetch_add
 * without libatomic: lock cmpxchg8b in a loop, a write access from the
 * first try, so the fault is a write fault as in mo-map.
 */
typedef uint64_t aligned_u64 __attribute__((aligned(8)));

static void add64(volatile uint64_t *p, uint64_t n)
{
	/* word() checked the alignment; i386's uint64_t only promises 4. */
	aligned_u64 *w = (aligned_u64 *)p;
	uint64_t old = 0;

	/* __sync, not __atomic: gcc inlines only this one with -mgeneral-regs-only. */
	while (!__sync_bool_compare_and_swap(w, old, old + n))
		old = *p;
}

static void hex64(char *buf, uint32_t cap, uint64_t v)
{
	if (v >> 32)
		rt_snprintf(buf, cap, "0x%x%08x", (uint32_t)(v >> 32), (uint32_t)v);
	else if (v)
		rt_snprintf(buf, cap, "0x%x", (uint32_t)v);
	else
		rt_snprintf(buf, cap, "0");
}

void script_run(uint32_t t)
{
	static uint32_t counts[MAX_THREADS][MAX_STEPS];
	uint32_t *count = counts[t], pc, obj = 0;

	for (pc = 0; pc < nsteps; pc++) {
		const struct step *st = &steps[pc];
		volatile uint8_t *p;
		char a[24], b[24], c[24];
		uint64_t v, i;

		switch (st->op) {
		case OP_READ:
			v = *word(obj, opnd(st, 0, t), st);
			hex64(a, sizeof(a), opnd(st, 0, t));
			hex64(b, sizeof(b), v);
			out(t, "read %s %s", a, b);
			break;
		case OP_WRITE:
			*word(obj, opnd(st, 0, t), st) = opnd(st, 1, t);
			break;
		case OP_EXPECT:
			v = *word(obj, opnd(st, 0, t), st);
			if (v != opnd(st, 1, t)) {
				hex64(a, sizeof(a), opnd(st, 0, t));
				hex64(b, sizeof(b), v);
				hex64(c, sizeof(c), opnd(st, 1, t));
				rt_fatal("line %u: expect %s: read %s, expected %s", st->line, a, b, c);
			}
			break;
		case OP_ADD:
			add64(word(obj, opnd(st, 0, t), st), opnd(st, 1, t));
			break;
		case OP_FILL:
			p = range(obj, opnd(st, 0, t), opnd(st, 1, t), st);
			for (i = 0; i < opnd(st, 1, t); i++)
				p[i] = (uint8_t)opnd(st, 2, t);
			break;
		case OP_CHECK:
			p = range(obj, opnd(st, 0, t), opnd(st, 1, t), st);
			for (i = 0; i < opnd(st, 1, t); i++)
				if (p[i] != (uint8_t)opnd(st, 2, t))
					rt_fatal("line %u: check: byte at 0x%x is 0x%x, expected 0x%x",
						 st->line, (uint32_t)(opnd(st, 0, t) + i), p[i],
						 (uint32_t)(uint8_t)opnd(st, 2, t));
			break;
		case OP_TOUCH:
			p = range(obj, opnd(st, 0, t), opnd(st, 1, t), st);
			for (i = 0; i < opnd(st, 1, t); i += PAGE_SIZE) {
				if (st->write)
					__atomic_fetch_add((uint8_t *)&p[i], 0, __ATOMIC_RELAXED);
				else
					(void)p[i];
			}
			break;
		case OP_SLEEP:
			rt_sleep_ms((uint32_t)opnd(st, 0, t));
			break;
		case OP_ECHO:
			out(t, "%s", st->text);
			break;
		case OP_UNMAP:
			/* Every thread gets here; one unmaps. */
			if (barrier())
				agent_unmap(obj);
			barrier();
			break;
		case OP_MAP:
			/* Maps the object again, at a new address (one thread). */
			if (barrier() && agent_unmapped(obj))
				agent_map(obj);
			barrier();
			break;
		case OP_OBJECT:
			/* This thread's steps use object N from here on. */
			obj = (uint32_t)st->a[0];
			break;
		case OP_REPEAT:
			count[st->jump] = 0;
			if (!st->a[0])
				pc = st->jump;
			break;
		case OP_END:
			if (++count[pc] < steps[st->jump].a[0])
				pc = st->jump;
			break;
		case OP_EXPECT_ERROR:
			hex64(a, sizeof(a), opnd(st, 0, t));
			if (!probe_read(word(obj, opnd(st, 0, t), st), &v)) {
				hex64(b, sizeof(b), v);
				rt_fatal("line %u: read %s at %s, expected a memory error", st->line, b, a);
			}
			out(t, "memory error at %s, as expected", a);
			break;
		case OP_PAGER:
			agent_pager(obj, pager_verbs[st->verb].verb, (uint32_t)opnd(st, 0, t));
			break;
		case OP_WIRE:
		case OP_UNWIRE: {
			uint32_t page = (uint32_t)word(obj, opnd(st, 0, t), st) & ~(PAGE_SIZE - 1);
			kr_t kr = rt_vm_wire(page, PAGE_SIZE, st->op == OP_WIRE ?
					     VM_PROT_READ | VM_PROT_WRITE : 0);

			if (kr)
				rt_fatal("line %u: vm_wire: %x", st->line, kr);
			break;
		}
		case OP_MARK:
			if (st->verb == 0)
				agent_ctl("mark start");
			else {
				rt_snprintf(a, sizeof(a), "mark end %u", (uint32_t)opnd(st, 0, t));
				agent_ctl(a);
			}
			break;
		}
	}
}

void script_threads(uint32_t n)
{
	nthreads = n;
}
