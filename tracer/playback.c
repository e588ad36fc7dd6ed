/*
 * tracer/playback.c: reading recordings back (tracer/record.h).
 *
 * Every field of motrace's header is checked before it is used; a record
 * that lies about a length is refused with its number and the byte offset
 * of the field.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "decode/decode.h"
#include "tracer/record.h"
#include "util/strbuf.h"
#include "util/le.h"

#define READ_BUFFER (1u << 20)


struct mo_playback {
	pcap_t *p;
	const char *path;
	char *fbuf;		/* the file's stdio buffer */
	void *map;		/* or the file itself, mapped */
	size_t maplen;
	uint64_t at;		/* byte offset of the next record */
	unsigned number;	/* records read */
	struct mo_rec_session session;
	struct strbuf payload;	/* an event of several records, put together */
	const uint8_t *pdata;	/* the event's payload: in libpcap's buffer or PAYLOAD */
	size_t plen;
	struct strbuf text;
	struct mo_stack stack;	/* the event's sender's stack, read back */
	char stack_names[MO_STACK_NAMES];
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
	int r;

	*off = pb->at;
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
	pb->at += 16 + (uint64_t)ph->caplen;
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
			rec->flags = data[15] & MO_REC_FLAG_STACK;
			rec->arrived = hlen >= 64 ? get64(data + 56) : rec->t;
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
		if (!got && len - hlen == payload) {
			/* One record: read in place, no copy. */
			pb->pdata = data + hlen;
			pb->plen = payload;
			return 1;
		}
		strbuf_add(&pb->payload, data + hlen, len - hlen);
		got += (uint32_t)(len - hlen);
		if (got == payload)
			break;
		if (!(data[15] & MO_REC_FLAG_MORE)) {
			off = start + 16 + 15;
			BAD("payload of %u bytes, the record ends at %u", payload,
			    got);
		}
	}
	pb->pdata = (const uint8_t *)pb->payload.buf;
	pb->plen = pb->payload.len;
	return 1;
}

/* Splits a message record's payload into the message and its regions. */
static int split_message(struct mo_playback *pb, struct mo_record *rec,
			 char *err, size_t errlen)
{
	const uint8_t *p = pb->pdata;
	size_t n = pb->plen, table, at;
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
		if (!(get32(e + 8) & MO_REC_OOL_KEPT))
			continue;
		if (size > n - at) {
			off += MO_REC_HDRLEN + rec->len + 16 * i;
			BAD("region %u says %llu bytes, %zu are left", i,
			    (unsigned long long)size, n - at);
		}
		rec->ool[i].data = p + at;
		at += (size_t)size;
	}
	rec->stack = NULL;
	if (rec->flags & MO_REC_FLAG_STACK) {
		long used = mo_stack_decode(p + at, n - at, &pb->stack,
					    pb->stack_names, err, errlen);
		char why[200];

		if (used < 0) {
			snprintf(why, sizeof(why), "%s", err);
			off += MO_REC_HDRLEN + at;
			BAD("%s", why);
		}
		rec->stack = &pb->stack;
		at += (size_t)used;
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
	strbuf_add(&pb->text, pb->pdata, pb->plen);
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

/*
 * A regular file is read through a mapping of it (no copy into a read
 * buffer per record: the kernel's copies were most of the cost), anything
 * else through a large stdio buffer. Returns the FILE to read.
 */
static FILE *map_file(struct mo_playback *pb, FILE *f)
{
	struct stat st;
	FILE *m;

	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		pb->map = mmap(NULL, (size_t)st.st_size, PROT_READ,
			       MAP_PRIVATE, fileno(f), 0);
		if (pb->map != MAP_FAILED) {
			pb->maplen = (size_t)st.st_size;
			madvise(pb->map, pb->maplen, MADV_SEQUENTIAL);
			m = fmemopen(pb->map, pb->maplen, "rb");
			if (m) {
				fclose(f);
				return m;
			}
			munmap(pb->map, pb->maplen);
		}
		pb->map = NULL;
	}
	pb->fbuf = malloc(READ_BUFFER);
	if (pb->fbuf)
		setvbuf(f, pb->fbuf, _IOFBF, READ_BUFFER);
	return f;
}

static struct mo_playback *playback_open(const char *path, FILE *f,
					 char *err, size_t errlen)
{
	struct mo_playback *pb = calloc(1, sizeof(*pb));
	char ebuf[PCAP_ERRBUF_SIZE];
	struct mo_record rec;
	int r;

	if (!pb) {
		snprintf(err, errlen, "out of memory");
		if (f)
			fclose(f);
		return NULL;
	}
	pb->path = path;
	strbuf_init(&pb->payload, 0);
	strbuf_init(&pb->text, 0);
	pb->at = 24;		/* after pcap's file header */
	if (!f && strcmp(path, "-")) {
		/* Our own FILE, with a buffer that holds many records. */
		f = fopen(path, "rb");
		if (!f) {
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 strerror(errno));
			goto fail;
		}
		f = map_file(pb, f);
	}
	if (f) {
		pb->p = pcap_fopen_offline_with_tstamp_precision(
			f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
		if (!pb->p)
			fclose(f);
	} else {
		pb->p = pcap_open_offline_with_tstamp_precision(
			path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	}
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

struct mo_playback *mo_playback_open(const char *path, char *err,
				     size_t errlen)
{
	return playback_open(path, NULL, err, errlen);
}

struct mo_playback *mo_playback_fopen(FILE *f, const char *name, char *err,
				      size_t errlen)
{
	return playback_open(name, f, err, errlen);
}

const char *mo_playback_name(const struct mo_playback *pb)
{
	return pb->path;
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
	free(pb->fbuf);
	if (pb->map)
		munmap(pb->map, pb->maplen);
	strbuf_release(&pb->payload);
	strbuf_release(&pb->text);
	free(pb);
}

int mo_playback_seek(struct mo_playback *pb, uint64_t offset, unsigned number)
{
	FILE *f = pcap_file(pb->p);

	/* libpcap reads a savefile's records with fread on its stream. */
	if (!f || fseeko(f, (off_t)offset, SEEK_SET) < 0)
		return -1;
	pb->at = offset;
	pb->number = number;
	return 0;
}
