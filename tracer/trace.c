/*
 * tracer/trace.c: the log, answer latencies, statistics, and the model and
 * checker fed from one place.
 *
 * A request and its answer (for -T and -c): data_request -> data_supply,
 * data_error or data_unavailable of the page; data_unlock -> the
 * lock_request that covers the page; lock_request -> the lock_completed
 * echoing its offset and length (PROTOCOL.md rule 6); init -> ready or
 * change_attributes.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mach/vm_prot.h>

#include "decode/encode.h"
#include "decode/render.h"
#include "decode/xlat.h"
#include "tracer/stack.h"
#include "tracer/trace.h"
#include "util/xalloc.h"

struct pending {
	int32_t id;		/* the request's id */
	unsigned kernel, object;
	uint64_t offset, size;	/* the pages (or bytes) it is about */
	uint64_t t;
};

struct stat_row {
	int32_t id;
	const char *name;
	uint64_t count, errors;
	uint64_t *lat;		/* answer latencies, ns */
	size_t nlat, alat;
};

struct mo_trace {
	struct mo_trace_opts o;
	struct mo_model *model;
	struct pending *pend;
	size_t npend, apend;
	struct stat_row *rows;
	size_t nrows;
	uint64_t last_t;
	int have_last;
	struct strbuf line;
	/* diagnostics of the current message, counted on its row */
	unsigned diags_now;
	mo_trace_listener *listener;
	void *listener_ctx;
	struct strbuf text;
	struct mo_render_opts ropts;
	struct mo_subscriber subs[8];
	unsigned nsubs;
	unsigned other_diags;	/* raised by plugins, not the checker */
};


/* The short name of a routine: memory_object_data_request -> data_request. */
static const char *short_name(const char *name)
{
	return strncmp(name, "memory_object_", 14) ? name : name + 14;
}

int mo_filter_parse(struct mo_filter *f, const char *expr, char *err,
		    size_t errlen)
{
	const char *eq = strchr(expr, '=');
	char key[16], *list, *tok, *save;
	size_t klen;
	int r = 0;

	if (!eq || (klen = (size_t)(eq - expr)) >= sizeof(key)) {
		snprintf(err, errlen, "'%s': expected trace=, kernel=, object= or page=",
			 expr);
		return -1;
	}
	memcpy(key, expr, klen);
	key[klen] = '\0';
	if (strcmp(key, "trace") && strcmp(key, "kernel") &&
	    strcmp(key, "object") && strcmp(key, "page")) {
		snprintf(err, errlen, "unknown qualifier '%s' (trace, kernel, object, page)",
			 key);
		return -1;
	}
	list = strdup(eq + 1);
	if (!strcmp(key, "page")) {
		char *end;

		f->page_first = strtoull(list, &end, 0);
		f->page_last = f->page_first;
		if (*end == '-')
			f->page_last = strtoull(end + 1, &end, 0);
		if (*end || end == list || f->page_last < f->page_first) {
			snprintf(err, errlen, "page=%s: expected N or FIRST-LAST", list);
			r = -1;
		}
		f->any_pages = 1;
		free(list);
		return r;
	}
	if (!strcmp(key, "trace") && list[0] == '!') {
		f->negate = 1;
		memmove(list, list + 1, strlen(list));
	}
	for (tok = strtok_r(list, ",", &save); tok && !r;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long n;

		if (!strcmp(key, "trace")) {
			const struct mo_msg_schema *s;
			char full[96];

			if (!strcmp(tok, "all")) {
				f->nids = 0;
				f->negate = 0;
				continue;
			}
			snprintf(full, sizeof(full), "memory_object_%s", tok);
			s = mo_schema_by_name(MO_ABI_X86_64, tok);
			if (!s)
				s = mo_schema_by_name(MO_ABI_X86_64, full);
			if (!s) {
				snprintf(err, errlen, "trace=: unknown message '%s'", tok);
				r = -1;
			} else if (f->nids == 64) {
				snprintf(err, errlen, "trace=: too many names");
				r = -1;
			} else {
				f->ids[f->nids++] = s->id;
			}
			continue;
		}
		n = strtoul(tok, &end, 10);
		if (*end || end == tok || n > 63) {
			snprintf(err, errlen, "%s=: '%s' is not a number from 0 to 63",
				 key, tok);
			r = -1;
		} else if (!strcmp(key, "kernel")) {
			f->any_kernels = 1;
			f->kernels |= 1ULL << n;
		} else {
			f->any_objects = 1;
			f->objects |= 1ULL << n;
		}
	}
	free(list);
	return r;
}

int mo_filter_pass(const struct mo_filter *f, const struct mo_event *ev)
{
	const struct mo_decoded *d = ev->d;

	if (f->nids) {
		int found = 0;

		for (int i = 0; i < f->nids; i++)
			if (d->schema && d->schema->id == f->ids[i] &&
			    d->schema->kind != MO_KIND_REPLY)
				found = 1;
		if (found == f->negate)
			return 0;
	}
	if (f->any_kernels && (ev->kernel > 63 || !(f->kernels >> ev->kernel & 1)))
		return 0;
	if (f->any_objects && (ev->object > 63 || !(f->objects >> ev->object & 1)))
		return 0;
	if (f->any_pages) {
		const struct mo_call *c = &d->call;
		uint64_t off, len, first, last;

		if (!(c->has & MO_CALL_OFFSET))
			return 0;
		/* The data's bytes, or length or size, or a page. */
		off = c->offset;
		len = c->has & MO_CALL_DATA ? c->data_bytes
		      : c->has & MO_CALL_LENGTH ? c->length : 4096;
		first = off / 4096;
		last = (off + (len ? len : 1) - 1) / 4096;
		if (last < f->page_first || first > f->page_last)
			return 0;
	}
	return 1;
}

static struct stat_row *row_by_id(struct mo_trace *tr, int32_t id,
				  const char *name)
{
	for (size_t i = 0; i < tr->nrows; i++)
		if (tr->rows[i].id == id)
			return &tr->rows[i];
	tr->rows = mo_xrealloc(tr->rows, (tr->nrows + 1) * sizeof(*tr->rows));
	memset(&tr->rows[tr->nrows], 0, sizeof(*tr->rows));
	tr->rows[tr->nrows].id = id;
	tr->rows[tr->nrows].name = name;
	return &tr->rows[tr->nrows++];
}

static struct stat_row *row_of(struct mo_trace *tr, const struct mo_decoded *d)
{
	return row_by_id(tr, d->schema ? d->schema->id : d->h.id,
			 d->schema ? d->schema->name : NULL);
}

static void add_latency(struct mo_trace *tr, int32_t id, uint64_t ns)
{
	struct stat_row *r = NULL;

	for (size_t i = 0; i < tr->nrows; i++)
		if (tr->rows[i].id == id)
			r = &tr->rows[i];
	if (!r)
		return;
	if (r->nlat == r->alat) {
		r->alat = r->alat ? 2 * r->alat : 64;
		r->lat = mo_xrealloc(r->lat, r->alat * sizeof(*r->lat));
	}
	r->lat[r->nlat++] = ns;
}

static void pend_add(struct mo_trace *tr, int32_t id, const struct mo_event *ev,
		     uint64_t offset, uint64_t size)
{
	if (tr->npend == tr->apend) {
		tr->apend = tr->apend ? 2 * tr->apend : 64;
		tr->pend = mo_xrealloc(tr->pend, tr->apend * sizeof(*tr->pend));
	}
	tr->pend[tr->npend++] = (struct pending){ id, ev->kernel, ev->object,
						  offset, size, ev->t };
}

/*
 * Finds and removes the oldest pending request of kind ID for the event's
 * kernel and object about the same pages (EXACT: the same offset and
 * size); returns 1 and its time in *T, or 0.
 */
static int pend_take(struct mo_trace *tr, int32_t id,
		     const struct mo_event *ev, uint64_t offset,
		     uint64_t size, int exact, uint64_t *t)
{
	for (size_t i = 0; i < tr->npend; i++) {
		struct pending *p = &tr->pend[i];

		if (p->id != id || p->kernel != ev->kernel ||
		    p->object != ev->object)
			continue;
		if (exact ? p->offset != offset || p->size != size
			  : p->offset + p->size <= offset ||
			    p->offset >= offset + (size ? size : 1))
			continue;
		*t = p->t;
		memmove(p, p + 1, (tr->npend - i - 1) * sizeof(*p));
		tr->npend--;
		return 1;
	}
	return 0;
}

/*
 * Pairs requests with answers; returns 1 and the answer's latency in *LAT
 * when EV answers a request.
 */
static int match(struct mo_trace *tr, const struct mo_event *ev,
		 uint64_t *lat)
{
	const struct mo_decoded *d = ev->d;
	const struct mo_call *c = &d->call;
	/* Length or size, else the bytes of data (decode/decode.h). */
	uint64_t off = c->offset, len = c->length, t0 = 0;
	int32_t req = 0;
	int found = 0;

	if (!d->schema || d->schema->kind == MO_KIND_REPLY)
		return 0;
	switch (d->schema->id) {
	case MO_ID_MEMORY_OBJECT_INIT:
		pend_add(tr, MO_ID_MEMORY_OBJECT_INIT, ev, 0, 0);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_REQUEST:
		pend_add(tr, MO_ID_MEMORY_OBJECT_DATA_REQUEST, ev, off, len);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_UNLOCK:
		pend_add(tr, MO_ID_MEMORY_OBJECT_DATA_UNLOCK, ev, off, len);
		break;
	case MO_ID_MEMORY_OBJECT_LOCK_REQUEST:
		/*
		 * NO_CHANGE wakes nobody, and a misaligned request finds no
		 * page (tracer/model.c): neither answers a data_unlock.
		 */
		if ((c->has & MO_CALL_LOCK) && c->lock != VM_PROT_NO_CHANGE &&
		    !(off % 4096))
			found = pend_take(tr,
					  req = MO_ID_MEMORY_OBJECT_DATA_UNLOCK,
					  ev, off, len, 0, &t0);
		if (c->reply)
			pend_add(tr, MO_ID_MEMORY_OBJECT_LOCK_REQUEST, ev, off, len);
		break;
	case MO_ID_MEMORY_OBJECT_LOCK_COMPLETED:
		found = pend_take(tr, req = MO_ID_MEMORY_OBJECT_LOCK_REQUEST,
				  ev, off, len, 1, &t0);
		break;
	case MO_ID_MEMORY_OBJECT_DATA_SUPPLY:
	case MO_ID_MEMORY_OBJECT_DATA_ERROR:
	case MO_ID_MEMORY_OBJECT_DATA_UNAVAILABLE:
		found = pend_take(tr, req = MO_ID_MEMORY_OBJECT_DATA_REQUEST,
				  ev, off, len, 0, &t0);
		/* A request answered with an error counts as failed. */
		if (found && d->schema->id == MO_ID_MEMORY_OBJECT_DATA_ERROR)
			row_by_id(tr, MO_ID_MEMORY_OBJECT_DATA_REQUEST,
				  "memory_object_data_request")->errors++;
		break;
	case MO_ID_MEMORY_OBJECT_READY:
	case MO_ID_MEMORY_OBJECT_CHANGE_ATTRIBUTES:
		found = pend_take(tr, req = MO_ID_MEMORY_OBJECT_INIT, ev, 0, 0,
				  1, &t0);
		break;
	}
	if (!found)
		return 0;
	*lat = ev->t > t0 ? ev->t - t0 : 0;
	add_latency(tr, req, *lat);
	return 1;
}

static void on_diag(void *ctx, const struct mo_diag *diag)
{
	struct mo_trace *tr = ctx;
	struct strbuf *sb = &tr->line;

	/* Diagnostics are printed even when messages are not. */
	tr->diags_now++;
	strbuf_reset(sb);
	if (tr->o.json) {
		strbuf_addstr(sb, "{\"diag\":");
		strbuf_addjson(sb, diag->name);
		strbuf_addf(sb, ",\"kernel\":%u,\"object\":%d,\"offset\":%llu,\"text\":",
			    diag->kernel, (int)diag->object,
			    (unsigned long long)diag->offset);
		strbuf_addjson(sb, diag->text);
		strbuf_addstr(sb, "}\n");
	} else {
		strbuf_addf(sb, "%s  !! %s: %s%s\n", tr->o.color ? "\033[31m" : "",
			    diag->name, diag->text, tr->o.color ? "\033[0m" : "");
	}
	fwrite(sb->buf, 1, sb->len, tr->o.out);
	for (unsigned i = 0; i < tr->nsubs; i++)
		if (tr->subs[i].diag)
			tr->subs[i].diag(tr->subs[i].ctx, diag);
}

void mo_trace_diag(struct mo_trace *tr, const struct mo_diag *d)
{
	tr->other_diags++;
	on_diag(tr, d);
}

struct mo_trace *mo_trace_new(const struct mo_trace_opts *opts)
{
	struct mo_trace *tr = mo_xrealloc(NULL, sizeof(*tr));
	struct mo_model_opts mo = { opts->unlock_timeout_ns, on_diag, tr,
				    opts->request_timeout_ns, opts->pages };

	memset(tr, 0, sizeof(*tr));
	tr->o = *opts;
	if (!tr->o.out)
		tr->o.out = stdout;
	if (tr->o.no_time) {
		tr->o.tstamp = MO_TS_NONE;
		tr->o.latency = 0;
	}
	strbuf_init(&tr->line, 512);
	strbuf_init(&tr->text, 512);
	/* Deterministic output: no times, and no addresses either. */
	tr->ropts.hide_addresses = tr->o.no_time;
	tr->model = mo_model_new(&mo);
	return tr;
}

static void add_time(struct mo_trace *tr, uint64_t t)
{
	struct strbuf *sb = &tr->line;
	uint64_t real = t + tr->o.realtime_base_ns;
	time_t secs = (time_t)(real / 1000000000ULL);
	struct tm tm;

	switch (tr->o.tstamp) {
	case MO_TS_NONE:
		return;
	case MO_TS_TIME:
	case MO_TS_TIME_US:
		gmtime_r(&secs, &tm);
		strbuf_addf(sb, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (tr->o.tstamp == MO_TS_TIME_US)
			strbuf_addf(sb, ".%06llu",
				    (unsigned long long)(real % 1000000000ULL / 1000));
		break;
	case MO_TS_EPOCH:
		strbuf_addf(sb, "%llu.%06llu",
			    (unsigned long long)(real / 1000000000ULL),
			    (unsigned long long)(real % 1000000000ULL / 1000));
		break;
	case MO_TS_RELATIVE: {
		uint64_t dt = tr->have_last && t > tr->last_t ? t - tr->last_t : 0;

		strbuf_addf(sb, "%6llu.%06llu",
			    (unsigned long long)(dt / 1000000000ULL),
			    (unsigned long long)(dt % 1000000000ULL / 1000));
		break;
	}
	}
	strbuf_addch(sb, ' ');
}

static const char *const kind_names[] = {
	[MO_EV_FORWARDED] = "forwarded", [MO_EV_INJECTED] = "injected",
	[MO_EV_DROPPED] = "dropped", [MO_EV_DELAYED] = "delayed",
	[MO_EV_HELD] = "held", [MO_EV_RELEASED] = "released",
	[MO_EV_CONSUMED] = "consumed",
};

/*
 * "k3>" or "k?<": who sent a message, as the log and check write it
 * (without printf: it is on every line).
 */
static void add_who(struct strbuf *sb, const struct mo_event *ev)
{
	strbuf_addch(sb, 'k');
	if (ev->kernel == MO_KERNEL_UNKNOWN)
		strbuf_addch(sb, '?');
	else
		strbuf_addu(sb, ev->kernel);
	strbuf_addch(sb, ev->dir == MO_K2M ? '>' : '<');
}

static void log_event(struct mo_trace *tr, const struct mo_event *ev,
		      int answered, uint64_t latency)
{
	struct strbuf *sb = &tr->line;
	/*
	 * The log's times do not go back. A message is stamped by the thread
	 * that read it, and one read while motrace was letting a held
	 * message go is logged behind it: it shows the later time.
	 */
	uint64_t t = tr->have_last && ev->t < tr->last_t ? tr->last_t : ev->t;

	strbuf_reset(sb);
	if (tr->o.json) {
		strbuf_addstr(sb, "{");
		if (!tr->o.no_time)
			strbuf_addf(sb, "\"t\":%llu.%09llu,",
				    (unsigned long long)(t / 1000000000ULL),
				    (unsigned long long)(t % 1000000000ULL));
		strbuf_addf(sb, "\"event\":\"%s\",\"dir\":\"%s\",\"kernel\":%d,\"object\":%d,",
			    kind_names[ev->kind],
			    ev->dir == MO_K2M ? "kernel-to-manager" : "manager-to-kernel",
			    (int)ev->kernel, (int)ev->object);
		if (answered && !tr->o.no_time)
			strbuf_addf(sb, "\"latency\":%.9f,", latency / 1e9);
		if (tr->o.stacks && ev->stack) {
			strbuf_addstr(sb, "\"stack\":");
			mo_stack_json(sb, ev->stack, tr->ropts.hide_addresses);
			strbuf_addch(sb, ',');
		}
		strbuf_addstr(sb, "\"msg\":");
		mo_render_json(sb, ev->buf, ev->d, &tr->ropts);
		strbuf_addstr(sb, "}\n");
	} else {
		add_time(tr, t);
		if (tr->o.color)
			strbuf_addstr(sb, ev->dir == MO_K2M ? "\033[36m" : "\033[33m");
		add_who(sb, ev);
		strbuf_addch(sb, ' ');
		mo_render_text(sb, ev->buf, ev->d, &tr->ropts);
		if (tr->o.color)
			strbuf_addstr(sb, "\033[0m");
		if (ev->kind == MO_EV_DELAYED)
			strbuf_addf(sb, " [delayed %.6fs]", ev->delay_ns / 1e9);
		else if (ev->kind != MO_EV_FORWARDED)
			strbuf_addf(sb, " [%s]", kind_names[ev->kind]);
		if (answered && tr->o.latency)
			strbuf_addf(sb, " <%llu.%06llu>",
				    (unsigned long long)(latency / 1000000000ULL),
				    (unsigned long long)(latency % 1000000000ULL / 1000));
		strbuf_addch(sb, '\n');
		if (tr->o.stacks && ev->stack)
			mo_stack_text(sb, ev->stack, tr->ropts.hide_addresses);
	}
	fwrite(sb->buf, 1, sb->len, tr->o.out);
	tr->last_t = t;
	tr->have_last = 1;
}

void mo_trace_event(struct mo_trace *tr, const struct mo_event *ev)
{
	struct stat_row *row;
	uint64_t latency = 0;
	int answered = 0;

	/* A message dropped or held has not happened (yet) for the model. */
	int happened = ev->kind != MO_EV_DROPPED && ev->kind != MO_EV_HELD;

	if (ev->kind == MO_EV_DROPPED || ev->kind == MO_EV_HELD)
		mo_trace_kept(tr, ev);
	if (happened || ev->kind == MO_EV_DROPPED) {
		row = row_of(tr, ev->d);
		row->count++;
		if (ev->d->status != MO_OK)
			row->errors++;
	}
	if (happened)
		answered = match(tr, ev, &latency);
	if (!tr->o.quiet && mo_filter_pass(&tr->o.filter, ev))
		log_event(tr, ev, answered, latency);
	tr->diags_now = 0;
	if (tr->listener) {
		strbuf_reset(&tr->text);
		add_who(&tr->text, ev);
		strbuf_addch(&tr->text, ' ');
		mo_render_text(&tr->text, ev->buf, ev->d, &tr->ropts);
		if (ev->kind != MO_EV_FORWARDED)
			strbuf_addf(&tr->text, " [%s]", kind_names[ev->kind]);
		tr->listener(tr->listener_ctx, ev, tr->text.buf);
	}
	for (unsigned i = 0; i < tr->nsubs; i++)
		if (tr->subs[i].event)
			tr->subs[i].event(tr->subs[i].ctx, ev);
	if (happened && ev->d->status == MO_OK) {
		mo_model_origin(tr->model, ev->kind == MO_EV_INJECTED
				? MO_FROM_MOTRACE
				: ev->kind == MO_EV_RELEASED ||
				  ev->kind == MO_EV_DELAYED
				? MO_FROM_KEPT : MO_FROM_PEER,
				ev->arrived);
		mo_model_feed(tr->model, ev->kernel, ev->object, ev->dir, ev->d,
			      ev->buf, ev->t);
		mo_model_origin(tr->model, MO_FROM_PEER, 0);
	}
	if (tr->diags_now) {
		row = row_of(tr, ev->d);
		row->errors += tr->diags_now;
	}
	mo_model_tick(tr->model, ev->t);
}

void mo_trace_kept(struct mo_trace *tr, const struct mo_event *ev)
{
	mo_model_kept(tr->model, ev->kernel, ev->object, ev->dir, ev->d,
		      ev->buf, ev->kind == MO_EV_DROPPED ? MO_KEPT_DROPPED
							 : MO_KEPT_HELD, ev->t);
}

void mo_trace_tick(struct mo_trace *tr, uint64_t now)
{
	mo_model_tick(tr->model, now);
}

void mo_trace_flush(struct mo_trace *tr)
{
	fflush(tr->o.out);
}

void mo_trace_note(struct mo_trace *tr, uint64_t now, const char *fmt, ...)
{
	struct strbuf *sb = &tr->line;
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	strbuf_reset(sb);
	if (tr->o.json) {
		strbuf_addstr(sb, "{\"note\":");
		strbuf_addjson(sb, text);
		strbuf_addstr(sb, "}\n");
	} else {
		add_time(tr, now);
		strbuf_addf(sb, "+++ %s +++\n", text);
	}
	fwrite(sb->buf, 1, sb->len, tr->o.out);
	fflush(tr->o.out);
	for (unsigned i = 0; i < tr->nsubs; i++)
		if (tr->subs[i].note)
			tr->subs[i].note(tr->subs[i].ctx, now, text);
}

const char *mo_trace_send_error(int kr)
{
	/* GNU Mach include/mach/message.h, the MACH_SEND_* codes. */
	static const struct { int kr; const char *what; } meanings[] = {
		{ 0x10000002, "out-of-line data could not be read" },
		{ 0x10000003, "the port is gone" },
		{ 0x10000004, "its queue stayed full" },
		{ 0x10000007, "the send was interrupted" },
		{ 0x10000009, "the reply port is not valid" },
		{ 0x1000000a, "a port right the message carries is no longer motrace's" },
		{ 0x1000000c, "its out-of-line memory is not valid" },
		{ 0x1000000d, "no memory for it" },
		{ 0x1000000f, "a type descriptor is not valid" },
		{ 0x10000010, "its header is not valid" },
	};
	static char text[160];
	const char *name = mo_xlat_find(mo_xlat_kern_return, (uint32_t)kr);
	const char *what = "an error of mach_msg";

	for (size_t i = 0; i < sizeof(meanings) / sizeof(meanings[0]); i++)
		if (meanings[i].kr == kr)
			what = meanings[i].what;
	if (name)
		snprintf(text, sizeof(text), "%s: %s", name, what);
	else
		snprintf(text, sizeof(text), "error 0x%x: %s", (unsigned)kr, what);
	return text;
}

void mo_trace_send_failed(struct mo_trace *tr, uint64_t now, int32_t id,
			  const char *what, int kr)
{
	const struct mo_msg_schema *s = mo_schema_find(MO_ABI_X86_64, id);

	mo_trace_note(tr, now, "%s to %s was not delivered: %s",
		      s ? short_name(s->name) : "a message", what,
		      mo_trace_send_error(kr));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void add_secs(struct strbuf *sb, uint64_t ns)
{
	strbuf_addf(sb, " %9.6f", ns / 1e9);
}

void mo_trace_stats(const struct mo_trace *tr, struct strbuf *out)
{
	uint64_t total = 0, errors = 0;

	strbuf_addstr(out, "    calls   errors answered       min    median       p99       max message\n");
	strbuf_addstr(out, "--------- -------- -------- --------- --------- --------- --------- -------\n");
	for (size_t i = 0; i < tr->nrows; i++) {
		struct stat_row *r = &tr->rows[i];

		total += r->count;
		errors += r->errors;
		strbuf_addf(out, "%9llu %8llu %8zu", (unsigned long long)r->count,
			    (unsigned long long)r->errors, r->nlat);
		if (r->nlat) {
			qsort(r->lat, r->nlat, sizeof(*r->lat), cmp_u64);
			add_secs(out, r->lat[0]);
			add_secs(out, r->lat[(r->nlat - 1) / 2]);
			add_secs(out, r->lat[(r->nlat * 99 + 99) / 100 - 1]);
			add_secs(out, r->lat[r->nlat - 1]);
		} else {
			strbuf_addstr(out, "         -         -         -         -");
		}
		if (r->name)
			strbuf_addf(out, " %s%s\n", short_name(r->name),
				    r->id != 0 && mo_schema_find(MO_ABI_X86_64, r->id) &&
				    mo_schema_find(MO_ABI_X86_64, r->id)->kind == MO_KIND_REPLY
				    ? "_reply" : "");
		else
			strbuf_addf(out, " msg_%d\n", r->id);
	}
	strbuf_addstr(out, "--------- -------- --------\n");
	strbuf_addf(out, "%9llu %8llu          total\n", (unsigned long long)total,
		    (unsigned long long)errors);
}

static void finish_json(struct mo_trace *tr)
{
	struct strbuf out = STRBUF_INIT;

	if (tr->o.pages) {
		strbuf_addstr(&out, "{\"pages\":");
		mo_model_pages_json(tr->model, &out);
		strbuf_addstr(&out, "}\n");
	}
	for (size_t i = 0; tr->o.stats && i < tr->nrows; i++) {
		struct stat_row *r = &tr->rows[i];

		strbuf_addf(&out, "{\"stats\":{\"id\":%d,\"calls\":%llu,\"errors\":%llu,\"answered\":%zu",
			    r->id, (unsigned long long)r->count,
			    (unsigned long long)r->errors, r->nlat);
		if (r->nlat) {
			qsort(r->lat, r->nlat, sizeof(*r->lat), cmp_u64);
			strbuf_addf(&out, ",\"min\":%.9f,\"median\":%.9f,\"p99\":%.9f,\"max\":%.9f",
				    r->lat[0] / 1e9, r->lat[(r->nlat - 1) / 2] / 1e9,
				    r->lat[(r->nlat * 99 + 99) / 100 - 1] / 1e9,
				    r->lat[r->nlat - 1] / 1e9);
		}
		strbuf_addstr(&out, "}}\n");
	}
	strbuf_addf(&out, "{\"diagnostics\":%u}\n", mo_trace_ndiags(tr));
	fputs(out.buf, tr->o.out);
	fflush(tr->o.out);
	strbuf_release(&out);
}

/* The end of the session, the last thing the subscribers see. */
static void tell_end(struct mo_trace *tr)
{
	for (unsigned i = 0; i < tr->nsubs; i++)
		if (tr->subs[i].end)
			tr->subs[i].end(tr->subs[i].ctx, mo_trace_ndiags(tr));
}

void mo_trace_finish(struct mo_trace *tr)
{
	struct strbuf out = STRBUF_INIT;

	if (tr->o.json) {
		finish_json(tr);
		tell_end(tr);
		return;
	}

	if (tr->o.pages) {
		mo_model_pages(tr->model, &out);
		fputs(out.buf, tr->o.out);
		strbuf_reset(&out);
	}
	if (tr->o.stats) {
		mo_trace_stats(tr, &out);
		fputs(out.buf, tr->o.out);
		strbuf_reset(&out);
	}
	mo_model_summary(tr->model, &out);
	fprintf(tr->o.out, "%u diagnostic(s)\n%s", mo_trace_ndiags(tr),
		out.buf);
	fflush(tr->o.out);
	strbuf_release(&out);
	tell_end(tr);
}

void mo_trace_free(struct mo_trace *tr)
{
	if (!tr)
		return;
	mo_model_free(tr->model);
	for (size_t i = 0; i < tr->nrows; i++)
		free(tr->rows[i].lat);
	free(tr->rows);
	free(tr->pend);
	strbuf_release(&tr->line);
	strbuf_release(&tr->text);
	free(tr);
}

struct mo_trace_opts *mo_trace_options(struct mo_trace *tr)
{
	return &tr->o;
}

void mo_trace_listen(struct mo_trace *tr, mo_trace_listener *fn, void *ctx)
{
	tr->listener = fn;
	tr->listener_ctx = ctx;
}

int mo_trace_subscribe(struct mo_trace *tr, const struct mo_subscriber *s)
{
	if (tr->nsubs == sizeof(tr->subs) / sizeof(tr->subs[0]))
		return -1;
	tr->subs[tr->nsubs++] = *s;
	return 0;
}

int mo_trace_wants_data(const struct mo_trace *tr)
{
	for (unsigned i = 0; i < tr->nsubs; i++)
		if (tr->subs[i].data)
			return 1;
	return 0;
}

struct mo_model *mo_trace_model(struct mo_trace *tr)
{
	return tr->model;
}

unsigned mo_trace_ndiags(const struct mo_trace *tr)
{
	return mo_model_ndiags(tr->model) + tr->other_diags;
}
