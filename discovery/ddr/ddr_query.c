/*
 * ddr_query.c -- Discovery of Designated Resolvers (RFC 9462 4): ask the
 * resolver itself for "_dns.resolver.arpa SVCB" over plain DNS and read
 * the designations in its answer.  The exchange (UDP, TCP again on TC=1,
 * ID, question and source address matched) is dotstub/exchange.h's; the
 * RDATA parser is ddr_svcb.c's.  Nothing here is verified: the answer is
 * unauthenticated, and RFC 9462 4.2 asks for the designated resolver's
 * certificate to name the address asked, which is for the caller to check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddr_int.h"

#include "dotstub/exchange.h"

const char *
ddr_query_result_name(enum ddr_query_result r)
{
	switch (r) {
	case DDR_QUERY_OK:
		return "ok";
	case DDR_QUERY_NONE:
		return "none";
	case DDR_QUERY_UNREACHABLE:
		return "unreachable";
	case DDR_QUERY_MALFORMED:
		break;
	}
	return "malformed";
}

static const char *
ddr_rcode_name(unsigned rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : "an error";
}

/* Record the reason (printf) with the malformed result; returns -EBADMSG. */
static int __attribute__((format(printf, 2, 3)))
ddr_malformed(struct ddr_query *out, const char *fmt, ...)
{
	va_list ap;

	out->result = DDR_QUERY_MALFORMED;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* One answer record at rd: an SVCB of qname is parsed into out. */
static int
ddr_query_record(struct dns_reader *rd, unsigned i, const uint8_t *qname, size_t qlen,
		 struct ddr_query *out)
{
	uint8_t owner[DNS_NAME_MAX];
	size_t olen = 0, rdlen;
	uint16_t type, class;
	const uint8_t *rdata;
	struct ddr_svcb *s;

	dns_read_name(rd, owner, &olen);
	type = dns_read_u16(rd);
	class = dns_read_u16(rd);
	dns_read_u32(rd);
	rdlen = dns_read_u16(rd);
	if (rd->err || rdlen > rd->len - rd->pos)
		return ddr_malformed(out, "answer record %u runs past the end of the message",
				     i);
	rdata = rd->buf + rd->pos;
	rd->pos += rdlen;
	if (type != DDR_TYPE_SVCB || class != DNS_CLASS_IN ||
	    !dns_name_equal(owner, olen, qname, qlen))
		return 0;
	out->total++;
	if (out->n == DDR_QUERY_MAX_RECORDS)
		return 0;
	s = &out->rec[out->n];
	if (ddr_svcb_parse(rdata, rdlen, s) < 0)
		return ddr_malformed(out, "record %u: %s", out->total, s->reason);
	out->n++;
	return 0;
}

int
ddr_msg_begin(struct dns_reader *rd, const uint8_t *msg, size_t len, uint16_t *flags,
	      unsigned *ancount)
{
	dns_reader_init(rd, msg, len);
	dns_read_u16(rd);
	*flags = dns_read_u16(rd);
	dns_read_u16(rd);
	*ancount = dns_read_u16(rd);
	dns_read_bytes(rd, NULL, 4);
	dns_skip_name(rd);
	dns_read_bytes(rd, NULL, 4);
	return rd->err ? -EBADMSG : 0;
}

int
ddr_query_answer(const uint8_t *msg, size_t len, struct ddr_query *out)
{
	uint8_t qname[DNS_NAME_MAX];
	int qlen = dns_name_from_str(DDR_QUERY_NAME, qname);

	if (qlen <= 0)
		return ddr_malformed(out, "%s", strerror(EINVAL));
	return ddr_query_answer_for(msg, len, qname, (size_t)qlen, out);
}

int
ddr_query_answer_for(const uint8_t *msg, size_t len, const uint8_t *qname, size_t qlen,
		     struct ddr_query *out)
{
	char name[DNS_NAME_MAX * 4 + 2];
	struct dns_reader rd;
	unsigned an, i;
	uint16_t flags;
	int r = 0;

	out->result = DDR_QUERY_NONE;
	out->reason[0] = '\0';
	out->total = out->n = 0;
	if (dns_name_to_str(qname, qlen, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	if (ddr_msg_begin(&rd, msg, len, &flags, &an) < 0)
		return ddr_malformed(out, "header or question truncated (%zu octets)", len);
	out->rcode = DNS_RCODE(flags);
	if (out->rcode != DNS_RCODE_NOERROR) {
		ddr_reason(out->reason, sizeof(out->reason), "no SVCB record for %s (%s)", name,
			   ddr_rcode_name(out->rcode));
		return 0;
	}
	if (flags & DNS_FLAG_TC)
		return ddr_malformed(out, "the answer over TCP is truncated (TC=1)");
	/* the first malformed record ends the reading: the framing after it
	 * is not to be trusted */
	for (i = 1; i <= an && r == 0; i++)
		r = ddr_query_record(&rd, i, qname, qlen, out);
	if (r < 0)
		return r;
	if (out->n > 0) {
		out->result = DDR_QUERY_OK;
		return 0;
	}
	ddr_reason(out->reason, sizeof(out->reason), "no SVCB record for %s (%s)", name,
		   an ? "other records only" : "NODATA");
	return 0;
}

int
ddr_query(const struct sockaddr_storage *server, unsigned timeout_ms, struct ddr_query *out)
{
	uint8_t qname[DNS_NAME_MAX];
	int r = dns_name_from_str(DDR_QUERY_NAME, qname);

	if (r <= 0) {
		memset(out, 0, sizeof(*out));
		out->result = DDR_QUERY_UNREACHABLE;
		snprintf(out->reason, sizeof(out->reason), "%s", strerror(EINVAL));
		return -EINVAL;
	}
	return ddr_query_for(server, qname, (size_t)r, timeout_ms, NULL, out);
}

int
ddr_query_for(const struct sockaddr_storage *server, const uint8_t *qname, size_t qlen,
	      unsigned timeout_ms, const atomic_bool *cancel, struct ddr_query *out)
{
	struct dns_exchange x = {
		.server = server, .qtype = DDR_TYPE_SVCB, .timeout_ms = timeout_ms,
		.tcp_on_tc = true, .cap = DNS_MSG_MAX, .cancel = cancel,
		.qname = qname, .qlen = qlen,
	};
	int r;

	memset(out, 0, sizeof(*out));
	x.answer = malloc(DNS_MSG_MAX);
	if (!x.answer) {
		out->result = DDR_QUERY_UNREACHABLE;
		snprintf(out->reason, sizeof(out->reason), "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = dns_exchange(&x);
	out->tcp = x.tcp;
	if (r == 0) {
		r = ddr_query_answer_for(x.answer, x.len, qname, qlen, out);
	} else if (r == -EBADMSG || r == -EMSGSIZE) {
		out->result = DDR_QUERY_MALFORMED;
		snprintf(out->reason, sizeof(out->reason), "the answer over TCP %s",
			 r == -EBADMSG ? "does not answer the query" : "is too long");
	} else {
		out->result = DDR_QUERY_UNREACHABLE;
		snprintf(out->reason, sizeof(out->reason), "%s", r == -ETIMEDOUT
			 ? "no answer" : strerror(-r));
	}
	free(x.answer);
	return r;
}
