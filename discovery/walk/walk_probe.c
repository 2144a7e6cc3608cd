/*
 * walk_probe.c -- the questions the walk asks without libunbound: what
 * rcode the resolver itself gives to DNSKEY resolver-name.arpa, and
 * whether it answers a name that cannot exist (a captive portal's
 * resolver that answers every name with its own address).
 *
 * The rcode:   libunbound
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
#include <openssl/rand.h>
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

/* Ask fwd name/type once into answer[0..cap), within max_ms and the walk's
 * deadline.  0 with the answer's length in *len, or a negative errno. */
static int
probe_ask(const struct walk *w, const char *fwd, const char *name, uint16_t type,
	  unsigned max_ms, uint8_t *answer, size_t cap, size_t *len)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t qname[DNS_NAME_MAX];
	struct dns_exchange x = {
		.server = &ss, .qname = qname, .qtype = type, .cancel = w->p->cancel,
		.answer = answer, .cap = cap,
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
	*len = x.len;
	return 0;
}

int
walk_probe_rcode(const struct walk *w, const char *fwd, const char *name, uint16_t type,
		 unsigned max_ms)
{
	uint8_t answer[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	size_t len;
	int r = probe_ask(w, fwd, name, type, max_ms, answer, sizeof(answer), &len);

	return r < 0 ? r : DNS_RCODE(answer[3]);
}

/* The first A record of the answer msg[0..len) to the probe, as text in
 * out; false if there is none (or the message is broken). */
static bool
first_a(const uint8_t *msg, size_t len, char *out, size_t outlen)
{
	struct dns_reader r;
	unsigned an, i;

	dns_reader_init(&r, msg, len);
	dns_read_bytes(&r, NULL, 6);
	an = dns_read_u16(&r);
	dns_read_bytes(&r, NULL, 4);
	dns_skip_name(&r);
	dns_read_bytes(&r, NULL, 4);
	for (i = 0; i < an && r.err == 0; i++) {
		uint16_t type, rdlen;
		uint8_t a[4];

		dns_skip_name(&r);
		type = dns_read_u16(&r);
		dns_read_bytes(&r, NULL, 6);
		rdlen = dns_read_u16(&r);
		if (r.err == 0 && type == DNS_TYPE_A && rdlen == 4) {
			dns_read_bytes(&r, a, 4);
			if (r.err == 0 && inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL)
				return true;
		} else {
			dns_read_bytes(&r, NULL, rdlen);
		}
	}
	return false;
}

int
walk_probe_hijack(const struct walk *w, const char *fwd, unsigned max_ms, char *why,
		  size_t whylen)
{
	uint8_t answer[512], rnd[6];
	char name[64], addr[INET_ADDRSTRLEN];
	size_t len;
	int r;

	why[0] = '\0';
	/* a new name each time: nothing on the way can have it cached */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -EIO;
	snprintf(name, sizeof(name), "dotstub-%02x%02x%02x%02x%02x%02x.invalid", rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5]);
	r = probe_ask(w, fwd, name, DNS_TYPE_A, max_ms, answer, sizeof(answer), &len);
	if (r < 0)
		return r;
	/* RFC 6761 6.4: nothing under invalid. exists */
	if (DNS_RCODE(answer[3]) != DNS_RCODE_NOERROR || !first_a(answer, len, addr, sizeof(addr)))
		return 0;
	snprintf(why, whylen, "it answers names that cannot exist (%s A %s)", name, addr);
	return 1;
}
