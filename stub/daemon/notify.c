/*
 * notify.c -- the service manager's readiness protocol (sd_notify(3)),
 * without libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX
 * socket named by $NOTIFY_SOCKET, a path or, starting with '@', a name in
 * the abstract namespace.  Without $NOTIFY_SOCKET nothing is sent.
 */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

static struct {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	bool ready_sent;
	/* the network process: READY=1 goes to the store process */
	void (*relay)(void *arg, const char *status);
	void *relay_arg;
} nt = { .fd = -1 };

void ds_notify_relay(void (*fn)(void *arg, const char *status), void *arg)
{
	ds_notify_close();
	nt.relay = fn;
	nt.relay_arg = arg;
}

/* $NOTIFY_SOCKET as an address: "/path" or "@abstract".  -EINVAL if it
 * is neither or too long. */
static int notify_addr(const char *s, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(s);

	if ((s[0] != '/' && s[0] != '@') || n < 2 || n >= sizeof(sun->sun_path))
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s, n);
	if (s[0] == '@') {
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int ds_notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	int r;

	if (!s || !*s)
		return 0;
	r = notify_addr(s, &nt.addr, &nt.addrlen);
	if (r < 0) {
		log_warn("NOTIFY_SOCKET '%s' is neither a path nor an abstract name, ignoring", s);
		unsetenv("NOTIFY_SOCKET");
		return r;
	}
	nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (nt.fd < 0) {
		r = -errno;
		log_warn("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return r;
	}
	/* not for the programs we might start */
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

void ds_notify_close(void)
{
	if (nt.fd >= 0)
		close(nt.fd);
	nt.fd = -1;
}

int ds_notify(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (nt.fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	if (sendto(nt.fd, buf, (size_t)n, MSG_NOSIGNAL, (const struct sockaddr *)&nt.addr,
		   nt.addrlen) < 0) {
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The one-line summary the service manager shows (STATUS=). */
static void status_line(const struct ds_daemon *d, char *out, size_t len)
{
	struct ds_upstream_status us;
	char a[64];
	size_t n;

	ds_sockaddr_format(&d->cfg->listen[0], a, sizeof(a));
	n = (size_t)snprintf(out, len, "listening on %s", a);
	if (d->cfg->nlisten > 1 && n < len)
		n += (size_t)snprintf(out + n, len - n, " and %d more", d->cfg->nlisten - 1);
	if (n >= len)
		return;
	if (d->def.up) {
		ds_upstream_get_status(d->def.up, &us);
		snprintf(out + n, len - n, "; upstream %s (%s)", us.name, d->def.up_source);
	} else if (d->def.plain) {
		snprintf(out + n, len - n, "; plain DNS to the network's resolver");
	} else {
		snprintf(out + n, len - n, "; no upstream: %s",
			 d->def.discovering ? "waiting for discovery" : d->def.not_ready_text);
	}
}

/* Newlines would start another assignment: a status is one line, of
 * printable ASCII (it may come from the network process). */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = *s == '\n' || *s == '\r' ? ' ' : '?';
}

void ds_notify_ready(const struct ds_daemon *d)
{
	char st[512];

	status_line(d, st, sizeof(st));
	if (nt.relay) {
		nt.relay(nt.relay_arg, st);
		nt.ready_sent = true;
		return;
	}
	ds_notify_ready_status(st);
}

void ds_notify_ready_status(const char *status)
{
	char st[512];

	snprintf(st, sizeof(st), "%s", status);
	one_line(st);
	ds_notify("READY=1\nSTATUS=%s\nMAINPID=%ld", st, (long)getpid());
	nt.ready_sent = true;
}

bool ds_notify_ready_sent(void)
{
	return nt.ready_sent;
}

/* (relayed: the store process says these itself) */
void ds_notify_reloading(void)
{
	if (!nt.relay)
		ds_notify("RELOADING=1\nSTATUS=reloading the configuration");
}

void ds_notify_stopping(void)
{
	if (!nt.relay)
		ds_notify("STOPPING=1\nSTATUS=stopping");
}
