/*
 * ddr_adn.c -- a DNR instance in ADN-only mode (RFC 9463 3.1.6: the
 * option names the encrypted resolver by its Authentication Domain Name
 * alone, without addresses or service parameters).  What the client does
 * with it is DDR's "Discovery Using Resolver Names" (RFC 9462 5, pointed to
 * for DNR by RFC 9462 6.5): an SVCB query for "_dns.ADN", here over plain
 * DNS to the network's resolver, and the addresses of the record's
 * TargetName (its ipv4hint/ipv6hint, else A and AAAA of TargetName).  The
 * designated resolver is then verified as any DNR one: its certificate
 * must be valid for the ADN itself, whatever the TargetName (RFC 9462 5),
 * and the ADN is the SNI.
 *
 * Every answer is the network's, unauthenticated and hostile: only records
 * of the very name asked are read (no CNAME followed), their lengths
 * checked against the message; at most DDR_QUERY_MAX_RECORDS SVCB records
 * and DDR_MAX_HINTS addresses of each family are kept; addresses no
 * resolver can have are discarded as in the option itself (ddr_dnr.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddr_int.h"

#include "dotstub/exchange.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of the time until deadline, at least 1 ms. */
static unsigned left_ms(long long deadline)
{
	long long l = deadline - now_ms();

	return l < 1 ? 1u : (unsigned)l;
}

static void add_addr(struct ddr_designation *g, int family, const uint8_t *a, uint16_t port)
{
	struct sockaddr_storage *ss;

	if (g->naddr >= DS_MAX_UPSTREAM_ADDRS)
		return;
	ss = &g->addr[g->naddr++];
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons(port);
	}
}

/* Add a if a resolver can have it (as the option's addresses, RFC 9463
 * 4.2, 5.2); the first one discarded is noted in *dropped. */
static void take_addr(struct ddr_designation *g, int family, const uint8_t *a, uint16_t port,
		      char *dropped, size_t droppedlen)
{
	const char *why = family == AF_INET ? ddr_v4_unusable(a) : ddr_v6_unusable(a);
	char text[INET6_ADDRSTRLEN];

	if (!why) {
		add_addr(g, family, a, port);
		return;
	}
	if (dropped[0])
		return;
	inet_ntop(family, a, text, sizeof(text));
	snprintf(dropped, droppedlen, "%s (%s)", text, why);
}

/* The A or AAAA records of name (wire form) in the answer msg[0..len), as
 * addresses of g with port; the reading stops at the first record whose
 * length runs past the message.  How many were read, or -EBADMSG. */
static int read_addrs(const uint8_t *msg, size_t len, const uint8_t *name, size_t nlen,
		      uint16_t qtype, uint16_t port, struct ddr_designation *g, char *dropped,
		      size_t droppedlen)
{
	size_t alen = qtype == DNS_TYPE_A ? 4 : 16;
	struct dns_reader rd;
	unsigned an, kept = 0;
	uint16_t flags;

	if (ddr_msg_begin(&rd, msg, len, &flags, &an) < 0)
		return -EBADMSG;
	if (DNS_RCODE(flags) != DNS_RCODE_NOERROR)
		return 0;
	for (unsigned i = 0; i < an; i++) {
		uint8_t owner[DNS_NAME_MAX];
		size_t olen = 0, rdlen;
		uint16_t type, class;

		dns_read_name(&rd, owner, &olen);
		type = dns_read_u16(&rd);
		class = dns_read_u16(&rd);
		dns_read_u32(&rd);
		rdlen = dns_read_u16(&rd);
		if (rd.err || rdlen > rd.len - rd.pos)
			return -EBADMSG;
		if (type == qtype && class == DNS_CLASS_IN && rdlen == alen &&
		    dns_name_equal(owner, olen, name, nlen) && kept < DDR_MAX_HINTS) {
			take_addr(g, qtype == DNS_TYPE_A ? AF_INET : AF_INET6, rd.buf + rd.pos,
				  port, dropped, droppedlen);
			kept++;
		}
		rd.pos += rdlen;
	}
	return (int)kept;
}

/* Ask server for name's A or AAAA records; add them to g. */
static int ask_addrs(const struct sockaddr_storage *server, const uint8_t *name, size_t nlen,
		     uint16_t qtype, uint16_t port, long long deadline, const atomic_bool *cancel,
		     struct ddr_designation *g, char *dropped, size_t droppedlen)
{
	struct dns_exchange x = {
		.server = server, .qname = name, .qlen = nlen, .qtype = qtype,
		.timeout_ms = left_ms(deadline), .tcp_on_tc = true, .cancel = cancel,
		.cap = DNS_MSG_MAX,
	};
	int r;

	x.answer = malloc(DNS_MSG_MAX);
	if (!x.answer)
		return -ENOMEM;
	r = dns_exchange(&x);
	if (r == 0)
		r = read_addrs(x.answer, x.len, name, nlen, qtype, port, g, dropped, droppedlen);
	free(x.answer);
	return r;
}

/* The first DoT record of q by priority (ServiceMode, "dot" in alpn), or
 * NULL. */
static const struct ddr_svcb *first_dot(const struct ddr_query *q)
{
	const struct ddr_svcb *best = NULL;

	for (unsigned i = 0; i < q->n && i < DDR_QUERY_MAX_RECORDS; i++)
		if (ddr_svcb_qualifies_dot(&q->rec[i]) &&
		    (!best || q->rec[i].priority < best->priority))
			best = &q->rec[i];
	return best;
}

/* "192.0.2.53:853 [2001:db8::53]:853" */
static void format_addrs(const struct ddr_designation *g, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < g->naddr && n < outlen; i++) {
		char text[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &g->addr[i];
		int w;

		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

			inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
			w = snprintf(out + n, outlen - n, "%s%s:%u", i ? " " : "", text,
				     ntohs(sin->sin_port));
		} else {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

			inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
			w = snprintf(out + n, outlen - n, "%s[%s]:%u", i ? " " : "", text,
				     ntohs(sin6->sin6_port));
		}
		if (w < 0)
			return;
		n += (size_t)w;
	}
}

/* The record's addresses: its hints, else A and AAAA of its TargetName
 * ("." is the owner, RFC 9460 2.5). */
static int record_addrs(const struct sockaddr_storage *server, const struct ddr_svcb *s,
			const uint8_t *owner, size_t olen, long long deadline,
			const atomic_bool *cancel, struct ddr_designation *g, char *dropped,
			size_t droppedlen)
{
	const uint8_t *target = s->target_len > 1 ? s->target : owner;
	size_t tlen = s->target_len > 1 ? s->target_len : olen;
	uint16_t port = s->params.port;
	int r;

	for (unsigned k = 0; k < s->params.n_ipv4hint; k++)
		take_addr(g, AF_INET, (const uint8_t *)&s->params.ipv4hint[k], port, dropped,
			  droppedlen);
	for (unsigned k = 0; k < s->params.n_ipv6hint; k++)
		take_addr(g, AF_INET6, s->params.ipv6hint[k].s6_addr, port, dropped, droppedlen);
	if (s->params.n_ipv4hint + s->params.n_ipv6hint > 0)
		return 0;
	r = ask_addrs(server, target, tlen, DNS_TYPE_A, port, deadline, cancel, g, dropped,
		      droppedlen);
	if (r == -ECANCELED || r == -ENOMEM)
		return r;
	return ask_addrs(server, target, tlen, DNS_TYPE_AAAA, port, deadline, cancel, g, dropped,
			 droppedlen) == -ECANCELED ? -ECANCELED : 0;
}

/* Say why (one string) and return r. */
static int adn_fail(char *said, size_t saidlen, int r, const char *why)
{
	snprintf(said, saidlen, "%s", why);
	return r;
}

int ddr_resolve_adn(const struct sockaddr_storage *server, const char *adn, uint16_t priority,
		    unsigned timeout_ms, const atomic_bool *cancel, struct ddr_designation *g,
		    char *said, size_t saidlen)
{
	char qtext[DNS_NAME_MAX + 8], rec[DDR_REASON_MAX], addrs[DDR_REASON_MAX];
	char dropped[INET6_ADDRSTRLEN + 32] = "";
	long long deadline = now_ms() + timeout_ms;
	uint8_t qname[DNS_NAME_MAX];
	const struct ddr_svcb *s;
	struct ddr_query *q;
	int qlen, r;

	memset(g, 0, sizeof(*g));
	if (strlen(adn) > DNS_NAME_MAX - 6 || snprintf(qtext, sizeof(qtext), "_dns.%s", adn) < 0 ||
	    (qlen = dns_name_from_str(qtext, qname)) <= 1)
		return adn_fail(said, saidlen, -EINVAL, "the ADN is not a name");
	q = calloc(1, sizeof(*q));
	if (!q)
		return adn_fail(said, saidlen, -ENOMEM, strerror(ENOMEM));
	r = ddr_query_for(server, qname, (size_t)qlen, timeout_ms, cancel, q);
	if (r < 0 || q->result != DDR_QUERY_OK) {
		snprintf(said, saidlen, "%s", q->reason);
		free(q);
		return r < 0 ? r : -ENOENT;
	}
	s = first_dot(q);
	if (!s) {
		snprintf(said, saidlen, "no DoT record (alpn dot, ServiceMode) among %u for %s.",
			 q->n, qtext);
		free(q);
		return -ENOENT;
	}
	g->origin = DDR_ORIGIN_DNR;
	g->priority = priority;
	snprintf(g->adn, sizeof(g->adn), "%s", adn);
	r = record_addrs(server, s, qname, (size_t)qlen, deadline, cancel, g, dropped,
			 sizeof(dropped));
	if (ddr_svcb_format(s, rec, sizeof(rec)) < 0)
		snprintf(rec, sizeof(rec), "(%u)", s->priority);
	free(q);
	if (r < 0)
		return adn_fail(said, saidlen, r, strerror(-r));
	if (g->naddr == 0) {
		snprintf(said, saidlen, "%s. SVCB %s: no usable address%s%s", qtext, rec,
			 dropped[0] ? ", discarded " : "", dropped);
		return -ENOENT;
	}
	format_addrs(g, addrs, sizeof(addrs));
	snprintf(said, saidlen, "%s. SVCB %s: %s%s%s", qtext, rec, addrs,
		 dropped[0] ? "; discarded " : "", dropped);
	return 0;
}
