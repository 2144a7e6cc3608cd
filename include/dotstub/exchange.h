/*
 * exchange.h -- one question asked directly of one DNS server, blocking,
 * outside the event loop: for the few questions discovery asks without a
 * resolver library (the walk's rcode probe, the DDR query of `dotctl
 * discover`).  Not the plain-DNS client of the daemon (dotstub/plain.h).
 *
 * The query has a random ID, RD set and one question.  Over UDP the socket
 * is connected, so only the server's address and port can answer; an
 * answer must carry the ID, QR, opcode QUERY and the very question, and
 * anything else is ignored until the time is up.  A truncated answer (TC)
 * is asked again over TCP when the caller wants it, on its own connection,
 * within the same time.  Every octet of an answer is untrusted: only its
 * header and question are checked here.
 */
#ifndef DOTSTUB_EXCHANGE_H
#define DOTSTUB_EXCHANGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_exchange {
	/* in */
	const struct sockaddr_storage *server;
	const uint8_t *qname;      /* uncompressed wire form */
	size_t qlen;
	uint16_t qtype;            /* class IN */
	unsigned timeout_ms;       /* UDP and TCP together */
	bool tcp_on_tc;            /* ask again over TCP when TC is set */
	const atomic_bool *cancel; /* polled every few tens of ms; may be NULL */
	uint8_t *answer;           /* room for the answer */
	size_t cap;
	/* out */
	size_t len;                /* the answer's length */
	bool tcp;                  /* it came over TCP */
};

/* Write the query (ID id, RD, one question) into buf.  Returns its length,
 * or 0 if it does not fit. */
size_t dns_exchange_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname,
			  size_t qlen, uint16_t qtype);

/* Does the message answer the query id for qname/qtype (QR, opcode QUERY,
 * one question, equal ignoring case)? */
bool dns_exchange_matches(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname,
			  size_t qlen, uint16_t qtype);

/* Ask.  Returns 0 with the answer in x->answer[0..x->len) (x->tcp set if
 * it came over TCP; a TC answer is returned as it is when TCP was not
 * asked for), -ETIMEDOUT (no answer in time, or the port is closed),
 * -ECANCELED, -EBADMSG (the TCP answer does not answer the query),
 * -EMSGSIZE (it does not fit in cap), -ECONNRESET (TCP closed early),
 * -EINVAL or -errno. */
int dns_exchange(struct dns_exchange *x);

#endif
