/*
 * sockaddr.h -- socket addresses to and from text.
 */
#ifndef DOTSTUB_SOCKADDR_H
#define DOTSTUB_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Parse "ADDR", "ADDR:PORT", "[IPv6]:PORT" or a bare IPv6 address into ss
 * (default_port when none is given).  Returns 0 or -EINVAL; ss is written
 * only on success. */
int ds_parse_sockaddr(const char *s, unsigned default_port, struct sockaddr_storage *ss);
/* "192.0.2.1:853" / "[2001:db8::1]:853"; "?" for anything else, and when
 * it does not fit in outlen (never a cut address) */
void ds_sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t outlen);
/* The same address and port (as ds_sockaddr_format writes them). */
bool ds_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* The same IPv4 or IPv6 address, whatever the ports. */
bool ds_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* An address a link gave (its DNS servers, its DNR designations): a
 * link-local IPv6 address without a scope gets that link's, the only one
 * it can be reached through (connect(2) refuses it without one). */
void ds_sockaddr_scope_to_link(struct sockaddr_storage *ss, unsigned ifindex);

#endif
