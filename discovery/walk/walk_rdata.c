/*
 * walk_rdata.c -- reading the rdata the walk needs.  Every octet comes from
 * the network: lengths are checked before each read, names go through the
 * bounds-checked reader of wire.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "walk_int.h"

int
walk_rdata_name(const uint8_t *rdata, size_t len, uint8_t wire[DNS_NAME_MAX], size_t *wire_len)
{
	struct dns_reader rd;
	uint8_t name[DNS_NAME_MAX];
	size_t nlen = 0;

	dns_reader_init(&rd, rdata, len);
	dns_read_name(&rd, name, &nlen);
	if (rd.err || rd.pos != len || nlen == 0)
		return -EBADMSG;
	memcpy(wire, name, nlen);
	*wire_len = nlen;
	return 0;
}

int
walk_rdata_txt(const uint8_t *rdata, size_t len, char *out, size_t outlen)
{
	size_t pos = 0, o = 0, l;

	if (len == 0 || outlen == 0)
		return -EBADMSG;
	while (pos < len) {
		l = rdata[pos++];
		if (l > len - pos)
			return -EBADMSG;
		while (l-- > 0) {
			uint8_t c = rdata[pos++];

			/* a NUL would cut the value short: keep it visible */
			if (o + 1 < outlen)
				out[o++] = c ? (char)c : '?';
		}
	}
	out[o] = '\0';
	return 0;
}

bool
walk_host_name(const uint8_t *name, size_t len, char *out, size_t outlen)
{
	size_t pos = 0, o = 0, l = 1, i;

	if (len < 2 || name[0] == 0)
		return false;
	while (pos < len && (l = name[pos++]) != 0) {
		if (l > 63 || l > len - pos || name[pos] == '-' || name[pos + l - 1] == '-')
			return false;
		if (o + l + 2 > outlen)
			return false;
		for (i = 0; i < l; i++) {
			uint8_t c = name[pos + i];

			if (!isalnum(c) && c != '-')
				return false;
			out[o++] = (char)tolower(c);
		}
		out[o++] = '.';
		pos += l;
	}
	if (l != 0 || pos != len)
		return false;
	out[o] = '\0';
	return true;
}

int
walk_rdata_addr(struct ds_upstream_desc *d, uint16_t type, const uint8_t *rdata, size_t len,
		uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (type == DNS_TYPE_A && len == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, rdata, 4);
	} else if (type == DNS_TYPE_AAAA && len == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, rdata, 16);
	} else {
		return -EBADMSG;
	}
	if (d->naddr >= DS_MAX_UPSTREAM_ADDRS)
		return -E2BIG;
	d->addr[d->naddr++] = ss;
	return 0;
}

int
walk_rdata_tlsa(struct ds_upstream_desc *d, const uint8_t *rdata, size_t len)
{
	static const size_t fixed = 3;
	uint8_t data[DS_TLSA_DATA_MAX];
	struct ds_tlsa t;

	if (len <= fixed || len - fixed > sizeof(data))
		return -EBADMSG;
	if (d->ntlsa >= DS_MAX_TLSA)
		return -E2BIG;
	t.usage = rdata[0];
	t.selector = rdata[1];
	t.mtype = rdata[2];
	t.len = (uint16_t)(len - fixed);
	memcpy(data, rdata + fixed, t.len);
	t.data = data;
	return ds_upstream_desc_add_tlsa(d, &t);
}
