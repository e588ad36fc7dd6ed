/*
 * tracer/record.c: writing recordings with libpcap.
 *
 * Writing: each event becomes one record (or, past MO_REC_SNAPLEN, a
 * record and its continuations) in a stdio buffer that is written out
 * only between whole records: by a writer thread every WRITE_MS, and
 * before a record would not fit. So a motrace killed at any moment leaves
 * a file that ends with a whole record and lacks at most the last
 * WRITE_MS, and the proxy itself makes no write calls for it (writing at
 * each wait cost a write per fault). The thread touches nothing but the
 * recorder's buffer, under its lock.
 *
 * Reading them back is tracer/playback.c.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "tracer/record.h"
#include "util/strbuf.h"
#include "util/le.h"

#define FILE_BUFFER (4u << 20)	/* stdio buffer: many whole records */
#define WRITE_MS 200		/* the writer thread's period */
#define UNKNOWN32 0xffffffffu

struct mo_recorder {
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *f;
	char *fbuf;
	size_t pending;		/* bytes in the stdio buffer */
	pthread_t writer;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop, have_writer;
	uint64_t base;		/* realtime - monotonic */
	uint32_t seq;
	int failed;
	char why[160];
	struct strbuf rec;
	struct strbuf frag;
};

/* The fields of motrace's header that describe the event. */
struct rec_head {
	unsigned type, kind, dir, abi;
	uint32_t seq, kernel, object, msg_len, nool;
	uint64_t t, delay_ns, arrived;
};

/* Starts R's record buffer with a header for H (lengths filled later). */
static void begin(struct mo_recorder *r, const struct rec_head *h)
{
	uint8_t *p;

	strbuf_reset(&r->rec);
	strbuf_grow(&r->rec, MO_REC_HDRLEN);
	p = (uint8_t *)r->rec.buf;
	memset(p, 0, MO_REC_HDRLEN);
	memcpy(p, "MOTR", 4);
	p[4] = MO_REC_VERSION;
	p[5] = (uint8_t)h->type;
	put16(p + 6, MO_REC_HDRLEN);
	put32(p + 8, h->seq);
	p[12] = (uint8_t)h->kind;
	p[13] = (uint8_t)h->dir;
	p[14] = (uint8_t)h->abi;
	put32(p + 16, h->kernel);
	put32(p + 20, h->object);
	put64(p + 24, h->t);
	put64(p + 32, h->delay_ns);
	put32(p + 40, h->msg_len);
	put32(p + 44, h->nool);
	put64(p + 56, h->arrived);
	r->rec.len = MO_REC_HDRLEN;
}

static void write_out(struct mo_recorder *r)
{
	if (!r->pending)
		return;
	if (pcap_dump_flush(r->dump) < 0 && !r->failed) {
		r->failed = 1;
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
	}
	r->pending = 0;
}

static void dump_one(struct mo_recorder *r, const uint8_t *bytes, size_t len,
		     uint64_t t)
{
	struct pcap_pkthdr ph;
	uint64_t real = t + r->base;

	/* A record goes into the buffer whole, or the buffer goes first. */
	if (r->pending + len + 16 > FILE_BUFFER)
		write_out(r);
	ph.ts.tv_sec = (time_t)(real / 1000000000ULL);
	ph.ts.tv_usec = (suseconds_t)(real % 1000000000ULL);	/* nanoseconds */
	ph.caplen = ph.len = (bpf_u_int32)len;
	pcap_dump((u_char *)r->dump, &ph, bytes);
	r->pending += len + 16;
}

/* Writes R's record buffer out, in as many records as it needs. */
static void finish(struct mo_recorder *r, uint64_t t)
{
	uint8_t *p = (uint8_t *)r->rec.buf;
	size_t payload = r->rec.len - MO_REC_HDRLEN;
	const size_t room = MO_REC_SNAPLEN - MO_REC_HDRLEN;
	size_t off = 0;

	put32(p + 48, (uint32_t)payload);
	if (payload <= room) {
		dump_one(r, p, r->rec.len, t);
	} else {
		while (off < payload) {
			size_t n = payload - off < room ? payload - off : room;
			uint8_t *q;

			strbuf_reset(&r->frag);
			strbuf_add(&r->frag, p, MO_REC_HDRLEN);
			strbuf_add(&r->frag, p + MO_REC_HDRLEN + off, n);
			q = (uint8_t *)r->frag.buf;
			put32(q + 52, (uint32_t)off);
			q[15] = (uint8_t)((p[15] & ~MO_REC_FLAG_MORE) |
					  (off + n < payload ? MO_REC_FLAG_MORE : 0));
			dump_one(r, q, r->frag.len, t);
			off += n;
		}
	}
}

static void *writer_main(void *arg)
{
	struct mo_recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WRITE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->wake, &r->lock, &ts);
		write_out(r);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct mo_recorder *mo_recorder_open(const char *path,
				     const struct mo_rec_session *s,
				     char *err, size_t errlen)
{
	struct mo_recorder *r = calloc(1, sizeof(*r));
	struct rec_head h = { .type = MO_REC_SESSION, .kernel = UNKNOWN32,
			      .object = UNKNOWN32 };
	struct timespec now;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	strbuf_init(&r->rec, MO_REC_SNAPLEN);
	strbuf_init(&r->frag, 0);
	r->base = s->realtime_base_ns;
	r->f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	if (!r->f) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(errno));
		goto fail;
	}
	/* Standard output keeps its own buffer (a pipe reader sees records). */
	r->fbuf = r->f == stdout ? NULL : malloc(FILE_BUFFER);
	if (r->f != stdout &&
	    (!r->fbuf || setvbuf(r->f, r->fbuf, _IOFBF, FILE_BUFFER))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->pd = pcap_open_dead_with_tstamp_precision(MO_REC_LINKTYPE,
						     MO_REC_SNAPLEN,
						     PCAP_TSTAMP_PRECISION_NANO);
	if (!r->pd || !(r->dump = pcap_dump_fopen(r->pd, r->f))) {
		snprintf(err, errlen, "cannot start '%s': %s", path,
			 r->pd ? pcap_geterr(r->pd) : "libpcap failed");
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	h.t = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	begin(r, &h);
	strbuf_addf(&r->rec, "motrace %s\ncommand %s\nrealtime-base %llu\n",
		    s->version, s->command,
		    (unsigned long long)s->realtime_base_ns);
	finish(r, h.t);
	write_out(r);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	if (pthread_create(&r->writer, NULL, writer_main, r) == 0)
		r->have_writer = 1;
	return r;
fail:
	if (r->f && r->f != stdout)
		fclose(r->f);
	if (r->pd)
		pcap_close(r->pd);
	free(r->fbuf);
	strbuf_release(&r->rec);
	strbuf_release(&r->frag);
	free(r);
	return NULL;
}

void mo_recorder_event(struct mo_recorder *r, const struct mo_event *ev)
{
	const struct mo_decoded *d = ev->d;
	struct rec_head h = {
		.type = MO_REC_MESSAGE, .kind = ev->kind, .dir = ev->dir,
		.abi = d->abi, .seq = ++r->seq, .kernel = ev->kernel,
		.object = ev->object, .t = ev->t, .delay_ns = ev->delay_ns,
		.arrived = ev->arrived,
		.msg_len = (uint32_t)ev->len,
	};
	struct mo_region regions[MO_MAX_ITEMS];
	unsigned nool = 0;
	uint64_t total = ev->len;
	size_t table;

	/* The out-of-line regions, in item order, from wherever they are. */
	if (ev->ool) {
		for (unsigned i = 0; i < ev->nool && i < MO_MAX_ITEMS; i++)
			regions[nool++] = ev->ool[i];
	} else {
		for (unsigned i = 0; i < d->nitems; i++) {
			const struct mo_item *it = &d->items[i];
			uint64_t addr;

			if (it->is_inline)
				continue;
			addr = mo_item_ool_addr(ev->buf, it, d->abi);
			regions[nool].size = mo_item_bytes(it);
			regions[nool].data = ev->ool_local && addr
				? (const uint8_t *)(uintptr_t)addr : NULL;
			nool++;
		}
	}
	h.nool = nool;
	table = (size_t)nool * 16;
	total += table;
	begin(r, &h);
	strbuf_add(&r->rec, ev->buf, ev->len);
	for (unsigned i = 0; i < nool; i++) {
		uint8_t e[16] = { 0 };
		int kept = regions[i].data &&
			   total + regions[i].size <= MO_REC_MAX_PAYLOAD;

		if (kept)
			total += regions[i].size;
		else
			regions[i].data = NULL;
		put64(e, regions[i].size);
		put32(e + 8, kept ? MO_REC_OOL_KEPT : 0);
		strbuf_add(&r->rec, e, sizeof(e));
	}
	for (unsigned i = 0; i < nool; i++)
		if (regions[i].data)
			strbuf_add(&r->rec, regions[i].data,
				   (size_t)regions[i].size);
	if (ev->stack) {
		mo_stack_encode(&r->rec, ev->stack);
		r->rec.buf[15] |= MO_REC_FLAG_STACK;
	}
	pthread_mutex_lock(&r->lock);
	finish(r, ev->t);
	pthread_mutex_unlock(&r->lock);
}

void mo_recorder_note(struct mo_recorder *r, uint64_t t, const char *text)
{
	struct rec_head h = { .type = MO_REC_NOTE, .kernel = UNKNOWN32,
			      .object = UNKNOWN32, .t = t };

	begin(r, &h);
	strbuf_addstr(&r->rec, text);
	pthread_mutex_lock(&r->lock);
	finish(r, t);
	pthread_mutex_unlock(&r->lock);
}

static void sub_event(void *ctx, const struct mo_event *ev)
{
	mo_recorder_event(ctx, ev);
}

static void sub_note(void *ctx, uint64_t t, const char *text)
{
	mo_recorder_note(ctx, t, text);
}

void mo_recorder_attach(struct mo_recorder *r, struct mo_trace *tr)
{
	struct mo_subscriber s = { .event = sub_event, .note = sub_note,
				   .ctx = r, .data = 1 };

	mo_trace_subscribe(tr, &s);
}

int mo_recorder_close(struct mo_recorder *r, char *err, size_t errlen)
{
	int rc;

	if (r->have_writer) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->writer, NULL);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	write_out(r);
	if ((fflush(r->f) || ferror(r->f)) && !r->failed) {
		r->failed = 1;
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
	}
	/* libpcap's dumper is the FILE itself: closing it ends both. */
	if (r->f != stdout && fclose(r->f) && !r->failed) {
		r->failed = 1;
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
	}
	pcap_close(r->pd);
	rc = r->failed ? -1 : 0;
	if (rc)
		snprintf(err, errlen, "%s", r->why);
	free(r->fbuf);
	strbuf_release(&r->rec);
	strbuf_release(&r->frag);
	free(r);
	return rc;
}
