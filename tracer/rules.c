/*
 * tracer/rules.c: delay, drop, hold and inject rules.
 *
 * The when= grammar is strace's (strace(1), --inject: when=FIRST[..LAST]
 * [+[STEP]]): the rule acts on the FIRST matching message, then on every
 * STEP-th after it up to LAST; "FIRST+" means every one from FIRST on; no
 * when= means every matching message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/rules.h"

static const struct {
	const char *name;
	enum mo_rule_action action;
} actions[] = {
	{ "delay", MO_RULE_DELAY },
	{ "drop", MO_RULE_DROP },
	{ "hold", MO_RULE_HOLD },
	{ "inject", MO_RULE_INJECT },
};

int mo_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 }, { "", 1000 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].unit)) {
			*ns = (uint64_t)(v * (double)units[i].ns + 0.5);
			return 0;
		}
	}
	return -1;
}

static int parse_when(struct mo_rule *r, const char *s, char *err,
		      size_t errlen)
{
	char *end;

	r->first = strtoull(s, &end, 10);
	r->last = UINT64_MAX;
	r->step = 0;
	if (end == s || r->first == 0)
		goto bad;
	if (!strncmp(end, "..", 2)) {
		const char *p = end + 2;

		r->last = strtoull(p, &end, 10);
		if (end == p || r->last < r->first)
			goto bad;
		r->step = 1;
	}
	if (*end == '+') {
		r->step = 1;
		if (end[1]) {
			const char *p = end + 1;

			r->step = strtoull(p, &end, 10);
			if (end == p || !r->step)
				goto bad;
		} else {
			end++;
		}
	}
	if (*end)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "when=%s: expected FIRST[..LAST][+[STEP]] with FIRST >= 1",
		 s);
	return -1;
}

/* Is occurrence N (1-based) one the rule acts on? */
static int when_hits(const struct mo_rule *r, uint64_t n)
{
	if (!r->first)
		return 1;
	if (n < r->first || n > r->last)
		return 0;
	if (!r->step)
		return n == r->first;
	return (n - r->first) % r->step == 0;
}

int mo_rules_parse(struct mo_rules *rs, const char *expr, char *err,
		   size_t errlen)
{
	const char *eq = strchr(expr, '=');
	struct mo_rule *r;
	char *spec, *tok, *save, *names;
	size_t i, klen;
	char sub[200];

	if (!eq)
		return 0;
	klen = (size_t)(eq - expr);
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strlen(actions[i].name) == klen &&
		    !strncmp(actions[i].name, expr, klen))
			break;
	if (i == sizeof(actions) / sizeof(actions[0]))
		return 0;
	if (rs->n == MO_MAX_RULES) {
		snprintf(err, errlen, "more than %d rules", MO_MAX_RULES);
		return -1;
	}
	r = &rs->r[rs->n];
	memset(r, 0, sizeof(*r));
	r->action = actions[i].action;
	r->seed = 1;
	r->spec = strdup(expr);
	spec = strdup(eq + 1);

	/* send=CALL may hold ':' inside its parentheses: cut it out first. */
	{
		char *send = strstr(spec, "send=");

		if (send) {
			char *p = send + 5;
			int depth = 0;

			for (; *p; p++) {
				if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0) {
					p++;
					break;
				}
			}
			r->send = strndup(send + 5, (size_t)(p - send - 5));
			memmove(send, p, strlen(p) + 1);
		}
	}

	names = strtok_r(spec, ":", &save);
	if (!names || !*names) {
		snprintf(err, errlen, "%s: no message names", expr);
		goto fail;
	}
	snprintf(sub, sizeof(sub), "trace=%s", names);
	if (mo_filter_parse(&r->sel, sub, err, errlen) < 0)
		goto fail;
	for (tok = strtok_r(NULL, ":", &save); tok;
	     tok = strtok_r(NULL, ":", &save)) {
		if (!strncmp(tok, "when=", 5)) {
			if (parse_when(r, tok + 5, err, errlen) < 0)
				goto fail;
		} else if (!strncmp(tok, "by=", 3) && r->action == MO_RULE_DELAY) {
			char *dash = strchr(tok + 3, '-');

			if (dash)
				*dash = '\0';
			if (mo_parse_duration(tok + 3, &r->delay_min) < 0 ||
			    (dash && mo_parse_duration(dash + 1, &r->delay_max) < 0)) {
				snprintf(err, errlen, "%s: by= takes a duration or MIN-MAX (10ms, 2s, 500us)",
					 expr);
				goto fail;
			}
			if (!dash)
				r->delay_max = r->delay_min;
			if (r->delay_max < r->delay_min) {
				snprintf(err, errlen, "%s: by=MIN-MAX with MAX below MIN",
					 expr);
				goto fail;
			}
		} else if (!strncmp(tok, "seed=", 5)) {
			r->seed = strtoull(tok + 5, NULL, 0) | 1;
		} else if (!strncmp(tok, "for=", 4) && r->action == MO_RULE_HOLD) {
			if (mo_parse_duration(tok + 4, &r->hold_for) < 0) {
				snprintf(err, errlen, "%s: for= takes a duration", expr);
				goto fail;
			}
		} else if (!strcmp(tok, "dir=k2m")) {
			r->dirs |= 1 << MO_K2M;
		} else if (!strcmp(tok, "dir=m2k")) {
			r->dirs |= 1 << MO_M2K;
		} else if (!strncmp(tok, "kernel=", 7) || !strncmp(tok, "object=", 7) ||
			   !strncmp(tok, "page=", 5)) {
			if (mo_filter_parse(&r->sel, tok, err, errlen) < 0)
				goto fail;
		} else {
			snprintf(err, errlen, "%s: unknown part '%s'", expr, tok);
			goto fail;
		}
	}
	if (r->action == MO_RULE_DELAY && !r->delay_max) {
		snprintf(err, errlen, "%s: a delay needs by=DURATION", expr);
		goto fail;
	}
	if (r->action == MO_RULE_INJECT) {
		struct mo_enc e;
		char tmp[512];
		size_t k = 0;

		if (!r->send) {
			snprintf(err, errlen, "%s: inject needs send=CALL", expr);
			goto fail;
		}
		/* Check the template now, with the $names standing for 1. */
		for (const char *p = r->send; *p && k + 2 < sizeof(tmp); p++) {
			if (*p == '$') {
				while (isalnum((unsigned char)p[1]) || p[1] == '_')
					p++;
				tmp[k++] = '1';
			} else {
				tmp[k++] = *p;
			}
		}
		tmp[k] = '\0';
		{
			struct strbuf bytes = STRBUF_INIT;
			int bad = mo_parse_call(tmp, MO_ABI_X86_64, &e, sub,
						sizeof(sub)) < 0 ||
				  mo_encode(MO_ABI_X86_64, &e, &bytes, sub,
					    sizeof(sub)) < 0;

			strbuf_release(&bytes);
			if (bad) {
				snprintf(err, errlen, "%s: send=: %s", expr, sub);
				goto fail;
			}
		}
	}
	free(spec);
	rs->n++;
	return 1;
fail:
	free(spec);
	free(r->spec);
	free(r->send);
	return -1;
}

int mo_rules_delete(struct mo_rules *rs, unsigned i)
{
	if (i >= rs->n)
		return -1;
	free(rs->r[i].spec);
	free(rs->r[i].send);
	memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(rs->r[0]));
	rs->n--;
	return 0;
}

void mo_rules_release(struct mo_rules *rs)
{
	while (rs->n)
		mo_rules_delete(rs, rs->n - 1);
}

/* The filter test of the log, reused: does the rule select EV? */
static int selects(const struct mo_rule *r, const struct mo_event *ev)
{
	if (r->dirs && !(r->dirs >> ev->dir & 1))
		return 0;
	return mo_filter_pass(&r->sel, ev);
}

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64*: reproducible for a given seed= */
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void mo_rules_judge(struct mo_rules *rs, const struct mo_event *ev,
		    struct mo_verdict *v)
{
	memset(v, 0, sizeof(*v));
	for (unsigned i = 0; i < rs->n; i++) {
		struct mo_rule *r = &rs->r[i];

		if (!ev->d->schema || !selects(r, ev))
			continue;
		if (!when_hits(r, ++r->seen))
			continue;
		/* The first rule that stops a message decides; injections add up. */
		switch (r->action) {
		case MO_RULE_DROP:
			if (v->drop || v->hold || v->delay)
				continue;
			v->drop = 1;
			break;
		case MO_RULE_HOLD:
			if (v->drop || v->hold || v->delay)
				continue;
			v->hold = 1;
			v->hold_for = r->hold_for;
			break;
		case MO_RULE_DELAY:
			if (v->drop || v->hold || v->delay)
				continue;
			v->delay = r->delay_min;
			if (r->delay_max > r->delay_min)
				v->delay += next_random(&r->seed) %
					    (r->delay_max - r->delay_min + 1);
			break;
		case MO_RULE_INJECT:
			if (v->ninject == sizeof(v->inject) / sizeof(v->inject[0]))
				continue;
			v->inject[v->ninject++] = r;
			break;
		}
		r->applied++;
	}
}

int mo_rule_message(const struct mo_rule *r, const struct mo_event *trigger,
		    struct mo_enc *out, char *err, size_t errlen)
{
	const struct mo_decoded *d = trigger->d;
	const struct mo_call *c = &d->call;
	uint32_t ctl = trigger->dir == MO_M2K ? d->dest : c->control;
	uint64_t offset = c->offset;
	/* A message with no length or size argument is about a page. */
	uint64_t length = (c->has & MO_CALL_LENGTH) && !(c->has & MO_CALL_DATA)
			  ? c->length : 4096;
	const struct { const char *name; uint64_t v; } vars[] = {
		{ "obj", trigger->dir == MO_K2M ? d->dest : 0 },
		{ "ctl", ctl },
		{ "offset", offset },
		{ "length", length },
		{ "size", length },
		{ "reply", c->has & MO_CALL_REPLY ? c->reply : d->reply },
		{ "page", offset / 4096 },
	};
	char text[1024];
	size_t k = 0;

	for (const char *p = r->send; *p; p++) {
		if (k + 24 >= sizeof(text)) {
			snprintf(err, errlen, "send=: the message is too long");
			return -1;
		}
		if (*p != '$') {
			text[k++] = *p;
			continue;
		}
		{
			size_t n = 0, j;

			while (isalnum((unsigned char)p[1 + n]) || p[1 + n] == '_')
				n++;
			for (j = 0; j < sizeof(vars) / sizeof(vars[0]); j++)
				if (strlen(vars[j].name) == n &&
				    !strncmp(vars[j].name, p + 1, n))
					break;
			if (j == sizeof(vars) / sizeof(vars[0])) {
				snprintf(err, errlen, "send=: unknown $%.*s ($obj, $ctl, $offset, $length, $size, $reply, $page)",
					 (int)n, p + 1);
				return -1;
			}
			k += (size_t)snprintf(text + k, sizeof(text) - k, "0x%llx",
					      (unsigned long long)vars[j].v);
			p += n;
		}
	}
	text[k] = '\0';
	return mo_parse_call(text, MO_ABI_X86_64, out, err, errlen);
}
