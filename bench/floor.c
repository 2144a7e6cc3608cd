/*
 * floor.c -- the benchmark's reference row: what the machine costs before
 * any stub does any work.  Not a DNS server for use anywhere else.
 *
 *   floor LISTEN_ADDR [UPSTREAM_ADDR]
 *
 * It answers every query on LISTEN_ADDR:53 (UDP) with one fixed A record
 * (192.0.2.1, TTL 300), with the I/O dotstubd uses for cache hits: epoll,
 * then recvmmsg(2) and sendmmsg(2) of up to 32 datagrams.  Its CPU per
 * query is the floor of that I/O model, which no cache can go below.
 *
 * With UPSTREAM_ADDR it first makes one TLS 1.3 connection to port 853
 * there, with OpenSSL from the shared libraries as the stubs do, and keeps
 * it open: its RSS is then the floor of a process that has done one
 * OpenSSL handshake.  The certificate is not checked: nothing is sent on
 * that connection.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define MSG_MAX 1232

static const uint8_t answer_rr[] = {
	0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,     /* name -> question, A, IN */
	0x00, 0x00, 0x01, 0x2c, 0x00, 0x04,     /* TTL 300, RDLENGTH 4 */
	192, 0, 2, 1,
};

/* Turn the query in buf (len octets) into the answer; its length, or 0. */
static size_t make_answer(uint8_t *buf, size_t len)
{
	size_t off = 12;

	if (len < 12 + 5 || (buf[2] & 0x80) != 0 || buf[4] != 0 || buf[5] != 1)
		return 0;
	while (off < len && buf[off] != 0) {
		if (buf[off] > 63)
			return 0;
		off += 1 + (size_t)buf[off];
	}
	off += 1 + 4; /* root label, type, class */
	if (off > len || off + sizeof(answer_rr) > MSG_MAX)
		return 0;
	buf[2] = (uint8_t)(0x80 | (buf[2] & 0x01)); /* QR, keep RD */
	buf[3] = 0x80;                              /* RA, NOERROR */
	buf[6] = 0, buf[7] = 1;                     /* ANCOUNT 1 */
	memset(buf + 8, 0, 4);                      /* no NS, no OPT */
	memcpy(buf + off, answer_rr, sizeof(answer_rr));
	return off + sizeof(answer_rr);
}

static int tls_once(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(853) };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd;

	if (ctx == NULL || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
		return -1;
	return 0; /* kept open until exit */
}

int main(int argc, char **argv)
{
	static uint8_t buf[BATCH][MSG_MAX];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_storage peer[BATCH];
	struct mmsghdr rx[BATCH], tx[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, ep;

	if (argc < 2 || argc > 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: floor LISTEN_ADDR [UPSTREAM_ADDR]\n");
		return 2;
	}
	if (argc == 3 && tls_once(argv[2]) < 0) {
		fprintf(stderr, "floor: no TLS connection to %s:853\n", argv[2]);
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("floor: bind");
		return 1;
	}
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("floor: epoll");
		return 1;
	}
	for (;;) {
		int n, ntx = 0;

		if (epoll_wait(ep, &ev, 1, -1) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = MSG_MAX };
			memset(&rx[i], 0, sizeof(rx[i]));
			rx[i].msg_hdr.msg_iov = &iov[i];
			rx[i].msg_hdr.msg_iovlen = 1;
			rx[i].msg_hdr.msg_name = &peer[i];
			rx[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		}
		n = recvmmsg(fd, rx, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			size_t len = make_answer(buf[i], rx[i].msg_len);

			if (len == 0)
				continue;
			tx[ntx] = rx[i];
			iov[i].iov_len = len;
			ntx++;
		}
		if (ntx > 0)
			(void)sendmmsg(fd, tx, (unsigned)ntx, MSG_DONTWAIT);
	}
}
