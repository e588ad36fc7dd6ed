/*
 * tracer/record.c: writing recordings with libpcap and reading them back.
 *
 * Writing: each event becomes one record (or, past MO_REC_SNAPLEN, a
 * record and its continuations) in a stdio buffer that motrace writes out
 * only between whole records: whenever the proxy is about to wait, at
 * least once a second while traffic flows, and before a record would not
 * fit. So a motrace killed at any moment leaves a file that ends with a
 * whole record.
 *
 * Reading: every field of motrace's header is checked before it is used;
 * a record that lies about a length is refused with its number and the
 * byte offset of the field.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "tracer/record.h"
#include "util/strbuf.h"

#define FILE_BUFFER (4u << 20)	/* stdio buffer: many whole records */
#define FLUSH_NS 1000000000ULL	/* write out at least this often */
#define UNKNOWN32 0xffffffffu
#define FLAG_MORE 1u		/* the payload goes on in the next record */
#define OOL_KEPT 1u		/* the region's bytes follow the table */

struct mo_recorder {
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *f;
	char *fbuf;
	size_t pending;		/* bytes in the stdio buffer */
	uint64_t last_flush_t;
	uint64_t base;		/* realtime - monotonic */
	uint32_t seq;
	uint64_t count;
	int failed;
	char why[160];
	struct strbuf rec;
	struct strbuf frag;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The fields of motrace's header that describe the event. */
struct rec_head {
	unsigned type, kind, dir, abi;
	uint32_t seq, kernel, object, msg_len, nool;
	uint64_t t, delay_ns;
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
			q[15] = off + n < payload ? FLAG_MORE : 0;
			dump_one(r, q, r->frag.len, t);
			off += n;
		}
	}
	if (t - r->last_flush_t >= FLUSH_NS) {
		write_out(r);
		r->last_flush_t = t;
	}
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
	r->last_flush_t = h.t;
	begin(r, &h);
	strbuf_addf(&r->rec, "motrace %s\ncommand %s\nrealtime-base %llu\n",
		    s->version, s->command,
		    (unsigned long long)s->realtime_base_ns);
	finish(r, h.t);
	write_out(r);
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
		put32(e + 8, kept ? OOL_KEPT : 0);
		strbuf_add(&r->rec, e, sizeof(e));
	}
	for (unsigned i = 0; i < nool; i++)
		if (regions[i].data)
			strbuf_add(&r->rec, regions[i].data,
				   (size_t)regions[i].size);
	finish(r, ev->t);
	r->count++;
}

void mo_recorder_note(struct mo_recorder *r, uint64_t t, const char *text)
{
	struct rec_head h = { .type = MO_REC_NOTE, .kernel = UNKNOWN32,
			      .object = UNKNOWN32, .t = t };

	begin(r, &h);
	strbuf_addstr(&r->rec, text);
	finish(r, t);
}

void mo_recorder_flush(struct mo_recorder *r)
{
	write_out(r);
}

uint64_t mo_recorder_count(const struct mo_recorder *r)
{
	return r->count;
}

static void sub_event(void *ctx, const struct mo_event *ev)
{
	mo_recorder_event(ctx, ev);
}

static void sub_note(void *ctx, uint64_t t, const char *text)
{
	mo_recorder_note(ctx, t, text);
}

static void sub_flush(void *ctx)
{
	mo_recorder_flush(ctx);
}

void mo_recorder_attach(struct mo_recorder *r, struct mo_trace *tr)
{
	struct mo_subscriber s = { sub_event, sub_note, sub_flush, r };

	mo_trace_subscribe(tr, &s);
}

int mo_recorder_close(struct mo_recorder *r, char *err, size_t errlen)
{
	int rc;

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

/* Reading. */

struct mo_playback {
	pcap_t *p;
	const char *path;
	unsigned number;	/* records read */
	struct mo_rec_session session;
	struct strbuf payload;	/* the event being put together */
	struct strbuf text;
	unsigned malformed;	/* messages that did not decode */
	char first_bad[300];
};

int mo_is_recording(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t m[4];
	int r = 0;

	if (!f)
		return 0;
	if (fread(m, 1, 4, f) == 4) {
		uint32_t v = get32(m);

		r = v == 0xa1b2c3d4 || v == 0xd4c3b2a1 || v == 0xa1b23c4d ||
		    v == 0x4d3cb2a1 || v == 0x0a0d0d0a;
	}
	fclose(f);
	return r;
}

/* Reads one pcap record: 1, 0 at the end, -1 with ERR. */
static int read_raw(struct mo_playback *pb, const uint8_t **data,
		    size_t *len, uint64_t *off, char *err, size_t errlen)
{
	struct pcap_pkthdr *ph;
	const u_char *bytes;
	long pos = ftell(pcap_file(pb->p));
	int r;

	*off = pos < 0 ? 0 : (uint64_t)pos;
	r = pcap_next_ex(pb->p, &ph, &bytes);
	if (r == -2)
		return 0;
	pb->number++;
	if (r != 1) {
		snprintf(err, errlen, "%s: record %u at byte %llu: %s",
			 pb->path, pb->number, (unsigned long long)*off,
			 pcap_geterr(pb->p));
		return -1;
	}
	if (ph->caplen < ph->len) {
		snprintf(err, errlen,
			 "%s: record %u at byte %llu: only %u of its %u bytes were captured",
			 pb->path, pb->number, (unsigned long long)*off,
			 ph->caplen, ph->len);
		return -1;
	}
	*data = bytes;
	*len = ph->caplen;
	return 1;
}

#define BAD(...) do { \
		char what_[200]; \
		snprintf(what_, sizeof(what_), __VA_ARGS__); \
		snprintf(err, errlen, "%s: record %u at byte %llu: %s", \
			 pb->path, pb->number, (unsigned long long)off, what_); \
		return -1; \
	} while (0)

/*
 * Reads the next event's records and checks motrace's header in each.
 * OFF is reported as the offset of the field that is wrong.
 */
static int read_event(struct mo_playback *pb, struct mo_record *rec,
		      char *err, size_t errlen)
{
	const uint8_t *data;
	size_t len;
	uint64_t start, off;
	uint32_t payload = 0, got = 0;
	int r;

	strbuf_reset(&pb->payload);
	for (;;) {
		unsigned hlen, type;
		uint32_t plen, foff;

		r = read_raw(pb, &data, &len, &start, err, errlen);
		if (r <= 0) {
			if (r == 0 && got) {
				snprintf(err, errlen,
					 "%s: record %u at byte %llu: the file ends inside a message (%u of its %u bytes, from record %u)",
					 pb->path, pb->number + 1,
					 (unsigned long long)start, got, payload,
					 rec->number);
				return -1;
			}
			return r;
		}
		off = start + 16;
		if (len < 8)
			BAD("%zu bytes is too short for motrace's header", len);
		if (memcmp(data, "MOTR", 4))
			BAD("not a motrace record (no 'MOTR')");
		off += 4;
		if (data[4] != MO_REC_VERSION)
			BAD("record version %u, this motrace reads %u", data[4],
			    MO_REC_VERSION);
		off += 2;
		hlen = get16(data + 6);
		if (hlen < MO_REC_HDRLEN || hlen > len)
			BAD("header length %u (at least %u, at most the record's %zu)",
			    hlen, MO_REC_HDRLEN, len);
		off = start + 16 + 5;
		type = data[5];
		if (type > MO_REC_NOTE)
			BAD("unknown record type %u", type);
		plen = get32(data + 48);
		foff = get32(data + 52);
		if (!got) {
			if (foff) {
				off = start + 16 + 52;
				BAD("a continuation (at %u) with nothing to continue",
				    foff);
			}
			if (plen > MO_REC_MAX_PAYLOAD) {
				off = start + 16 + 48;
				BAD("payload of %u bytes (at most %u)", plen,
				    MO_REC_MAX_PAYLOAD);
			}
			payload = plen;
			rec->type = type;
			rec->seq = get32(data + 8);
			rec->kind = data[12];
			rec->dir = data[13] ? MO_M2K : MO_K2M;
			rec->abi = data[14];
			rec->kernel = get32(data + 16);
			rec->object = get32(data + 20);
			rec->t = get64(data + 24);
			rec->delay_ns = get64(data + 32);
			rec->len = get32(data + 40);
			rec->nool = get32(data + 44);
			rec->number = pb->number;
			rec->offset = start;
		} else if (foff != got || plen != payload ||
			   get32(data + 8) != rec->seq) {
			off = start + 16 + 52;
			BAD("continuation at %u of message %u (%u bytes), expected %u of message %u (%u bytes)",
			    foff, get32(data + 8), plen, got, rec->seq, payload);
		}
		if (len - hlen > payload - got) {
			off = start + 16 + 48;
			BAD("%zu bytes after the header, the payload has %u left",
			    len - hlen, payload - got);
		}
		strbuf_add(&pb->payload, data + hlen, len - hlen);
		got += (uint32_t)(len - hlen);
		if (got == payload)
			break;
		if (!(data[15] & FLAG_MORE)) {
			off = start + 16 + 15;
			BAD("payload of %u bytes, the record ends at %u", payload,
			    got);
		}
	}
	return 1;
}

/* Splits a message record's payload into the message and its regions. */
static int split_message(struct mo_playback *pb, struct mo_record *rec,
			 char *err, size_t errlen)
{
	const uint8_t *p = (const uint8_t *)pb->payload.buf;
	size_t n = pb->payload.len, table, at;
	uint64_t off = rec->offset + 16;

	if (rec->kind > MO_EV_CONSUMED) {
		off += 12;
		BAD("unknown event kind %u", rec->kind);
	}
	if (rec->abi >= MO_ABI_COUNT) {
		off += 14;
		BAD("unknown ABI profile %u", rec->abi);
	}
	if (rec->nool > 64) {
		off += 44;
		BAD("%u out-of-line regions (at most 64)", rec->nool);
	}
	table = (size_t)rec->nool * 16;
	if (rec->len > n || table > n - rec->len) {
		off += 40;
		BAD("a %zu-byte message and %u regions do not fit its %zu bytes",
		    rec->len, rec->nool, n);
	}
	rec->msg = p;
	at = rec->len + table;
	for (unsigned i = 0; i < rec->nool; i++) {
		const uint8_t *e = p + rec->len + 16 * i;
		uint64_t size = get64(e);

		rec->ool[i].size = size;
		rec->ool[i].data = NULL;
		if (!(get32(e + 8) & OOL_KEPT))
			continue;
		if (size > n - at) {
			off += MO_REC_HDRLEN + rec->len + 16 * i;
			BAD("region %u says %llu bytes, %zu are left", i,
			    (unsigned long long)size, n - at);
		}
		rec->ool[i].data = p + at;
		at += (size_t)size;
	}
	if (at != n) {
		off += 48;
		BAD("%zu bytes left over after the message and its regions",
		    n - at);
	}
	return 0;
}

static void parse_session(struct mo_rec_session *s, const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (!strncmp(line, "motrace ", 8) && n - 8 < sizeof(s->version))
			snprintf(s->version, sizeof(s->version), "%.*s",
				 (int)(n - 8), line + 8);
		else if (!strncmp(line, "command ", 8))
			snprintf(s->command, sizeof(s->command), "%.*s",
				 (int)(n - 8), line + 8);
		else if (!strncmp(line, "realtime-base ", 14))
			s->realtime_base_ns = strtoull(line + 14, NULL, 10);
		line = nl ? nl + 1 : NULL;
	}
}

int mo_playback_next(struct mo_playback *pb, struct mo_record *rec,
		     char *err, size_t errlen)
{
	int r = read_event(pb, rec, err, errlen);

	if (r <= 0)
		return r;
	if (rec->type == MO_REC_MESSAGE)
		return split_message(pb, rec, err, errlen) < 0 ? -1 : 1;
	strbuf_reset(&pb->text);
	strbuf_add(&pb->text, pb->payload.buf, pb->payload.len);
	if (strlen(pb->text.buf) != pb->text.len) {
		uint64_t off = rec->offset + 16 + MO_REC_HDRLEN +
			       strlen(pb->text.buf);

		BAD("a NUL byte inside the text");
	}
	rec->text = pb->text.buf;
	rec->msg = NULL;
	rec->len = 0;
	rec->nool = 0;
	return 1;
}

struct mo_playback *mo_playback_open(const char *path, char *err,
				     size_t errlen)
{
	struct mo_playback *pb = calloc(1, sizeof(*pb));
	char ebuf[PCAP_ERRBUF_SIZE];
	struct mo_record rec;
	int r;

	if (!pb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pb->path = path;
	strbuf_init(&pb->payload, 0);
	strbuf_init(&pb->text, 0);
	pb->p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pb->p) {
		snprintf(err, errlen, "%s: not a recording: %s", path, ebuf);
		goto fail;
	}
	if (pcap_datalink(pb->p) != MO_REC_LINKTYPE) {
		snprintf(err, errlen,
			 "%s: link type %d is not a motrace recording's (%d, USER0)",
			 path, pcap_datalink(pb->p), MO_REC_LINKTYPE);
		goto fail;
	}
	r = mo_playback_next(pb, &rec, err, errlen);
	if (r == 0)
		snprintf(err, errlen, "%s: no session record: the file is empty",
			 path);
	if (r <= 0)
		goto fail;
	if (rec.type != MO_REC_SESSION) {
		snprintf(err, errlen,
			 "%s: record 1 at byte 24: type %u, a recording starts with its session (0)",
			 path, rec.type);
		goto fail;
	}
	parse_session(&pb->session, rec.text);
	return pb;
fail:
	mo_playback_close(pb);
	return NULL;
}

unsigned mo_playback_malformed(const struct mo_playback *pb, const char **first)
{
	*first = pb->first_bad;
	return pb->malformed;
}

const struct mo_rec_session *mo_playback_session(const struct mo_playback *pb)
{
	return &pb->session;
}

void mo_playback_close(struct mo_playback *pb)
{
	if (!pb)
		return;
	if (pb->p)
		pcap_close(pb->p);
	strbuf_release(&pb->payload);
	strbuf_release(&pb->text);
	free(pb);
}

int mo_playback_feed(struct mo_playback *pb, struct mo_trace *tr, char *err,
		     size_t errlen)
{
	struct mo_record rec;
	struct mo_decoded d;
	int r;

	while ((r = mo_playback_next(pb, &rec, err, errlen)) == 1) {
		if (rec.type == MO_REC_NOTE) {
			mo_trace_note(tr, rec.t, "%s", rec.text);
		} else if (rec.type == MO_REC_MESSAGE) {
			struct mo_event ev = {
				.kind = rec.kind, .dir = rec.dir,
				.kernel = rec.kernel, .object = rec.object,
				.t = rec.t, .delay_ns = rec.delay_ns,
				.buf = rec.msg, .len = rec.len, .d = &d,
				.ool = rec.ool, .nool = rec.nool,
			};

			if (mo_decode(rec.msg, rec.len, (enum mo_abi)rec.abi,
				      &d) < 0 && !pb->malformed++)
				snprintf(pb->first_bad, sizeof(pb->first_bad),
					 "%s: record %u at byte %llu: message: %s",
					 pb->path, rec.number,
					 (unsigned long long)rec.offset + 16 +
					 MO_REC_HDRLEN, d.err);
			mo_trace_event(tr, &ev);
		}
	}
	return r;
}
