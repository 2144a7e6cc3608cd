/*
 * privmsg.c -- the channel between the store process and the network
 * process (privsep.h): one SOCK_SEQPACKET socketpair, one message per
 * packet, every message checked before anyone looks at its body.
 */
#include "privsep.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SEND_TIMEOUT_S 5
#define SOCKBUF (1 << 20)

static const struct {
	uint32_t type;
	enum ds_pmsg_dir dir;
	size_t size;
	bool fd; /* carries a descriptor (STORE: unless err) */
	const char *name;
} kinds[] = {
	{ DS_PMSG_PIN, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_pin), false, "PIN" },
	{ DS_PMSG_TOUCH, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_touch), false, "TOUCH" },
	{ DS_PMSG_NETWORK, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_network), false, "NETWORK" },
	{ DS_PMSG_LEARN, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_learn), false, "LEARN" },
	{ DS_PMSG_RFC5011, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_rfc5011), false, "RFC5011" },
	{ DS_PMSG_DPIN, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_dpin), false, "DPIN" },
	{ DS_PMSG_COMMIT, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_commit), false, "COMMIT" },
	{ DS_PMSG_RESOLVCONF, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_resolvconf), false,
	  "RESOLVCONF" },
	{ DS_PMSG_READY, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_ready), false, "READY" },
	{ DS_PMSG_RELOADED, DS_PMSG_TO_STORE, sizeof(struct ds_pmsg_reloaded), false, "RELOADED" },
	{ DS_PMSG_STORE, DS_PMSG_TO_NETWORK, sizeof(struct ds_pmsg_store), true, "STORE" },
	{ DS_PMSG_LISTEN, DS_PMSG_TO_NETWORK, sizeof(struct ds_pmsg_listen), true, "LISTEN" },
	{ DS_PMSG_CONTROL, DS_PMSG_TO_NETWORK, sizeof(struct ds_pmsg_control), true, "CONTROL" },
	{ DS_PMSG_RELOAD, DS_PMSG_TO_NETWORK, sizeof(struct ds_pmsg_reload), false, "RELOAD" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int kind_of(enum ds_pmsg_dir dir, uint32_t type)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].type == type && kinds[i].dir == dir)
			return (int)i;
	return -1;
}

size_t ds_pmsg_body_size(enum ds_pmsg_dir dir, uint32_t type)
{
	int k = kind_of(dir, type);

	return k < 0 ? 0 : kinds[k].size;
}

const char *ds_pmsg_name(uint32_t type)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].type == type)
			return kinds[i].name;
	return "unknown";
}

int ds_pmsg_pair(int sv[2])
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	int buf = SOCKBUF;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		/* best effort: the default buffers hold the largest message too */
		(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		(void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			int r = -errno;

			close(sv[0]);
			close(sv[1]);
			return r;
		}
	}
	return 0;
}

int ds_pmsg_send(int sock, uint32_t type, const void *body, uint32_t len, int fd)
{
	struct ds_pmsg_hdr hdr = { type, len };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)body, len } };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (sizeof(hdr) + (size_t)len > DS_PMSG_MAX)
		return -EMSGSIZE;
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
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(hdr) + len ? 0 : -EIO;
}

static int violation(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int violation(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* The descriptors that came with the message: at most one is kept in
 * *ret_fd, every other is closed.  Returns how many came. */
static int take_fds(struct msghdr *mh, int *ret_fd)
{
	int count = 0;

	*ret_fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (count++ == 0)
				*ret_fd = fd;
			else
				close(fd);
		}
	}
	return count;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool key_ok(const struct ds_pmsg_key *k)
{
	return k->keylen >= 1 && k->keylen <= TRUST_KEY_MAX;
}

#define TERMINATED(f) terminated((f), sizeof(f))

/* The fields of a body: strings end within their arrays, counts and
 * enumerations are in range.  What they say is checked by whoever acts
 * on them (storeapply.c, netproc.c). */
static int check_fields(const struct ds_pmsg *m, char *why, size_t whylen)
{
	switch (m->hdr.type) {
	case DS_PMSG_PIN:
		if (!TERMINATED(m->u.pin.zone) || !key_ok(&m->u.pin.key) ||
		    m->u.pin.state > TRUST_STATE_ADD_PENDING)
			return violation(why, whylen, "PIN: a field out of range");
		return 0;
	case DS_PMSG_TOUCH:
		if (!TERMINATED(m->u.touch.anchor.zone))
			return violation(why, whylen, "TOUCH: the zone has no end");
		return 0;
	case DS_PMSG_NETWORK:
		if (!TERMINATED(m->u.network.anchor.zone) || !TERMINATED(m->u.network.fp))
			return violation(why, whylen, "NETWORK: a string has no end");
		return 0;
	case DS_PMSG_LEARN: {
		const struct ds_pmsg_learn *l = &m->u.learn;

		if (!TERMINATED(l->anchor.zone) || !TERMINATED(l->name) ||
		    l->type > DS_SERVER_FORWARDER || l->naddr > DS_MAX_UPSTREAM_ADDRS ||
		    l->ntlsa > DS_MAX_TLSA)
			return violation(why, whylen, "LEARN: a field out of range");
		for (size_t i = 0; i < l->naddr; i++)
			if (!TERMINATED(l->addr[i]))
				return violation(why, whylen, "LEARN: address %zu has no end", i);
		for (size_t i = 0; i < l->ntlsa; i++)
			if (l->tlsa[i].len < 1 || l->tlsa[i].len > DS_TLSA_DATA_MAX)
				return violation(why, whylen, "LEARN: TLSA %zu: length %u", i,
						 l->tlsa[i].len);
		return 0;
	}
	case DS_PMSG_RFC5011: {
		const struct ds_pmsg_rfc5011 *o = &m->u.rfc5011;

		if (!TERMINATED(o->zone) || o->nkeys > DS_PMSG_5011_KEYS)
			return violation(why, whylen, "RFC5011: a field out of range");
		for (size_t i = 0; i < o->nkeys; i++)
			if (!key_ok(&o->keys[i]) || o->signer[i] > 1)
				return violation(why, whylen, "RFC5011: key %zu out of range", i);
		return 0;
	}
	case DS_PMSG_DPIN:
		if (!TERMINATED(m->u.dpin.fp) || !TERMINATED(m->u.dpin.adn) ||
		    m->u.dpin.source > TRUST_DPIN_DNR || m->u.dpin.replace > 1)
			return violation(why, whylen, "DPIN: a field out of range");
		return 0;
	case DS_PMSG_RESOLVCONF: {
		const struct ds_pmsg_resolvconf *rc = &m->u.resolvconf;

		if (rc->posture > DS_STUBRESOLV_PLAIN || rc->nsearch > DS_STUBRESOLV_MAX_SEARCH)
			return violation(why, whylen, "RESOLVCONF: a field out of range");
		for (size_t i = 0; i < rc->nsearch; i++)
			if (!TERMINATED(rc->search[i]))
				return violation(why, whylen, "RESOLVCONF: name %zu has no end", i);
		return 0;
	}
	case DS_PMSG_READY:
		if (!TERMINATED(m->u.ready.status))
			return violation(why, whylen, "READY: the status has no end");
		return 0;
	case DS_PMSG_RELOADED:
		if (m->u.reloaded.applied > 1)
			return violation(why, whylen, "RELOADED: applied is %u",
					 m->u.reloaded.applied);
		return 0;
	case DS_PMSG_STORE:
		if (m->u.store.why > DS_PMSG_STORE_RELOAD || m->u.store.err > 0 ||
		    m->u.store.len > TRUST_FILE_MAX)
			return violation(why, whylen, "STORE: a field out of range");
		return 0;
	case DS_PMSG_LISTEN:
		if ((m->u.listen.socktype != SOCK_DGRAM && m->u.listen.socktype != SOCK_STREAM) ||
		    (m->u.listen.addr.ss_family != AF_INET && m->u.listen.addr.ss_family != AF_INET6))
			return violation(why, whylen, "LISTEN: a field out of range");
		return 0;
	case DS_PMSG_CONTROL:
		if (!TERMINATED(m->u.control.line))
			return violation(why, whylen, "CONTROL: the request has no end");
		return 0;
	case DS_PMSG_RELOAD:
		if (m->u.reload.ok > 1 || !TERMINATED(m->u.reload.why))
			return violation(why, whylen, "RELOAD: a field out of range");
		return 0;
	}
	return 0;
}

int ds_pmsg_recv(int sock, enum ds_pmsg_dir dir, struct ds_pmsg *m, char *why, size_t whylen)
{
	/* one octet more than the largest message: a larger one shows */
	static uint8_t buf[DS_PMSG_MAX + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	struct ds_pmsg_hdr hdr;
	ssize_t n;
	int nfd, k, fd, r;
	bool want_fd;

	why[0] = '\0';
	m->fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	nfd = take_fds(&mh, &fd);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n > DS_PMSG_MAX) {
		r = violation(why, whylen, "a message larger than %u octets", DS_PMSG_MAX);
		goto bad;
	}
	if ((size_t)n < sizeof(hdr)) {
		r = violation(why, whylen, "a message of %zd octets, shorter than its header", n);
		goto bad;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	k = kind_of(dir, hdr.type);
	if (k < 0) {
		r = violation(why, whylen, "unknown message type %u", hdr.type);
		goto bad;
	}
	if (hdr.len != (size_t)n - sizeof(hdr) || hdr.len != kinds[k].size) {
		r = violation(why, whylen, "%s: length %u in a packet of %zd octets, must be %zu",
			      kinds[k].name, hdr.len, n, kinds[k].size);
		goto bad;
	}
	m->hdr = hdr;
	memcpy(&m->u, buf + sizeof(hdr), hdr.len);
	want_fd = kinds[k].fd && !(hdr.type == DS_PMSG_STORE && m->u.store.err != 0);
	if (nfd != (want_fd ? 1 : 0)) {
		r = violation(why, whylen, "%s with %d descriptors", kinds[k].name, nfd);
		goto bad;
	}
	r = check_fields(m, why, whylen);
	if (r < 0)
		goto bad;
	m->fd = fd;
	return 1;
bad:
	if (fd >= 0)
		close(fd);
	return r;
}

void ds_pmsg_key_put(struct ds_pmsg_key *m, const struct trust_dnskey *k)
{
	memset(m, 0, sizeof(*m));
	m->flags = k->flags;
	m->protocol = k->protocol;
	m->algorithm = k->algorithm;
	m->keylen = k->keylen;
	memcpy(m->key, k->key, k->keylen);
}

int ds_pmsg_key_get(const struct ds_pmsg_key *m, struct trust_dnskey *k)
{
	if (m->keylen < 1 || m->keylen > TRUST_KEY_MAX)
		return -EBADMSG;
	memset(k, 0, sizeof(*k));
	k->flags = m->flags;
	k->protocol = m->protocol;
	k->algorithm = m->algorithm;
	k->keylen = m->keylen;
	memcpy(k->key, m->key, m->keylen);
	return 0;
}
