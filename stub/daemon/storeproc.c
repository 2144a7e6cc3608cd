/*
 * storeproc.c -- dotstubd's store process (privsep.h): the process the
 * service manager started.  It binds the listeners and the control
 * socket (and the raw ICMPv6 socket the network process reads router
 * advertisements from), drops what it does not need (privdrop.c), opens the trust
 * store, starts the network process, enters its seccomp filter, and then:
 *
 *  - applies the store changes the network process sends, with its own
 *    rules (storeapply.c), writes the store on COMMIT and answers with its
 *    whole store;
 *  - answers the control socket's "trust ..." requests itself (trustctl.c,
 *    on its store; a change goes to the network process, which decides
 *    again) and hands every other request, with its client, to the
 *    network process; the network process itself may not connect;
 *  - writes resolv-conf-out from what the network process says;
 *  - talks to the service manager (READY=1 when the network process says
 *    so, RELOADING=1, STOPPING=1);
 *  - on SIGHUP reads the configuration, refuses an invalid one, binds the
 *    new listen addresses (refuses the reload if one cannot be bound),
 *    hands them over, reads the store again and tells the network process
 *    to reload;
 *  - on SIGTERM or SIGINT stops the network process (SIGTERM, then
 *    SIGKILL after 5 s) and exits 0.
 *
 * If the network process exits or is killed otherwise (a crash, its
 * seccomp filter), or breaks the protocol, the store process logs it and
 * exits 1 (2 if the network process exited with 2, a configuration
 * error): the service manager starts dotstubd again, as for any crash.
 * It does not restart the network process itself.
 */
#include "dotstub-config.h"
#include "privsep.h"
#include "notify.h"
#include "dotsrv.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dotstub/fdio.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

#define STOP_KILL_MS 5000
#define DOT_ID_CHECK_MS (3600 * 1000) /* the DoT server's certificate renewed */

struct storeproc {
	struct ds_daemon *d;
	pid_t child;              /* the network process; 0 once reaped */
	int chan;                 /* our end of the channel; -1 when closed */
	struct event *chan_ev;
	struct event *sigs[4];
	struct ds_timer *kill_timer;
	struct ds_timer *dot_id_timer;
	struct trust_store *store; /* NULL with a static upstream */
	bool changed;             /* changes applied and not yet written */
	uint32_t refused;         /* changes refused since the last COMMIT */
	bool stopping;
	int rc;
	int ctl_fd;
	int ra_fd;                /* the RA socket, for the network process; -1 */
	struct ds_listen_fds fds; /* bound, to be handed over */
	/* a reload handed to the network process, until RELOADED */
	bool reloading;
	bool hup_again;
	struct ds_config next;
};

static bool uses_store(const struct ds_config *c)
{
	return c->upstream.naddr == 0;
}

/* ---------------------------------------------------------------- listeners */

static void fds_close(struct ds_listen_fds *fds)
{
	for (int i = 0; i < fds->n; i++)
		if (fds->l[i].fd >= 0)
			close(fds->l[i].fd);
	fds->n = 0;
}

/* Bind UDP and TCP (only TCP: dot, the DoT server's) on each of
 * addr[0..n) that is not in have[0..nhave), added to fds.  On failure
 * (logged, and said in why), closes what fds holds: -errno. */
static int bind_new(struct ds_listen_fds *fds, const struct sockaddr_storage *addr, int n,
		    const struct sockaddr_storage *have, int nhave, bool dot, char *why,
		    size_t whylen)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	char a[64];

	for (int i = 0; i < n; i++) {
		bool bound = false;

		for (int k = 0; k < nhave && !bound; k++)
			bound = ds_sockaddr_equal(&addr[i], &have[k]);
		for (int t = 0; t < (dot ? 1 : 2) && !bound; t++) {
			int fd;

			fd = fds->n < (int)(sizeof(fds->l) / sizeof(fds->l[0]))
				     ? ds_listen_bind(&addr[i], types[t])
				     : -E2BIG;
			if (fd < 0) {
				ds_sockaddr_format(&addr[i], a, sizeof(a));
				snprintf(why, whylen, "cannot %s on %s (%s)",
					 dot ? "serve DoT" : "listen", a, strerror(-fd));
				log_err("%s%s", why,
					fd == -EACCES ? ": a port below 1024 needs CAP_NET_BIND_SERVICE, "
							"which this process has not"
						      : "");
				fds_close(fds);
				return fd;
			}
			fds->l[fds->n].addr = addr[i];
			fds->l[fds->n].socktype = types[t];
			fds->l[fds->n].fd = fd;
			fds->n++;
		}
	}
	return 0;
}

/* The listen addresses (UDP and TCP) and the serve-dot ones (TCP) of n
 * that old (NULL: none) has not, bound into fds.  0 or -errno (logged,
 * and said in why). */
static int bind_all(struct ds_listen_fds *fds, const struct ds_config *n,
		    const struct ds_config *old, char *why, size_t whylen)
{
	int r;

	fds->n = 0;
	r = bind_new(fds, n->listen, n->nlisten, old ? old->listen : NULL,
		     old ? old->nlisten : 0, false, why, whylen);
	if (r == 0)
		r = bind_new(fds, n->dot.addr, n->dot.naddr, old ? old->dot.addr : NULL,
			     old ? old->dot.naddr : 0, true, why, whylen);
	return r;
}

/* ---------------------------------------------------------------- router advertisements */

/* The raw ICMPv6 socket the network process reads router advertisements
 * from (linkra.c: DNR, RFC 9463 6): opened here, at start, before the
 * capabilities go, as it needs CAP_NET_RAW; the network process inherits
 * it.  Only RAs pass its filter, each with its interface and hop limit.
 * The descriptor, or -1 (why logged: dotstubd goes on without it). */
static int ra_socket_open(const struct ds_config *c)
{
	static const int on = 1;
	struct icmp6_filter f;
	int fd;

	if (!c->dnr_ra || !c->dnr || c->upstream.naddr > 0) {
		log_info("router advertisements: not read (%s)",
			 !c->dnr_ra ? "dnr-ra no" : !c->dnr ? "dnr no" : "a static upstream");
		return -1;
	}
	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0) {
		log_notice("router advertisements: not read, no DNR from them: raw ICMPv6 socket: "
			   "%s%s", strerror(errno),
			   errno == EPERM || errno == EACCES ? " (it needs CAP_NET_RAW at start)" : "");
		return -1;
	}
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &f);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) < 0) {
		log_warn("router advertisements: not read, no DNR from them: setsockopt: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The DoT server's generated certificate and key, made or made again here:
 * the network process only reads them (dotsrv_id.c).  0 or -errno. */
static int dot_id_make(const struct ds_config *c, const char *state_dir, char *why, size_t whylen)
{
	int r = dotsrv_id_make(&c->dot, state_dir, why, whylen);

	return r < 0 ? r : 0;
}

/* Every hour: the certificate made again if it nears its end (the network
 * process sees the new file within the hour). */
static void dot_id_timer_fired(void *arg)
{
	struct storeproc *sp = arg;
	char why[512];

	ds_timer_arm_ms(sp->dot_id_timer, DOT_ID_CHECK_MS);
	if (dot_id_make(sp->d->cfg, sp->d->cfg->state_dir, why, sizeof(why)) < 0)
		log_err("dot: cannot renew the DoT server certificate: %s", why);
}

/* ---------------------------------------------------------------- the store */

/* Open the store as the network manager did (the same log lines).  0, or
 * -EPERM (the store may not be trusted: logged). */
static int store_open(struct storeproc *sp)
{
	const struct ds_config *c = sp->d->cfg;
	struct trust_store_opts so = { .state_dir = c->state_dir, .managed_dir = c->anchors_dir };
	struct trust_open_report rep;
	struct trust_store *s = NULL;
	int r;

	r = trust_store_open(&so, &s, &rep);
	if (r == TRUST_STORE_QUARANTINED) {
		log_err("ALERT trust store was corrupt (%s): moved to %s; starting with no pins",
			rep.error, rep.quarantined);
	} else if (r == -EPERM) {
		log_err("refusing to start: %s", rep.error);
		return r;
	} else if (r < 0) {
		log_err("trust store in %s: %s; starting with no pins", c->state_dir, strerror(-r));
		s = trust_store_new_memory(0);
		if (!s)
			return -ENOMEM;
	}
	if (rep.managed_skipped)
		log_warn("managed anchors: %u file(s) skipped: %s", rep.managed_skipped,
			 rep.managed_error);
	trust_store_close(sp->store);
	sp->store = s;
	sp->d->trust_store = s;
	sp->changed = false;
	return 0;
}

static void store_save(struct storeproc *sp)
{
	int r;

	if (!sp->store || !sp->changed)
		return;
	r = trust_store_save(sp->store);
	if (r < 0) {
		log_err("trust store in %s not saved: %s; the pins of this run live in memory only",
			sp->d->cfg->state_dir, strerror(-r));
		return;
	}
	sp->changed = false;
}

/* A sealed memfd holding text: its descriptor, or -errno. */
static int sealed_copy(const char *text, size_t len)
{
	int fd = memfd_create("dotstub-store", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int r;

	if (fd < 0)
		return -errno;
	r = ds_write_all(fd, text, len);
	if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
					       F_SEAL_SEAL) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static void violation(struct storeproc *sp, const char *why);

/* STORE: our whole store (or err) to the network process. */
static void send_store(struct storeproc *sp, enum ds_pmsg_store_why why, uint32_t seq, int err)
{
	struct ds_pmsg_store b;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r = 0;

	if (sp->chan < 0)
		return;
	memset(&b, 0, sizeof(b));
	b.why = (uint8_t)why;
	b.seq = seq;
	b.refused = sp->refused;
	if (!err && !sp->store)
		err = -ENOENT;
	if (!err) {
		r = trust_store_format(sp->store, &text, &len);
		if (r == 0)
			fd = sealed_copy(text, len);
		free(text);
		if (r < 0 || fd < 0)
			err = r < 0 ? r : fd;
	}
	b.err = err;
	b.len = err ? 0 : len;
	r = ds_pmsg_send(sp->chan, DS_PMSG_STORE, &b, sizeof(b), fd);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		log_err("store process: cannot send the store to the network process: %s",
			strerror(-r));
}

/* trustctl.c changed (and saved) the store: the network process takes
 * it and decides again. */
static void trust_changed(struct ds_daemon *d)
{
	send_store(d->privsep, DS_PMSG_STORE_OPERATOR, 0, 0);
}

/* ---------------------------------------------------------------- control */

static int forward(struct ds_daemon *d, int fd, const char *line)
{
	struct storeproc *sp = d->privsep;
	struct ds_pmsg_control b;

	if (sp->chan < 0 || sp->stopping)
		return -ESRCH;
	memset(&b, 0, sizeof(b));
	b.refused = d->stats.control_refused;
	if (strlen(line) >= sizeof(b.line))
		return -E2BIG;
	snprintf(b.line, sizeof(b.line), "%s", line);
	return ds_pmsg_send(sp->chan, DS_PMSG_CONTROL, &b, sizeof(b), fd);
}

/* ---------------------------------------------------------------- reload */

static void send_reload(struct storeproc *sp, bool ok, const char *why)
{
	struct ds_pmsg_reload b;
	int r;

	memset(&b, 0, sizeof(b));
	b.ok = ok;
	snprintf(b.why, sizeof(b.why), "%s", why);
	r = ds_pmsg_send(sp->chan, DS_PMSG_RELOAD, &b, sizeof(b), -1);
	if (r < 0)
		log_err("store process: cannot tell the network process to reload: %s",
			strerror(-r));
}

/* Refused here: the network process counts it (status) before the line
 * is logged, so a status asked for after the line shows it. */
static void reload_refused(struct storeproc *sp, const char *why)
{
	ds_config_free(&sp->next);
	send_reload(sp, false, why);
	log_err("reload refused, the running configuration is kept: %s", why);
}

static void keep_restart_keys(const struct ds_config *old, struct ds_config *n)
{
	/* the network process says so in its log */
	memcpy(n->state_dir, old->state_dir, sizeof(n->state_dir));
	memcpy(n->user, old->user, sizeof(n->user));
	memcpy(n->control_path, old->control_path, sizeof(n->control_path));
	n->seccomp = old->seccomp;
	n->dnr_ra = old->dnr_ra;
}

static void reload(struct storeproc *sp)
{
	struct ds_daemon *d = sp->d;
	struct ds_listen_fds fds;
	char why[512], sub[384];
	int r;

	if (sp->reloading) { /* one at a time: again when this one is done */
		sp->hup_again = true;
		return;
	}
	log_notice("SIGHUP: reloading %s", d->cfg->config_file);
	ds_notify_reloading();
	ds_config_init(&sp->next);
	r = ds_config_read(&sp->next, d->argc, d->argv, why, sizeof(why));
	if (r < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-r));
		reload_refused(sp, why);
		return;
	}
	keep_restart_keys(d->cfg, &sp->next);
	if (dot_id_make(&sp->next, d->cfg->state_dir, sub, sizeof(sub)) < 0) {
		snprintf(why, sizeof(why), "DoT server certificate: %s", sub);
		reload_refused(sp, why);
		return;
	}
	r = bind_all(&fds, &sp->next, d->cfg, sub, sizeof(sub));
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot bind a new listen address: %s", sub);
		reload_refused(sp, why);
		return;
	}
	for (int i = 0; i < fds.n; i++) {
		struct ds_pmsg_listen b;

		memset(&b, 0, sizeof(b));
		b.addr = fds.l[i].addr;
		b.socktype = fds.l[i].socktype;
		r = ds_pmsg_send(sp->chan, DS_PMSG_LISTEN, &b, sizeof(b), fds.l[i].fd);
		if (r < 0)
			log_err("store process: cannot hand a listener over: %s", strerror(-r));
	}
	fds_close(&fds);
	/* the store and the managed anchors are read again, as at start */
	store_save(sp);
	if (uses_store(&sp->next)) {
		struct ds_config *cur = d->cfg;

		d->cfg = &sp->next; /* its anchors-dir */
		r = store_open(sp);
		d->cfg = cur;
		send_store(sp, DS_PMSG_STORE_RELOAD, 0, r);
	} else {
		trust_store_close(sp->store);
		sp->store = d->trust_store = NULL;
	}
	send_reload(sp, true, "");
	sp->reloading = true;
}

/* RELOADED: the network process applied the configuration, or not. */
static void reloaded(struct storeproc *sp, bool applied)
{
	struct ds_daemon *d = sp->d;

	if (!sp->reloading)
		return;
	sp->reloading = false;
	if (applied) {
		ds_config_free(d->cfg);
		*d->cfg = sp->next;
		memset(&sp->next.upstream, 0, sizeof(sp->next.upstream)); /* its records moved */
		ds_log_set_level(d->cfg->verbose ? LOG_DEBUG : d->cfg->log_level);
		ds_stubresolv_update(d); /* the listeners may have changed */
	}
	ds_config_free(&sp->next);
	if (sp->hup_again) {
		sp->hup_again = false;
		reload(sp);
	}
}

/* ---------------------------------------------------------------- messages */

/* A search domain of resolv-conf-out: lower-case LDH labels of 1..63, no
 * final dot (what the network process reads from resolv-source). */
static bool search_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > DS_RESOLVCONF_NAME_MAX || s[len - 1] == '-' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static void on_resolvconf(struct storeproc *sp, const struct ds_pmsg_resolvconf *rc)
{
	for (size_t i = 0; i < rc->nsearch; i++)
		if (!search_name_ok(rc->search[i])) {
			log_warn("store process: refused a search domain from the network process "
				 "for resolv-conf-out: not a host name");
			return;
		}
	ds_stubresolv_apply(sp->d, (enum ds_stubresolv_posture)rc->posture,
			    (const char(*)[DS_RESOLVCONF_NAME_MAX + 1])rc->search, rc->nsearch);
}

static void on_change(struct storeproc *sp, const struct ds_pmsg *m)
{
	char note[512], why[512];
	int r;

	if (!sp->store) {
		sp->refused++;
		log_warn("store process: refused %s from the network process: no trust store in use",
			 ds_pmsg_name(m->hdr.type));
		return;
	}
	r = ds_storeapply(sp->store, sp->d->cfg, m, time(NULL), note, sizeof(note), why,
			  sizeof(why));
	if (r < 0) {
		sp->refused++;
		log_warn("store process: refused %s from the network process: %s",
			 ds_pmsg_name(m->hdr.type), why);
		return;
	}
	sp->changed = true;
	if (note[0])
		log_notice("store process: %s", note);
}

static void handle(struct storeproc *sp, const struct ds_pmsg *m)
{
	switch (m->hdr.type) {
	case DS_PMSG_PIN:
	case DS_PMSG_TOUCH:
	case DS_PMSG_NETWORK:
	case DS_PMSG_LEARN:
	case DS_PMSG_RFC5011:
	case DS_PMSG_DPIN:
		on_change(sp, m);
		return;
	case DS_PMSG_COMMIT:
		store_save(sp);
		send_store(sp, DS_PMSG_STORE_COMMIT, m->u.commit.seq, 0);
		sp->refused = 0;
		return;
	case DS_PMSG_RESOLVCONF:
		on_resolvconf(sp, &m->u.resolvconf);
		return;
	case DS_PMSG_READY:
		ds_notify_ready_status(m->u.ready.status);
		return;
	case DS_PMSG_RELOADED:
		reloaded(sp, m->u.reloaded.applied);
		return;
	}
}

static void chan_close(struct storeproc *sp)
{
	if (sp->chan_ev)
		event_free(sp->chan_ev);
	sp->chan_ev = NULL;
	if (sp->chan >= 0)
		close(sp->chan);
	sp->chan = -1;
}

/* Stop the network process; once it is reaped, the loop ends. */
static void stop_child(struct storeproc *sp, int sig)
{
	if (sp->child > 0)
		kill(sp->child, sig);
	if (sig != SIGKILL)
		ds_timer_arm_ms(sp->kill_timer, STOP_KILL_MS);
}

static void violation(struct storeproc *sp, const char *why)
{
	log_err("store process: protocol violation by the network process (%s): stopping it and "
		"exiting; none of its changes since the last commit are written",
		why);
	sp->changed = false; /* never written */
	chan_close(sp);
	if (!sp->stopping) {
		sp->stopping = true;
		sp->rc = 1;
		ds_notify_stopping();
	}
	stop_child(sp, SIGKILL);
}

static void chan_read(evutil_socket_t fd, short what, void *arg)
{
	struct storeproc *sp = arg;
	static struct ds_pmsg m; /* large: not on the stack */
	char why[256];

	for (int i = 0; i < 64 && sp->chan >= 0; i++) {
		int r = ds_pmsg_recv(sp->chan, DS_PMSG_TO_STORE, &m, why, sizeof(why));

		if (r == 0)
			return;
		if (r == -EBADMSG) {
			violation(sp, why);
			return;
		}
		if (r < 0) {
			/* the network process is going: SIGCHLD says how */
			if (r != -EPIPE)
				log_err("store process: the channel failed: %s", strerror(-r));
			chan_close(sp);
			ds_timer_arm_ms(sp->kill_timer, STOP_KILL_MS);
			return;
		}
		if (m.fd >= 0) /* none come this way (privmsg.c checked) */
			close(m.fd);
		handle(sp, &m);
	}
}

/* ---------------------------------------------------------------- signals */

static void describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "was killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)),
			 WTERMSIG(status) == SIGSYS ? ": a system call its seccomp filter forbids" : "");
	else
		snprintf(out, len, "ended (status %#x)", (unsigned)status);
}

static void reap(struct storeproc *sp)
{
	char what[160];
	int status;
	pid_t p;

	if (sp->child <= 0)
		return;
	do
		p = waitpid(sp->child, &status, WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p != sp->child)
		return;
	sp->child = 0;
	ds_timer_disarm(sp->kill_timer);
	chan_close(sp);
	if (!sp->stopping) {
		describe_exit(status, what, sizeof(what));
		log_err("store process: the network process %s; exiting", what);
		ds_notify_stopping();
		sp->stopping = true;
		sp->rc = WIFEXITED(status) && WEXITSTATUS(status) == 2 ? 2 : 1;
	}
	event_base_loopbreak(sp->d->base);
}

static void kill_timer_fired(void *arg)
{
	struct storeproc *sp = arg;

	if (sp->child > 0) {
		log_warn("store process: the network process did not stop within %d ms: SIGKILL",
			 STOP_KILL_MS);
		kill(sp->child, SIGKILL);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct storeproc *sp = arg;

	if (sig == SIGCHLD) {
		reap(sp);
		return;
	}
	if (sig == SIGHUP) {
		if (!sp->stopping && sp->chan >= 0)
			reload(sp);
		return;
	}
	if (sp->stopping)
		return;
	log_notice("signal %d, exiting", (int)sig);
	ds_notify_stopping();
	sp->stopping = true;
	sp->rc = 0;
	stop_child(sp, SIGTERM);
}

/* ---------------------------------------------------------------- running */

static int store_serve(struct storeproc *sp)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct ds_daemon *d = sp->d;
	int r;

	/* nothing of ours to read or trace for a process of our user */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (ds_sandbox_enter(DS_SANDBOX_STORE, d->cfg->seccomp, false, sp->child) < 0)
		return -EPERM;
	d->base = event_base_new();
	if (!d->base)
		return -ENOMEM;
	/* the network process's messages before control requests: "trust
	 * list" after a pin sees it */
	event_base_priority_init(d->base, 2);
	sp->kill_timer = ds_timer_new(d->base, kill_timer_fired, sp);
	sp->dot_id_timer = ds_timer_new(d->base, dot_id_timer_fired, sp);
	sp->chan_ev = event_new(d->base, sp->chan, EV_READ | EV_PERSIST, chan_read, sp);
	if (!sp->kill_timer || !sp->dot_id_timer || !sp->chan_ev)
		return -ENOMEM;
	ds_timer_arm_ms(sp->dot_id_timer, DOT_ID_CHECK_MS);
	event_priority_set(sp->chan_ev, 0);
	event_add(sp->chan_ev, NULL);
	for (int i = 0; i < 4; i++) {
		sp->sigs[i] = evsignal_new(d->base, signals[i], on_signal, sp);
		if (!sp->sigs[i] || event_add(sp->sigs[i], NULL) < 0)
			return -ENOMEM;
	}
	d->ctl_refuse_pid = sp->child;
	d->ctl_forward = forward;
	d->on_trust_changed = trust_changed;
	d->trust_store = sp->store;
	r = ds_control_start(d, sp->ctl_fd);
	sp->ctl_fd = -1; /* the control part's now */
	if (r < 0)
		return r;
	if (ds_stubresolv_open(d) < 0)
		return -ENOMEM;
	/* the network process may have gone before the SIGCHLD event was there */
	reap(sp);
	if (sp->child > 0)
		event_base_dispatch(d->base);
	return 0;
}

static void cleanup(struct storeproc *sp)
{
	struct ds_daemon *d = sp->d;

	if (sp->child > 0) { /* never leave it behind */
		kill(sp->child, SIGKILL);
		while (waitpid(sp->child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	chan_close(sp);
	for (int i = 0; i < 4; i++)
		if (sp->sigs[i])
			event_free(sp->sigs[i]);
	if (sp->kill_timer)
		ds_timer_free(sp->kill_timer);
	if (sp->dot_id_timer)
		ds_timer_free(sp->dot_id_timer);
	ds_notify_close();
	ds_stubresolv_close(d);
	ds_control_close(d);
	if (sp->ctl_fd >= 0)
		close(sp->ctl_fd);
	if (sp->ra_fd >= 0)
		close(sp->ra_fd);
	fds_close(&sp->fds);
	trust_store_close(sp->store);
	d->trust_store = NULL;
	if (d->base)
		event_base_free(d->base);
	d->base = NULL;
}

int ds_storeproc_main(struct ds_daemon *d, ds_serve_fn *serve)
{
	static struct storeproc sp;
	char why[384];
	char *text = NULL;
	size_t len = 0;
	pid_t self;
	int sv[2], r;

	sp.d = d;
	sp.chan = sp.ctl_fd = sp.ra_fd = -1;
	sp.rc = 1;
	d->privsep = &sp;
	if (bind_all(&sp.fds, d->cfg, NULL, why, sizeof(why)) < 0)
		goto out;
	sp.ra_fd = ra_socket_open(d->cfg);
	sp.ctl_fd = ds_control_bind(d->cfg->control_path);
	if (sp.ctl_fd < 0 || ds_privdrop_store(d->cfg) < 0)
		goto out;
	/* as the daemon's user: the files are its */
	if (dot_id_make(d->cfg, d->cfg->state_dir, why, sizeof(why)) < 0) {
		log_err("dot: DoT server certificate: %s", why);
		goto out;
	}
	if (ds_publishd_make_keys(d->cfg) < 0)
		goto out;
	if (!d->cfg->foreground && daemon(0, 0) < 0) {
		log_err("daemon: %s", strerror(errno));
		goto out;
	}
	if (uses_store(d->cfg)) {
		r = store_open(&sp);
		if (r < 0) {
			if (r == -EPERM) /* the store may not be trusted */
				sp.rc = 2;
			goto out;
		}
		if (trust_store_format(sp.store, &text, &len) < 0) {
			log_err("out of memory");
			goto out;
		}
	}
	r = ds_pmsg_pair(sv);
	if (r < 0) {
		log_err("socketpair: %s", strerror(-r));
		goto out;
	}
	self = getpid();
	sp.child = fork();
	if (sp.child < 0) {
		log_err("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (sp.child == 0) {
		/* the network process: nothing of the store process's */
		close(sv[0]);
		close(sp.ctl_fd);
		trust_store_close(sp.store);
		sp.store = NULL;
		return ds_netproc_main(d, sv[1], &sp.fds, sp.ra_fd, text, len, self, serve);
	}
	close(sv[1]);
	if (sp.ra_fd >= 0) /* the network process's */
		close(sp.ra_fd);
	sp.ra_fd = -1;
	free(text);
	text = NULL;
	sp.chan = sv[0];
	fds_close(&sp.fds); /* the network process has them */
	r = store_serve(&sp);
	if (r < 0) {
		log_err("store process: %s", strerror(-r));
		sp.rc = 1;
	}
out:
	free(text);
	cleanup(&sp);
	return sp.rc;
}
