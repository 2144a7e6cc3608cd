/*
 * exchange.c -- one question asked directly of one DNS server, blocking:
 * UDP on a connected socket, TCP again if the answer is truncated (see
 * dotstub/exchange.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dotstub/exchange.h"
#include "dotstub/wire.h"

#define EXCHANGE_SLICE_MS 50
#define EXCHANGE_QUERY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4)

static uint64_t
exchange_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t
dns_exchange_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, size_t qlen,
		   uint16_t qtype)
{
	struct dns_writer wr;

	dns_writer_init(&wr, buf, cap);
	dns_write_u16(&wr, id);
	dns_write_u16(&wr, DNS_FLAG_RD);
	dns_write_u16(&wr, 1);
	dns_write_u16(&wr, 0);
	dns_write_u16(&wr, 0);
	dns_write_u16(&wr, 0);
	dns_write_name(&wr, qname, qlen);
	dns_write_u16(&wr, qtype);
	dns_write_u16(&wr, DNS_CLASS_IN);
	return wr.err ? 0 : wr.len;
}

bool
dns_exchange_matches(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname,
		     size_t qlen, uint16_t qtype)
{
	struct dns_reader rd;
	uint8_t name[DNS_NAME_MAX];
	size_t nlen = 0;
	uint16_t rid, flags, qd, type, class;

	dns_reader_init(&rd, msg, len);
	rid = dns_read_u16(&rd);
	flags = dns_read_u16(&rd);
	qd = dns_read_u16(&rd);
	dns_read_bytes(&rd, NULL, 6);
	if (rd.err || rid != id || !(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != 0 || qd != 1)
		return false;
	dns_read_name(&rd, name, &nlen);
	type = dns_read_u16(&rd);
	class = dns_read_u16(&rd);
	return !rd.err && dns_name_equal(name, nlen, qname, qlen) && type == qtype &&
	       class == DNS_CLASS_IN;
}

static bool
exchange_cancelled(const struct dns_exchange *x)
{
	return x->cancel && atomic_load(x->cancel);
}

/* Wait until fd is ready for events, in slices (for the cancel flag).
 * Returns 0, -ETIMEDOUT, -ECANCELED or -errno. */
static int
exchange_poll(const struct dns_exchange *x, int fd, short events, uint64_t end_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	while ((now = exchange_now_ms()) < end_ms) {
		if (exchange_cancelled(x))
			return -ECANCELED;
		r = poll(&pfd, 1, end_ms - now < EXCHANGE_SLICE_MS ? (int)(end_ms - now)
								  : EXCHANGE_SLICE_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return 0;
	}
	return -ETIMEDOUT;
}

static int
exchange_socket(const struct dns_exchange *x, int type)
{
	socklen_t sl = x->server->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							: sizeof(struct sockaddr_in);
	int fd, r;

	fd = socket(x->server->ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)x->server, sl) < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* The UDP answer to id, or -ETIMEDOUT, -ECANCELED, -errno. */
static int
exchange_udp_wait(struct dns_exchange *x, int fd, uint16_t id, uint64_t end_ms)
{
	ssize_t n;
	int r;

	for (;;) {
		r = exchange_poll(x, fd, POLLIN, end_ms);
		if (r < 0)
			return r;
		n = recv(fd, x->answer, x->cap, 0);
		if (n < 0) {
			/* an ICMP port unreachable: nobody there */
			if (errno == ECONNREFUSED)
				return -ETIMEDOUT;
			if (errno != EINTR && errno != EAGAIN)
				return -errno;
			continue;
		}
		if (dns_exchange_matches(x->answer, (size_t)n, id, x->qname, x->qlen, x->qtype)) {
			x->len = (size_t)n;
			return 0;
		}
	}
}

static int
exchange_udp(struct dns_exchange *x, const uint8_t *q, size_t qlen, uint16_t id,
	     uint64_t end_ms)
{
	int fd, r;

	fd = exchange_socket(x, SOCK_DGRAM);
	if (fd < 0)
		return fd;
	if (send(fd, q, qlen, 0) < 0)
		r = errno == ECONNREFUSED ? -ETIMEDOUT : -errno;
	else
		r = exchange_udp_wait(x, fd, id, end_ms);
	close(fd);
	return r;
}

/* Send or receive exactly len octets on the TCP socket by end_ms. */
static int
exchange_tcp_io(const struct dns_exchange *x, int fd, uint8_t *buf, size_t len, bool out,
		uint64_t end_ms)
{
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		r = exchange_poll(x, fd, out ? POLLOUT : POLLIN, end_ms);
		if (r < 0)
			return r;
		n = out ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
			: recv(fd, buf + done, len - done, 0);
		if (n == 0 && !out)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

static int
exchange_tcp_conv(struct dns_exchange *x, int fd, const uint8_t *q, size_t qlen, uint16_t id,
		  uint64_t end_ms)
{
	uint8_t out[2 + EXCHANGE_QUERY_MAX], hdr[2];
	size_t len;
	int r;

	out[0] = (uint8_t)(qlen >> 8);
	out[1] = (uint8_t)qlen;
	memcpy(out + 2, q, qlen);
	r = exchange_tcp_io(x, fd, out, qlen + 2, true, end_ms);
	if (r == 0)
		r = exchange_tcp_io(x, fd, hdr, 2, false, end_ms);
	if (r < 0)
		return r;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if (len > x->cap)
		return -EMSGSIZE;
	r = exchange_tcp_io(x, fd, x->answer, len, false, end_ms);
	if (r < 0)
		return r;
	if (!dns_exchange_matches(x->answer, len, id, x->qname, x->qlen, x->qtype))
		return -EBADMSG;
	x->len = len;
	x->tcp = true;
	return 0;
}

static int
exchange_tcp(struct dns_exchange *x, const uint8_t *q, size_t qlen, uint16_t id,
	     uint64_t end_ms)
{
	int fd, r;

	fd = exchange_socket(x, SOCK_STREAM);
	if (fd < 0)
		return fd;
	r = exchange_tcp_conv(x, fd, q, qlen, id, end_ms);
	close(fd);
	return r;
}

int
dns_exchange(struct dns_exchange *x)
{
	uint8_t q[EXCHANGE_QUERY_MAX];
	uint64_t end_ms;
	uint16_t id;
	size_t qlen;
	int r;

	x->len = 0;
	x->tcp = false;
	if (!x->server || (x->server->ss_family != AF_INET && x->server->ss_family != AF_INET6) ||
	    x->cap < DNS_HDR_LEN)
		return -EINVAL;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		return -EIO;
	qlen = dns_exchange_query(q, sizeof(q), id, x->qname, x->qlen, x->qtype);
	if (qlen == 0)
		return -EINVAL;
	end_ms = exchange_now_ms() + x->timeout_ms;
	r = exchange_udp(x, q, qlen, id, end_ms);
	if (r < 0 || !x->tcp_on_tc || !((x->answer[2] << 8 | x->answer[3]) & DNS_FLAG_TC))
		return r;
	/* a new ID for the TCP query: the UDP one has been seen */
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		return -EIO;
	qlen = dns_exchange_query(q, sizeof(q), id, x->qname, x->qlen, x->qtype);
	return exchange_tcp(x, q, qlen, id, end_ms);
}
