/*
 * listener.c -- the client side of dotstubd: the set of its UDP and TCP
 * listeners (listen_udp.c, listen_tcp.c), one of each per listen address,
 * opened at start, rebound by a reload (an address kept keeps its
 * sockets and clients), closed, and shown in status.
 */
#include "listen_int.h"
#include "status.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"


int ds_listeners_open(struct ds_daemon *d)
{
	struct ds_listeners *ls = calloc(1, sizeof(*ls));
	int r;

	if (!ls)
		return -ENOMEM;
	ls->d = d;
	ds_pool_init(&ls->clients);
	LIST_INIT(&ls->retired);
	ls->budget_ev = event_new(d->base, -1, 0, listen_tcp_budget, ls);
	if (!ls->budget_ev) {
		free(ls);
		return -ENOMEM;
	}
	d->listeners = ls;
	for (int i = 0; i < d->cfg->nlisten; i++) {
		r = listen_udp_open(d, &d->cfg->listen[i], &ls->udp[i]);
		if (r == 0)
			r = listen_tcp_open(d, &d->cfg->listen[i], &ls->tcp[i]);
		ls->n = i + 1;
		if (r < 0) {
			ds_listeners_close(d);
			return r;
		}
	}
	return 0;
}

/* The index of the listener bound to ss, or -1. */
static int find_listener(const struct ds_listeners *ls, const struct sockaddr_storage *ss)
{
	for (int k = 0; k < ls->n; k++)
		if (ls->udp[k] && ds_sockaddr_equal(&ls->udp[k]->addr, ss))
			return k;
	return -1;
}

/* Bind the listeners of addr that are not bound yet into udp[]/tcp[]
 * (marked in opened[]; those that are bound: moved there, and marked in
 * kept[]).  On failure, closes what it bound and returns -errno. */
static int rebind_new(struct ds_daemon *d, const struct sockaddr_storage *addr, int n,
		      struct ds_udp_listener **udp, struct ds_tcp_listener **tcp, bool *kept,
		      bool *opened)
{
	struct ds_listeners *ls = d->listeners;
	char a[64];
	int r = 0, i;

	for (i = 0; i < n && r == 0; i++) {
		int k = find_listener(ls, &addr[i]);

		if (k >= 0) {
			udp[i] = ls->udp[k];
			tcp[i] = ls->tcp[k];
			kept[k] = true;
			continue;
		}
		r = listen_udp_open(d, &addr[i], &udp[i]);
		if (r == 0 && (r = listen_tcp_open(d, &addr[i], &tcp[i])) < 0) {
			listen_udp_close(udp[i]);
			udp[i] = NULL;
		}
		opened[i] = r == 0;
		if (r < 0) {
			ds_sockaddr_format(&addr[i], a, sizeof(a));
			log_err("cannot listen on %s: %s%s", a, strerror(-r),
				r == -EACCES ? " (a port below 1024 needs CAP_NET_BIND_SERVICE, "
					       "which a daemon that dropped privileges has not)"
					     : "");
		}
	}
	if (r == 0)
		return 0;
	for (int j = 0; j < i; j++)
		if (opened[j]) {
			listen_udp_close(udp[j]);
			listen_tcp_close(tcp[j]);
		}
	return r;
}

int ds_listeners_rebind(struct ds_daemon *d, const struct sockaddr_storage *addr, int n)
{
	struct ds_listeners *ls = d->listeners;
	struct ds_udp_listener *udp[DS_MAX_LISTEN] = { 0 };
	struct ds_tcp_listener *tcp[DS_MAX_LISTEN] = { 0 };
	bool kept[DS_MAX_LISTEN] = { false }, opened[DS_MAX_LISTEN] = { false };
	char a[64];
	int r;

	if (!ls || n < 1 || n > DS_MAX_LISTEN)
		return -EINVAL;
	r = rebind_new(d, addr, n, udp, tcp, kept, opened);
	if (r < 0)
		return r;
	for (int k = 0; k < ls->n; k++) {
		if (kept[k])
			continue;
		ds_sockaddr_format(&ls->udp[k]->addr, a, sizeof(a));
		log_notice("no longer listening on %s", a);
		listen_udp_retire(ls, ls->udp[k]);
		listen_tcp_remove(ls, ls->tcp[k]);
	}
	for (int i = 0; i < n; i++) {
		if (opened[i]) {
			ds_sockaddr_format(&addr[i], a, sizeof(a));
			log_notice("listening on %s", a);
		}
	}
	memcpy(ls->udp, udp, sizeof(udp));
	memcpy(ls->tcp, tcp, sizeof(tcp));
	ls->n = n;
	return 0;
}

void ds_listeners_access_changed(struct ds_daemon *d)
{
	struct ds_listeners *ls = d->listeners;

	if (!ls)
		return;
	for (int i = 0; i < ls->n; i++) {
		if (ls->udp[i])
			ls->udp[i]->check = ds_access_needed(d, &ls->udp[i]->addr);
		if (ls->tcp[i])
			ls->tcp[i]->gate.check = ds_access_needed(d, &ls->tcp[i]->addr);
	}
}

void ds_listeners_close(struct ds_daemon *d)
{
	struct ds_listeners *ls = d->listeners;

	if (!ls)
		return;
	listen_tcp_clients_close(ls);
	for (int i = 0; i < ls->n; i++) {
		listen_udp_close(ls->udp[i]);
		listen_tcp_close(ls->tcp[i]);
	}
	while (LIST_FIRST(&ls->retired))
		listen_udp_close(LIST_FIRST(&ls->retired));
	event_free(ls->budget_ev);
	free(ls);
	d->listeners = NULL;
}

void ds_listeners_get_status(const struct ds_daemon *d, struct ds_listen_status *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < d->cfg->nlisten && i < DS_MAX_LISTEN; i++)
		ds_sockaddr_format(&d->cfg->listen[i], st->addr[st->naddr++], sizeof(st->addr[0]));
	if (d->listeners) {
		st->tcp_clients = d->listeners->clients.n;
		st->tcp_output = d->listeners->out_total;
		st->tcp_evicted = d->listeners->evicted;
		st->tcp_refused = d->listeners->refused;
		st->tcp_held = d->listeners->held;
	}
}
