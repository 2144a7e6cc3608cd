/*
 * listen_bind.c -- the sockets of dotstubd's listeners: bound here (the
 * store process, or a daemon that keeps its rights), or handed over by the
 * store process (the network process: d->listen_fd).
 */
#include "daemon.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int open_socket(const struct sockaddr_storage *ss, int type)
{
	int fd, one = 1;
	char a[64];

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, ss_len(ss)) < 0) {
		int r = -errno;
		ds_sockaddr_format(ss, a, sizeof(a));
		log_err("cannot bind %s/%s: %s", a, type == SOCK_DGRAM ? "udp" : "tcp",
			strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int ds_listen_bind(const struct sockaddr_storage *ss, int socktype)
{
	int fd = open_socket(ss, socktype), rcvbuf = 1 << 20, qlen = 5;

	if (fd < 0)
		return fd;
	if (socktype == SOCK_DGRAM) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		return fd;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
	if (listen(fd, 256) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int ds_listen_fd(struct ds_daemon *d, const struct sockaddr_storage *ss, int socktype)
{
	return d->listen_fd ? d->listen_fd(d, ss, socktype) : ds_listen_bind(ss, socktype);
}
