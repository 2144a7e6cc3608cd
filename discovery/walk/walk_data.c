/*
 * walk_data.c -- step 5 (what N publishes about itself) and, for a
 * forwarder, the upstreams it lists.  Every answer is read in the context
 * anchored at N's key and must be secure; a validated denial is accepted
 * where PROTOCOL.md allows the record to be absent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <unbound.h>

#include "walk_int.h"

#define ROLE_MAX 64

/* out = a b c (presentation names and prefixes); false if it does not fit
 * or is not a name of at most 255 octets. */
static bool
join_name(char *out, size_t len, const char *a, const char *b, const char *c)
{
	uint8_t wire[DNS_NAME_MAX];
	int n = snprintf(out, len, "%s%s%s", a, b, c);

	return n > 0 && (size_t)n < len && dns_name_from_str(out, wire) > 0;
}

/* Append the A or AAAA records of q to d. */
static int
read_addrs(struct walk *w, int phase, const struct walk_q *q, struct ds_upstream_desc *d)
{
	char list[DISC_DETAIL_MAX] = "", a[INET6_ADDRSTRLEN];
	size_t i, n = walk_q_count(q), o = 0;
	int r, extra = 0;

	for (i = 0; i < n; i++) {
		const uint8_t *rd = (const uint8_t *)q->res->data[i];

		r = walk_rdata_addr(d, q->type, rd, (size_t)q->res->len[i], w->p->dot_port);
		if (r == -E2BIG) {
			extra++;
			continue;
		}
		if (r < 0) {
			walk_step(w, phase, q->name, q->type, DISC_ST_ERROR, "malformed rdata");
			return walk_fail(w, TRUST_DISC_FAILED, phase,
					 "step %d: %s: malformed address", phase, q->name);
		}
		inet_ntop(q->type == DNS_TYPE_A ? AF_INET : AF_INET6, rd, a, sizeof(a));
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", a);
	}
	walk_step(w, phase, q->name, q->type, DISC_ST_SECURE, "%s%s", list,
		  extra ? " (more ignored)" : "");
	return 0;
}

/* Append the TLSA records of q to d (malformed ones are skipped). */
static int
read_tlsa(struct walk *w, int phase, const struct walk_q *q, struct ds_upstream_desc *d)
{
	char list[DISC_DETAIL_MAX] = "";
	size_t i, j, n = walk_q_count(q), o = 0;
	int r, bad = 0, extra = 0;

	for (i = 0; i < n; i++) {
		const uint8_t *rd = (const uint8_t *)q->res->data[i];
		size_t len = (size_t)q->res->len[i];

		r = walk_rdata_tlsa(d, rd, len);
		if (r == -ENOMEM)
			return r;
		if (r == -E2BIG)
			extra++;
		if (r < 0) {
			bad += r != -E2BIG;
			continue;
		}
		if (o >= sizeof(list))
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%u %u %u ", o ? ", " : "",
				      rd[0], rd[1], rd[2]);
		for (j = 3; j < len && j < 3 + 8 && o < sizeof(list); j++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%02x", rd[j]);
		if (len > 3 + 8 && o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "...");
	}
	walk_step(w, phase, q->name, q->type, d->ntlsa ? DISC_ST_SECURE : DISC_ST_ERROR,
		  "%s%s%s", d->ntlsa ? list : "no readable record", bad ? " (malformed ignored)" : "",
		  extra ? " (more ignored)" : "");
	return 0;
}

/* The single value of a TXT RRset (every record must say the same). */
static int
read_txt(struct walk *w, int phase, const struct walk_q *q, char *value, size_t len)
{
	char v[ROLE_MAX];
	size_t i, n = walk_q_count(q);

	value[0] = '\0';
	for (i = 0; i < n; i++) {
		if (walk_rdata_txt((const uint8_t *)q->res->data[i], (size_t)q->res->len[i], v,
				   sizeof(v)) < 0) {
			walk_step(w, phase, q->name, q->type, DISC_ST_ERROR, "malformed TXT");
			return walk_fail(w, TRUST_DISC_FAILED, phase, "step %d: %s TXT: malformed",
					 phase, q->name);
		}
		if (i > 0 && strcmp(v, value) != 0) {
			walk_step(w, phase, q->name, q->type, DISC_ST_ERROR,
				  "records disagree: \"%s\" and \"%s\"", value, v);
			return walk_fail(w, TRUST_DISC_FAILED, phase,
					 "step %d: %s TXT: records disagree (\"%s\", \"%s\")", phase,
					 q->name, value, v);
		}
		snprintf(value, len, "%s", v);
	}
	return 0;
}

/* A TXT record whose value must be one of two keywords (any case): *idx
 * is 0 or 1, or stays -1 for a validated denial.  what names the record
 * in messages ("role", "transport"). */
static int
read_keyword(struct walk *w, int phase, const struct walk_q *q, const char *const words[2],
	     const char *what, int *idx)
{
	char v[ROLE_MAX];
	int r;

	*idx = -1;
	if (q->status != DISC_ST_SECURE)
		return 0;
	if ((r = read_txt(w, phase, q, v, sizeof(v))) != 0)
		return r;
	for (int i = 0; i < 2; i++)
		if (strcasecmp(v, words[i]) == 0)
			*idx = i;
	if (*idx < 0) {
		walk_step(w, phase, q->name, q->type, DISC_ST_ERROR, "\"%s\": unknown %s", v, what);
		return walk_fail(w, TRUST_DISC_FAILED, phase,
				 "step %d: %s TXT is \"%s\", neither \"%s\" nor \"%s\"", phase,
				 q->name, v, words[0], words[1]);
	}
	walk_step(w, phase, q->name, q->type, DISC_ST_SECURE, "\"%s\"", v);
	return 0;
}

/* server-type / server-function: "resolver" or "forwarder"; *t stays
 * DS_SERVER_UNKNOWN for a validated denial. */
static int
read_role(struct walk *w, int phase, const struct walk_q *q, enum ds_server_type *t)
{
	static const char *const words[2] = { "resolver", "forwarder" };
	static const enum ds_server_type types[2] = { DS_SERVER_RESOLVER, DS_SERVER_FORWARDER };
	int idx, r = read_keyword(w, phase, q, words, "role", &idx);

	*t = idx < 0 ? DS_SERVER_UNKNOWN : types[idx];
	return r;
}

/* transport.U.N: "dot" or "do53" */
static int
read_transport(struct walk *w, int phase, const struct walk_q *q, enum ds_transport *t)
{
	static const char *const words[2] = { "dot", "do53" };
	static const enum ds_transport types[2] = { DS_TRANSPORT_DOT, DS_TRANSPORT_DO53 };
	int idx, r = read_keyword(w, phase, q, words, "transport", &idx);

	*t = idx < 0 ? DS_TRANSPORT_UNKNOWN : types[idx];
	return r;
}

enum { Q5_A, Q5_AAAA, Q5_TYPE, Q5_FUNC, Q5_TLSA, Q5_N };

/* Read one secure answer of step 5 into the description. */
static int
read_step5(struct walk *w, int i, const struct walk_q *q, enum ds_server_type *type,
	   enum ds_server_type *func)
{
	switch (i) {
	case Q5_A:
	case Q5_AAAA:
		return read_addrs(w, 5, q, &w->r->desc);
	case Q5_TYPE:
		return read_role(w, 5, q, type);
	case Q5_FUNC:
		return read_role(w, 5, q, func);
	default:
		return read_tlsa(w, 5, q, &w->r->desc);
	}
}

static int
judge_step5(struct walk *w, struct walk_q *q)
{
	static const bool nodata_ok[Q5_N] = { true, true, true, true, false };
	enum ds_server_type type = DS_SERVER_UNKNOWN, func = DS_SERVER_UNKNOWN;
	struct ds_upstream_desc *d = &w->r->desc;
	int i, r;

	for (i = 0; i < Q5_N; i++) {
		if ((r = walk_require(w, 5, &q[i], nodata_ok[i])) != 0)
			return r;
		if (q[i].status == DISC_ST_SECURE &&
		    (r = read_step5(w, i, &q[i], &type, &func)) != 0)
			return r;
	}
	if (d->naddr == 0)
		return walk_fail(w, TRUST_DISC_FAILED, 5, "step 5: %s has neither A nor AAAA",
				 w->n);
	if (type != DS_SERVER_UNKNOWN && func != DS_SERVER_UNKNOWN && type != func) {
		walk_step(w, 5, q[Q5_FUNC].name, DNS_TYPE_TXT, DISC_ST_ERROR,
			  "\"%s\" disagrees with server-type \"%s\"",
			  ds_server_type_name(func), ds_server_type_name(type));
		return walk_fail(w, TRUST_DISC_FAILED, 5,
				 "step 5: server-type.%s (\"%s\") and server-function.%s "
				 "(\"%s\") disagree",
				 w->n, ds_server_type_name(type), w->n,
				 ds_server_type_name(func));
	}
	d->type = type != DS_SERVER_UNKNOWN ? type : func;
	if (d->type == DS_SERVER_UNKNOWN)
		return walk_fail(w, TRUST_DISC_FAILED, 5,
				 "step 5: %s publishes neither server-type nor server-function",
				 w->n);
	if (d->ntlsa == 0)
		return walk_fail(w, TRUST_DISC_FAILED, 5,
				 "step 5: _853._tcp.%s has no readable TLSA record: no DoT", w->n);
	if (ds_upstream_desc_usable_tlsa(d) == 0)
		return walk_fail(w, TRUST_DISC_FAILED, 5,
				 "step 5: no TLSA record of _853._tcp.%s is usable (DANE-TA or "
				 "DANE-EE needed): no DoT",
				 w->n);
	return 0;
}

int
walk_step5(struct walk *w)
{
	static const char *const prefix[Q5_N] = { "", "", "server-type.", "server-function.",
						  "_853._tcp." };
	static const uint16_t type[Q5_N] = { DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_TXT,
					     DNS_TYPE_TXT, DNS_TYPE_TLSA };
	struct walk_q q[Q5_N];
	char name[WALK_NAME_STR];
	int i, r;

	for (i = 0; i < Q5_N; i++) {
		if (!join_name(name, sizeof(name), prefix[i], w->n, ""))
			return -EINVAL; /* N is at most DISC_NAME_WIRE_MAX octets */
		walk_q_set(&q[i], name, type[i]);
	}
	r = walk_run(w, w->zone, 5, q, Q5_N);
	if (r == 0)
		r = judge_step5(w, q);
	walk_q_release(q, Q5_N);
	return r;
}

enum { QU_KEY, QU_A, QU_AAAA, QU_TYPE, QU_TLSA, QU_TRANSPORT, QU_N };

/* KEY U.N: the first record with the DNSKEY layout is U's anchor. */
static void
read_key(struct walk *w, const struct walk_q *q, struct disc_upstream *u)
{
	struct trust_dnskey k;
	size_t i, n = walk_q_count(q);

	for (i = 0; i < n && !u->has_key; i++) {
		if (trust_dnskey_from_rdata((const uint8_t *)q->res->data[i],
					    (size_t)q->res->len[i], &k) == 0) {
			u->key = k;
			u->has_key = true;
		}
	}
	if (u->has_key)
		walk_step(w, 6, q->name, q->type, DISC_ST_SECURE, "KEY %u %u %u (tag %u)",
			  u->key.flags, u->key.protocol, u->key.algorithm,
			  trust_dnskey_tag(&u->key));
	else
		walk_step(w, 6, q->name, q->type, DISC_ST_ERROR,
			  "%zu malformed record(s): no anchor", n);
}

/* Read one secure answer about upstream u. */
static int
read_upstream(struct walk *w, int i, const struct walk_q *q, struct disc_upstream *u)
{
	switch (i) {
	case QU_KEY:
		read_key(w, q, u);
		return 0;
	case QU_A:
	case QU_AAAA:
		return read_addrs(w, 6, q, &u->desc);
	case QU_TYPE:
		return read_role(w, 6, q, &u->desc.type);
	case QU_TLSA:
		return read_tlsa(w, 6, q, &u->desc);
	default:
		return read_transport(w, 6, q, &u->desc.transport);
	}
}

/* Read what N publishes about upstream u (name in presentation form, with
 * the trailing dot) into w->r->upstreams[]. */
static int
walk_upstream(struct walk *w, const char *u)
{
	static const char *const prefix[QU_N] = { "", "", "", "server-type.", "_853._tcp.",
						  "transport." };
	static const uint16_t type[QU_N] = { DNS_TYPE_KEY, DNS_TYPE_A, DNS_TYPE_AAAA,
					     DNS_TYPE_TXT, DNS_TYPE_TLSA, DNS_TYPE_TXT };
	struct disc_upstream *up = &w->r->upstreams[w->r->nupstreams];
	struct walk_q q[QU_N];
	char name[WALK_NAME_STR];
	int i, r;

	/* the longest owner asked about U */
	if (!join_name(name, sizeof(name), "server-type.", u, w->n)) {
		walk_step(w, 6, u, DNS_TYPE_PTR, DISC_ST_ERROR, "name too long under %s: ignored",
			  w->n);
		return 0;
	}
	memset(up, 0, sizeof(*up));
	/* until transport.U.N says otherwise: zero is DS_TRANSPORT_DOT */
	up->desc.transport = DS_TRANSPORT_UNKNOWN;
	snprintf(up->desc.name, sizeof(up->desc.name), "%.*s", (int)strlen(u) - 1, u);
	w->r->nupstreams++;
	for (i = 0; i < QU_N; i++) {
		join_name(name, sizeof(name), prefix[i], u, w->n); /* fits: checked above */
		walk_q_set(&q[i], name, type[i]);
	}
	/* every record may be absent (validated denial), none may be bogus */
	r = walk_run(w, w->zone, 6, q, QU_N);
	for (i = 0; i < QU_N && r == 0; i++) {
		r = walk_require(w, 6, &q[i], true);
		if (r == 0 && q[i].status == DISC_ST_SECURE)
			r = read_upstream(w, i, &q[i], up);
	}
	walk_q_release(q, QU_N);
	return r;
}

int
walk_forwarder(struct walk *w)
{
	struct walk_q q;
	char name[WALK_NAME_STR], u[DISC_MAX_UPSTREAMS][WALK_NAME_STR];
	char list[DISC_DETAIL_MAX] = "";
	uint8_t wire[DNS_NAME_MAX];
	size_t i, n, wlen, o = 0;
	int r, nu = 0;

	if (!join_name(name, sizeof(name), "upstreams.", w->n, ""))
		return -EINVAL; /* N is at most DISC_NAME_WIRE_MAX octets */
	walk_q_set(&q, name, DNS_TYPE_PTR);
	r = walk_run(w, w->zone, 6, &q, 1);
	if (r == 0)
		r = walk_require(w, 6, &q, true);
	if (r != 0 || q.status != DISC_ST_SECURE)
		goto out;
	n = walk_q_count(&q);
	w->r->nupstreams_seen = (int)n;
	for (i = 0; i < n && nu < DISC_MAX_UPSTREAMS; i++) {
		if (walk_rdata_name((const uint8_t *)q.res->data[i], (size_t)q.res->len[i], wire,
				    &wlen) < 0 ||
		    !walk_host_name(wire, wlen, u[nu], sizeof(u[nu]))) {
			walk_step(w, 6, q.name, q.type, DISC_ST_ERROR,
				  "record %zu: not a host name: ignored", i + 1);
			continue;
		}
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, " %s", u[nu]);
		nu++;
	}
	walk_step(w, 6, q.name, q.type, DISC_ST_SECURE, "%zu upstream(s):%s%s", n, list,
		  (size_t)nu < n ? " (others ignored)" : "");
	for (i = 0; i < (size_t)nu && r == 0; i++)
		r = walk_upstream(w, u[i]);
out:
	walk_q_release(&q, 1);
	return r;
}
