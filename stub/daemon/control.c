/*
 * control.c -- dotstubd's control socket (protocol: dotstub/ctlproto.h).
 * Peer credentials are checked before a request is read; requests are
 * size-checked; one request per connection.  A "query" may wait for its
 * answer, within the connection's timeout (then it is cancelled).
 */
#include "daemon.h"
#include "status.h"

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
#include <unistd.h>

#include "dotstub/clock.h"
#include "dotstub/ctlproto.h"
#include "dotstub/log.h"

#define CTL_TIMEOUT_S 5
#define CTL_MAX_CLIENTS 16

struct ds_control {
	struct ds_daemon *d;
	int fd;                      /* -1: clients are handed to us (adopted) */
	struct event *ev;
	unsigned nclients;
	struct ds_log_rl full_rl;    /* the "too many connections" line */
	uint64_t refused_seen;       /* adopted: the refusals already counted */
};

struct ctl_client {
	struct ds_control *ctl;
	struct bufferevent *bev;
	struct ds_ctlquery *query;   /* "query" waiting for its answer */
	uid_t uid;                   /* the peer's ("link" is root's only) */
	bool done;
};

typedef int (*ctl_handler)(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out);

struct ctl_command {
	const char *name;
	ctl_handler fn;
};

/* ---------------------------------------------------------------- status */

/* "status [json]": the status as JSON (status.c), with or without "json":
 * dotctl renders the text view from it.  "json" is still accepted for the
 * dotctl releases that asked for it. */
static int cmd_status(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	struct ds_status *st;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "json") != 0))
		return -EINVAL;
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	ds_status_collect(d, st);
	ds_status_json(st, out);
	free(st);
	return 0;
}

/* "network [json]": the network manager's part of the status, as JSON
 * ({"network": ..., "discovery": ...}; "discovery" is null with a static
 * upstream).  dotctl prints the fingerprint from it.  Arguments other
 * than "json" were always ignored here. */
static int cmd_network(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	struct ds_status *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	ds_netmgr_get_status(d, &st->nm);
	ds_status_json_network(st, out);
	free(st);
	return 0;
}

/* "hotspot-signon SECONDS": plain DNS to this network's resolver for a
 * while (netmgr_hotspot.c says when it may not) */
static int cmd_hotspot(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	char why[256] = "", *end;
	unsigned long s;
	int r;

	if (argc != 2)
		return -EINVAL;
	errno = 0;
	s = strtoul(argv[1], &end, 10);
	if (errno || *end || argv[1][0] < '0' || argv[1][0] > '9' || s > 86400)
		return -EINVAL;
	r = ds_netmgr_hotspot_signon(d, (unsigned)s, why, sizeof(why));
	if (r < 0) {
		evbuffer_add_printf(out, "%s\n", why);
		return r;
	}
	evbuffer_add_printf(out, "hotspot sign-on: plain DNS to the network's resolver for %lu s; "
				 "discovery runs again when it ends\n",
			    s);
	return 0;
}

static const struct ctl_command commands[] = {
	{ "status", cmd_status },
	{ "hotspot-signon", cmd_hotspot },
	{ "trust", ds_trustctl },
	{ "network", cmd_network },
	{ "publish", ds_publishctl },
};

/* "query HEX" (ctlquery.c) is not in this table: it may be answered
 * after the request returns. */

/* ---------------------------------------------------------------- socket */

/* Root, the daemon's own user, or a member of the daemon's group (as the
 * primary group or, through SO_PEERGROUPS, a supplementary one). */
static bool peer_allowed(int fd, pid_t refuse_pid, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	gid_t mygid = getegid();

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return false;
	*ret_uid = cred.uid;
	if (refuse_pid > 0 && cred.pid == refuse_pid)
		return false; /* the network process is no operator */
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
	ds_ctlquery_free(cl->query); /* gone before its answer: cancelled */
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

/* The first line of the answer, then the body. */
static void put_answer(struct evbuffer *out, int r, struct evbuffer *body, const char *cmd)
{
	if (r == -ENOENT)
		evbuffer_add_printf(out, "error: unknown request '%s'\n", cmd);
	else if (r < 0 && (!body || evbuffer_get_length(body) == 0))
		evbuffer_add_printf(out, "error: %s\n", strerror(-r));
	else if (r < 0) {
		evbuffer_add_printf(out, "error: ");
		evbuffer_add_buffer(out, body);
	} else {
		evbuffer_add_printf(out, "ok\n");
		evbuffer_add_buffer(out, body);
	}
}

/* "query HEX" answered after it was read (ctlquery.c) */
static void query_done(void *arg, int r, struct evbuffer *body)
{
	struct ctl_client *cl = arg;

	ds_ctlquery_free(cl->query);
	cl->query = NULL;
	put_answer(bufferevent_get_output(cl->bev), r, body, "query");
	client_finish(cl);
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
	if (!strcmp(argv[0], "query"))
		r = ds_ctlquery_start(cl->ctl->d, argc, argv, body, query_done, cl, &cl->query);
	if (!strcmp(argv[0], "link"))
		r = ds_linkctl(cl->ctl->d, cl->uid, argc, argv, body);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[0]))
			r = commands[i].fn(cl->ctl->d, argc, argv, body);
	if (r != 1) /* 1: a query, answered later (query_done) */
		put_answer(out, r, body, argv[0]);
done:
	if (body)
		evbuffer_free(body);
}

/* The store process answers "trust ..." itself; anything else goes to the
 * network process with the client (d->ctl_forward).  true: handed over
 * (or answered with why not), cl is gone or finishing. */
static bool forwarded(struct ctl_client *cl, const char *line)
{
	struct ds_daemon *d = cl->ctl->d;
	size_t n = strcspn(line, " ");
	int r;

	if (!d->ctl_forward || (n == 5 && !strncmp(line, "trust", 5)))
		return false;
	r = d->ctl_forward(d, bufferevent_getfd(cl->bev), line);
	if (r < 0) {
		evbuffer_add_printf(bufferevent_get_output(cl->bev),
				    "error: the network process did not take the request: %s\n",
				    strerror(-r));
		client_finish(cl);
		return true;
	}
	client_close(cl); /* the network process answers on its own copy */
	return true;
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	if (cl->done || cl->query)
		return; /* one request per connection */
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) > DS_CTL_LINE_MAX) {
			evbuffer_add_printf(bufferevent_get_output(bev), "error: request too long\n");
			client_finish(cl);
		}
		return;
	}
	if (len > DS_CTL_LINE_MAX) {
		evbuffer_add_printf(bufferevent_get_output(bev), "error: request too long\n");
	} else if (forwarded(cl, line)) {
		free(line);
		return;
	} else {
		run_request(cl, line);
	}
	free(line);
	if (!cl->query)
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

/* CTL_MAX_CLIENTS are open: the new one is closed, counted and logged
 * (at most once every DS_LOG_RL_INTERVAL_MS) */
static void ctl_refuse_full(struct ds_control *ctl, int cfd)
{
	unsigned long long more;

	close(cfd);
	ctl->d->stats.control_refused++;
	if (ds_log_rl_pass(&ctl->full_rl, ds_now_ms(), &more))
		log_notice("control: connection refused: %d control connections open "
			   "(%llu more refused since the last line)",
			   CTL_MAX_CLIENTS, more);
}

/* A client on cfd (its peer allowed, uid): NULL, cfd closed, if there is
 * no room or memory. */
static struct ctl_client *client_new(struct ds_control *ctl, int cfd, uid_t uid)
{
	struct ctl_client *cl;
	struct timeval tv = { CTL_TIMEOUT_S, 0 };

	if (ctl->nclients >= CTL_MAX_CLIENTS) {
		ctl_refuse_full(ctl, cfd);
		return NULL;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		return NULL;
	}
	cl->ctl = ctl;
	cl->uid = uid;
	cl->bev = bufferevent_socket_new(ctl->d->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	if (!cl->bev) {
		close(cfd);
		free(cl);
		return NULL;
	}
	ctl->nclients++;
	bufferevent_setcb(cl->bev, client_read, client_write, client_event, cl);
	bufferevent_set_timeouts(cl->bev, &tv, &tv);
	return cl;
}

static void ctl_accept(evutil_socket_t fd, short what, void *arg)
{
	struct ds_control *ctl = arg;
	struct ctl_client *cl;
	uid_t uid = (uid_t)-1;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (!peer_allowed(cfd, ctl->d->ctl_refuse_pid, &uid)) {
		static const char msg[] =
			"error: permission denied (only root, the daemon's user or its group)\n";
		log_notice("control: refused a client with uid %ld", (long)uid);
		if (write(cfd, msg, sizeof(msg) - 1) < 0) {
			/* the refusal is best effort */
		}
		close(cfd);
		return;
	}
	cl = client_new(ctl, cfd, uid);
	if (cl)
		bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

int ds_control_bind(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
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
	return fd;
}

static struct ds_control *control_new(struct ds_daemon *d, int fd)
{
	struct ds_control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return NULL;
	ctl->d = d;
	ctl->fd = fd;
	d->control = ctl;
	return ctl;
}

int ds_control_start(struct ds_daemon *d, int fd)
{
	struct ds_control *ctl = control_new(d, fd);

	if (!ctl)
		return -ENOMEM;
	ctl->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, ctl_accept, ctl);
	if (!ctl->ev || event_add(ctl->ev, NULL) < 0)
		return -ENOMEM; /* ds_control_close frees what there is */
	return 0;
}

int ds_control_adopt(struct ds_daemon *d, int fd, const char *line, uint64_t refused)
{
	struct ds_control *ctl = d->control ? d->control : control_new(d, -1);
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);
	struct ctl_client *cl;
	char *copy;

	if (!ctl) {
		close(fd);
		return -ENOMEM;
	}
	/* the store process's refusals, counted with our own */
	if (refused > ctl->refused_seen) {
		d->stats.control_refused += refused - ctl->refused_seen;
		ctl->refused_seen = refused;
	}
	/* the peer's credentials are the connecting process's, whichever
	 * process holds the socket now ("link" is root's only) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		cred.uid = (uid_t)-1;
	cl = client_new(ctl, fd, cred.uid);
	if (!cl)
		return -EBUSY; /* counted and logged, or out of memory */
	copy = strdup(line);
	if (!copy) {
		client_close(cl);
		return -ENOMEM;
	}
	bufferevent_enable(cl->bev, EV_WRITE);
	run_request(cl, copy);
	free(copy);
	if (!cl->query)
		client_finish(cl);
	return 0;
}

void ds_control_close(struct ds_daemon *d)
{
	struct ds_control *ctl = d->control;

	if (!ctl)
		return;
	if (ctl->ev)
		event_free(ctl->ev);
	if (ctl->fd >= 0) {
		close(ctl->fd);
		unlink(d->cfg->control_path);
	}
	free(ctl);
	d->control = NULL;
}
