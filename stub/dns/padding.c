/*
 * padding.c -- EDNS PADDING (RFC 7830, RFC 8467): the option written into a
 * message being built, and added to an answer that has none.
 *
 * All parsing goes through the bounds-checked reader of wire.c; all
 * building through its writer.  No raw offsets into untrusted bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "msg_int.h"

static const uint8_t zeros[128];

static void
pad_zeros(struct dns_writer *w, size_t n)
{
	while (n > 0 && w->err == 0) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		dns_write_bytes(w, zeros, k);
		n -= k;
	}
}

void
msg_write_padding(struct dns_writer *w, size_t block, size_t limit)
{
	size_t cur = w->len + OPT_HDR_LEN, target;

	if (block == 0 || cur > limit)
		return;
	target = (cur + block - 1) / block * block;
	if (target > limit)
		target = limit;
	if (target - cur > UINT16_MAX)
		target = cur + UINT16_MAX;
	dns_write_u16(w, EDNS_OPT_PADDING);
	dns_write_u16(w, (uint16_t)(target - cur));
	pad_zeros(w, target - cur);
}

/* Does the OPT record whose RDATA is rdata[0..rdlen) hold a PADDING
 * option?  false also for options that do not parse (then not padded). */
static bool
opt_has_padding(const uint8_t *rdata, size_t rdlen, bool *ok)
{
	size_t pos = 0;

	*ok = true;
	while (pos < rdlen) {
		size_t olen;

		if (rdlen - pos < OPT_HDR_LEN) {
			*ok = false;
			return false;
		}
		olen = get_u16(rdata + pos + 2);
		if (get_u16(rdata + pos) == EDNS_OPT_PADDING)
			return true;
		if (olen > rdlen - pos - OPT_HDR_LEN) {
			*ok = false;
			return false;
		}
		pos += OPT_HDR_LEN + olen;
	}
	return false;
}

int
dns_answer_pad(uint8_t *msg, size_t len, size_t cap, size_t block)
{
	struct dns_reader r;
	struct dns_writer w;
	size_t last = 0, nrr, rdlen_pos = 0, limit;
	unsigned qd, nopt = 0;
	uint16_t type = 0, rdlen = 0;
	bool last_opt = false, ok;

	if (len < DNS_HDR_LEN || len > cap)
		return -EINVAL;
	dns_reader_init(&r, msg, len);
	r.pos = 4;
	qd = dns_read_u16(&r);
	nrr = (size_t)dns_read_u16(&r) + dns_read_u16(&r) + dns_read_u16(&r);
	for (unsigned i = 0; i < qd && r.err == 0; i++) {
		dns_skip_name(&r);
		dns_read_u16(&r);
		dns_read_u16(&r);
	}
	for (size_t i = 0; i < nrr && r.err == 0; i++) {
		last = r.pos;
		dns_skip_name(&r);
		type = dns_read_u16(&r);
		dns_read_u16(&r);
		dns_read_u32(&r);
		rdlen_pos = r.pos;
		rdlen = dns_read_u16(&r);
		if (r.err == 0 && rdlen > r.len - r.pos)
			r.err = -EBADMSG;
		r.pos += r.err == 0 ? rdlen : 0;
		last_opt = type == DNS_TYPE_OPT && msg[last] == 0;
		nopt += type == DNS_TYPE_OPT;
	}
	if (r.err != 0 || r.pos != len)
		return -EINVAL;
	if (block == 0 || !last_opt || nopt != 1 || rdlen_pos + 2 + rdlen != len ||
	    opt_has_padding(msg + rdlen_pos + 2, rdlen, &ok) || !ok)
		return (int)len;
	limit = cap < DNS_MSG_MAX ? cap : DNS_MSG_MAX;
	dns_writer_init(&w, msg, limit);
	w.len = len;
	msg_write_padding(&w, block, limit);
	if (w.err != 0 || w.len - len > (size_t)(UINT16_MAX - rdlen))
		return (int)len; /* cannot happen: write_padding keeps within limit */
	put_u16(msg + rdlen_pos, (uint16_t)(rdlen + (w.len - len)));
	return (int)w.len;
}
