/*
 * mach/siphash.c: SipHash-2-4, a keyed hash for the shared-secret
 * handshake of TCP links (doc/wire.md, "Hello"). Written from the
 * algorithm's description in J.-P. Aumasson and D. J. Bernstein,
 * "SipHash: a fast short-input PRF" (2012), section 2.
 */
#include <stdint.h>
#include <string.h>

#include "mach/ipc.h"

static inline uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
} while (0)

uint64_t mo_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint8_t last[8] = { 0 };
	uint64_t m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	/* The last word: the remaining bytes, the length's low byte on top. */
	memcpy(last, p + i, len - i);
	last[7] = (uint8_t)len;
	m = le64(last);
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void mo_secret_key(const char *secret, size_t len, uint8_t key[16])
{
	static const uint8_t zero[16];
	uint8_t buf[4096 + 1];
	uint64_t h;

	if (len > 4096)
		len = 4096;
	memcpy(buf + 1, secret, len);
	for (int half = 0; half < 2; half++) {
		buf[0] = (uint8_t)half;
		h = mo_siphash(zero, buf, len + 1);
		for (int i = 0; i < 8; i++)
			key[half * 8 + i] = (uint8_t)(h >> (8 * i));
	}
}
