/*
 * netproc.c -- dotstubd's network process (privsep.h): everything that
 * parses what comes from the network, with no capability, no_new_privs and
 * its seccomp filter (sandbox.c), in a child of the store process.
 *
 * It serves as the whole daemon once did (listeners, the query path, the
 * upstreams, the network manager, the control requests it is handed), and
 * reaches the store process for what it may not do itself:
 *
 *  - its trust store is a copy with a journal: each change goes to the
 *    store process as it is made, each save is a COMMIT, and the store
 *    process's answer (STORE: its whole store) becomes the copy;
 *  - listener sockets come bound from the store process (inherited at
 *    start, LISTEN before a RELOAD), and so does the raw ICMPv6 socket it
 *    reads router advertisements from (inherited at start only);
 *  - resolv-conf-out's inputs (RESOLVCONF) and READY=1 (READY) go to the
 *    store process, which writes and says them;
 *  - RELOAD from the store process reloads (it got SIGHUP; this process
 *    ignores SIGHUP), and the answer is RELOADED.
 *
 * It exits when the store process is gone (PR_SET_PDEATHSIG, and the end
 * of the channel), on SIGTERM or SIGINT, and on a message from the store
 * process that breaks the protocol (logged).
 */
#include "dotstub-config.h"
#include "privsep.h"
#include "notify.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

struct netproc {
	struct ds_daemon *d;
	int chan;
	struct event *chan_ev;
	struct ds_listen_fds *fds;  /* sockets from the store process, not yet taken */
	int ra_fd;                  /* the RA socket from it, not yet taken; -1 */
	/* the store process's store: its text, or why there is none */
	char *store_text;
	size_t store_len;
	int store_err;
	uint32_t seq;               /* COMMITs sent */
	bool told_unsent;           /* a change that has no message was logged */
	int rc;
};

static void np_fail(struct netproc *np, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The channel broke: log it and stop. */
static void np_fail(struct netproc *np, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("network process: %s; exiting", msg);
	np->rc = 1;
	if (np->chan_ev)
		event_del(np->chan_ev);
	event_base_loopbreak(np->d->base);
}

static void send_msg(struct netproc *np, uint32_t type, const void *body, uint32_t len)
{
	int r = ds_pmsg_send(np->chan, type, body, len, -1);

	if (r < 0)
		np_fail(np, "cannot send %s to the store process: %s", ds_pmsg_name(type),
			strerror(-r));
}

/* ---------------------------------------------------------------- the store's journal */

static void anchor_id(struct ds_pmsg_anchor_id *id, const struct trust_anchor *a)
{
	snprintf(id->zone, sizeof(id->zone), "%s", a->zone);
	memcpy(id->sha256, a->sha256, TRUST_SHA256_LEN);
}

static void learn_msg(struct ds_pmsg_learn *l, const struct trust_anchor *a,
		      const struct trust_resolver *r)
{
	memset(l, 0, sizeof(*l));
	anchor_id(&l->anchor, a);
	snprintf(l->name, sizeof(l->name), "%s", r->name);
	l->type = (uint8_t)r->type;
	l->naddr = (uint8_t)r->naddr;
	for (size_t i = 0; i < r->naddr; i++)
		snprintf(l->addr[i], sizeof(l->addr[i]), "%s", r->addr[i]);
	l->ntlsa = (uint8_t)r->ntlsa;
	for (size_t i = 0; i < r->ntlsa; i++) {
		l->tlsa[i].usage = r->tlsa[i].usage;
		l->tlsa[i].selector = r->tlsa[i].selector;
		l->tlsa[i].mtype = r->tlsa[i].mtype;
		l->tlsa[i].len = r->tlsa[i].len;
		memcpy(l->tlsa[i].data, r->tlsa[i].data, r->tlsa[i].len);
	}
}

static void rfc5011_msg(struct ds_pmsg_rfc5011 *o, const char *zone,
			const struct trust_5011_obs *obs)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->zone, sizeof(o->zone), "%s", zone);
	o->orig_ttl = obs->orig_ttl;
	o->nkeys = (uint8_t)obs->nkeys;
	for (size_t i = 0; i < obs->nkeys; i++) {
		ds_pmsg_key_put(&o->keys[i], &obs->keys[i]);
		o->signer[i] = obs->signer[i];
	}
}

static void journal_change(void *arg, const struct trust_change *c)
{
	struct netproc *np = arg;
	static union { /* large: not on the stack */
		struct ds_pmsg_pin pin;
		struct ds_pmsg_touch touch;
		struct ds_pmsg_network network;
		struct ds_pmsg_learn learn;
		struct ds_pmsg_rfc5011 rfc5011;
		struct ds_pmsg_dpin dpin;
	} b;

	memset(&b, 0, sizeof(b));
	switch (c->kind) {
	case TRUST_CHANGE_PIN:
		snprintf(b.pin.zone, sizeof(b.pin.zone), "%s", c->zone);
		ds_pmsg_key_put(&b.pin.key, c->key);
		b.pin.state = (uint8_t)c->state;
		send_msg(np, DS_PMSG_PIN, &b.pin, sizeof(b.pin));
		return;
	case TRUST_CHANGE_TOUCH:
		anchor_id(&b.touch.anchor, c->anchor);
		send_msg(np, DS_PMSG_TOUCH, &b.touch, sizeof(b.touch));
		return;
	case TRUST_CHANGE_NETWORK:
		anchor_id(&b.network.anchor, c->anchor);
		snprintf(b.network.fp, sizeof(b.network.fp), "%s", c->fp);
		send_msg(np, DS_PMSG_NETWORK, &b.network, sizeof(b.network));
		return;
	case TRUST_CHANGE_LEARN:
		learn_msg(&b.learn, c->anchor, c->resolver);
		send_msg(np, DS_PMSG_LEARN, &b.learn, sizeof(b.learn));
		return;
	case TRUST_CHANGE_RFC5011:
		if (c->obs->nkeys <= DS_PMSG_5011_KEYS) {
			rfc5011_msg(&b.rfc5011, c->zone, c->obs);
			send_msg(np, DS_PMSG_RFC5011, &b.rfc5011, sizeof(b.rfc5011));
			return;
		}
		break;
	case TRUST_CHANGE_DPIN:
	case TRUST_CHANGE_DPIN_REPLACE:
		snprintf(b.dpin.fp, sizeof(b.dpin.fp), "%s", c->dpin->fp);
		snprintf(b.dpin.adn, sizeof(b.dpin.adn), "%s", c->dpin->adn);
		b.dpin.source = (uint8_t)c->dpin->source;
		memcpy(b.dpin.spki, c->dpin->spki, TRUST_SHA256_LEN);
		b.dpin.replace = c->kind == TRUST_CHANGE_DPIN_REPLACE;
		send_msg(np, DS_PMSG_DPIN, &b.dpin, sizeof(b.dpin));
		return;
	case TRUST_CHANGE_APPROVE:
	case TRUST_CHANGE_FORGET:
	case TRUST_CHANGE_REVOKE:
	case TRUST_CHANGE_DPIN_FORGET:
		break;
	}
	/* nothing else changes the store here: the store process's copy,
	 * taken at the next commit, undoes it */
	if (!np->told_unsent)
		log_err("network process: a change of kind %d of the trust store has no message to "
			"the store process and is not kept",
			(int)c->kind);
	np->told_unsent = true;
}

static int journal_commit(void *arg)
{
	struct netproc *np = arg;
	struct ds_pmsg_commit b = { ++np->seq };

	send_msg(np, DS_PMSG_COMMIT, &b, sizeof(b));
	return np->rc == 0 ? 0 : -EPIPE;
}

static const struct trust_journal journal = { journal_change, journal_commit, NULL };

/* netmgr.c opens its store here: the store process's copy, journalled. */
static int store_open(struct ds_daemon *d, const struct trust_store_opts *o,
		      struct trust_store **ret, struct trust_open_report *rep)
{
	struct netproc *np = d->privsep;
	struct trust_journal j = journal;
	struct trust_store *s;
	char msg[256];
	int r;

	memset(rep, 0, sizeof(*rep));
	if (!np->store_text) {
		snprintf(rep->error, sizeof(rep->error),
			 "the store process has no trust store to serve with (its log says why)");
		return np->store_err ? np->store_err : -ENOENT;
	}
	s = trust_store_new_memory(o->max_networks);
	if (!s)
		return -ENOMEM;
	r = trust_store_parse(s, np->store_text, np->store_len, NULL, msg, sizeof(msg));
	if (r < 0) {
		log_err("network process: the store process's store does not parse: %s", msg);
		trust_store_close(s);
		return r;
	}
	j.arg = np;
	trust_store_set_journal(s, &j);
	*ret = s;
	return 0;
}

/* ---------------------------------------------------------------- listeners */

static int take_listen_fd(struct ds_daemon *d, const struct sockaddr_storage *ss, int socktype)
{
	struct netproc *np = d->privsep;
	char a[64];

	for (int i = 0; i < np->fds->n; i++) {
		struct ds_listen_fd *l = &np->fds->l[i];

		if (l->fd >= 0 && l->socktype == socktype && ds_sockaddr_equal(&l->addr, ss)) {
			int fd = l->fd;

			l->fd = -1;
			return fd;
		}
	}
	ds_sockaddr_format(ss, a, sizeof(a));
	log_err("%s/%s: not bound by the store process", a, socktype == SOCK_DGRAM ? "udp" : "tcp");
	return -EADDRNOTAVAIL;
}

/* The raw ICMPv6 socket for router advertisements, inherited at start. */
static int take_ra_socket(struct ds_daemon *d)
{
	struct netproc *np = d->privsep;
	int fd = np->ra_fd;

	np->ra_fd = -1;
	return fd >= 0 ? fd : -ENOENT;
}

/* Sockets handed over and not taken (a refused reload) are closed. */
static void fds_drop(struct netproc *np)
{
	for (int i = 0; i < np->fds->n; i++)
		if (np->fds->l[i].fd >= 0)
			close(np->fds->l[i].fd);
	np->fds->n = 0;
}

static void on_listen(struct netproc *np, const struct ds_pmsg *m)
{
	struct ds_listen_fd *l;

	if (np->fds->n >= (int)(sizeof(np->fds->l) / sizeof(np->fds->l[0]))) {
		close(m->fd);
		return;
	}
	l = &np->fds->l[np->fds->n++];
	l->addr = m->u.listen.addr;
	l->socktype = m->u.listen.socktype;
	l->fd = m->fd;
}

/* ---------------------------------------------------------------- messages */

static void relay_ready(void *arg, const char *status)
{
	struct netproc *np = arg;
	struct ds_pmsg_ready b;

	memset(&b, 0, sizeof(b));
	snprintf(b.status, sizeof(b.status), "%s", status);
	send_msg(np, DS_PMSG_READY, &b, sizeof(b));
}

static void relay_resolvconf(void *arg, enum ds_stubresolv_posture p,
			     const char (*search)[DS_RESOLVCONF_NAME_MAX + 1], size_t n)
{
	struct netproc *np = arg;
	static struct ds_pmsg_resolvconf b;

	memset(&b, 0, sizeof(b));
	b.posture = (uint8_t)p;
	b.nsearch = (uint8_t)(n < DS_STUBRESOLV_MAX_SEARCH ? n : DS_STUBRESOLV_MAX_SEARCH);
	for (size_t i = 0; i < b.nsearch; i++)
		snprintf(b.search[i], sizeof(b.search[i]), "%s", search[i]);
	send_msg(np, DS_PMSG_RESOLVCONF, &b, sizeof(b));
}

/* The text of a STORE's memfd: 0, or -errno. */
static int read_store(int fd, uint64_t len, char **ret)
{
	struct stat st;
	size_t got = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != len || len > TRUST_FILE_MAX)
		return -EBADMSG;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EBADMSG;
		}
		got += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

static void on_store(struct netproc *np, const struct ds_pmsg *m)
{
	const struct ds_pmsg_store *b = &m->u.store;
	struct trust_store *s = ds_netmgr_store(np->d);
	char *text = NULL, msg[256];
	int r;

	if (b->err) {
		if (b->why == DS_PMSG_STORE_RELOAD) {
			free(np->store_text);
			np->store_text = NULL;
			np->store_len = 0;
			np->store_err = b->err;
		}
		return; /* (a COMMIT answered so: the copy stays) */
	}
	r = read_store(m->fd, b->len, &text);
	if (r < 0) {
		np_fail(np, "the store process's STORE cannot be read: %s", strerror(-r));
		return;
	}
	free(np->store_text);
	np->store_text = text;
	np->store_len = b->len;
	np->store_err = 0;
	if (b->why == DS_PMSG_STORE_RELOAD || !s)
		return; /* the network manager starts again with it */
	r = trust_store_parse(s, text, b->len, NULL, msg, sizeof(msg));
	if (r < 0) {
		np_fail(np, "the store process's store does not parse: %s", msg);
		return;
	}
	if (b->refused)
		log_warn("network process: the store process refused %u change(s) of the trust store "
			 "(its log says why); its store is used",
			 b->refused);
	if (b->why == DS_PMSG_STORE_OPERATOR)
		ds_netmgr_redecide(np->d);
}

static void on_reload(struct netproc *np, const struct ds_pmsg_reload *b)
{
	struct ds_pmsg_reloaded a = { 0 };

	if (!b->ok) {
		ds_reload_count_refused(np->d, b->why);
		ds_notify_ready(np->d);
		return;
	}
	a.applied = ds_reload_apply(np->d);
	fds_drop(np);
	ds_notify_ready(np->d);
	send_msg(np, DS_PMSG_RELOADED, &a, sizeof(a));
}

static void chan_read(evutil_socket_t fd, short what, void *arg)
{
	struct netproc *np = arg;
	static struct ds_pmsg m; /* large: not on the stack */
	char why[256];

	for (int i = 0; i < 64 && np->rc == 0; i++) {
		int r = ds_pmsg_recv(np->chan, DS_PMSG_TO_NETWORK, &m, why, sizeof(why));

		if (r == 0)
			return;
		if (r == -EPIPE) {
			np_fail(np, "the store process is gone");
			return;
		}
		if (r < 0) {
			np_fail(np, "a message from the store process: %s",
				r == -EBADMSG ? why : strerror(-r));
			return;
		}
		switch (m.hdr.type) {
		case DS_PMSG_STORE:
			on_store(np, &m);
			break;
		case DS_PMSG_LISTEN:
			on_listen(np, &m);
			m.fd = -1; /* kept */
			break;
		case DS_PMSG_CONTROL: {
			int c = ds_control_adopt(np->d, m.fd, m.u.control.line, m.u.control.refused);

			m.fd = -1; /* taken, even on failure */
			if (c < 0 && c != -EBUSY)
				log_warn("network process: a control request: %s", strerror(-c));
			break;
		}
		case DS_PMSG_RELOAD:
			on_reload(np, &m.u.reload);
			break;
		}
		if (m.fd >= 0)
			close(m.fd);
	}
}

/* ---------------------------------------------------------------- running */

/* Alone, with nothing but what it was given. */
static int confine(struct netproc *np, pid_t store_pid)
{
	/* the store process gone, this one goes too (and if it went
	 * already, at once) */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != store_pid)
		return -ESRCH;
	/* SIGHUP is the store process's (it sends RELOAD) */
	signal(SIGHUP, SIG_IGN);
	if (ds_privdrop_network() < 0)
		return -EPERM;
	return ds_sandbox_enter(DS_SANDBOX_NETWORK, np->d->cfg->seccomp, np->d->cfg->resolve1, 0);
}

int ds_netproc_main(struct ds_daemon *d, int chan, struct ds_listen_fds *fds, int ra_fd,
		    char *store_text, size_t store_len, pid_t store_pid, ds_serve_fn *serve)
{
	static struct netproc np;

	np.d = d;
	np.chan = chan;
	np.fds = fds;
	np.ra_fd = ra_fd;
	np.store_text = store_text;
	np.store_len = store_len;
	d->privsep = &np;
	d->main_pid = store_pid;
	d->listen_fd = take_listen_fd;
	d->ra_socket = take_ra_socket;
	d->store_open = store_open;
	d->stubresolv_relay = relay_resolvconf;
	d->stubresolv_relay_arg = &np;
	ds_notify_relay(relay_ready, &np);
	if (confine(&np, store_pid) < 0 || !(d->base = event_base_new())) {
		np.rc = 1;
		goto out;
	}
	/* two priorities: news of the network (netlink, resolv-source) is
	 * handled before queries that arrived in the same loop iteration, so
	 * a query after a switch never gets the old network's answer; and
	 * the store process's messages (a reload, a store) first of all */
	event_base_priority_init(d->base, 2);
	np.chan_ev = event_new(d->base, np.chan, EV_READ | EV_PERSIST, chan_read, &np);
	if (!np.chan_ev || event_priority_set(np.chan_ev, 0) < 0 || event_add(np.chan_ev, NULL) < 0) {
		np.rc = 1;
		goto out;
	}
	{
		int rc = serve(d);

		if (np.rc == 0) /* a broken channel said 1 already */
			np.rc = rc;
	}
out:
	if (np.chan_ev)
		event_free(np.chan_ev);
	if (d->base)
		event_base_free(d->base);
	d->base = NULL;
	fds_drop(&np);
	if (np.ra_fd >= 0)
		close(np.ra_fd);
	close(chan);
	free(np.store_text);
	return np.rc;
}
