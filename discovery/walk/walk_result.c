/*
 * walk_result.c -- recording the walk's steps and verdict; names of things.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "dotstub/log.h"
#include "walk_int.h"

static void
copy_name(char *dst, size_t len, const char *name)
{
	char clean[WALK_NAME_STR * 4];
	size_t n;

	walk_sanitize(clean, sizeof(clean), name);
	n = strlen(clean);
	if (n < len)
		memcpy(dst, clean, n + 1);
	else
		snprintf(dst, len, "%.*s...", (int)(len - 4), clean);
}

void
walk_step(struct walk *w, int phase, const char *name, uint16_t type, enum disc_status st,
	  const char *fmt, ...)
{
	struct disc_result *r = w->r;
	struct disc_step *s;
	char buf[DISC_DETAIL_MAX * 2];
	va_list ap;

	if (r->nsteps == DISC_MAX_STEPS) {
		r->steps_dropped++;
		return;
	}
	s = &r->steps[r->nsteps++];
	s->phase = phase;
	copy_name(s->name, sizeof(s->name), name);
	s->type = type;
	s->status = st;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	walk_sanitize(s->detail, sizeof(s->detail), buf);
	log_debug("discovery: step %d %s type %u: %s %s", phase, s->name, type,
		  disc_status_str(st), s->detail);
	if (w->p->on_step)
		w->p->on_step(w->p->on_step_arg, s);
}

int
walk_fail(struct walk *w, enum trust_discovery kind, int phase, const char *fmt, ...)
{
	struct disc_result *r = w->r;
	char buf[DISC_REASON_MAX * 2];
	va_list ap;

	if (r->failed_phase != 0)
		return WALK_STOP;
	r->kind = kind;
	r->failed_phase = phase;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	walk_sanitize(r->reason, sizeof(r->reason), buf);
	log_debug("discovery: %s: %s", trust_discovery_name(kind), r->reason);
	return WALK_STOP;
}

int
walk_run(struct walk *w, struct ub_ctx *ub, int phase, struct walk_q *q, size_t n)
{
	char tbuf[16];
	size_t i;
	int r;

	r = walk_resolve(w, ub, q, n);
	if (r != -ETIMEDOUT)
		return r;
	for (i = 0; i < n; i++) {
		if (q[i].res)
			continue;
		walk_step(w, phase, q[i].name, q[i].type, DISC_ST_ERROR, "%s", q[i].detail);
		walk_fail(w, TRUST_DISC_UNREACHABLE, phase, "step %d: %s %s: %s (%u ms)", phase,
			  q[i].name, disc_type_str(q[i].type, tbuf, sizeof(tbuf)), q[i].detail,
			  w->timeout_ms);
	}
	return WALK_STOP;
}

int
walk_require(struct walk *w, int phase, struct walk_q *q, bool nodata_ok)
{
	char t[16];

	disc_type_str(q->type, t, sizeof(t));
	switch (q->status) {
	case DISC_ST_SECURE:
		return 0;
	case DISC_ST_NODATA:
		walk_step(w, phase, q->name, q->type, q->status, "validated denial (%s)",
			  q->detail);
		if (nodata_ok)
			return 0;
		return walk_fail(w, TRUST_DISC_FAILED, phase,
				 "step %d: %s %s: not published (validated %s)", phase, q->name,
				 t, q->detail);
	case DISC_ST_BOGUS:
		walk_step(w, phase, q->name, q->type, q->status, "%s", q->detail);
		return walk_fail(w, TRUST_DISC_BOGUS, phase, "step %d: %s %s: bogus: %s", phase,
				 q->name, t, q->detail);
	case DISC_ST_INSECURE:
	case DISC_ST_UNVALIDATED:
		walk_step(w, phase, q->name, q->type, DISC_ST_INSECURE,
			  "not signed under this step's anchor%s%s", q->detail[0] ? ": " : "",
			  q->detail);
		return walk_fail(w, TRUST_DISC_BOGUS, phase,
				 "step %d: %s %s: insecure: the answer is not signed under "
				 "the anchor of this step",
				 phase, q->name, t);
	case DISC_ST_ERROR:
		break;
	}
	walk_step(w, phase, q->name, q->type, DISC_ST_ERROR, "%s", q->detail);
	return walk_fail(w, q->res && q->res->secure ? TRUST_DISC_FAILED : TRUST_DISC_UNREACHABLE,
			 phase, "step %d: %s %s: %s", phase, q->name, t, q->detail);
}

void
disc_params_init(struct disc_params *p)
{
	memset(p, 0, sizeof(*p));
	p->timeout_ms = 15000;
	p->confirm_delay_ms = 1000;
	p->dot_port = DS_DOT_PORT;
}

void
disc_result_free(struct disc_result *r)
{
	int i;

	if (!r)
		return;
	ds_upstream_desc_clear(&r->desc);
	for (i = 0; i < r->nupstreams; i++)
		ds_upstream_desc_clear(&r->upstreams[i].desc);
	free(r);
}

const char *
disc_status_str(enum disc_status s)
{
	switch (s) {
	case DISC_ST_SECURE:
		return "secure";
	case DISC_ST_NODATA:
		return "nodata";
	case DISC_ST_UNVALIDATED:
		return "unvalidated";
	case DISC_ST_INSECURE:
		return "insecure";
	case DISC_ST_BOGUS:
		return "bogus";
	case DISC_ST_ERROR:
		return "error";
	}
	return "?";
}

const char *
disc_type_str(uint16_t type, char *buf, size_t len)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ DNS_TYPE_A, "A" },       { DNS_TYPE_NS, "NS" },
		{ DNS_TYPE_PTR, "PTR" },   { DNS_TYPE_TXT, "TXT" },
		{ DNS_TYPE_KEY, "KEY" },   { DNS_TYPE_AAAA, "AAAA" },
		{ DNS_TYPE_DNSKEY, "DNSKEY" }, { DNS_TYPE_TLSA, "TLSA" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].type == type) {
			snprintf(buf, len, "%s", names[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}
