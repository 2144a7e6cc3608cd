/*
 * control.c -- dotstubd's control socket (protocol: dotstub/ctlproto.h).
 * Peer credentials are checked before a request is read; requests are
 * size-checked; one request per connection.
 */
#include "daemon.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dotstub-config.h"
#include "dotstub/ctlproto.h"
#include "dotstub/log.h"

#define CTL_TIMEOUT_S 5
#define CTL_MAX_CLIENTS 16

struct ds_control {
	struct ds_daemon *d;
	int fd;
	struct event *ev;
	unsigned nclients;
};

struct ctl_client {
	struct ds_control *ctl;
	struct bufferevent *bev;
	bool done;
};

typedef int (*ctl_handler)(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out);

struct ctl_command {
	const char *name;
	ctl_handler fn;
};

/* ---------------------------------------------------------------- status */

void ds_json_str(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			evbuffer_add_printf(out, "\\u%04x", ch);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

static void fmt_duration(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
}

static void status_text(struct ds_daemon *d, struct evbuffer *out)
{
	const struct ds_stats *s = &d->stats;
	struct ds_upstream_status us;
	struct ds_cache_stats cs;
	char up[32];

	fmt_duration((ds_now_ms() - d->started_ms) / 1000, up, sizeof(up));
	evbuffer_add_printf(out, "dotstubd %s, up %s\n", DOTSTUB_VERSION, up);
	evbuffer_add_printf(out, "listen:     ");
	ds_listeners_describe(d, out, false);
	evbuffer_add_printf(out, " (udp+tcp), %u tcp clients\n", ds_listeners_tcp_clients(d));
	if (d->up) {
		ds_upstream_get_status(d->up, &us);
		evbuffer_add_printf(out, "upstream:   %s (from %s)\n", us.name, d->up_source);
		evbuffer_add_printf(out, "  state:    %s%s%s\n", us.state,
				    us.addr[0] ? " to " : "", us.addr);
		if (us.tls_version[0])
			evbuffer_add_printf(out, "  tls:      %s %s%s\n", us.tls_version, us.cipher,
					    us.resumed ? ", resumed session" : "");
		if (us.matched_tlsa[0])
			evbuffer_add_printf(out, "  auth:     DANE, TLSA %s\n", us.matched_tlsa);
		evbuffer_add_printf(out,
				    "  conns:    %u open, %u in flight, %u waiting; %llu connects, "
				    "%llu handshakes, %llu resumed\n",
				    us.conns, us.inflight, us.pending, (unsigned long long)us.connects,
				    (unsigned long long)us.handshakes,
				    (unsigned long long)us.resumptions);
		if (us.keepalive_ms)
			evbuffer_add_printf(out, "  keepalive: %u ms (server)\n", us.keepalive_ms);
		if (us.backoff_ms)
			evbuffer_add_printf(out, "  backoff:  %u ms\n", us.backoff_ms);
		evbuffer_add_printf(out, "  rtt:      p50 %.2f ms, p99 %.2f ms\n",
				    us.rtt_p50_us / 1000.0, us.rtt_p99_us / 1000.0);
		evbuffer_add_printf(out,
				    "  failures: network %llu, tls %llu, dane %llu, timeouts %llu, "
				    "retries %llu\n",
				    (unsigned long long)us.fail_network, (unsigned long long)us.fail_tls,
				    (unsigned long long)us.fail_auth, (unsigned long long)us.timeouts,
				    (unsigned long long)us.retries);
		if (us.last_error[0])
			evbuffer_add_printf(out, "  last error: %s\n", us.last_error);
	} else if (d->plain) {
		struct ds_plain_status ps;

		ds_plain_get_status(d->plain, &ps);
		evbuffer_add_printf(out, "upstream:   PLAIN DNS to %s (opportunistic, unauthenticated)\n",
				    ps.addr);
		evbuffer_add_printf(out, "  plain:    %llu queries, %llu answers, %llu timeouts, %llu "
					 "retried over TCP, %u in flight\n",
				    (unsigned long long)ps.queries, (unsigned long long)ps.answers,
				    (unsigned long long)ps.timeouts, (unsigned long long)ps.tcp_retries,
				    ps.inflight);
	} else {
		evbuffer_add_printf(out, "upstream:   none (queries get SERVFAIL: %s)\n",
				    d->discovering ? "waiting for discovery" : d->not_ready_text);
	}
	ds_netmgr_describe(d, out, false);
	evbuffer_add_printf(out,
			    "queries:    %llu (udp %llu, tcp %llu); cache hits %llu, upstream "
			    "answers %llu, local %llu\n",
			    (unsigned long long)s->queries, (unsigned long long)s->queries_udp,
			    (unsigned long long)s->queries_tcp, (unsigned long long)s->cache_hits,
			    (unsigned long long)s->upstream_answers,
			    (unsigned long long)s->local_answers);
	evbuffer_add_printf(out,
			    "errors:     servfail upstream %llu, not ready %llu, overload %llu, "
			    "formerr %llu, notimp %llu, dropped %llu, truncated %llu\n",
			    (unsigned long long)s->servfail_upstream,
			    (unsigned long long)s->servfail_not_ready,
			    (unsigned long long)s->overload, (unsigned long long)s->formerr,
			    (unsigned long long)s->notimp, (unsigned long long)s->dropped,
			    (unsigned long long)s->truncated);
	if (d->cache) {
		ds_cache_get_stats(d->cache, &cs);
		evbuffer_add_printf(out, "cache:      %zu entries, %zu of %zu bytes, %llu evictions\n",
				    cs.entries, cs.bytes, cs.max_bytes,
				    (unsigned long long)cs.evictions);
	} else {
		evbuffer_add_printf(out, "cache:      off\n");
	}
}

#define JU(k, v) evbuffer_add_printf(out, "\"%s\": %llu", k, (unsigned long long)(v))

static void status_json(struct ds_daemon *d, struct evbuffer *out)
{
	const struct ds_stats *s = &d->stats;
	struct ds_upstream_status us;
	struct ds_cache_stats cs;

	evbuffer_add_printf(out, "{\"version\": \"%s\", ", DOTSTUB_VERSION);
	JU("uptime_s", (ds_now_ms() - d->started_ms) / 1000);
	evbuffer_add_printf(out, ", \"listen\": [");
	ds_listeners_describe(d, out, true);
	evbuffer_add_printf(out, "], ");
	JU("tcp_clients", ds_listeners_tcp_clients(d));
	evbuffer_add_printf(out, ", \"upstream\": ");
	if (d->up) {
		ds_upstream_get_status(d->up, &us);
		evbuffer_add_printf(out, "{\"name\": ");
		ds_json_str(out, us.name);
		evbuffer_add_printf(out, ", \"source\": ");
		ds_json_str(out, d->up_source);
		evbuffer_add_printf(out, ", \"state\": ");
		ds_json_str(out, us.state);
		evbuffer_add_printf(out, ", \"address\": ");
		ds_json_str(out, us.addr);
		evbuffer_add_printf(out, ", \"tls_version\": ");
		ds_json_str(out, us.tls_version);
		evbuffer_add_printf(out, ", \"cipher\": ");
		ds_json_str(out, us.cipher);
		evbuffer_add_printf(out, ", \"matched_tlsa\": ");
		ds_json_str(out, us.matched_tlsa);
		evbuffer_add_printf(out, ", \"resumed\": %s, ", us.resumed ? "true" : "false");
		JU("conns", us.conns); evbuffer_add_printf(out, ", ");
		JU("inflight", us.inflight); evbuffer_add_printf(out, ", ");
		JU("waiting", us.pending); evbuffer_add_printf(out, ", ");
		JU("connects", us.connects); evbuffer_add_printf(out, ", ");
		JU("handshakes", us.handshakes); evbuffer_add_printf(out, ", ");
		JU("resumptions", us.resumptions); evbuffer_add_printf(out, ", ");
		JU("queries", us.queries); evbuffer_add_printf(out, ", ");
		JU("answers", us.answers); evbuffer_add_printf(out, ", ");
		JU("timeouts", us.timeouts); evbuffer_add_printf(out, ", ");
		JU("retries", us.retries); evbuffer_add_printf(out, ", ");
		JU("fail_network", us.fail_network); evbuffer_add_printf(out, ", ");
		JU("fail_tls", us.fail_tls); evbuffer_add_printf(out, ", ");
		JU("fail_auth", us.fail_auth); evbuffer_add_printf(out, ", ");
		JU("rtt_p50_us", us.rtt_p50_us); evbuffer_add_printf(out, ", ");
		JU("rtt_p99_us", us.rtt_p99_us); evbuffer_add_printf(out, ", ");
		JU("backoff_ms", us.backoff_ms); evbuffer_add_printf(out, ", ");
		JU("keepalive_ms", us.keepalive_ms);
		evbuffer_add_printf(out, ", \"last_error\": ");
		ds_json_str(out, us.last_error);
		evbuffer_add_printf(out, "}");
	} else if (d->plain) {
		struct ds_plain_status ps;

		ds_plain_get_status(d->plain, &ps);
		evbuffer_add_printf(out, "{\"plain\": true, \"address\": ");
		ds_json_str(out, ps.addr);
		evbuffer_add_printf(out, ", ");
		JU("queries", ps.queries); evbuffer_add_printf(out, ", ");
		JU("answers", ps.answers); evbuffer_add_printf(out, ", ");
		JU("timeouts", ps.timeouts);
		evbuffer_add_printf(out, "}");
	} else {
		evbuffer_add_printf(out, "null");
	}
	evbuffer_add_printf(out, ", ");
	ds_netmgr_describe(d, out, true);
	evbuffer_add_printf(out, ", \"counters\": {");
	JU("queries", s->queries); evbuffer_add_printf(out, ", ");
	JU("queries_udp", s->queries_udp); evbuffer_add_printf(out, ", ");
	JU("queries_tcp", s->queries_tcp); evbuffer_add_printf(out, ", ");
	JU("cache_hits", s->cache_hits); evbuffer_add_printf(out, ", ");
	JU("upstream_answers", s->upstream_answers); evbuffer_add_printf(out, ", ");
	JU("local_answers", s->local_answers); evbuffer_add_printf(out, ", ");
	JU("servfail_upstream", s->servfail_upstream); evbuffer_add_printf(out, ", ");
	JU("servfail_not_ready", s->servfail_not_ready); evbuffer_add_printf(out, ", ");
	JU("overload", s->overload); evbuffer_add_printf(out, ", ");
	JU("formerr", s->formerr); evbuffer_add_printf(out, ", ");
	JU("notimp", s->notimp); evbuffer_add_printf(out, ", ");
	JU("dropped", s->dropped); evbuffer_add_printf(out, ", ");
	JU("truncated", s->truncated);
	evbuffer_add_printf(out, "}, \"cache\": ");
	if (d->cache) {
		ds_cache_get_stats(d->cache, &cs);
		evbuffer_add_printf(out, "{");
		JU("entries", cs.entries); evbuffer_add_printf(out, ", ");
		JU("bytes", cs.bytes); evbuffer_add_printf(out, ", ");
		JU("max_bytes", cs.max_bytes); evbuffer_add_printf(out, ", ");
		JU("hits", cs.hits); evbuffer_add_printf(out, ", ");
		JU("misses", cs.misses); evbuffer_add_printf(out, ", ");
		JU("evictions", cs.evictions);
		evbuffer_add_printf(out, "}");
	} else {
		evbuffer_add_printf(out, "null");
	}
	evbuffer_add_printf(out, "}\n");
}

static int cmd_status(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "json") != 0))
		return -EINVAL;
	if (argc == 2)
		status_json(d, out);
	else
		status_text(d, out);
	return 0;
}

static int cmd_network(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	const char *fp = ds_netmgr_fingerprint(d);

	if (argc == 2 && !strcmp(argv[1], "json")) {
		evbuffer_add_printf(out, "{");
		ds_netmgr_describe(d, out, true);
		evbuffer_add_printf(out, "}\n");
		return 0;
	}
	if (!d->netmgr) {
		evbuffer_add_printf(out, "no network awareness: a static upstream is configured\n");
		return 0;
	}
	evbuffer_add_printf(out, "%s\n", fp ? fp : "(no fingerprint yet)");
	return 0;
}

static const struct ctl_command commands[] = {
	{ "status", cmd_status },
	{ "trust", ds_trustctl },
	{ "network", cmd_network },
};

/* ---------------------------------------------------------------- socket */

/* Root, the daemon's own user, or a member of the daemon's group (as the
 * primary group or, through SO_PEERGROUPS, a supplementary one). */
static bool peer_allowed(int fd, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	gid_t mygid = getegid();

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return false;
	*ret_uid = cred.uid;
	if (cred.uid == 0 || cred.uid == geteuid() || cred.gid == mygid)
		return true;
#ifdef SO_PEERGROUPS
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == mygid)
				return true;
#endif
	return false;
}

static void client_close(struct ctl_client *cl)
{
	cl->ctl->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

static void client_finish(struct ctl_client *cl)
{
	cl->done = true;
	bufferevent_disable(cl->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(cl->bev)) == 0)
		client_close(cl);
}

static void run_request(struct ctl_client *cl, char *line)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);
	struct evbuffer *body = evbuffer_new();
	char *argv[DS_CTL_MAX_ARGS], *save = NULL;
	int argc = 0, r = -ENOENT;

	for (char *w = strtok_r(line, " ", &save); w && argc < DS_CTL_MAX_ARGS;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	if (!body || argc == 0) {
		evbuffer_add_printf(out, "error: empty request\n");
		goto done;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[0]))
			r = commands[i].fn(cl->ctl->d, argc, argv, body);
	if (r == -ENOENT)
		evbuffer_add_printf(out, "error: unknown request '%s'\n", argv[0]);
	else if (r < 0 && evbuffer_get_length(body) == 0)
		evbuffer_add_printf(out, "error: %s\n", strerror(-r));
	else if (r < 0) {
		evbuffer_add_printf(out, "error: ");
		evbuffer_add_buffer(out, body);
	} else {
		evbuffer_add_printf(out, "ok\n");
		evbuffer_add_buffer(out, body);
	}
done:
	if (body)
		evbuffer_free(body);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	if (cl->done)
		return;
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) > DS_CTL_LINE_MAX) {
			evbuffer_add_printf(bufferevent_get_output(bev), "error: request too long\n");
			client_finish(cl);
		}
		return;
	}
	if (len > DS_CTL_LINE_MAX)
		evbuffer_add_printf(bufferevent_get_output(bev), "error: request too long\n");
	else
		run_request(cl, line);
	free(line);
	client_finish(cl);
}

static void client_write(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;

	if (cl->done)
		client_close(cl);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	client_close(arg);
}

static void ctl_accept(evutil_socket_t fd, short what, void *arg)
{
	struct ds_control *ctl = arg;
	struct ctl_client *cl;
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	uid_t uid = (uid_t)-1;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (!peer_allowed(cfd, &uid)) {
		static const char msg[] =
			"error: permission denied (only root, the daemon's user or its group)\n";
		log_notice("control: refused a client with uid %ld", (long)uid);
		if (write(cfd, msg, sizeof(msg) - 1) < 0) {
			/* the refusal is best effort */
		}
		close(cfd);
		return;
	}
	if (ctl->nclients >= CTL_MAX_CLIENTS) {
		close(cfd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		return;
	}
	cl->ctl = ctl;
	cl->bev = bufferevent_socket_new(ctl->d->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	if (!cl->bev) {
		close(cfd);
		free(cl);
		return;
	}
	ctl->nclients++;
	bufferevent_setcb(cl->bev, client_read, client_write, client_event, cl);
	bufferevent_set_timeouts(cl->bev, &tv, &tv);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

int ds_control_open(struct ds_daemon *d)
{
	const char *path = d->cfg->control_path;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ds_control *ctl;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket of an earlier run */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		log_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if (chmod(path, 0660) < 0)
		log_warn("control socket %s: chmod: %s, ignoring", path, strerror(errno));
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		close(fd);
		return -ENOMEM;
	}
	ctl->d = d;
	ctl->fd = fd;
	ctl->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, ctl_accept, ctl);
	if (!ctl->ev || event_add(ctl->ev, NULL) < 0) {
		close(fd);
		free(ctl);
		return -ENOMEM;
	}
	d->control = ctl;
	return 0;
}

void ds_control_close(struct ds_daemon *d)
{
	struct ds_control *ctl = d->control;

	if (!ctl)
		return;
	event_free(ctl->ev);
	close(ctl->fd);
	unlink(d->cfg->control_path);
	free(ctl);
	d->control = NULL;
}
