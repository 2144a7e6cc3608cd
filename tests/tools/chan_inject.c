/*
 * chan_inject.c -- play a compromised network process: take a copy of the
 * network process's end of its channel to the store process (pidfd_getfd,
 * as root) and write messages into it, as the network process could.
 *
 *	chan_inject PID oversized|short|badlen|badtype|withfd|unterminated
 *	chan_inject PID network ZONE-KEY FP      a usable key onto network FP
 *	chan_inject PID pin ZONE-KEY STATE       PIN(resolver-name.arpa., key, state)
 *	chan_inject PID newkey FP                PIN(trusted) of a new key, then
 *	                                         NETWORK(that key, FP)
 *
 * PID is the network process.  ZONE-KEY is "flags proto alg base64" of a
 * resolver-name.arpa key.  Each form ends with a COMMIT (the store process
 * writes what it accepted).  The message layout is privsep.h's.  Exits 0
 * once the messages are written; what the store process does with them is
 * for the test to see (its log, the store file).
 */
#include "privsep.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dotstub/discovery.h"

static int die(const char *what)
{
	fprintf(stderr, "chan_inject: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The network process's AF_UNIX SOCK_SEQPACKET socket: its channel. */
static int take_channel(pid_t pid)
{
	char dir[64];
	int pidfd, found = -1;
	struct dirent *e;
	DIR *d;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die("pidfd_open");
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		die(dir);
	while ((e = readdir(d))) {
		int fd, type = 0, dom = 0;
		socklen_t len = sizeof(int);

		if (e->d_name[0] == '.')
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
		if (fd < 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET &&
		    (len = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len)) == 0 &&
		    dom == AF_UNIX && found < 0) {
			found = fd;
			continue;
		}
		close(fd);
	}
	closedir(d);
	close(pidfd);
	if (found < 0) {
		fprintf(stderr, "chan_inject: process %d has no SOCK_SEQPACKET socket\n", (int)pid);
		exit(1);
	}
	return found;
}

static void raw(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		die("sendmsg");
}

static void msg(int sock, uint32_t type, const void *body, uint32_t len)
{
	int r = ds_pmsg_send(sock, type, body, len, -1);

	if (r < 0) {
		errno = -r;
		die("send");
	}
}

static void commit(int sock)
{
	struct ds_pmsg_commit c = { 0x7fffffff };

	msg(sock, DS_PMSG_COMMIT, &c, sizeof(c));
}

static void key_arg(const char *text, struct trust_dnskey *k)
{
	if (trust_dnskey_parse(text, k) < 0) {
		fprintf(stderr, "chan_inject: not a DNSKEY: %s\n", text);
		exit(2);
	}
}

static void anchor_of(struct ds_pmsg_anchor_id *id, const struct trust_dnskey *k)
{
	snprintf(id->zone, sizeof(id->zone), "%s", DISC_ZONE);
	if (trust_dnskey_sha256(k, id->sha256) < 0)
		die("sha256");
}

static void send_network(int sock, const struct trust_dnskey *k, const char *fp)
{
	static struct ds_pmsg_network n;

	memset(&n, 0, sizeof(n));
	anchor_of(&n.anchor, k);
	snprintf(n.fp, sizeof(n.fp), "%s", fp);
	msg(sock, DS_PMSG_NETWORK, &n, sizeof(n));
}

static void send_pin(int sock, const struct trust_dnskey *k, enum trust_state st)
{
	static struct ds_pmsg_pin p;

	memset(&p, 0, sizeof(p));
	snprintf(p.zone, sizeof(p.zone), "%s", DISC_ZONE);
	ds_pmsg_key_put(&p.key, k);
	p.state = (uint8_t)st;
	msg(sock, DS_PMSG_PIN, &p, sizeof(p));
}

int main(int argc, char **argv)
{
	static uint8_t big[70000];
	static struct ds_pmsg_network n;
	struct ds_pmsg_hdr h;
	const char *kind;
	int sock;

	if (argc < 3) {
		fprintf(stderr, "usage: chan_inject PID KIND [ARGS]\n");
		return 2;
	}
	sock = take_channel((pid_t)atoi(argv[1]));
	kind = argv[2];
	if (!strcmp(kind, "oversized")) {
		h.type = DS_PMSG_LEARN;
		h.len = sizeof(big) - sizeof(h);
		memcpy(big, &h, sizeof(h));
		raw(sock, big, sizeof(big), -1);
	} else if (!strcmp(kind, "short")) {
		raw(sock, "\x01\x00\x00", 3, -1);
	} else if (!strcmp(kind, "badlen")) {
		/* a PIN one octet short of its size, and saying so */
		h.type = DS_PMSG_PIN;
		h.len = sizeof(struct ds_pmsg_pin) - 1;
		memset(big, 0, sizeof(big));
		memcpy(big, &h, sizeof(h));
		raw(sock, big, sizeof(h) + h.len, -1);
	} else if (!strcmp(kind, "badtype")) {
		h.type = 999;
		h.len = 0;
		raw(sock, &h, sizeof(h), -1);
	} else if (!strcmp(kind, "withfd")) {
		struct ds_pmsg_commit c = { 1 };

		h.type = DS_PMSG_COMMIT;
		h.len = sizeof(c);
		memcpy(big, &h, sizeof(h));
		memcpy(big + sizeof(h), &c, sizeof(c));
		raw(sock, big, sizeof(h) + sizeof(c), STDIN_FILENO);
	} else if (!strcmp(kind, "unterminated")) {
		memset(&n, 'a', sizeof(n));
		msg(sock, DS_PMSG_NETWORK, &n, sizeof(n));
	} else if (!strcmp(kind, "network") && argc == 5) {
		struct trust_dnskey k;

		key_arg(argv[3], &k);
		send_network(sock, &k, argv[4]);
		commit(sock);
	} else if (!strcmp(kind, "pin") && argc == 5) {
		struct trust_dnskey k;
		enum trust_state st;

		key_arg(argv[3], &k);
		if (trust_state_parse(argv[4], &st) < 0)
			return 2;
		send_pin(sock, &k, st);
		commit(sock);
	} else if (!strcmp(kind, "newkey") && argc == 4) {
		struct trust_dnskey k = { .flags = 257, .protocol = 3, .algorithm = 13,
					  .keylen = 64 };

		if (getrandom(k.key, k.keylen, 0) != k.keylen)
			die("getrandom");
		send_pin(sock, &k, TRUST_STATE_TRUSTED);
		send_network(sock, &k, argv[3]);
		commit(sock);
		printf("tag %u\n", trust_dnskey_tag(&k));
	} else {
		fprintf(stderr, "chan_inject: unknown KIND %s\n", kind);
		return 2;
	}
	return 0;
}
