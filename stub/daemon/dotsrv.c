/*
 * dotsrv.c -- dotstubd's DNS-over-TLS server (serve-dot, RFC 7858; see
 * dotsrv.h): its listeners, its certificate, the limits across its
 * clients, reload and status.  One client's connection is dotsrv_conn.c.
 *
 * The limits across clients are the TCP listener's (connpool.c), with
 * keys of their own: dot-clients in total (the least recently active idle
 * connection, or one still in its handshake, is closed to make room; with
 * every one busy, accepting pauses) and per address
 * (dot-clients-per-address), and the output buffered for all of them
 * (dot-output-total: the client holding most is closed).  A denied client
 * (access-control) is closed as it is accepted, before any TLS.
 */
#include "dotsrv_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dotstub/clock.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

#define ACCEPT_PAUSE_MS 1000
/* connections accepted per event */
#define ACCEPT_BATCH 64

static void accept_resume(struct ds_dotsrv *s);

/* Closed to make room for another connection (a limit): counted, and a
 * line at most every DS_LOG_RL_INTERVAL_MS. */
static void client_evict(struct ds_dot_client *c, const char *limit)
{
	unsigned long long more;

	if (ds_log_rl_pass(&c->s->rl[W_LIMIT], ds_now_ms(), &more))
		log_notice("dot: %s reached: closed the least recently active idle connection "
			   "(%llu more since the last line)",
			   limit, more);
	dotsrv_conn_close(c, W_LIMIT, limit);
}

/* Room for a new connection from peer, closing the oldest idle one (of
 * that address first).  false: every candidate is busy. */
static bool make_room(struct ds_dotsrv *s, const struct sockaddr_storage *peer)
{
	static const char *const limit_key[] = {
		[DS_POOL_PER_ADDRESS] = "dot-clients-per-address",
		[DS_POOL_TOTAL] = "dot-clients",
	};
	const struct ds_serve_dot_config *lim = dotsrv_limits(s);
	struct ds_pool_client *v;
	enum ds_pool_limit limit;
	bool busy;

	while ((v = ds_pool_room(&s->clients, peer, lim->clients_per_address, lim->clients, &limit,
				 &busy)))
		client_evict(DS_POOL_ENTRY(v, struct ds_dot_client, pc), limit_key[limit]);
	return !busy;
}

/* Over dot-output-total: the clients holding most are closed (from the
 * loop: closing one inside the query path's callback could cancel the
 * queries of the caller's loop). */
static void budget(evutil_socket_t fd, short what, void *arg)
{
	struct ds_dotsrv *s = arg;

	while (s->out_total > dotsrv_limits(s)->output_total) {
		struct ds_dot_client *c, *big = NULL;
		struct ds_pool_client *pc;
		size_t most = 0;

		LIST_FOREACH(pc, &s->clients.clients, link) {
			c = DS_POOL_ENTRY(pc, struct ds_dot_client, pc);
			if (!pc->dead && dotsrv_conn_output(c) > most) {
				most = dotsrv_conn_output(c);
				big = c;
			}
		}
		if (!big)
			break;
		client_evict(big, "dot-output-total");
	}
}

/* ---------------------------------------------------------------- accept */

static void accept_pause(struct ds_dotsrv *s)
{
	for (int k = 0; k < s->n; k++)
		if (s->l[k]->accepting)
			ds_pool_gate_pause(&s->l[k]->gate);
}

static void accept_resume(struct ds_dotsrv *s)
{
	if (!ds_pool_can_take(&s->clients, dotsrv_limits(s)->clients))
		return;
	for (int k = 0; k < s->n; k++)
		if (s->l[k]->accepting)
			ds_pool_gate_resume(&s->l[k]->gate);
}

static void pause_done(evutil_socket_t fd, short what, void *arg)
{
	struct dot_listener *l = arg;

	if (ds_pool_can_take(&l->s->clients, dotsrv_limits(l->s)->clients))
		ds_pool_gate_resume(&l->gate);
}

static void do_accept(evutil_socket_t fd, short what, void *arg)
{
	struct dot_listener *l = arg;
	struct ds_dotsrv *s = l->s;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen;
		struct ds_dot_client *c;
		enum ds_acl_action acl;
		int cfd;

		/* full, and every client busy: leave new connections in the
		 * backlog until one finishes */
		if (!ds_pool_can_take(&s->clients, dotsrv_limits(s)->clients)) {
			accept_pause(s);
			return;
		}
		/* a denied client is closed before anything is read, before
		 * any TLS */
		cfd = ds_pool_accept(s->d, &l->gate, ACCEPT_PAUSE_MS, "dot", &peer, &peerlen, &acl);
		if (cfd == -2)
			continue;
		if (cfd < 0)
			return;
		if (!make_room(s, &peer)) {
			s->cnt.refused++;
			close(cfd);
			continue;
		}
		c = dotsrv_conn_new(l, cfd, &peer, peerlen);
		if (!c) {
			close(cfd);
			return;
		}
		c->refused = acl == DS_ACL_REFUSE;
		s->handshaking++;
		s->cnt.accepted++;
		/* the ClientHello may be there already (TCP Fast Open, or a
		 * fast client): no need to wait for the next event */
		dotsrv_conn_run(c);
	}
}

/* ---------------------------------------------------------------- listeners */

static int listener_open(struct ds_dotsrv *s, const struct sockaddr_storage *ss,
			 struct dot_listener **ret)
{
	struct dot_listener *l;
	int fd;

	/* bound by the store process (privsep.h), listening, TCP Fast Open:
	 * the ClientHello may come with the SYN */
	fd = ds_listen_fd(s->d, ss, SOCK_STREAM);
	if (fd < 0)
		return fd;
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->s = s;
	l->gate.fd = fd;
	l->addr = *ss;
	l->gate.check = ds_access_needed(s->d, ss);
	l->gate.ev = event_new(s->d->base, fd, EV_READ | EV_PERSIST, do_accept, l);
	l->gate.pause_ev = evtimer_new(s->d->base, pause_done, l);
	if (!l->gate.ev || !l->gate.pause_ev) {
		if (l->gate.ev)
			event_free(l->gate.ev);
		if (l->gate.pause_ev)
			event_free(l->gate.pause_ev);
		close(fd);
		free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

static void listener_start(struct dot_listener *l)
{
	if (l->accepting)
		return;
	l->accepting = true;
	l->gate.paused = false;
	event_add(l->gate.ev, NULL);
}

/* Close a listener and the connections it took. */
static void listener_close(struct ds_dotsrv *s, struct dot_listener *l)
{
	struct ds_pool_client *pc, *next;
	struct ds_dot_client *c;

	if (!l)
		return;
	for (pc = LIST_FIRST(&s->clients.clients); pc; pc = next) {
		next = LIST_NEXT(pc, link);
		c = DS_POOL_ENTRY(pc, struct ds_dot_client, pc);
		if (c->l == l)
			dotsrv_conn_free(c);
	}
	event_free(l->gate.ev);
	event_free(l->gate.pause_ev);
	close(l->gate.fd);
	free(l);
}

/* The index in l[] of the listener bound to ss, or -1. */
static int find_listener(const struct ds_dotsrv *s, const struct sockaddr_storage *ss)
{
	for (int k = 0; k < s->n; k++)
		if (ds_sockaddr_equal(&s->l[k]->addr, ss))
			return k;
	return -1;
}

/* ---------------------------------------------------------------- identity */

static void log_identity(const struct ds_dotsrv *s, const char *what)
{
	const struct dotsrv_id_info *i = &s->info;

	log_notice("dot: %s certificate for %s (%s), expires in %lld days; SPKI SHA-256 %s; "
		   "TLSA %s",
		   what, i->name, s->id.generated ? "generated in state-dir" : s->id.chain,
		   (long long)(i->expires_in_s / 86400), i->spki_sha256, i->tlsa);
}

/* The certificate and key of cfg in a new context: 0, or -errno with why.
 * Generated ones live in the running state-dir (a new one needs a
 * restart), made there by the store process (dotsrv_id_make); stamp says
 * which version of the certificate file was read. */
static int identity_load(struct ds_dotsrv *s, const struct ds_config *cfg, struct dotsrv_id *id,
			 struct dotsrv_id_stamp *stamp, SSL_CTX **ret, char *why, size_t whylen)
{
	char sub[384];
	int r;

	r = dotsrv_id_locate(&cfg->dot, s->d->cfg->state_dir, id, sub, sizeof(sub));
	if (r == 0 && dotsrv_id_stamp(id, stamp) < 0)
		memset(stamp, 0, sizeof(*stamp));
	if (r < 0) {
		snprintf(why, whylen, "DoT server certificate: %s", sub);
		return r;
	}
	*ret = dotsrv_tls_ctx_new(id->chain, id->key, s->tickets, sub, sizeof(sub));
	if (!*ret) {
		/* (paths cut at 256 characters in the message) */
		snprintf(why, whylen, "DoT server certificate %.256s, key %.256s: %s", id->chain,
			 id->key, sub);
		return -EINVAL;
	}
	return 0;
}

/* Use ctx for new connections (established ones keep theirs). */
static void identity_use(struct ds_dotsrv *s, SSL_CTX *ctx, const struct dotsrv_id *id,
			 const struct dotsrv_id_stamp *stamp)
{
	struct dotsrv_id_info info;

	if (dotsrv_tls_ctx_info(ctx, &info) < 0)
		memset(&info, 0, sizeof(info));
	SSL_CTX_free(s->ctx);
	s->ctx = ctx;
	s->id = *id;
	s->stamp = *stamp;
	s->info = info;
}

/* Every hour: new ticket keys, and the generated certificate read again
 * when the store process made it again (it nears its end). */
static void hourly(evutil_socket_t fd, short what, void *arg)
{
	struct ds_dotsrv *s = arg;
	struct timeval tv = { DOTSRV_TICKET_ROTATE_S, 0 };
	char why[512];
	struct dotsrv_id_stamp now;
	struct dotsrv_id id;
	SSL_CTX *ctx;

	evtimer_add(s->hourly, &tv);
	if (dotsrv_tickets_rotate(s->tickets) == 0)
		s->cnt.ticket_rotations++;
	else
		log_warn("dot: cannot make a new session ticket key (no randomness); keeping the "
			 "current one");
	if (!s->id.generated || dotsrv_id_stamp(&s->id, &now) < 0 ||
	    (now.dev == s->stamp.dev && now.ino == s->stamp.ino &&
	     now.mtime_ns == s->stamp.mtime_ns))
		return;
	if (identity_load(s, s->d->cfg, &id, &now, &ctx, why, sizeof(why)) < 0) {
		log_err("dot: the renewed certificate cannot be used: %s", why);
		return;
	}
	identity_use(s, ctx, &id, &now);
	log_identity(s, "renewed");
}

/* ---------------------------------------------------------------- all */

/* A connection said accepting may resume. */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	accept_resume(arg);
}

/* The server, with nothing bound yet, as d->dotsrv.  0 or -ENOMEM. */
static int server_new(struct ds_daemon *d)
{
	struct ds_dotsrv *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->d = d;
	ds_pool_init(&s->clients);
	s->budget_ev = event_new(d->base, -1, 0, budget, s);
	s->resume_ev = event_new(d->base, -1, 0, resume_cb, s);
	s->hourly = evtimer_new(d->base, hourly, s);
	s->tickets = dotsrv_tickets_new();
	d->dotsrv = s;
	if (!s->budget_ev || !s->resume_ev || !s->hourly || !s->tickets) {
		ds_dotsrv_close(d);
		return -ENOMEM;
	}
	return 0;
}

int ds_dotsrv_open(struct ds_daemon *d)
{
	const struct ds_serve_dot_config *cfg = &d->cfg->dot;
	struct ds_dotsrv *s;
	int r;

	if (cfg->naddr == 0)
		return 0;
	r = server_new(d);
	if (r < 0) {
		log_err("dot: out of memory");
		return r;
	}
	s = d->dotsrv;
	for (int i = 0; i < cfg->naddr; i++) {
		r = listener_open(s, &cfg->addr[i], &s->l[i]);
		if (r < 0) {
			ds_dotsrv_close(d);
			return r;
		}
		s->n = i + 1;
	}
	return 0;
}

int ds_dotsrv_start(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;
	struct timeval tv = { DOTSRV_TICKET_ROTATE_S, 0 };
	struct dotsrv_id_stamp stamp;
	struct dotsrv_id id;
	SSL_CTX *ctx = NULL;
	char why[1024], a[64];
	int r;

	if (!s)
		return 0;
	r = identity_load(s, d->cfg, &id, &stamp, &ctx, why, sizeof(why));
	if (r < 0) {
		log_err("dot: %s", why);
		return r;
	}
	identity_use(s, ctx, &id, &stamp);
	evtimer_add(s->hourly, &tv);
	for (int k = 0; k < s->n; k++) {
		listener_start(s->l[k]);
		ds_sockaddr_format(&s->l[k]->addr, a, sizeof(a));
		log_notice("dot: serving DNS over TLS on %s (TLS 1.3, ALPN dot)", a);
	}
	log_identity(s, "using the");
	return 0;
}

static void prepared_drop(struct ds_dotsrv *s)
{
	for (int i = 0; i < s->next_n; i++)
		if (s->next_opened[i])
			listener_close(s, s->next_l[i]);
	SSL_CTX_free(s->next_ctx);
	s->next_ctx = NULL;
	s->next_n = 0;
	s->prepared = false;
}

void ds_dotsrv_close(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;
	struct ds_pool_client *pc;

	if (!s)
		return;
	if (s->prepared)
		prepared_drop(s);
	while ((pc = LIST_FIRST(&s->clients.clients)))
		dotsrv_conn_free(DS_POOL_ENTRY(pc, struct ds_dot_client, pc));
	for (int k = 0; k < s->n; k++)
		listener_close(s, s->l[k]);
	if (s->budget_ev)
		event_free(s->budget_ev);
	if (s->resume_ev)
		event_free(s->resume_ev);
	if (s->hourly)
		event_free(s->hourly);
	SSL_CTX_free(s->ctx);
	dotsrv_tickets_free(s->tickets);
	free(s);
	d->dotsrv = NULL;
}

/* A server for a reload that turns serve-dot on (nothing bound yet). */
static int reload_create(struct ds_daemon *d, char *why, size_t whylen)
{
	int r = server_new(d);

	if (r < 0)
		snprintf(why, whylen, "out of memory");
	return r;
}

int ds_dotsrv_reload_prepare(struct ds_daemon *d, const struct ds_config *n, char *why,
			     size_t whylen)
{
	struct ds_dotsrv *s;
	char a[64];
	int r;

	if (n->dot.naddr == 0)
		return 0; /* turned off (or staying off): commit closes it */
	if (!d->dotsrv && (r = reload_create(d, why, whylen)) < 0)
		return r;
	s = d->dotsrv;
	if (s->prepared)
		prepared_drop(s);
	for (int i = 0; i < n->dot.naddr; i++) {
		int k = find_listener(s, &n->dot.addr[i]);

		s->next_opened[i] = k < 0;
		if (k >= 0) {
			s->next_l[i] = s->l[k];
		} else if ((r = listener_open(s, &n->dot.addr[i], &s->next_l[i])) < 0) {
			s->next_n = i;
			ds_sockaddr_format(&n->dot.addr[i], a, sizeof(a));
			snprintf(why, whylen, "cannot serve DoT on %s (%s)", a, strerror(-r));
			ds_dotsrv_reload_abort(d);
			return r;
		}
		s->next_n = i + 1;
	}
	r = identity_load(s, n, &s->next_id, &s->next_stamp, &s->next_ctx, why, whylen);
	if (r < 0) {
		ds_dotsrv_reload_abort(d);
		return r;
	}
	s->prepared = true;
	return 0;
}

void ds_dotsrv_reload_abort(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;

	if (!s)
		return;
	prepared_drop(s);
	if (s->n == 0)
		ds_dotsrv_close(d); /* made for this reload only */
}

void ds_dotsrv_reload_commit(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;
	struct timeval tv = { DOTSRV_TICKET_ROTATE_S, 0 };
	char a[64];
	bool kept[DS_MAX_SERVE_DOT] = { false };

	if (!s)
		return;
	if (!s->prepared) {
		if (s->n > 0)
			log_notice("dot: no longer serving DNS over TLS");
		ds_dotsrv_close(d); /* serve-dot removed */
		return;
	}
	for (int i = 0; i < s->next_n; i++)
		for (int k = 0; k < s->n; k++)
			kept[k] |= s->next_l[i] == s->l[k];
	for (int k = 0; k < s->n; k++) {
		if (kept[k])
			continue;
		ds_sockaddr_format(&s->l[k]->addr, a, sizeof(a));
		log_notice("dot: no longer serving DNS over TLS on %s", a);
		listener_close(s, s->l[k]);
	}
	memcpy(s->l, s->next_l, sizeof(s->l));
	s->n = s->next_n;
	identity_use(s, s->next_ctx, &s->next_id, &s->next_stamp);
	s->next_ctx = NULL;
	s->next_n = 0;
	s->prepared = false;
	if (!evtimer_pending(s->hourly, NULL))
		evtimer_add(s->hourly, &tv);
	for (int k = 0; k < s->n; k++) {
		if (s->l[k]->accepting)
			continue;
		listener_start(s->l[k]);
		ds_sockaddr_format(&s->l[k]->addr, a, sizeof(a));
		log_notice("dot: serving DNS over TLS on %s (TLS 1.3, ALPN dot)", a);
	}
	log_identity(s, "using the");
	/* the limits may have changed */
	accept_resume(s);
	if (s->out_total > dotsrv_limits(s)->output_total)
		event_active(s->budget_ev, EV_TIMEOUT, 0);
}

void ds_dotsrv_access_changed(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;

	if (!s)
		return;
	for (int k = 0; k < s->n; k++)
		s->l[k]->gate.check = ds_access_needed(d, &s->l[k]->addr);
}

void ds_dotsrv_get_status(const struct ds_daemon *d, struct ds_dotsrv_status *st)
{
	const struct ds_dotsrv *s = d->dotsrv;

	memset(st, 0, sizeof(*st));
	if (!s)
		return;
	*st = s->cnt;
	st->active = true;
	for (int k = 0; k < s->n && k < DS_MAX_SERVE_DOT; k++)
		ds_sockaddr_format(&s->l[k]->addr, st->addr[st->naddr++], sizeof(st->addr[0]));
	snprintf(st->name, sizeof(st->name), "%s", s->info.name);
	snprintf(st->source, sizeof(st->source), "%s",
		 s->id.generated ? "generated in state-dir" : s->id.chain);
	snprintf(st->spki_sha256, sizeof(st->spki_sha256), "%s", s->info.spki_sha256);
	snprintf(st->tlsa, sizeof(st->tlsa), "%s", s->info.tlsa);
	st->expires_in_s = s->ctx ? ds_cert_seconds_left(SSL_CTX_get0_certificate(s->ctx)) : 0;
	st->clients = s->clients.n;
	st->handshaking = s->handshaking;
	st->output = s->out_total;
}
