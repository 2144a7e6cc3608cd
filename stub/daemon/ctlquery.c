/*
 * ctlquery.c -- the control request "query HEX" (dotctl query): one DNS
 * query, in wire form as hex, resolved through the daemon's own query path
 * (resolve.c: local names, the cache, the upstream, waiting while a switch
 * is in progress) as an internal client, and answered with JSON: the
 * answer in wire form, its rcode and EDE, which path answered and the link
 * its name was routed to.  The
 * control socket bounds it like any request (size, one per connection,
 * its timeout; the query is cancelled if the client goes).
 */
#include "daemon.h"
#include "jsonw.h"
#include "status.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/ctlproto.h"
#include "dotstub/hex.h"
#include "dotstub/message.h"

struct ds_ctlquery {
	struct ds_daemon *d;
	struct ds_request *req;      /* while the query path holds it */
	ds_ctlquery_cb *cb;
	void *arg;
};

/* What answered a query answered at once, for the JSON's "path": the
 * cache (its counter moved), nobody (SERVFAIL), or the daemon itself
 * (localhost, resolver.arpa, a meta-type). */
static const char *immediate_path(const struct ds_stats *before, const struct ds_stats *after,
				  const uint8_t *pkt, size_t len)
{
	if (after->cache_hits != before->cache_hits)
		return "cache";
	if (len < DNS_HDR_LEN || (pkt[3] & 0x0f) == DNS_RCODE_SERVFAIL)
		return "none";
	return "local";
}

static void json_upstream(const struct ds_lane *l, const char *path, struct ds_jw *w)
{
	if ((!strcmp(path, "dot") || !strcmp(path, "dot-unauthenticated")) && l->up) {
		struct ds_upstream_status us;
		char tlsa[8];

		ds_upstream_get_status(l->up, &us);
		/* "U S M" of the matched record, without its data */
		snprintf(tlsa, sizeof(tlsa), "%.5s", us.matched_tlsa);
		ds_jw_obj_begin(w, "upstream");
		ds_jw_str(w, "name", us.name);
		ds_jw_str(w, "address", us.addr);
		ds_jw_str(w, "tlsa", tlsa);
		ds_jw_str(w, "auth", us.auth);
		ds_jw_obj_end(w);
	} else if (!strcmp(path, "plain") && l->plain) {
		struct ds_plain_status ps;

		ds_plain_get_status(l->plain, &ps);
		ds_jw_obj_begin(w, "upstream");
		ds_jw_str(w, "name", "");
		ds_jw_str(w, "address", ps.addr);
		ds_jw_str(w, "tlsa", "");
		ds_jw_obj_end(w);
	} else {
		ds_jw_null(w, "upstream");
	}
}

/* The link the name was routed to: its lane (the default one, or a
 * link's with its own resolver). */
static void json_link(const struct ds_daemon *d, const struct ds_lane *l, struct ds_jw *w)
{
	ds_jw_obj_begin(w, "link");
	ds_jw_u64(w, "ifindex", l->ifindex > 0 ? (uint64_t)l->ifindex : 0);
	ds_jw_str(w, "interface", l->ifname);
	ds_jw_bool(w, "default", l == &d->def);
	ds_jw_obj_end(w);
}

static int json_network(struct ds_daemon *d, const struct ds_lane *l, struct ds_jw *w)
{
	struct ds_netmgr_status *nm;

	if (l != &d->def) {
		/* a link's own network */
		ds_jw_obj_begin(w, "network");
		ds_jw_str(w, "id", l->network);
		ds_jw_str(w, "interface", l->ifname);
		ds_jw_obj_end(w);
		return 0;
	}
	nm = malloc(sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	ds_netmgr_get_status(d, nm);
	if (nm->active) {
		ds_jw_obj_begin(w, "network");
		ds_jw_str(w, "id", nm->fp_id);
		ds_jw_str(w, "interface", nm->ifname);
		ds_jw_str(w, "state", nm->state);
		ds_jw_obj_end(w);
	} else {
		ds_jw_null(w, "network");
	}
	free(nm);
	return 0;
}

static void json_ede(const uint8_t *pkt, size_t len, struct ds_jw *w)
{
	struct dns_response r;
	char text[256];
	size_t tl;

	if (dns_parse_response(pkt, len, &r) < 0 || !r.has_ede) {
		ds_jw_null(w, "ede");
		return;
	}
	tl = r.ede_text_len < sizeof(text) - 1 ? r.ede_text_len : sizeof(text) - 1;
	memcpy(text, pkt + r.ede_text_off, tl);
	text[tl] = '\0';
	/* the JSON writer takes UTF-8: anything else becomes '?' */
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
			text[i] = '?';
	ds_jw_obj_begin(w, "ede");
	ds_jw_u64(w, "code", r.ede_code);
	ds_jw_str(w, "text", text);
	ds_jw_obj_end(w);
}

/* The answer as JSON into out; l: the lane the name was routed to. */
static int answer_json(struct ds_daemon *d, const struct ds_lane *l, const char *path,
		       const uint8_t *pkt, size_t len, struct evbuffer *out)
{
	struct ds_jw w;
	char *hex = malloc(2 * len + 1);
	int r;

	if (!hex || len < DNS_HDR_LEN) {
		free(hex);
		return len < DNS_HDR_LEN ? -EBADMSG : -ENOMEM;
	}
	ds_hex_encode(pkt, len, hex);
	ds_jw_init(&w, out);
	ds_jw_obj_begin(&w, NULL);
	ds_jw_str(&w, "path", path);
	ds_jw_u64(&w, "rcode", pkt[3] & 0x0f);
	json_ede(pkt, len, &w);
	json_upstream(l, path, &w);
	json_link(d, l, &w);
	r = json_network(d, l, &w);
	ds_jw_str(&w, "answer", hex);
	ds_jw_obj_end(&w);
	evbuffer_add_printf(out, "\n");
	free(hex);
	return r;
}

/* ---- the query path's view of this client (struct ds_origin_ops) ---- */

static void origin_track(struct ds_request *req)
{
	req->origin.ctl->req = req;
}

static void finish(struct ds_ctlquery *q, int r, struct evbuffer *body)
{
	q->req = NULL;
	q->cb(q->arg, r, body);
}

static void origin_untrack(struct ds_request *req)
{
	struct ds_ctlquery *q = req->origin.ctl;
	struct evbuffer *body = evbuffer_new();

	if (body)
		evbuffer_add_printf(body, "the query got no answer\n");
	finish(q, -EIO, body);
	if (body)
		evbuffer_free(body);
}

/* What answered a query the upstream (or its absence) answered. */
static const char *pending_path(const struct ds_request *req, const uint8_t *pkt, size_t len)
{
	if (len < DNS_HDR_LEN || (pkt[3] & 0x0f) == DNS_RCODE_SERVFAIL)
		return "none";
	if (req->via_dot)
		return req->authenticated ? "dot" : "dot-unauthenticated";
	return "plain";
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	struct ds_ctlquery *q = req->origin.ctl;
	struct evbuffer *body = evbuffer_new();
	int r = body ? answer_json(q->d, req->lane, pending_path(req, pkt, len), pkt, len, body)
		     : -ENOMEM;

	finish(q, r, body);
	if (body)
		evbuffer_free(body);
}

static const struct ds_origin_ops ctl_origin_ops = {
	.track = origin_track, .untrack = origin_untrack, .reply = origin_reply,
};

/* ---- the request ---- */

int ds_ctlquery_start(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out,
		      ds_ctlquery_cb *cb, void *arg, struct ds_ctlquery **ret)
{
	uint8_t pkt[DS_CTL_LINE_MAX / 2], *ans;
	struct ds_origin o = { .kind = DS_ORIGIN_CTL, .ops = &ctl_origin_ops };
	struct ds_stats before;
	struct ds_ctlquery *q;
	size_t hl, len = 0;
	int r = 0;

	*ret = NULL;
	if (argc != 2)
		return -EINVAL;
	hl = strlen(argv[1]);
	if (hl % 2 || hl / 2 > sizeof(pkt) || hl / 2 < DNS_HDR_LEN ||
	    ds_hex_decode(argv[1], hl, pkt, hl / 2) < 0) {
		evbuffer_add_printf(out, "query: not a DNS query in hex\n");
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	ans = malloc(DNS_MSG_MAX);
	if (!q || !ans) {
		free(q);
		free(ans);
		return -ENOMEM;
	}
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	o.ctl = q;
	before = d->stats;
	switch (ds_resolve(d, pkt, hl / 2, &o, ans, &len)) {
	case DS_RESOLVE_PENDING:
		*ret = q;
		r = 1;
		break;
	case DS_RESOLVE_ANSWER:
		r = answer_json(d, ds_resolve_lane_of(d, pkt, hl / 2, 0),
				immediate_path(&before, &d->stats, ans, len), ans, len, out);
		break;
	case DS_RESOLVE_DROP:
		evbuffer_add_printf(out, "query: the query path dropped it (not a query)\n");
		r = -EINVAL;
		break;
	}
	free(ans);
	if (r != 1)
		free(q);
	return r;
}

void ds_ctlquery_free(struct ds_ctlquery *q)
{
	if (!q)
		return;
	if (q->req)
		ds_request_cancel(q->req);
	free(q);
}
