/*
 * r1_query.c -- ResolveHostname, ResolveAddress and ResolveRecord: each
 * call becomes one or two DNS queries (A and AAAA for a hostname of any
 * family) through the daemon's query path (the resolve hook: local names,
 * the cache, the upstream, SERVFAIL with a reason), and the answers become
 * resolved's reply or one of its errors (org.freedesktop.resolve1.NoSuchRR,
 * .NoNameServers, .DnsError.NXDOMAIN, ...).  At most dbus-max-calls calls
 * are in flight; more get org.freedesktop.DBus.Error.LimitsExceeded.
 *
 * As systemd-resolved does:
 *  - A call with an ifindex is answered by that link's own DNS servers
 *    only, whatever the name (the resolve hook routes it); a link without
 *    any gives NoNameServers.  Each address and record carries the
 *    ifindex of the link whose servers answered.
 *  - ResolveHostname qualifies a single-label name with the search
 *    domains (the link's, or with ifindex 0 every link's, the default
 *    link's first), one after the other, unless SD_RESOLVED_NO_SEARCH is
 *    given: the first that gets an answer other than a failure or
 *    NXDOMAIN (NODATA too) is the reply, its qualified name the canonical
 *    name; if none does, the last one's error.  A single-label name is
 *    never sent as it is for addresses (no search domain, or
 *    SD_RESOLVED_NO_SEARCH: NoNameServers; ResolveRecord for A or AAAA
 *    too); localhost is the daemon's own.  ResolveRecord and
 *    ResolveAddress never search.
 *
 * Not done: LLMNR and mDNS (dotstubd speaks unicast DNS only), IDNA.
 */
#include "r1_int.h"
#include "r1_answer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dotstub/clock.h"
#include "dotstub/message.h"

#define QUERY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11)
#define SEARCH_MAX DS_LINK_MAX_DOMAINS  /* search domains tried for one name */

enum r1_kind { R1_Q_HOSTNAME, R1_Q_ADDRESS, R1_Q_RECORD };

struct r1_sub {
	struct r1_call *call;
	void *handle;                  /* while the daemon holds the query */
	bool pending, done;
	int err;                       /* < 0: no answer */
	uint8_t *answer;
	size_t len;
	unsigned flags;                /* DS_R1_ANS_* */
	int ifindex;                   /* the link that answered, or 0 */
	uint8_t query[QUERY_MAX];
	size_t qlen;
};

struct r1_call {
	struct ds_r1 *r1;
	TAILQ_ENTRY(r1_call) link;
	sd_bus_message *m;
	enum r1_kind kind;
	char name[DNS_NAME_MAX * 4 + 1]; /* as asked, for messages */
	int ifindex;                   /* as asked (0: any link) */
	int family;                    /* ResolveHostname's */
	bool no_cname;
	bool starting;                 /* answers may come before all are asked */
	int nsub;
	struct r1_sub sub[2];
	/* a single-label hostname: the search domains, tried in turn */
	char search[SEARCH_MAX][DS_LINK_DOMAIN_MAX + 1];
	size_t nsearch, next_search;
};

/* ---------------------------------------------------------------- checks */

static int check_flags(uint64_t flags, sd_bus_error *err)
{
	if (flags & ~(uint64_t)(R1_F_INPUT_MASK))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "unexpected flags 0x%llx",
					 (unsigned long long)flags);
	if ((flags & R1_F_PROTOCOLS) && !(flags & R1_F_DNS))
		return sd_bus_error_setf(err, R1_ERR_NO_NAME_SERVERS,
					 "dotstubd resolves over unicast DNS only (no LLMNR, no "
					 "mDNS)");
	return 0;
}

static int check_ifindex(int ifindex, sd_bus_error *err)
{
	char name[IF_NAMESIZE];

	if (ifindex < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "invalid interface index %d", ifindex);
	if (ifindex > 0 && !if_indextoname((unsigned)ifindex, name))
		return sd_bus_error_setf(err, R1_ERR_NO_SUCH_LINK, "no link with index %d", ifindex);
	return 0;
}

/* A name to look up: printable ASCII (no IDNA), a valid DNS name, not the
 * root.  Its wire form into wire; length or an error. */
static int check_name(const char *s, uint8_t wire[DNS_NAME_MAX], sd_bus_error *err)
{
	size_t n = strlen(s);
	int len;

	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
						 "'%.64s' is not a DNS name in ASCII (IDNA is not "
						 "supported)",
						 s);
	len = n == 0 || n > 254 ? -EINVAL : dns_name_from_str(s, wire);
	if (len <= 1)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "'%.64s' is not a valid DNS name",
					 s);
	return len;
}

/* Is the wire-form name one label (not the root)? */
static bool single_label(const uint8_t *wire, int len)
{
	return len > 1 && wire[0] + 2 == len;
}

/* localhost: answered by the daemon itself, never qualified */
static bool is_localhost(const uint8_t *wire, int len)
{
	return len == 11 && !strncasecmp((const char *)wire + 1, "localhost", 9);
}

/* A single-label name that no search domain qualifies: resolved's
 * NoNameServers (its unicast DNS never asks for such a name's addresses,
 * and dotstubd has no LLMNR); why says why it was not qualified. */
static int no_search_error(const char *name, const char *why, sd_bus_error *err)
{
	return sd_bus_error_setf(err, R1_ERR_NO_NAME_SERVERS,
				 "no DNS server to ask for '%s': a single-label name, and %s", name,
				 why);
}

/* ---------------------------------------------------------------- calls */

static void call_free(struct r1_call *c)
{
	struct ds_r1 *r1 = c->r1;

	for (int i = 0; i < c->nsub; i++) {
		if (c->sub[i].pending && r1->hooks.resolve_cancel)
			r1->hooks.resolve_cancel(r1->hooks.arg, c->sub[i].handle);
		free(c->sub[i].answer);
	}
	TAILQ_REMOVE(&r1->calls, c, link);
	r1->ncalls--;
	sd_bus_message_unref(c->m);
	free(c);
}

static struct r1_call *call_new(struct ds_r1 *r1, sd_bus_message *m, enum r1_kind kind,
				sd_bus_error *err)
{
	unsigned long long more;
	struct r1_call *c;

	if (r1->ncalls >= r1->opts.max_calls) {
		r1->calls_refused++;
		if (ds_log_rl_pass(&r1->limit_rl, ds_now_ms(), &more))
			log_notice("resolve1: dbus-max-calls reached (%u resolve calls in flight): "
				   "refusing new ones (%llu more since the last line)",
				   r1->ncalls, more);
		sd_bus_error_setf(err, SD_BUS_ERROR_LIMITS_EXCEEDED,
				  "too many resolve calls in flight (dbus-max-calls %u)",
				  r1->opts.max_calls);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		sd_bus_error_set_errno(err, ENOMEM);
		return NULL;
	}
	c->r1 = r1;
	c->kind = kind;
	c->m = sd_bus_message_ref(m);
	TAILQ_INSERT_TAIL(&r1->calls, c, link);
	r1->ncalls++;
	r1->calls_total++;
	return c;
}

static int add_sub(struct r1_call *c, const uint8_t *name, size_t nlen, uint16_t qtype,
		   uint16_t qclass)
{
	struct r1_sub *s = &c->sub[c->nsub];
	uint16_t id = (uint16_t)(c->r1->calls_total * 2 + (uint64_t)c->nsub);
	int n = r1_answer_query(name, nlen, qtype, qclass, id, s->query, sizeof(s->query));

	if (n < 0)
		return n;
	s->call = c;
	s->qlen = (size_t)n;
	c->nsub++;
	return 0;
}

/* A and AAAA (or one of them, by c->family) for name. */
static int add_host_subs(struct r1_call *c, const uint8_t *name, size_t nlen)
{
	if (c->family != AF_INET6 && add_sub(c, name, nlen, DNS_TYPE_A, DNS_CLASS_IN) < 0)
		return -EMSGSIZE;
	if (c->family != AF_INET && add_sub(c, name, nlen, DNS_TYPE_AAAA, DNS_CLASS_IN) < 0)
		return -EMSGSIZE;
	return 0;
}

/* Forget the queries asked (all answered) for the next ones. */
static void subs_clear(struct r1_call *c)
{
	for (int i = 0; i < c->nsub; i++)
		free(c->sub[i].answer);
	memset(c->sub, 0, sizeof(c->sub));
	c->nsub = 0;
}

/* The name as asked under the next search domain that makes a valid
 * name: its queries are set up (true), or none is left (false). */
static bool search_next(struct r1_call *c)
{
	char text[DNS_NAME_MAX * 4 + 2];
	uint8_t wire[DNS_NAME_MAX];
	size_t label = strlen(c->name);
	int len;

	if (label > 0 && c->name[label - 1] == '.')
		label--;
	while (c->next_search < c->nsearch) {
		const char *dom = c->search[c->next_search++];

		if ((size_t)snprintf(text, sizeof(text), "%.*s.%s", (int)label, c->name, dom) >=
		    sizeof(text))
			continue;
		len = dns_name_from_str(text, wire);
		if (len <= 1)
			continue;
		subs_clear(c);
		if (add_host_subs(c, wire, (size_t)len) == 0)
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- replies */

struct sub_view {
	int status;                    /* 0, or -EBADMSG / the hook's error */
	struct r1_answer_info info;
};

static void view_sub(const struct r1_call *c, const struct r1_sub *s, struct sub_view *v)
{
	v->status = s->err;
	memset(&v->info, 0, sizeof(v->info));
	if (v->status == 0)
		v->status = r1_answer_walk(s->answer, s->len, s->query, s->qlen, c->no_cname, NULL,
					   NULL, NULL, 0, &v->info);
}

/* ", EDE n: text" of an answer, or "" */
static void ede_text(const struct r1_sub *s, char *out, size_t outlen)
{
	struct dns_response r;
	char text[128];
	size_t tl;

	out[0] = '\0';
	if (s->err < 0 || dns_parse_response(s->answer, s->len, &r) < 0 || !r.has_ede)
		return;
	tl = r.ede_text_len < sizeof(text) - 1 ? r.ede_text_len : sizeof(text) - 1;
	memcpy(text, s->answer + r.ede_text_off, tl);
	text[tl] = '\0';
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
			text[i] = '?';
	snprintf(out, outlen, " (EDE %u%s%s)", r.ede_code, tl ? ": " : "", text);
}

/* Why no record came back, as resolved's error: 1 if some did (no error). */
static int call_error(struct r1_call *c, const struct sub_view *v, sd_bus_error *err)
{
	char ede[192], name[64];
	int first = -1;

	for (int i = 0; i < c->nsub; i++)
		if (v[i].status == 0 && v[i].info.rcode == 0 && v[i].info.matches > 0)
			return 1;
	/* NXDOMAIN says most, then a failure, then "no such record" */
	for (int i = 0; i < c->nsub && first < 0; i++)
		if (v[i].status == 0 && v[i].info.rcode == DNS_RCODE_NXDOMAIN)
			first = i;
	for (int i = 0; i < c->nsub && first < 0; i++)
		if (v[i].status < 0 || v[i].info.rcode != 0 || v[i].info.cname_loop)
			first = i;
	if (first < 0)
		return sd_bus_error_setf(err, R1_ERR_NO_SUCH_RR,
					 "'%s' does not have any RR of the requested type", c->name);
	ede_text(&c->sub[first], ede, sizeof(ede));
	if (v[first].status == -EBADMSG)
		return sd_bus_error_setf(err, R1_ERR_INVALID_REPLY,
					 "the answer for '%s' was not understood", c->name);
	if (v[first].status < 0)
		return sd_bus_error_setf(err, R1_ERR_NO_NAME_SERVERS, "no answer for '%s': %s",
					 c->name, strerror(-v[first].status));
	if (v[first].info.cname_loop)
		return sd_bus_error_setf(err, R1_ERR_CNAME_LOOP,
					 "the CNAME chain of '%s' is longer than %d", c->name,
					 R1_ANSWER_MAX_CNAME);
	if (v[first].info.rcode == DNS_RCODE_SERVFAIL && (c->sub[first].flags & DS_R1_ANS_NO_SERVER))
		return sd_bus_error_setf(err, R1_ERR_NO_NAME_SERVERS,
					 "no DNS server to ask for '%s'%s", c->name, ede);
	if (v[first].info.rcode == DNS_RCODE_NXDOMAIN)
		return sd_bus_error_setf(err, R1_ERR_DNS_ERROR "NXDOMAIN", "'%s' not found%s",
					 c->name, ede);
	if (r1_answer_rcode_name(v[first].info.rcode))
		snprintf(name, sizeof(name), R1_ERR_DNS_ERROR "%s",
			 r1_answer_rcode_name(v[first].info.rcode));
	else
		snprintf(name, sizeof(name), R1_ERR_DNS_ERROR "%u", v[first].info.rcode);
	return sd_bus_error_setf(err, name, "could not resolve '%s': %s%s", c->name,
				 name + strlen(R1_ERR_DNS_ERROR), ede);
}

/* The output flags: where the answers came from, and whether all were
 * DNSSEC-authenticated (AD from a DANE-authenticated upstream) and came
 * over an encrypted or local path. */
static uint64_t out_flags(const struct r1_call *c, const struct sub_view *v)
{
	uint64_t f = R1_F_DNS | R1_F_AUTHENTICATED | R1_F_CONFIDENTIAL;

	for (int i = 0; i < c->nsub; i++) {
		unsigned af = c->sub[i].flags;

		if (v[i].status < 0)
			continue;
		if (!v[i].info.ad && !(af & DS_R1_ANS_LOCAL))
			f &= ~R1_F_AUTHENTICATED;
		if (!(af & (DS_R1_ANS_DOT | DS_R1_ANS_LOCAL)))
			f &= ~R1_F_CONFIDENTIAL;
		if (af & DS_R1_ANS_CACHE)
			f |= R1_F_FROM_CACHE;
		if (af & (DS_R1_ANS_DOT | DS_R1_ANS_PLAIN))
			f |= R1_F_FROM_NETWORK;
		if (af & DS_R1_ANS_LOCAL)
			f |= R1_F_SYNTHETIC;
	}
	return f;
}

struct append_ctx {
	sd_bus_message *reply;
	int ifindex;
	enum r1_kind kind;
};

/* one (iiay) */
static int append_address(sd_bus_message *reply, int ifindex, int family, const void *a,
			  size_t alen)
{
	int r = sd_bus_message_open_container(reply, 'r', "iiay");

	if (r >= 0)
		r = sd_bus_message_append(reply, "ii", (int32_t)ifindex, (int32_t)family);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', a, alen);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_rr(void *arg, const uint8_t *rr, size_t len, size_t rdata_off, uint16_t type,
		     uint16_t rclass)
{
	struct append_ctx *a = arg;
	uint8_t name[DNS_NAME_MAX];
	char text[DNS_NAME_MAX * 4 + 2];
	size_t rdlen = len - rdata_off;
	int n;

	switch (a->kind) {
	case R1_Q_HOSTNAME:
		if ((type == DNS_TYPE_A && rdlen != 4) || (type == DNS_TYPE_AAAA && rdlen != 16))
			return -EBADMSG;
		return append_address(a->reply, a->ifindex, type == DNS_TYPE_A ? AF_INET : AF_INET6,
				      rr + rdata_off, rdlen) < 0
			       ? -ENOMEM
			       : 0;
	case R1_Q_ADDRESS:
		n = r1_answer_rdata_name(rr, len, rdata_off, name);
		if (n < 0 || dns_name_to_str(name, (size_t)n, text, sizeof(text)) < 0)
			return -EBADMSG;
		if (strlen(text) > 1)
			text[strlen(text) - 1] = '\0'; /* resolved's names end without a dot */
		return sd_bus_message_append(a->reply, "(is)", (int32_t)a->ifindex, text) < 0
			       ? -ENOMEM
			       : 0;
	case R1_Q_RECORD:
		if (sd_bus_message_open_container(a->reply, 'r', "iqqay") < 0 ||
		    sd_bus_message_append(a->reply, "iqq", (int32_t)a->ifindex, rclass, type) < 0 ||
		    sd_bus_message_append_array(a->reply, 'y', rr, len) < 0 ||
		    sd_bus_message_close_container(a->reply) < 0)
			return -ENOMEM;
		return 0;
	}
	return -EINVAL;
}

static const char *const array_sig[] = {
	[R1_Q_HOSTNAME] = "(iiay)", [R1_Q_ADDRESS] = "(is)", [R1_Q_RECORD] = "(iqqay)",
};

static int build_reply(struct r1_call *c, const struct sub_view *v, sd_bus_message **ret)
{
	struct append_ctx a = { .ifindex = 0, .kind = c->kind };
	sd_bus_message *reply = NULL;
	uint8_t *buf = malloc(R1_ANSWER_RR_MAX);
	char canon[DNS_NAME_MAX * 4 + 2] = "";
	struct r1_answer_info info;
	int r;

	if (!buf)
		return -ENOMEM;
	r = sd_bus_message_new_method_return(c->m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', array_sig[c->kind]);
	a.reply = reply;
	for (int i = 0; r >= 0 && i < c->nsub; i++) {
		if (v[i].status < 0 || v[i].info.rcode != 0 || !v[i].info.matches)
			continue;
		a.ifindex = c->sub[i].ifindex;
		r = r1_answer_walk(c->sub[i].answer, c->sub[i].len, c->sub[i].query, c->sub[i].qlen,
				   c->no_cname, append_rr, &a, buf, R1_ANSWER_RR_MAX, &info);
		if (!canon[0] && r >= 0 &&
		    dns_name_to_str(info.canonical, info.canonical_len, canon, sizeof(canon)) >= 0 &&
		    strlen(canon) > 1)
			canon[strlen(canon) - 1] = '\0';
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0 && c->kind == R1_Q_HOSTNAME)
		r = sd_bus_message_append(reply, "s", canon[0] ? canon : c->name);
	if (r >= 0)
		r = sd_bus_message_append(reply, "t", out_flags(c, v));
	free(buf);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return r;
	}
	*ret = reply;
	return 0;
}

static int start(struct r1_call *c);

/* Did a query get an answer, not a failure or NXDOMAIN (NODATA is one)?
 * resolved's "success": the search stops there. */
static bool answered(const struct r1_call *c, const struct sub_view *v)
{
	for (int i = 0; i < c->nsub; i++)
		if (v[i].status == 0 && v[i].info.rcode == DNS_RCODE_NOERROR)
			return true;
	return false;
}

/* Every answer is in: the next search domain, or reply, and the call is
 * over. */
static void finish(struct r1_call *c)
{
	struct ds_r1 *r1 = c->r1;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct sub_view v[2];
	int r;

	for (int i = 0; i < c->nsub; i++)
		view_sub(c, &c->sub[i], &v[i]);
	if (c->nsearch > 0 && !answered(c, v) && search_next(c)) {
		start(c);
		return;
	}
	r = call_error(c, v, &err);
	if (r > 0) {
		r = build_reply(c, v, &reply);
		if (r == -EBADMSG)
			sd_bus_error_setf(&err, R1_ERR_INVALID_REPLY,
					  "the answer for '%s' was not understood", c->name);
		else if (r < 0)
			sd_bus_error_set_errno(&err, -r);
	}
	if (reply) {
		sd_bus_send(NULL, reply, NULL);
		sd_bus_message_unref(reply);
	} else {
		sd_bus_reply_method_error(c->m, &err);
	}
	sd_bus_error_free(&err);
	call_free(c);
	r1_loop_kick(&r1->loop);
}

static bool all_done(const struct r1_call *c)
{
	for (int i = 0; i < c->nsub; i++)
		if (!c->sub[i].done)
			return false;
	return true;
}

static void sub_done(void *cbarg, int err, const uint8_t *answer, size_t len, unsigned flags,
		     int ifindex)
{
	struct r1_sub *s = cbarg;

	s->pending = false;
	s->done = true;
	s->err = err;
	s->flags = flags;
	s->ifindex = ifindex;
	if (err >= 0) {
		s->answer = malloc(len ? len : 1);
		if (!s->answer) {
			s->err = -ENOMEM;
		} else {
			memcpy(s->answer, answer, len);
			s->len = len;
			s->err = 0;
		}
	}
	if (!s->call->starting && all_done(s->call))
		finish(s->call);
}

/* Ask every query of c (of the link c->ifindex, if given); replies (now
 * or later).  Returns 1 (handled). */
static int start(struct r1_call *c)
{
	struct ds_r1 *r1 = c->r1;

	c->starting = true;
	for (int i = 0; i < c->nsub; i++) {
		struct r1_sub *s = &c->sub[i];
		int r = r1->hooks.resolve ? r1->hooks.resolve(r1->hooks.arg, s->query, s->qlen,
							       c->ifindex, sub_done, s, &s->handle)
					  : -ENOTCONN;

		if (r == 1)
			s->pending = true;
		else if (r < 0)
			sub_done(s, r, NULL, 0, 0, 0);
	}
	c->starting = false;
	if (all_done(c))
		finish(c);
	return 1;
}

/* ---------------------------------------------------------------- methods */

/* A hostname that is an address: resolved answers it without asking. */
static int literal(sd_bus_message *m, const char *name, int family, sd_bus_error *err)
{
	sd_bus_message *reply = NULL;
	uint8_t a[16];
	int f, r;

	if (inet_pton(AF_INET, name, a) == 1)
		f = AF_INET;
	else if (inet_pton(AF_INET6, name, a) == 1)
		f = AF_INET6;
	else
		return 0;
	if (family != AF_UNSPEC && family != f)
		return sd_bus_error_setf(err, R1_ERR_NO_SUCH_RR,
					 "'%s' is an address of another family", name);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(iiay)");
	if (r >= 0)
		r = append_address(reply, 0, f, a, f == AF_INET ? 4 : 16);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "st", name,
					  R1_F_SYNTHETIC | R1_F_AUTHENTICATED | R1_F_CONFIDENTIAL);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 1;
}

int r1_query_hostname(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct ds_r1 *r1 = userdata;
	uint8_t wire[DNS_NAME_MAX];
	struct r1_call *c;
	int32_t ifindex, family;
	const char *name;
	uint64_t flags;
	bool search;
	int r, len;

	r = sd_bus_message_read(m, "isit", &ifindex, &name, &family, &flags);
	if (r < 0)
		return r;
	if ((r = check_ifindex(ifindex, err)) < 0 || (r = check_flags(flags, err)) < 0)
		return r;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "unknown address family %d",
					 (int)family);
	r = literal(m, name, family, err);
	if (r != 0)
		return r;
	len = check_name(name, wire, err);
	if (len < 0)
		return len;
	search = single_label(wire, len) && !is_localhost(wire, len);
	if (search && (flags & R1_F_NO_SEARCH))
		return no_search_error(name, "SD_RESOLVED_NO_SEARCH was given", err);
	c = call_new(r1, m, R1_Q_HOSTNAME, err);
	if (!c)
		return -EBUSY;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->ifindex = ifindex;
	c->family = family;
	c->no_cname = (flags & R1_F_NO_CNAME) != 0;
	if (search) {
		c->nsearch = r1->hooks.search_domains
				     ? r1->hooks.search_domains(r1->hooks.arg, ifindex, c->search,
								SEARCH_MAX)
				     : 0;
		if (!search_next(c)) {
			call_free(c);
			return no_search_error(name, "no search domain applies", err);
		}
	} else if (add_host_subs(c, wire, (size_t)len) < 0) {
		call_free(c);
		return sd_bus_error_set_errno(err, EMSGSIZE);
	}
	return start(c);
}

int r1_query_address(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct ds_r1 *r1 = userdata;
	uint8_t wire[DNS_NAME_MAX];
	char text[INET6_ADDRSTRLEN];
	struct r1_call *c;
	int32_t ifindex, family;
	const void *a;
	size_t alen;
	uint64_t flags;
	int r, len;

	r = sd_bus_message_read(m, "ii", &ifindex, &family);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &a, &alen);
	if (r >= 0)
		r = sd_bus_message_read(m, "t", &flags);
	if (r < 0)
		return r;
	if ((r = check_ifindex(ifindex, err)) < 0 || (r = check_flags(flags, err)) < 0)
		return r;
	if (family != AF_INET && family != AF_INET6)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "unknown address family %d",
					 (int)family);
	len = r1_answer_reverse_name(family, a, alen, wire);
	if (len < 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "an %s address of %zu octets",
					 family == AF_INET ? "IPv4" : "IPv6", alen);
	c = call_new(r1, m, R1_Q_ADDRESS, err);
	if (!c)
		return -EBUSY;
	inet_ntop(family, a, text, sizeof(text));
	snprintf(c->name, sizeof(c->name), "%s", text);
	c->ifindex = ifindex;
	if (add_sub(c, wire, (size_t)len, DNS_TYPE_PTR, DNS_CLASS_IN) < 0) {
		call_free(c);
		return sd_bus_error_set_errno(err, EMSGSIZE);
	}
	return start(c);
}

int r1_query_record(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct ds_r1 *r1 = userdata;
	uint8_t wire[DNS_NAME_MAX];
	struct r1_call *c;
	int32_t ifindex;
	const char *name;
	uint16_t qclass, qtype;
	uint64_t flags;
	int r, len;

	r = sd_bus_message_read(m, "isqqt", &ifindex, &name, &qclass, &qtype, &flags);
	if (r < 0)
		return r;
	if ((r = check_ifindex(ifindex, err)) < 0 || (r = check_flags(flags, err)) < 0)
		return r;
	if (qclass != DNS_CLASS_IN && qclass != 255)
		return sd_bus_error_setf(err, SD_BUS_ERROR_NOT_SUPPORTED,
					 "class %u is not supported (IN or ANY only)", qclass);
	if (qtype == 0 || dns_qtype_local_rcode(qtype, NULL) != 0)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "type %u cannot be asked for", qtype);
	len = check_name(name, wire, err);
	if (len < 0)
		return len;
	/* never searched; addresses of a single-label name are not asked */
	if ((qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA) && single_label(wire, len) &&
	    !is_localhost(wire, len))
		return no_search_error(name, "ResolveRecord does not search", err);
	c = call_new(r1, m, R1_Q_RECORD, err);
	if (!c)
		return -EBUSY;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->ifindex = ifindex;
	c->no_cname = (flags & R1_F_NO_CNAME) != 0;
	if (add_sub(c, wire, (size_t)len, qtype, qclass) < 0) {
		call_free(c);
		return sd_bus_error_set_errno(err, EMSGSIZE);
	}
	return start(c);
}

void r1_query_cancel_all(struct ds_r1 *r1)
{
	struct r1_call *c;

	while ((c = TAILQ_FIRST(&r1->calls)))
		call_free(c);
}
