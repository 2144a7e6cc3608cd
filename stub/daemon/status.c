/*
 * status.c -- the daemon's status as data (status.h) and its one JSON
 * serialiser.  The JSON is the control protocol's answer to "status" and
 * "network"; dotctl renders the text view from it.  Keys are part of that
 * protocol: add, do not rename.
 */
#include "status.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dotstub-config.h"
#include "jsonw.h"
#include "dotstub/log.h"

void ds_status_collect(struct ds_daemon *d, struct ds_status *st)
{
	memset(st, 0, sizeof(*st));
	st->version = DOTSTUB_VERSION;
	st->uptime_s = (ds_now_ms() - d->started_ms) / 1000;
	/* the store process's: the one signals go to (privsep.h) */
	st->pid = (uint64_t)(d->main_pid ? d->main_pid : getpid());
	st->log_level = ds_log_level_name(ds_log_level());
	st->config_file = d->cfg->config_file;
	st->reloads = d->reloads;
	st->reloads_refused = d->reloads_refused;
	snprintf(st->last_reload, sizeof(st->last_reload), "%s", d->last_reload);
	ds_listeners_get_status(d, &st->listen);
	ds_access_get_status(d, &st->access);
	ds_dotsrv_get_status(d, &st->dotsrv);
	if (d->def.up) {
		st->up_kind = DS_STATUS_UP_DOT;
		snprintf(st->up_source, sizeof(st->up_source), "%s", d->def.up_source);
		ds_upstream_get_status(d->def.up, &st->dot);
	} else if (d->def.plain) {
		st->up_kind = DS_STATUS_UP_PLAIN;
		ds_plain_get_status(d->def.plain, &st->plain);
	} else {
		st->up_kind = DS_STATUS_UP_NONE;
		snprintf(st->not_ready, sizeof(st->not_ready), "%s",
			 d->def.discovering ? "waiting for discovery" : d->def.not_ready_text);
	}
	ds_netmgr_get_status(d, &st->nm);
	ds_linkra_get_status(d, &st->ra);
	st->counters = d->stats;
	if (d->cache) {
		st->have_cache = true;
		ds_cache_get_stats(d->cache, &st->cache);
	}
}

static void json_dot(struct ds_jw *w, const struct ds_status *st)
{
	const struct ds_upstream_status *us = &st->dot;

	ds_jw_obj_begin(w, "upstream");
	ds_jw_str(w, "name", us->name);
	ds_jw_str(w, "source", st->up_source);
	ds_jw_str(w, "state", us->state);
	ds_jw_str(w, "address", us->addr);
	ds_jw_str(w, "tls_version", us->tls_version);
	ds_jw_str(w, "cipher", us->cipher);
	ds_jw_str(w, "matched_tlsa", us->matched_tlsa);
	ds_jw_str(w, "auth", us->auth != NULL ? us->auth : "dane");
	ds_jw_str(w, "key_sha256", us->spki_sha256);
	ds_jw_bool(w, "resumed", us->resumed);
	ds_jw_u64(w, "conns", us->conns);
	ds_jw_u64(w, "inflight", us->inflight);
	ds_jw_u64(w, "waiting", us->pending);
	ds_jw_u64(w, "connects", us->connects);
	ds_jw_u64(w, "handshakes", us->handshakes);
	ds_jw_u64(w, "resumptions", us->resumptions);
	ds_jw_u64(w, "queries", us->queries);
	ds_jw_u64(w, "answers", us->answers);
	ds_jw_u64(w, "timeouts", us->timeouts);
	ds_jw_u64(w, "retries", us->retries);
	ds_jw_u64(w, "fail_network", us->fail_network);
	ds_jw_u64(w, "fail_tls", us->fail_tls);
	ds_jw_u64(w, "fail_auth", us->fail_auth);
	ds_jw_u64(w, "rtt_p50_us", us->rtt_p50_us);
	ds_jw_u64(w, "rtt_p99_us", us->rtt_p99_us);
	ds_jw_u64(w, "backoff_ms", us->backoff_ms);
	ds_jw_u64(w, "keepalive_ms", us->keepalive_ms);
	ds_jw_str(w, "last_error", us->last_error);
	ds_jw_obj_end(w);
}

static void json_plain(struct ds_jw *w, const struct ds_plain_status *ps)
{
	ds_jw_obj_begin(w, "upstream");
	ds_jw_bool(w, "plain", true);
	ds_jw_str(w, "address", ps->addr);
	ds_jw_u64(w, "queries", ps->queries);
	ds_jw_u64(w, "answers", ps->answers);
	ds_jw_u64(w, "timeouts", ps->timeouts);
	ds_jw_u64(w, "tcp_retries", ps->tcp_retries);
	ds_jw_u64(w, "errors", ps->errors);
	ds_jw_u64(w, "inflight", ps->inflight);
	ds_jw_obj_end(w);
}

static void json_netmgr(struct ds_jw *w, const struct ds_netmgr_status *nm)
{
	if (!nm->active) {
		ds_jw_null(w, "discovery");
		return;
	}
	ds_jw_obj_begin(w, "network");
	ds_jw_str(w, "id", nm->fp_id);
	ds_jw_str(w, "fingerprint", nm->fingerprint);
	ds_jw_str(w, "match", nm->match);
	ds_jw_bool(w, "known", nm->known);
	ds_jw_u64(w, "changes", nm->changes);
	ds_jw_obj_end(w);

	ds_jw_obj_begin(w, "discovery");
	ds_jw_str(w, "state", nm->state);
	ds_jw_str(w, "reason", nm->reason);
	{
		/* one string, space-separated, as it always was */
		char res[DS_MAX_NETWORK_RESOLVERS * DISC_ADDR_STR_MAX] = "";
		size_t len = 0;

		for (int i = 0; i < nm->nresolvers; i++)
			len += (size_t)snprintf(res + len, sizeof(res) - len, "%s%s", i ? " " : "",
						nm->resolvers[i]);
		ds_jw_str(w, "resolvers", res);
	}
	ds_jw_str(w, "upstream", nm->upstream);
	ds_jw_bool(w, "from_store", nm->from_store);
	ds_jw_bool(w, "alert", nm->alert);
	if (nm->have_anchor) {
		ds_jw_obj_begin(w, "anchor");
		ds_jw_u64(w, "tag", nm->anchor_tag);
		ds_jw_u64(w, "algorithm", nm->anchor_alg);
		ds_jw_str(w, "sha256", nm->anchor_sha256);
		ds_jw_obj_end(w);
	}
	ds_jw_str(w, "last_walk", nm->last_walk);
	ds_jw_str(w, "designated", nm->designated);
	ds_jw_arr_begin(w, "forwarder_upstreams");
	for (int i = 0; i < nm->nforwarder_upstreams; i++) {
		ds_jw_obj_begin(w, NULL);
		ds_jw_str(w, "upstream", nm->forwarder_upstreams[i]);
		ds_jw_obj_end(w);
	}
	ds_jw_arr_end(w);
	ds_jw_str(w, "transparent_forwarder", nm->transparent);
	ds_jw_u64(w, "hotspot_seconds_left", nm->hotspot_left_s);
	ds_jw_str(w, "captive_portal", nm->portal);
	ds_jw_u64(w, "walks", nm->walks);
	ds_jw_u64(w, "refreshes", nm->refreshes);
	ds_jw_u64(w, "refresh_failures", nm->refresh_failures);
	ds_jw_str(w, "last_refresh", nm->last_refresh);
	ds_jw_str(w, "tofu", nm->tofu);
	ds_jw_str(w, "unknown_network", nm->unknown_network);
	ds_jw_obj_end(w);
}

static void json_strs(struct ds_jw *w, const char *key, const char *arr, size_t stride, int n)
{
	ds_jw_arr_begin(w, key);
	for (int i = 0; i < n; i++)
		ds_jw_str(w, NULL, arr + (size_t)i * stride);
	ds_jw_arr_end(w);
}

/* "links": the default network first, then every configured link */
static void json_links(struct ds_jw *w, const struct ds_netmgr_status *nm)
{
	ds_jw_arr_begin(w, "links");
	for (int i = 0; nm->active && i < nm->nlinks; i++) {
		const struct ds_link_status *ls = &nm->links[i];

		ds_jw_obj_begin(w, NULL);
		ds_jw_u64(w, "ifindex", ls->ifindex > 0 ? (uint64_t)ls->ifindex : 0);
		ds_jw_str(w, "interface", ls->ifname);
		ds_jw_str(w, "source", ls->source ? ls->source : "");
		ds_jw_bool(w, "default", ls->is_default);
		ds_jw_bool(w, "default_route", ls->default_route);
		json_strs(w, "resolvers", ls->resolvers[0], sizeof(ls->resolvers[0]),
			  ls->nresolvers);
		json_strs(w, "search_domains", ls->search[0], sizeof(ls->search[0]), ls->nsearch);
		json_strs(w, "routing_domains", ls->routing[0], sizeof(ls->routing[0]),
			  ls->nrouting);
		ds_jw_str(w, "network", ls->network);
		ds_jw_str(w, "state", ls->state ? ls->state : "");
		ds_jw_str(w, "reason", ls->reason);
		ds_jw_str(w, "transport", ls->transport ? ls->transport : "none");
		ds_jw_bool(w, "authenticated", ls->authenticated);
		ds_jw_str(w, "auth", ls->auth ? ls->auth : "");
		ds_jw_str(w, "upstream", ls->upstream);
		ds_jw_str(w, "address", ls->address);
		ds_jw_str(w, "tlsa", ls->tlsa);
		ds_jw_bool(w, "strict", ls->strict);
		if (ls->have_anchor) {
			ds_jw_obj_begin(w, "anchor");
			ds_jw_u64(w, "tag", ls->anchor_tag);
			ds_jw_u64(w, "algorithm", ls->anchor_alg);
			ds_jw_u64(w, "since", ls->anchor_since > 0 ? (uint64_t)ls->anchor_since : 0);
			ds_jw_obj_end(w);
		} else {
			ds_jw_null(w, "anchor");
		}
		ds_jw_u64(w, "since", ls->since > 0 ? (uint64_t)ls->since : 0);
		ds_jw_u64(w, "hotspot_until", ls->hotspot_until > 0 ? (uint64_t)ls->hotspot_until : 0);
		ds_jw_u64(w, "queries", ls->queries);
		ds_jw_obj_end(w);
	}
	ds_jw_arr_end(w);
}

static void json_ra(struct ds_jw *w, const struct ds_linkra_status *ra)
{
	if (!ra->active) {
		ds_jw_null(w, "router_advertisements");
		return;
	}
	ds_jw_obj_begin(w, "router_advertisements");
	ds_jw_u64(w, "received", ra->received);
	ds_jw_u64(w, "ignored", ra->ignored);
	ds_jw_u64(w, "malformed", ra->malformed);
	ds_jw_u64(w, "designations", ra->designations);
	ds_jw_obj_end(w);
}

static void json_access(struct ds_jw *w, const struct ds_access_status *as)
{
	char rule[DS_ACL_RULE_STRLEN];

	if (!as->active) {
		ds_jw_null(w, "access_control");
		return;
	}
	ds_jw_obj_begin(w, "access_control");
	ds_jw_str(w, "source", as->configured ? "config" : "default");
	ds_jw_arr_begin(w, "rules");
	for (size_t i = 0; i < as->table.n; i++)
		ds_jw_str(w, NULL, ds_acl_rule_format(&as->table.rule[i], rule, sizeof(rule)));
	ds_jw_arr_end(w);
	ds_jw_u64(w, "refused", as->refused);
	ds_jw_u64(w, "denied", as->denied);
	ds_jw_obj_end(w);
}

static void json_dotsrv(struct ds_jw *w, const struct ds_dotsrv_status *ds)
{
	if (!ds->active) {
		ds_jw_null(w, "dot_server");
		return;
	}
	ds_jw_obj_begin(w, "dot_server");
	ds_jw_arr_begin(w, "listen");
	for (int i = 0; i < ds->naddr; i++)
		ds_jw_str(w, NULL, ds->addr[i]);
	ds_jw_arr_end(w);
	ds_jw_str(w, "name", ds->name);
	ds_jw_str(w, "certificate", ds->source);
	ds_jw_str(w, "spki_sha256", ds->spki_sha256);
	ds_jw_str(w, "tlsa", ds->tlsa);
	ds_jw_u64(w, "expires_in_days", ds->expires_in_s > 0 ? (uint64_t)ds->expires_in_s / 86400 : 0);
	ds_jw_u64(w, "clients", ds->clients);
	ds_jw_u64(w, "handshaking", ds->handshaking);
	ds_jw_u64(w, "output", ds->output);
	ds_jw_u64(w, "accepted", ds->accepted);
	ds_jw_u64(w, "handshakes", ds->handshakes);
	ds_jw_u64(w, "resumed", ds->resumed);
	ds_jw_u64(w, "queries", ds->queries);
	ds_jw_u64(w, "handshake_timeouts", ds->handshake_timeouts);
	ds_jw_u64(w, "handshake_failures", ds->handshake_failures);
	ds_jw_u64(w, "protocol_errors", ds->protocol_errors);
	ds_jw_u64(w, "idle_closed", ds->idle_closed);
	ds_jw_u64(w, "evicted", ds->evicted);
	ds_jw_u64(w, "refused", ds->refused);
	ds_jw_u64(w, "held", ds->held);
	ds_jw_u64(w, "ticket_rotations", ds->ticket_rotations);
	ds_jw_obj_end(w);
}

/* keys of counters.servfail_by_error, by enum ds_upstream_err */
static const char *const err_keys[] = {
	[DS_UP_ERR_TIMEOUT] = "timeout",     [DS_UP_ERR_NETWORK] = "network",
	[DS_UP_ERR_TLS] = "tls",             [DS_UP_ERR_AUTH] = "auth",
	[DS_UP_ERR_NO_TLSA] = "no_tlsa",     [DS_UP_ERR_OVERLOAD] = "overload",
	[DS_UP_ERR_BADANSWER] = "bad_answer", [DS_UP_ERR_CANCELLED] = "cancelled",
};

static void json_counters(struct ds_jw *w, const struct ds_stats *s)
{
	ds_jw_obj_begin(w, "counters");
	ds_jw_u64(w, "queries", s->queries);
	ds_jw_u64(w, "queries_udp", s->queries_udp);
	ds_jw_u64(w, "queries_tcp", s->queries_tcp);
	ds_jw_u64(w, "cache_hits", s->cache_hits);
	ds_jw_u64(w, "upstream_answers", s->upstream_answers);
	ds_jw_u64(w, "local_answers", s->local_answers);
	ds_jw_u64(w, "servfail_upstream", s->servfail_upstream);
	ds_jw_u64(w, "servfail_not_ready", s->servfail_not_ready);
	ds_jw_u64(w, "overload", s->overload);
	ds_jw_u64(w, "formerr", s->formerr);
	ds_jw_u64(w, "notimp", s->notimp);
	ds_jw_u64(w, "meta_qtype", s->meta_qtype);
	ds_jw_u64(w, "refused_failing", s->refused_failing);
	ds_jw_u64(w, "control_refused", s->control_refused);
	ds_jw_u64(w, "dropped", s->dropped);
	ds_jw_u64(w, "truncated", s->truncated);
	ds_jw_obj_begin(w, "servfail_by_error");
	for (size_t i = 0; i < sizeof(err_keys) / sizeof(err_keys[0]); i++)
		if (err_keys[i])
			ds_jw_u64(w, err_keys[i], s->fail_by_err[i]);
	ds_jw_obj_end(w);
	ds_jw_obj_end(w);
}

static void json_cache(struct ds_jw *w, const struct ds_status *st)
{
	const struct ds_cache_stats *cs = &st->cache;

	if (!st->have_cache) {
		ds_jw_null(w, "cache");
		return;
	}
	ds_jw_obj_begin(w, "cache");
	ds_jw_u64(w, "entries", cs->entries);
	ds_jw_u64(w, "bytes", cs->bytes);
	ds_jw_u64(w, "max_bytes", cs->max_bytes);
	ds_jw_u64(w, "hits", cs->hits);
	ds_jw_u64(w, "misses", cs->misses);
	ds_jw_u64(w, "evictions", cs->evictions);
	ds_jw_u64(w, "lookups", cs->lookups);
	ds_jw_u64(w, "inserts", cs->inserts);
	ds_jw_u64(w, "expired", cs->expired);
	ds_jw_obj_end(w);
}

void ds_status_json(const struct ds_status *st, struct evbuffer *out)
{
	struct ds_jw w;

	ds_jw_init(&w, out);
	ds_jw_obj_begin(&w, NULL);
	ds_jw_str(&w, "version", st->version);
	ds_jw_u64(&w, "uptime_s", st->uptime_s);
	ds_jw_u64(&w, "pid", st->pid);
	ds_jw_str(&w, "log_level", st->log_level);
	ds_jw_str(&w, "config_file", st->config_file);
	ds_jw_obj_begin(&w, "reload");
	ds_jw_u64(&w, "applied", st->reloads);
	ds_jw_u64(&w, "refused", st->reloads_refused);
	ds_jw_str(&w, "last", st->last_reload);
	ds_jw_obj_end(&w);
	ds_jw_arr_begin(&w, "listen");
	for (int i = 0; i < st->listen.naddr; i++)
		ds_jw_str(&w, NULL, st->listen.addr[i]);
	ds_jw_arr_end(&w);
	ds_jw_u64(&w, "tcp_clients", st->listen.tcp_clients);
	ds_jw_u64(&w, "tcp_output", st->listen.tcp_output);
	ds_jw_u64(&w, "tcp_evicted", st->listen.tcp_evicted);
	ds_jw_u64(&w, "tcp_refused", st->listen.tcp_refused);
	ds_jw_u64(&w, "tcp_held", st->listen.tcp_held);
	json_access(&w, &st->access);
	json_dotsrv(&w, &st->dotsrv);
	switch (st->up_kind) {
	case DS_STATUS_UP_DOT:
		json_dot(&w, st);
		break;
	case DS_STATUS_UP_PLAIN:
		json_plain(&w, &st->plain);
		break;
	case DS_STATUS_UP_NONE:
		ds_jw_null(&w, "upstream");
		break;
	}
	ds_jw_str(&w, "not_ready", st->not_ready);
	json_netmgr(&w, &st->nm);
	json_links(&w, &st->nm);
	json_ra(&w, &st->ra);
	json_counters(&w, &st->counters);
	json_cache(&w, st);
	ds_jw_obj_end(&w);
	evbuffer_add(out, "\n", 1);
}

void ds_status_json_network(const struct ds_status *st, struct evbuffer *out)
{
	struct ds_jw w;

	ds_jw_init(&w, out);
	ds_jw_obj_begin(&w, NULL);
	json_netmgr(&w, &st->nm);
	ds_jw_obj_end(&w);
	evbuffer_add(out, "\n", 1);
}
