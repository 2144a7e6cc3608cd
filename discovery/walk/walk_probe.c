/*
 * walk_probe.c -- the one question the walk asks without libunbound: what
 * rcode the resolver itself gives to DNSKEY resolver-name.arpa.  libunbound
 * turns a REFUSED from its forwarder into its own SERVFAIL, exactly as it
 * does for a forwarder that never answers, and the two mean different
 * things: a resolver that refuses resolver-name.arpa to this client
 * publishes nothing for it, one that is silent is unreachable.
 *
 * One UDP query, RD set, to one resolver, a random ID; the answer must come
 * from that address (connected socket), carry the ID, QR and the very
 * question.  Anything else is ignored until the time is up.  Only the
 * rcode is read: nothing else of this unauthenticated answer is used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "walk_int.h"

#define PROBE_SLICE_MS 50

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

static size_t
probe_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, size_t qlen,
	    uint16_t qtype)
{
	struct dns_writer wr;

	dns_writer_init(&wr, buf, cap);
	dns_write_u16(&wr, id);
	dns_write_u16(&wr, DNS_FLAG_RD);
	dns_write_u16(&wr, 1);
	dns_write_u16(&wr, 0);
	dns_write_u16(&wr, 0);
	dns_write_u16(&wr, 0);
	dns_write_name(&wr, qname, qlen);
	dns_write_u16(&wr, qtype);
	dns_write_u16(&wr, DNS_CLASS_IN);
	return wr.err ? 0 : wr.len;
}

/* The rcode of buf if it answers our question, else -1. */
static int
probe_answer(const uint8_t *buf, size_t len, uint16_t id, const uint8_t *qname, size_t qlen,
	     uint16_t qtype)
{
	struct dns_reader rd;
	uint8_t name[DNS_NAME_MAX];
	size_t nlen = 0;
	uint16_t rid, flags, qd, type, class;

	dns_reader_init(&rd, buf, len);
	rid = dns_read_u16(&rd);
	flags = dns_read_u16(&rd);
	qd = dns_read_u16(&rd);
	dns_read_bytes(&rd, NULL, 6);
	if (rd.err || rid != id || !(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != 0 || qd != 1)
		return -1;
	dns_read_name(&rd, name, &nlen);
	type = dns_read_u16(&rd);
	class = dns_read_u16(&rd);
	if (rd.err || !dns_name_equal(name, nlen, qname, qlen) || type != qtype ||
	    class != DNS_CLASS_IN)
		return -1;
	return DNS_RCODE(flags);
}

/* Wait for the answer to id on fd until end_ms.  Returns its rcode,
 * -ETIMEDOUT, -ECANCELED or -errno. */
static int
probe_wait(const struct walk *w, int fd, uint16_t id, const uint8_t *qname, size_t qlen,
	   uint16_t qtype, uint64_t end_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[DNS_MSG_MAX];
	uint64_t now;
	ssize_t n;
	int r;

	while ((now = walk_now_ms()) < end_ms) {
		if (walk_cancelled(w))
			return -ECANCELED;
		r = poll(&pfd, 1, end_ms - now < PROBE_SLICE_MS ? (int)(end_ms - now)
							       : PROBE_SLICE_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			/* an ICMP port unreachable: nobody there */
			if (errno == ECONNREFUSED)
				return -ETIMEDOUT;
			if (errno != EINTR && errno != EAGAIN)
				return -errno;
			continue;
		}
		r = probe_answer(buf, (size_t)n, id, qname, qlen, qtype);
		if (r >= 0)
			return r;
	}
	return -ETIMEDOUT;
}

int
walk_probe_rcode(const struct walk *w, const char *fwd, const char *name, uint16_t type,
		 unsigned max_ms)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t qname[DNS_NAME_MAX], query[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	uint16_t id;
	uint64_t end;
	size_t qlen, len;
	int fd, r;

	r = dns_name_from_str(name, qname);
	if (r <= 0 || probe_addr(fwd, &ss, &sslen) < 0)
		return -EINVAL;
	qlen = (size_t)r;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		return -EIO;
	len = probe_query(query, sizeof(query), id, qname, qlen, type);
	if (len == 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0 ||
	    send(fd, query, len, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	end = walk_now_ms() + max_ms;
	if (end > w->deadline_ms)
		end = w->deadline_ms;
	r = probe_wait(w, fd, id, qname, qlen, type, end);
	close(fd);
	return r;
}
