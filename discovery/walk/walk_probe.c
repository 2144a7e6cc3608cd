/*
 * walk_probe.c -- the one question the walk asks without libunbound: what
 * rcode the resolver itself gives to DNSKEY resolver-name.arpa.  libunbound
 * turns a REFUSED from its forwarder into its own SERVFAIL, exactly as it
 * does for a forwarder that never answers, and the two mean different
 * things: a resolver that refuses resolver-name.arpa to this client
 * publishes nothing for it, one that is silent is unreachable.
 *
 * One UDP query, RD set, to one resolver, a random ID (dotstub/exchange.h:
 * the answer must come from that address, carry the ID, QR and the very
 * question; anything else is ignored until the time is up).  Only the
 * rcode is read: nothing else of this unauthenticated answer is used, so
 * only its header and question are kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "walk_int.h"

#include "dotstub/exchange.h"

/* "ADDR@PORT" (checked by disc_walk) into ss. */
static int
probe_addr(const char *fwd, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char buf[DISC_ADDR_STR_MAX], *at;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	unsigned long port = 53;

	snprintf(buf, sizeof(buf), "%s", fwd);
	at = strrchr(buf, '@');
	if (at) {
		*at++ = '\0';
		port = strtoul(at, NULL, 10);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

int
walk_probe_rcode(const struct walk *w, const char *fwd, const char *name, uint16_t type,
		 unsigned max_ms)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t qname[DNS_NAME_MAX], answer[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	struct dns_exchange x = {
		.server = &ss, .qname = qname, .qtype = type, .cancel = w->p->cancel,
		.answer = answer, .cap = sizeof(answer),
	};
	uint64_t now = walk_now_ms();
	int r;

	r = dns_name_from_str(name, qname);
	if (r <= 0 || probe_addr(fwd, &ss, &sslen) < 0)
		return -EINVAL;
	x.qlen = (size_t)r;
	if (now >= w->deadline_ms)
		return -ETIMEDOUT;
	x.timeout_ms = w->deadline_ms - now < max_ms ? (unsigned)(w->deadline_ms - now) : max_ms;
	r = dns_exchange(&x);
	if (r < 0)
		return r;
	return DNS_RCODE(answer[3]);
}
