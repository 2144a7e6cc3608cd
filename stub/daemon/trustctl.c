/*
 * trustctl.c -- the "trust" requests of the control socket: list, show,
 * approve, forget, import and export pinned anchors.  The socket already
 * checked the peer's credentials (root or the daemon's group).  They run
 * in the store process, on its store (d->trust_store), which then tells
 * the network process (d->on_trust_changed).
 */
#include "daemon.h"
#include "jsonw.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dotstub/hex.h"
#include "dotstub/ctlproto.h"
#include "dotstub/log.h"
#include "dotstub/trust.h"

static const char *first_resolver(const struct trust_anchor *a)
{
	return a->nresolvers ? a->resolvers[0].name : "-";
}

/* Find the one anchor a user means: a key tag (digits), a resolver name
 * (has a dot) or a SHA-256 prefix (hex).  Errors are written to out. */
static int find_anchor(struct trust_store *s, const char *what, struct evbuffer *out,
		       const struct trust_anchor **ret)
{
	const struct trust_anchor *a = NULL, *b;
	size_t len = strlen(what), digits = strspn(what, "0123456789");
	int r;

	if (len > 0 && len <= 5 && digits == len) {
		unsigned long tag = strtoul(what, NULL, 10);
		if (tag > 65535)
			goto nomatch;
		a = trust_store_find_tag(s, (uint16_t)tag, NULL);
		if (a && (b = trust_store_find_tag(s, (uint16_t)tag, a))) {
			evbuffer_add_printf(out, "key tag %s is ambiguous: use a SHA-256 prefix\n", what);
			return -ENOTUNIQ;
		}
	} else if (strchr(what, '.')) {
		a = trust_store_find_resolver(s, what, NULL);
		if (a && (b = trust_store_find_resolver(s, what, a))) {
			evbuffer_add_printf(out, "%s was learned under several anchors: use a SHA-256 "
						 "prefix\n", what);
			return -ENOTUNIQ;
		}
	} else {
		r = trust_store_find_sha256(s, what, &a);
		if (r == -ENOTUNIQ) {
			evbuffer_add_printf(out, "SHA-256 prefix %s is ambiguous\n", what);
			return r;
		}
		if (r == -EINVAL) {
			evbuffer_add_printf(out, "'%s' is neither a key tag, a resolver name nor a "
						 "SHA-256 prefix (4 to 64 hex digits)\n", what);
			return r;
		}
	}
	if (a) {
		*ret = a;
		return 0;
	}
nomatch:
	evbuffer_add_printf(out, "no anchor matches '%s'\n", what);
	return -ENOENT;
}

/* The designated resolvers' keys pinned per network, as text. */
static void list_dpins(const struct trust_store *s, struct evbuffer *out)
{
	size_t n = trust_store_dpin_count(s);

	if (n == 0)
		return;
	evbuffer_add_printf(out, "\n%-24s %-9s %-16s %-20s %-20s %-11s %s\n", "DESIGNATED",
			    "SOURCE", "SPKI SHA256", "FIRST SEEN", "LAST SEEN", "STATE", "NETWORK");
	for (size_t i = 0; i < n; i++) {
		const struct trust_dpin *p = trust_store_dpin(s, i);
		char sha[2 * TRUST_SHA256_LEN + 1], first[TRUST_TIME_LEN + 1],
			last[TRUST_TIME_LEN + 1];

		ds_hex_encode(p->spki, TRUST_SHA256_LEN, sha);
		trust_time_format(p->first_seen, first);
		trust_time_format(p->last_seen, last);
		evbuffer_add_printf(out, "%-24s %-9s %.16s %-20s %-20s %-11s %s\n", p->adn,
				    trust_dpin_source_name(p->source), sha, first, last,
				    p->key_changed ? "key-changed" : "pinned", p->fp);
	}
}

/* ... as JSON objects continuing the anchors' array. */
static void list_dpins_json(const struct trust_store *s, struct evbuffer *out, bool more)
{
	for (size_t i = 0; i < trust_store_dpin_count(s); i++) {
		const struct trust_dpin *p = trust_store_dpin(s, i);
		char sha[2 * TRUST_SHA256_LEN + 1], first[TRUST_TIME_LEN + 1],
			last[TRUST_TIME_LEN + 1];

		ds_hex_encode(p->spki, TRUST_SHA256_LEN, sha);
		trust_time_format(p->first_seen, first);
		trust_time_format(p->last_seen, last);
		evbuffer_add_printf(out, "%s{\"designated\": ", more || i ? ", " : "");
		ds_json_str(out, p->adn);
		evbuffer_add_printf(out, ", \"source\": \"%s\", \"spki_sha256\": \"%s\", "
					 "\"first_seen\": \"%s\", \"last_seen\": \"%s\", ",
				    trust_dpin_source_name(p->source), sha, first, last);
		if (p->key_changed) {
			trust_time_format(p->key_changed, last);
			evbuffer_add_printf(out, "\"key_changed\": \"%s\", ", last);
		}
		evbuffer_add_printf(out, "\"state\": \"pinned\", \"network\": ");
		ds_json_str(out, p->fp);
		evbuffer_add_printf(out, "}");
	}
}

static void list(struct trust_store *s, struct evbuffer *out, bool json)
{
	size_t n = trust_store_count(s);

	if (json)
		evbuffer_add_printf(out, "[");
	else
		evbuffer_add_printf(out, "%-24s %-9s %-16s %-20s %-20s %-11s %s\n", "RESOLVER",
				    "TAG/ALG", "SHA256", "FIRST SEEN", "LAST SEEN", "STATE",
				    "NETWORKS");
	for (size_t i = 0; i < n; i++) {
		const struct trust_anchor *a = trust_store_anchor(s, i);
		char sha[2 * TRUST_SHA256_LEN + 1], first[TRUST_TIME_LEN + 1],
			last[TRUST_TIME_LEN + 1], tagalg[16];

		ds_hex_encode(a->sha256, TRUST_SHA256_LEN, sha);
		trust_time_format(a->first_seen, first);
		trust_time_format(a->last_seen, last);
		if (json) {
			evbuffer_add_printf(out, "%s{\"zone\": ", i ? ", " : "");
			ds_json_str(out, a->zone);
			evbuffer_add_printf(out, ", \"resolver\": ");
			ds_json_str(out, first_resolver(a));
			evbuffer_add_printf(out,
					    ", \"tag\": %u, \"algorithm\": %u, \"sha256\": \"%s\", "
					    "\"first_seen\": \"%s\", \"last_seen\": \"%s\", "
					    "\"state\": \"%s\", \"networks\": %zu}",
					    a->tag, a->key.algorithm, sha, first, last,
					    trust_state_name(a->state), a->nnetworks);
			continue;
		}
		snprintf(tagalg, sizeof(tagalg), "%u/%u", a->tag, a->key.algorithm);
		evbuffer_add_printf(out, "%-24s %-9s %.16s %-20s %-20s %-11s %zu\n",
				    first_resolver(a), tagalg, sha, first, last,
				    trust_state_name(a->state), a->nnetworks);
	}
	if (json) {
		list_dpins_json(s, out, n > 0);
		evbuffer_add_printf(out, "]\n");
		return;
	}
	if (n == 0)
		evbuffer_add_printf(out, "(no anchors)\n");
	list_dpins(s, out);
}

static void show(const struct trust_anchor *a, struct evbuffer *out)
{
	char sha[2 * TRUST_SHA256_LEN + 1], t[TRUST_TIME_LEN + 1], key[2 * TRUST_KEY_MAX];

	ds_hex_encode(a->sha256, TRUST_SHA256_LEN, sha);
	if (trust_dnskey_format(&a->key, key, sizeof(key)) < 0)
		snprintf(key, sizeof(key), "?");
	evbuffer_add_printf(out, "zone:        %s\n", a->zone);
	evbuffer_add_printf(out, "dnskey:      %s\n", key);
	evbuffer_add_printf(out, "tag:         %u\nalgorithm:   %u\nsha256:      %s\n", a->tag,
			    a->key.algorithm, sha);
	evbuffer_add_printf(out, "state:       %s%s\n", trust_state_name(a->state),
			    a->managed ? " (managed directory)" : "");
	trust_time_format(a->first_seen, t);
	evbuffer_add_printf(out, "first seen:  %s\n", t);
	trust_time_format(a->last_seen, t);
	evbuffer_add_printf(out, "last seen:   %s\n", t);
	if (a->state == TRUST_STATE_ADD_PENDING) {
		trust_time_format(a->add_pending_since, t);
		evbuffer_add_printf(out, "add-pending since: %s (RFC 5011 hold-down)\n", t);
	}
	for (size_t i = 0; i < a->nresolvers; i++) {
		const struct trust_resolver *r = &a->resolvers[i];

		trust_time_format(r->refreshed, t);
		evbuffer_add_printf(out, "resolver:    %s (%s), validated %s\n", r->name,
				    ds_server_type_name(r->type), t);
		for (size_t k = 0; k < r->naddr; k++)
			evbuffer_add_printf(out, "  address:   %s\n", r->addr[k]);
		for (size_t k = 0; k < r->ntlsa; k++) {
			char *hex = malloc(2u * r->tlsa[k].len + 1);
			if (!hex)
				continue;
			ds_hex_encode(r->tlsa[k].data, r->tlsa[k].len, hex);
			evbuffer_add_printf(out, "  tlsa:      %u %u %u %s\n", r->tlsa[k].usage,
					    r->tlsa[k].selector, r->tlsa[k].mtype, hex);
			free(hex);
		}
	}
	evbuffer_add_printf(out, "networks:    %zu\n", a->nnetworks);
	for (size_t i = 0; i < a->nnetworks; i++) {
		char f[TRUST_TIME_LEN + 1];
		trust_time_format(a->networks[i].first_seen, f);
		trust_time_format(a->networks[i].last_seen, t);
		evbuffer_add_printf(out, "  seen %s .. %s: %s\n", f, t, a->networks[i].fp);
	}
}

static void export_keys(struct trust_store *s, struct evbuffer *out)
{
	char key[2 * TRUST_KEY_MAX];

	evbuffer_add_printf(out, "; dotstub trust anchors (trusted and managed)\n");
	for (size_t i = 0; i < trust_store_count(s); i++) {
		const struct trust_anchor *a = trust_store_anchor(s, i);

		if (a->state != TRUST_STATE_TRUSTED && a->state != TRUST_STATE_MANAGED)
			continue;
		if (trust_dnskey_format(&a->key, key, sizeof(key)) < 0)
			continue;
		evbuffer_add_printf(out, "%s IN DNSKEY %s ; tag %u, %s\n", a->zone, key, a->tag,
				    first_resolver(a));
	}
}

static int save(struct ds_daemon *d, struct trust_store *s, struct evbuffer *out)
{
	int r = trust_store_save(s);

	if (r < 0) {
		evbuffer_add_printf(out, "the trust store could not be saved: %s\n", strerror(-r));
		log_err("trust store not saved: %s", strerror(-r));
		return r;
	}
	if (d->on_trust_changed)
		d->on_trust_changed(d);
	else
		ds_netmgr_redecide(d);
	return 0;
}

/* "forget X" where X is a SHA-256 prefix of a designated resolver's
 * pinned key and of no anchor: remove that pin.  -ENOENT: not one. */
static int forget_dpin(struct ds_daemon *d, struct trust_store *s, const char *what,
		       struct evbuffer *out)
{
	const struct trust_dpin *p;
	const struct trust_anchor *a;
	char sha[2 * TRUST_SHA256_LEN + 1], adn[TRUST_NAME_MAX + 1];
	int r = trust_store_find_dpin_sha256(s, what, &p);

	if (r == -ENOTUNIQ)
		evbuffer_add_printf(out, "SHA-256 prefix %s is ambiguous\n", what);
	if (r < 0)
		return r == -ENOTUNIQ ? r : -ENOENT;
	if (trust_store_find_sha256(s, what, &a) != -ENOENT) {
		evbuffer_add_printf(out, "SHA-256 prefix %s matches an anchor and a designated "
					 "resolver's key: give more digits\n", what);
		return -ENOTUNIQ;
	}
	ds_hex_encode(p->spki, TRUST_SHA256_LEN, sha);
	snprintf(adn, sizeof(adn), "%s", p->adn);
	r = trust_store_forget_designated(s, p);
	if (r < 0) {
		evbuffer_add_printf(out, "cannot forget: %s\n", strerror(-r));
		return r;
	}
	log_notice("trust: the pinned key of designated resolver %s (sha256 %.16s...) forgotten",
		   adn, sha);
	r = save(d, s, out);
	if (r == 0)
		evbuffer_add_printf(out, "forgot the key of designated resolver %s (sha256 %.16s...)\n",
				    adn, sha);
	return r;
}

static int import_key(struct ds_daemon *d, struct trust_store *s, int argc, char **argv,
		      struct evbuffer *out)
{
	char line[DS_CTL_LINE_MAX], zone[TRUST_NAME_MAX + 1];
	struct trust_dnskey k;
	const struct trust_anchor *a;
	size_t len = 0;
	int r;

	/* "trust import ZONE [TTL] [IN] DNSKEY FLAGS PROTO ALG BASE64..." */
	for (int i = 2; i < argc; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i > 2 ? " " : "",
					argv[i]);
	if (argc < 3 || trust_dnskey_parse_rr(line, zone, &k) < 0) {
		evbuffer_add_printf(out, "not a DNSKEY record: \"ZONE. [TTL] [IN] DNSKEY FLAGS "
					 "PROTOCOL ALGORITHM BASE64\"\n");
		return -EINVAL;
	}
	if (!(k.flags & TRUST_DNSKEY_SEP) || (k.flags & TRUST_DNSKEY_REVOKE)) {
		evbuffer_add_printf(out, "only a key-signing key (flags 257) can be an anchor\n");
		return -EINVAL;
	}
	r = trust_store_pin(s, zone, &k, TRUST_STATE_TRUSTED, time(NULL), &a);
	if (r < 0) {
		evbuffer_add_printf(out, "cannot import: %s\n",
				    r == -EKEYREVOKED ? "the key is revoked" : strerror(-r));
		return r;
	}
	if (r == 0 && a->state == TRUST_STATE_PENDING)
		trust_store_approve(s, a);
	log_notice("trust: imported %s key tag %u", zone, a->tag);
	r = save(d, s, out);
	if (r == 0)
		evbuffer_add_printf(out, "%s %s key tag %u\n", r == 1 ? "imported" : "trusted", zone,
				    a->tag);
	return r;
}

int ds_trustctl(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	struct trust_store *s = d->trust_store ? d->trust_store : ds_netmgr_store(d);
	const struct trust_anchor *a;
	bool json = argc > 2 && !strcmp(argv[argc - 1], "json");
	int r;

	if (!s) {
		evbuffer_add_printf(out, "no trust store in use (a static upstream is configured)\n");
		return -ENOENT;
	}
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "list")) {
		list(s, out, argc == 3 && json);
		return 0;
	}
	if (!strcmp(argv[1], "export")) {
		export_keys(s, out);
		return 0;
	}
	if (!strcmp(argv[1], "import"))
		return import_key(d, s, argc, argv, out);
	if (argc < 3)
		goto usage;
	if (!strcmp(argv[1], "show") && strchr(argv[2], '.')) {
		/* a resolver name may have been learned under several anchors
		 * (a key rollover, a changed key kept pending): show them all */
		int n = 0;
		for (a = trust_store_find_resolver(s, argv[2], NULL); a;
		     a = trust_store_find_resolver(s, argv[2], a)) {
			if (n++)
				evbuffer_add_printf(out, "\n");
			show(a, out);
		}
		if (n)
			return 0;
	}
	if (!strcmp(argv[1], "forget") && (r = forget_dpin(d, s, argv[2], out)) != -ENOENT)
		return r;
	r = find_anchor(s, argv[2], out, &a);
	if (r < 0)
		return r;
	if (!strcmp(argv[1], "show")) {
		show(a, out);
		return 0;
	}
	if (!strcmp(argv[1], "approve")) {
		uint16_t tag = a->tag;
		r = trust_store_approve(s, a);
		if (r < 0) {
			evbuffer_add_printf(out, "cannot approve: %s\n",
					    r == -EKEYREVOKED ? "the key is revoked"
					    : r == -EPERM     ? "a managed anchor is always trusted"
							      : strerror(-r));
			return r;
		}
		log_notice("trust: key tag %u approved", tag);
		r = save(d, s, out);
		if (r == 0)
			evbuffer_add_printf(out, "approved key tag %u\n", tag);
		return r;
	}
	if (!strcmp(argv[1], "forget")) {
		uint16_t tag = a->tag;
		r = trust_store_forget(s, a);
		if (r < 0) {
			evbuffer_add_printf(out, "cannot forget: %s\n",
					    r == -EPERM ? "a managed anchor lives in the anchors "
							  "directory; remove its file there"
							: strerror(-r));
			return r;
		}
		log_notice("trust: key tag %u forgotten", tag);
		r = save(d, s, out);
		if (r == 0)
			evbuffer_add_printf(out, "forgot key tag %u\n", tag);
		return r;
	}
usage:
	evbuffer_add_printf(out, "usage: trust list|export|show X|approve X|forget X|import RR\n");
	return -EINVAL;
}
