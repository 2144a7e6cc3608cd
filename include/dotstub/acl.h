/*
 * acl.h -- access control for the listeners: which clients may query
 * (the access-control key, with Unbound's meaning).
 *
 * A table of rules "NETMASK ACTION"; the rule with the longest netmask
 * that holds the client's address decides, whatever the order the rules
 * were given in; a client no rule holds is refused.  Actions:
 *   allow   the query is served;
 *   refuse  the query is answered REFUSED (with the question, and an EDE
 *           18 "Prohibited" if it had EDNS);
 *   deny    nothing is sent back (over TCP: the connection is closed
 *           before anything is read).
 * Pure data: no I/O, no allocation, nothing logs.  Matching scans a table
 * kept sorted by family and then from the longest netmask down, so the
 * first rule that holds the address is the most specific one.
 */
#ifndef DOTSTUB_ACL_H
#define DOTSTUB_ACL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum ds_acl_action {
	DS_ACL_ALLOW = 0,
	DS_ACL_REFUSE,
	DS_ACL_DENY,
};

struct ds_acl_rule {
	int family;                   /* AF_INET or AF_INET6 */
	unsigned plen;                /* prefix length: 0..32 or 0..128 */
	enum ds_acl_action action;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	} net;                        /* the network: bits past plen are 0 */
};

/* Enough for "ffff:ffff:...:ffff/128 refuse" and the NUL. */
#define DS_ACL_RULE_STRLEN (INET6_ADDRSTRLEN + 12)
/* Rules in one table: the configured lines, or the default (loopback and
 * the directly connected prefixes). */
#define DS_ACL_MAX 256

struct ds_acl {
	struct ds_acl_rule rule[DS_ACL_MAX]; /* by family, longest first */
	size_t n;
};

/* Parse "NETMASK ACTION": NETMASK is an IPv4 or IPv6 address with an
 * optional "/LEN" (without it, the host: /32 or /128); host bits past LEN
 * are cleared; ACTION is allow, refuse or deny.  Blanks separate them.
 * Returns 0, or -EINVAL with *why set to a short reason. */
int ds_acl_rule_parse(const char *text, struct ds_acl_rule *ret, const char **why);
/* A rule made from an address and a prefix length (bits past plen are
 * cleared).  Returns 0 or -EINVAL (family, plen). */
int ds_acl_rule_make(int family, const void *addr, unsigned plen, enum ds_acl_action action,
		     struct ds_acl_rule *ret);
/* "10.0.0.0/8 allow" into out (DS_ACL_RULE_STRLEN is enough); returns out. */
const char *ds_acl_rule_format(const struct ds_acl_rule *r, char *out, size_t outlen);
/* "allow", "refuse", "deny". */
const char *ds_acl_action_name(enum ds_acl_action a);
/* Do the two rules name the same netmask (whatever their actions)? */
bool ds_acl_same_netmask(const struct ds_acl_rule *a, const struct ds_acl_rule *b);

/* An empty table (it refuses everyone). */
void ds_acl_init(struct ds_acl *t);
/* Add a rule in its place.  Returns 0, -EEXIST if the table has a rule
 * for the same netmask already (the table is unchanged), or -ENOSPC. */
int ds_acl_add(struct ds_acl *t, const struct ds_acl_rule *r);
/* Do two tables hold the same rules? */
bool ds_acl_equal(const struct ds_acl *a, const struct ds_acl *b);
/* The action for a client address (AF_INET or AF_INET6 sockaddr; an
 * IPv4-mapped IPv6 address counts as the IPv4 address): the most specific
 * rule's, DS_ACL_REFUSE if none holds it (or another family). */
enum ds_acl_action ds_acl_match(const struct ds_acl *t, const struct sockaddr_storage *ss);

#endif
