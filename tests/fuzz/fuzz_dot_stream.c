/*
 * fuzz_dot_stream.c -- what the DoT server (stub/daemon/dotsrv.c) does
 * with a client's decrypted byte stream: the TCP listener's framing
 * (tcp_frame.c, run with the server's limits: queries in flight, output
 * buffered), each message parsed as a query and answered as the query path
 * answers without an upstream (SERVFAIL with an EDE, localhost locally,
 * FORMERR, NOTIMP, BADVERS, nothing for what is not a query), and every
 * answer padded with dns_answer_pad before it is framed, as the server
 * sends it.  Checked: every answer to a query with EDNS is a multiple of
 * 468 octets (or as long as a message may be) and still parses with its
 * question and rcode, a PADDING option in its OPT; an answer without EDNS
 * is left as it was; output framing adds up.  And dns_answer_pad on the
 * raw message itself (any octets, any room): it stays within the room,
 * and pads or refuses, nothing else.
 *
 * Input: octet 0 the in-flight limit (1..8), octet 1 the output limit in
 * units of 1 KiB (1..256), octets 2-3 a seed for chunk sizes and choices;
 * the rest is the stream.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/message.h"
#include "dotstub/wire.h"
#include "fuzz_target.h"
#include "tcp_frame.h"

struct client {
	unsigned inflight, max_inflight;
	size_t out, max_out;
	uint32_t rng;
	unsigned msgs;
};

static uint8_t inbuf[DNS_MSG_MAX];
static uint8_t answer[DNS_MSG_MAX];
static uint8_t raw[DNS_MSG_MAX + 1024];

static uint32_t rnd(struct client *c)
{
	c->rng = c->rng * 1103515245u + 12345u;
	return c->rng >> 8;
}

static bool may_take(void *arg)
{
	struct client *c = arg;

	return c->inflight < c->max_inflight && c->out < c->max_out;
}

/* The answer the query path gives without an upstream, into answer[]. */
static int respond(struct client *c, const uint8_t *msg, size_t len, struct dns_query *q)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	static const uint8_t localhost[] = "\x09localhost";
	struct dns_answer_opts o = { .age = 0, .ede_code = DNS_EDE_NOT_READY,
				     .ede_text = "no authenticated upstream yet" };

	switch (dns_parse_query(msg, len, q)) {
	case DNS_PARSE_OK:
		break;
	case DNS_PARSE_DROP:
		return 0;
	case DNS_PARSE_NOTIMP:
		return dns_compose_error(q, DNS_RCODE_NOTIMP, NULL, answer, sizeof(answer));
	case DNS_PARSE_BADVERS:
		return dns_compose_error(q, DNS_RCODE_BADVERS, NULL, answer, sizeof(answer));
	default:
		return dns_compose_error(q, DNS_RCODE_FORMERR, NULL, answer, sizeof(answer));
	}
	if (q->qtype == DNS_TYPE_A &&
	    dns_name_is_subdomain(q->qname, q->qname_len, localhost, sizeof(localhost)))
		return dns_compose_local(q, 3600, lo, sizeof(lo), answer, sizeof(answer));
	if (rnd(c) % 4 == 0)
		c->inflight++; /* pending: answered later (by SERVFAIL, below) */
	return dns_compose_error(q, DNS_RCODE_SERVFAIL, &o, answer, sizeof(answer));
}

/* The answer as the server sends it: padded, then checked. */
static void send_padded(struct client *c, const struct dns_query *q, size_t len)
{
	struct dns_response r;
	uint8_t copy[DNS_MSG_MAX];
	int n;

	memcpy(copy, answer, len);
	n = dns_answer_pad(answer, len, sizeof(answer), DNS_PAD_BLOCK_RESPONSE);
	if (n < (int)len)
		abort(); /* our own answers always parse */
	if (q->has_edns) {
		if ((size_t)n % DNS_PAD_BLOCK_RESPONSE != 0 && (size_t)n != DNS_MSG_MAX)
			abort();
	} else if ((size_t)n != len || memcmp(copy, answer, len) != 0) {
		abort(); /* no OPT: nothing may be added */
	}
	if (q->qname_len > 0 && dns_parse_response(answer, (size_t)n, &r) == 0) {
		if (r.id != q->id || r.has_edns != q->has_edns)
			abort();
	}
	c->out += 2 + (size_t)n;
}

static bool message(void *arg, const uint8_t *msg, size_t len)
{
	struct client *c = arg;
	struct dns_query q;
	size_t cap;
	int n;

	if (!may_take(c) || len < DNS_HDR_LEN || len > DNS_MSG_MAX)
		abort();
	c->msgs++;
	memset(&q, 0, sizeof(q));
	n = respond(c, msg, len, &q);
	if (n > 0)
		send_padded(c, &q, (size_t)n);
	/* the pad function on the raw octets, with any room */
	cap = len + rnd(c) % 1024;
	if (cap > sizeof(raw))
		cap = sizeof(raw);
	memcpy(raw, msg, len);
	n = dns_answer_pad(raw, len, cap, 1 + rnd(c) % 600);
	if (n != -EINVAL && (n < (int)len || (size_t)n > cap || (size_t)n > DNS_MSG_MAX))
		abort();
	return c->msgs < 100000;
}

static void release(struct client *c)
{
	if (c->inflight)
		c->inflight -= rnd(c) % (c->inflight + 1);
	if (c->out)
		c->out -= rnd(c) % (c->out + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_frame_ops ops = { .may_take = may_take, .message = message };
	struct client c = { 0 };
	struct evbuffer *in;
	size_t fed = 0, n;
	bool partial = false;

	if (size < 4)
		return 0;
	c.max_inflight = 1 + data[0] % 8;
	c.max_out = 1024 * (1 + (size_t)data[1]);
	c.rng = (uint32_t)data[2] << 8 | data[3];
	n = size - 4;
	in = evbuffer_new();
	if (!in)
		abort();
	for (unsigned round = 0; round < 100000; round++) {
		struct tcp_frame_result r;

		if (fed < n) {
			size_t chunk = 1 + rnd(&c) % 16384; /* a TLS record at most */

			if (chunk > n - fed)
				chunk = n - fed;
			evbuffer_add(in, data + 4 + fed, chunk);
			fed += chunk;
		}
		r = tcp_frame_run(in, partial, &ops, &c, inbuf);
		if (r.rc == TCP_FRAME_BAD || r.rc == TCP_FRAME_GONE)
			break; /* the server closes the connection */
		partial = r.rc == TCP_FRAME_PARTIAL;
		if (fed == n && r.rc != TCP_FRAME_BLOCKED)
			break;
		release(&c);
	}
	evbuffer_free(in);
	return 0;
}
