/*
 * sockaddr.c -- socket addresses to and from text: "ADDR[:PORT]",
 * "[IPv6]:PORT" (see include/dotstub/sockaddr.h).
 */
#include "dotstub/sockaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ds_parse_sockaddr(const char *s, unsigned default_port, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s = NULL, *end;
	size_t hlen;
	unsigned long port = default_port;
	struct sockaddr_storage tmp;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		hlen = (size_t)(end - s - 1);
		s++;
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port_s = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port_s) {
		char *ep;
		if (!isdigit((unsigned char)*port_s))
			return -EINVAL;
		errno = 0;
		port = strtoul(port_s, &ep, 10);
		if (errno || *ep || port == 0 || port > 65535)
			return -EINVAL;
	}
	memset(&tmp, 0, sizeof(tmp));
	struct sockaddr_in *sin = (struct sockaddr_in *)&tmp;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&tmp;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	} else {
		return -EINVAL;
	}
	*ss = tmp;
	return 0;
}

void ds_sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char host[NI_MAXHOST];
	unsigned port;
	socklen_t slen;
	int n;

	if (out == NULL || outlen == 0)
		return;
	if (ss->ss_family == AF_INET) {
		slen = sizeof(struct sockaddr_in);
		port = ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		slen = sizeof(struct sockaddr_in6);
		port = ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	} else {
		snprintf(out, outlen, "?");
		return;
	}
	if (getnameinfo((const struct sockaddr *)ss, slen, host, sizeof(host), NULL, 0,
			NI_NUMERICHOST) != 0) {
		snprintf(out, outlen, "?");
		return;
	}
	n = ss->ss_family == AF_INET6 ? snprintf(out, outlen, "[%s]:%u", host, port)
				       : snprintf(out, outlen, "%s:%u", host, port);
	/* a cut address would name another one */
	if (n < 0 || (size_t)n >= outlen)
		snprintf(out, outlen, "?");
}

bool ds_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char x[64], y[64];

	ds_sockaddr_format(a, x, sizeof(x));
	ds_sockaddr_format(b, y, sizeof(y));
	return !strcmp(x, y);
}

bool ds_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
	return false;
}

void ds_sockaddr_scope_to_link(struct sockaddr_storage *ss, unsigned ifindex)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) &&
	    sin6->sin6_scope_id == 0)
		sin6->sin6_scope_id = ifindex;
}
