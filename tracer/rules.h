/*
 * tracer/rules.h: rules that perturb the traffic: delay, drop, hold and
 * inject, chosen by message, direction, kernel, object and pages, on the
 * occurrences strace's when=FIRST..LAST+STEP grammar selects.
 *
 *   -e delay=NAMES[:by=DURATION|by=MIN-MAX][:seed=N][:when=...][:SEL]
 *   -e drop=NAMES[:when=...][:SEL]
 *   -e hold=NAMES[:for=DURATION][:when=...][:SEL]
 *   -e inject=NAMES:send=CALL[:when=...][:SEL]
 *
 * NAMES: message names (data_request or memory_object_data_request), comma
 * separated, or "all". SEL: dir=k2m|m2k, kernel=N, object=N, page=A[-B].
 * DURATION: a number with ns, us, ms or s (no unit: microseconds, as
 * strace's delay_enter). CALL: a message in the text form, in which $obj,
 * $ctl, $offset, $length, $size, $reply and $page name the values of the
 * message that triggered it; after it, the rule's message is sent.
 */
#ifndef MO_RULES_H
#define MO_RULES_H

#include <stdint.h>

#include "decode/encode.h"
#include "tracer/trace.h"

enum mo_rule_action {
	MO_RULE_DELAY,
	MO_RULE_DROP,
	MO_RULE_HOLD,
	MO_RULE_INJECT,
};

struct mo_rule {
	enum mo_rule_action action;
	struct mo_filter sel;
	int dirs;		/* 1 << MO_K2M | 1 << MO_M2K; 0: both */
	uint64_t first, last, step;	/* when=: occurrences, 1-based */
	uint64_t seen;		/* matching messages so far */
	uint64_t applied;	/* times the rule acted */
	uint64_t delay_min, delay_max;	/* ns */
	uint64_t hold_for;	/* ns; 0: until released */
	uint64_t seed;
	char *send;		/* inject: the CALL template */
	char *spec;		/* as given, for listing */
};

#define MO_MAX_RULES 64

struct mo_rules {
	unsigned n;
	struct mo_rule r[MO_MAX_RULES];
};

/* What the rules say of one message. */
struct mo_verdict {
	int drop;
	int hold;
	uint64_t hold_for;
	uint64_t delay;		/* ns */
	unsigned ninject;
	struct mo_rule *inject[8];
};

/*
 * Parses "ACTION=SPEC" (delay=, drop=, hold=, inject=) into a new rule.
 * Returns 1 when EXPR is a rule, 0 when it is not (another -e), -1 with
 * ERR when it is a bad one.
 */
int mo_rules_parse(struct mo_rules *rs, const char *expr, char *err,
		   size_t errlen);
/* Removes rule I (0-based); returns -1 if there is none. */
int mo_rules_delete(struct mo_rules *rs, unsigned i);
void mo_rules_release(struct mo_rules *rs);

/* Judges message EV: counts it for each rule that selects it. */
void mo_rules_judge(struct mo_rules *rs, const struct mo_event *ev,
		    struct mo_verdict *v);

/*
 * Builds the message an inject rule sends after TRIGGER, with the $names
 * filled in. Returns 0, or -1 with ERR.
 */
int mo_rule_message(const struct mo_rule *r, const struct mo_event *trigger,
		    struct mo_enc *out, char *err, size_t errlen);

/* Parses a duration ("10ms", "2s", "500" = microseconds) into ns. */
int mo_parse_duration(const char *s, uint64_t *ns);

#endif
