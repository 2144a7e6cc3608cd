/*
 * publishd.c -- `publish yes`: dotstubd publishes resolver-name.arpa and
 * its own unique zone N (the DoT server's name) as a forwarder, with the
 * records of the upstream it forwards to (PROTOCOL.md, "Forwarders"),
 * signed, answered authoritatively on every listener and the DoT server.
 *
 * The keys are loaded, or made on first start, in state-dir/publish before
 * anything is served (stub/publish/pub_state.c); from then on everything
 * is in memory: building and signing the zones when the upstream changes
 * (the network manager's hook) and before the signatures run out (a
 * timer), and answering.  Nothing on the query path writes a file.
 *
 * The publication is for the clients: the daemon's own queries (loopback,
 * or from one of its own addresses, as the refresh walk over its own
 * listener) are not answered from it, so that they still reach the
 * upstream's resolver-name.arpa.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dotstub/discovery.h"
#include "dotstub/log.h"
#include "dotstub/publish.h"
#include "dotstub/sockaddr.h"

/* how often the signatures' validity is looked at */
#define RESIGN_CHECK_MS (3600 * 1000)
#define PUBLISH_DIR "publish"

struct ds_publishd {
	struct ds_daemon *d;
	struct ds_publisher *pub;
	struct ds_timer *resign_ev;
	char upstream[DNS_NAME_MAX + 1];   /* what is published, for the log */
	uint64_t answers;
};

static void resign_fired(void *arg)
{
	struct ds_publishd *pd = arg;
	char why[256];
	int r = ds_publisher_resign(pd->pub, time(NULL), false, why, sizeof(why));

	if (r < 0)
		log_err("publish: cannot sign the zones again: %s", why);
	else if (r > 0)
		log_notice("publish: zones signed again, valid until %lld",
			   (long long)ds_publisher_expiration(pd->pub));
	ds_timer_arm_ms(pd->resign_ev, RESIGN_CHECK_MS);
}

/* The numeric serve-dot addresses (not the unspecified ones). */
static size_t own_addresses(const struct ds_config *c, char (*out)[46], size_t max)
{
	size_t n = 0;

	for (int i = 0; i < c->dot.naddr && n < max; i++) {
		const struct sockaddr_storage *ss = &c->dot.addr[i];
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
			if (s4->sin_addr.s_addr == htonl(INADDR_ANY))
				continue;
			inet_ntop(AF_INET, &s4->sin_addr, out[n++], 46);
		} else if (ss->ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
			if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &s6->sin6_addr, out[n++], 46);
		}
	}
	return n;
}

static struct ds_publisher *publisher_make(struct ds_daemon *d, const char *name,
					  const char *tlsa)
{
	struct ds_pub_keys keys;
	struct ds_publisher *p;
	char dir[PATH_MAX], why[768], addr[16][46];
	const char *ap[16];
	size_t n;

	if (!name[0] || !tlsa[0]) {
		log_err("publish: the DoT server has no name or TLSA to publish");
		return NULL;
	}
	if (snprintf(dir, sizeof(dir), "%s/%s", d->cfg->state_dir, PUBLISH_DIR) >= (int)sizeof(dir)) {
		log_err("publish: state-dir %s: path too long", d->cfg->state_dir);
		return NULL;
	}
	if (ds_pub_state_load(&keys, dir, name, why, sizeof(why)) < 0) {
		log_err("publish: %s", why);
		return NULL;
	}
	n = own_addresses(d->cfg, addr, 16);
	for (size_t i = 0; i < n; i++)
		ap[i] = addr[i];
	p = ds_publisher_new(&keys, name, ap, n, tlsa, why, sizeof(why));
	ds_pub_keys_free(&keys);
	if (!p)
		log_err("publish: cannot make the publication: %s", why);
	return p;
}

int ds_publishd_make_keys(const struct ds_config *c)
{
	char dir[PATH_MAX], why[768];
	bool created;

	if (!c->publish)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/%s", c->state_dir, PUBLISH_DIR) >= (int)sizeof(dir)) {
		log_err("publish: state-dir %s: path too long", c->state_dir);
		return -ENAMETOOLONG;
	}
	if (ds_pub_state_make(dir, &created, why, sizeof(why)) < 0) {
		log_err("publish: %s", why);
		return -EINVAL;
	}
	if (created)
		log_notice("publish: generated new keys for %s and this resolver's own zone in %s",
			   DS_PUB_ARPA, dir);
	return 0;
}

int ds_publishd_open(struct ds_daemon *d, const char *name, const char *tlsa)
{
	struct ds_publishd *pd;
	char anchor[1024];

	if (!d->cfg->publish)
		return 0;
	pd = calloc(1, sizeof(*pd));
	if (!pd) {
		log_err("out of memory");
		return -ENOMEM;
	}
	pd->d = d;
	pd->pub = publisher_make(d, name, tlsa);
	pd->resign_ev = pd->pub ? ds_timer_new(d->base, resign_fired, pd) : NULL;
	if (!pd->resign_ev) {
		if (pd->pub)
			log_err("out of memory");
		ds_publisher_free(pd->pub);
		free(pd);
		return -EINVAL;
	}
	ds_timer_arm_ms(pd->resign_ev, RESIGN_CHECK_MS);
	d->publish = pd;
	if (ds_publisher_anchor_text(pd->pub, anchor, sizeof(anchor)) < 0)
		anchor[0] = '\0';
	log_notice("publish: serving %s and %s as a forwarder, signed until %lld; trust anchor "
		   "(key tag %u): %s",
		   DS_PUB_ARPA, ds_publisher_name(pd->pub),
		   (long long)ds_publisher_expiration(pd->pub), ds_publisher_anchor_tag(pd->pub),
		   anchor);
	return 0;
}

void ds_publishd_close(struct ds_daemon *d)
{
	struct ds_publishd *pd = d->publish;

	if (!pd)
		return;
	ds_timer_free(pd->resign_ev);
	ds_publisher_free(pd->pub);
	free(pd);
	d->publish = NULL;
}

/* The daemon itself (or another program on the router) asking. */
static bool from_self(const struct ds_config *c, const struct sockaddr_storage *peer)
{
	if (peer->ss_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)peer)->sin_addr.s_addr) >> 24) == 127)
		return true;
	if (peer->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)peer)->sin6_addr))
		return true;
	for (int i = 0; i < c->nlisten; i++)
		if (ds_sockaddr_same_host(peer, &c->listen[i]))
			return true;
	for (int i = 0; i < c->dot.naddr; i++)
		if (ds_sockaddr_same_host(peer, &c->dot.addr[i]))
			return true;
	return false;
}

bool ds_publishd_answer(struct ds_daemon *d, const struct dns_query *q, const struct ds_origin *o,
			size_t max, uint8_t *out, size_t *outlen)
{
	struct ds_publishd *pd = d->publish;
	int n;

	if (!pd || (o->kind != DS_ORIGIN_UDP && o->kind != DS_ORIGIN_TCP &&
		    o->kind != DS_ORIGIN_DOT))
		return false;
	if (!ds_publisher_covers(pd->pub, q->qname, q->qname_len) || from_self(d->cfg, &o->peer))
		return false;
	d->stats.local_answers++;
	pd->answers++;
	n = ds_publisher_answer(pd->pub, q, max, out, DNS_MSG_MAX);
	*outlen = n < 0 ? 0 : (size_t)n;
	return true;
}

/* "FLAGS PROTO ALG BASE64" of k */
static void key_text(const struct trust_dnskey *k, char *out, size_t len)
{
	char line[1200];
	const char *p;

	out[0] = '\0';
	if (disc_key_format(k, "u.", line, sizeof(line)) < 0 || !(p = strstr(line, "DNSKEY ")))
		return;
	snprintf(out, len, "%s", p + strlen("DNSKEY "));
}

static void desc_to_upstream(const struct ds_upstream_desc *desc, const struct trust_dnskey *key,
			     struct ds_pub_upstream *u)
{
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(u->name) - 1, desc->name);
	if (key)
		key_text(key, u->key, sizeof(u->key));
	for (int i = 0; i < desc->naddr && u->naddr < DS_PUB_MAX_UP_ADDRS; i++) {
		const struct sockaddr_storage *ss = &desc->addr[i];
		const void *a = ss->ss_family == AF_INET
					? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (inet_ntop(ss->ss_family, a, u->addr[u->naddr], sizeof(u->addr[0])))
			u->naddr++;
	}
	for (int i = 0; i < desc->ntlsa && u->ntlsa < DS_PUB_MAX_UP_TLSA; i++)
		ds_tlsa_format(&desc->tlsa[i], u->tlsa[u->ntlsa++], sizeof(u->tlsa[0]));
	u->type = desc->type == DS_SERVER_RESOLVER    ? "resolver"
		  : desc->type == DS_SERVER_FORWARDER ? "forwarder"
						      : NULL;
	u->transport = desc->transport == DS_TRANSPORT_DO53 ? "do53" : "dot";
}

void ds_publishd_upstream(struct ds_daemon *d, const struct ds_upstream_desc *desc,
			  const struct trust_dnskey *key)
{
	struct ds_publishd *pd = d->publish;
	struct ds_pub_upstream *u;
	char why[256];
	int r;

	if (!pd)
		return;
	if (!desc || !desc->name[0]) {
		r = ds_publisher_set_upstreams(pd->pub, NULL, 0, why, sizeof(why));
	} else {
		if (!(u = calloc(1, sizeof(*u)))) {
			log_err("publish: out of memory");
			return;
		}
		desc_to_upstream(desc, key, u);
		r = ds_publisher_set_upstreams(pd->pub, u, 1, why, sizeof(why));
		free(u);
	}
	if (r < 0) {
		log_err("publish: cannot publish the upstream: %s", why);
		return;
	}
	if (r == 0)
		return;
	snprintf(pd->upstream, sizeof(pd->upstream), "%s", desc ? desc->name : "");
	if (pd->upstream[0])
		log_notice("publish: upstream %s (%s%s) published under %s, zones signed again",
			   desc->name, desc->transport == DS_TRANSPORT_DO53 ? "do53" : "dot",
			   key ? ", with its KEY" : "", ds_publisher_name(pd->pub));
	else
		log_notice("publish: no upstream known: none published, zones signed again");
}

/* "publish show": the anchor to hand out, and what is published */
int ds_publishctl(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	struct ds_publishd *pd = d->publish;
	char anchor[1024];

	if (argc != 2 || strcmp(argv[1], "show") != 0)
		return -EINVAL;
	if (!pd) {
		evbuffer_add_printf(out, "publish no: nothing is published\n");
		return -ENODATA;
	}
	if (ds_publisher_anchor_text(pd->pub, anchor, sizeof(anchor)) < 0)
		return -ENOMEM;
	evbuffer_add_printf(out,
			    "; resolver-name.arpa trust anchor of %s (KSK, key tag %u): hand it "
			    "to the clients\n"
			    "; (dotctl trust import FILE, or a file in their anchors-dir)\n"
			    "%s\n"
			    "; published: %s and %s as a forwarder, upstream %s, signatures valid "
			    "until %lld, %llu answers\n",
			    ds_publisher_name(pd->pub), ds_publisher_anchor_tag(pd->pub), anchor,
			    DS_PUB_ARPA, ds_publisher_name(pd->pub),
			    pd->upstream[0] ? pd->upstream : "none",
			    (long long)ds_publisher_expiration(pd->pub),
			    (unsigned long long)pd->answers);
	return 0;
}
