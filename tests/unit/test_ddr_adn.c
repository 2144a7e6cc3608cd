/*
 * test_ddr_adn.c -- resolving the ADN of an ADN-only DNR instance
 * (discovery/ddr/ddr_adn.c, RFC 9463 3.1.6, RFC 9462 5) against a hostile
 * resolver: a UDP responder on a loopback port of its own, in a thread,
 * answers each query with what the test says.  Checked: the record used
 * and its port, hints before A/AAAA, records of other owners ignored (a
 * name mismatch), addresses no resolver can have discarded, at most
 * DDR_MAX_HINTS addresses of a family, a record running past the message,
 * and no DoT record.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dotstub/ddr.h"

#define ADN "dns.example.test"
#define T_SVCB 64
#define T_A 1
#define T_AAAA 28

/* What the responder answers to each type: the answer section's records
 * (their count and octets; owner 0xc0 0x0c is the question's name). */
struct canned {
	unsigned n;
	uint8_t rr[1024];
	size_t len;
};

static struct canned answers[3]; /* SVCB, A, AAAA */
static int srv_fd = -1;
static struct sockaddr_storage srv_addr;
static pthread_t srv_thread;

static struct canned *canned_for(uint16_t type)
{
	return type == T_SVCB ? &answers[0] : type == T_A ? &answers[1] : &answers[2];
}

static void *serve(void *arg)
{
	uint8_t q[512], a[2048];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;

	(void)arg;
	for (;;) {
		const struct canned *c;
		size_t qend = 12;

		fl = sizeof(from);
		n = recvfrom(srv_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n < 0 || (n == 4 && !memcmp(q, "stop", 4)))
			return NULL;
		if (n < 17)
			continue;
		while (qend < (size_t)n && q[qend] != 0)
			qend += 1 + q[qend];
		qend += 5; /* the root label, type, class */
		if (qend > (size_t)n)
			continue;
		c = canned_for((uint16_t)(q[qend - 4] << 8 | q[qend - 3]));
		memcpy(a, q, qend);
		a[2] = 0x81;
		a[3] = 0x80;
		a[6] = 0;
		a[7] = (uint8_t)c->n;
		memset(a + 8, 0, 4);
		memcpy(a + qend, c->rr, c->len);
		sendto(srv_fd, a, qend + c->len, 0, (struct sockaddr *)&from, fl);
	}
}

static int setup(void **state)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&srv_addr;
	socklen_t l = sizeof(*sin);

	(void)state;
	memset(answers, 0, sizeof(answers));
	srv_fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&srv_addr, 0, sizeof(srv_addr));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srv_fd < 0 || bind(srv_fd, (struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    getsockname(srv_fd, (struct sockaddr *)sin, &l) < 0)
		return -1;
	return pthread_create(&srv_thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

/* The responder ends on a datagram "stop". */
static int teardown(void **state)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	if (fd >= 0) {
		sendto(fd, "stop", 4, 0, (struct sockaddr *)&srv_addr, sizeof(struct sockaddr_in));
		close(fd);
	}
	pthread_join(srv_thread, NULL);
	close(srv_fd);
	return 0;
}

static void put(struct canned *c, const void *p, size_t n)
{
	assert_true(c->len + n <= sizeof(c->rr));
	memcpy(c->rr + c->len, p, n);
	c->len += n;
}

/* One record: owner (wire form, or NULL: the question's name), type,
 * RDATA of rdlen octets (declared as rdlen_said). */
static void rr(uint16_t type, const uint8_t *owner, size_t olen, const uint8_t *rdata,
	       size_t rdlen, size_t rdlen_said)
{
	struct canned *c = canned_for(type);
	uint8_t head[10] = { type >> 8, type & 0xff, 0, 1, 0, 0, 1, 44,
			     (uint8_t)(rdlen_said >> 8), (uint8_t)rdlen_said };
	static const uint8_t ptr[] = { 0xc0, 12 };

	if (owner)
		put(c, owner, olen);
	else
		put(c, ptr, sizeof(ptr));
	put(c, head, sizeof(head));
	put(c, rdata, rdlen);
	c->n++;
}

#define ADN_WIRE 3, 'd', 'n', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0
#define ALPN_DOT 0, 1, 0, 4, 3, 'd', 'o', 't'

static void a_rec(const uint8_t *owner, size_t olen, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t ip[] = { a, b, c, d };

	rr(T_A, owner, olen, ip, 4, 4);
}

static int resolve(struct ddr_designation *g, char *said, size_t saidlen)
{
	return ddr_resolve_adn(&srv_addr, ADN, 7, 2000, NULL, g, said, saidlen);
}

static void test_hints_and_port(void **state)
{
	/* 1 dns.example.test. alpn=dot port=8853 ipv4hint=192.0.2.53,127.0.0.1 */
	static const uint8_t svcb[] = { 0, 1, ADN_WIRE, ALPN_DOT, 0, 3, 0, 2, 0x22, 0x95,
					0, 4, 0, 8, 192, 0, 2, 53, 127, 0, 0, 1 };
	struct ddr_designation g;
	char said[320];

	(void)state;
	rr(T_SVCB, NULL, 0, svcb, sizeof(svcb), sizeof(svcb));
	/* an A record the hints make unneeded */
	a_rec((const uint8_t[]){ ADN_WIRE }, 18, 203, 0, 113, 1);
	assert_int_equal(resolve(&g, said, sizeof(said)), 0);
	assert_int_equal(g.origin, DDR_ORIGIN_DNR);
	assert_int_equal(g.priority, 7);
	assert_string_equal(g.adn, ADN);
	assert_int_equal(g.naddr, 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&g.addr[0])->sin_port), 8853);
	assert_string_equal(said, "_dns.dns.example.test. SVCB 1 dns.example.test. alpn=\"dot\" "
				  "port=8853 ipv4hint=192.0.2.53,127.0.0.1: 192.0.2.53:8853; "
				  "discarded 127.0.0.1 (loopback)");
}

static void test_target_addresses(void **state)
{
	/* 2 dot.example.test. alpn=dot: the TargetName's A records, only
	 * those of that very name, 4 octets, usable, at most 8 */
	static const uint8_t svcb[] = { 0, 2, 3, 'd', 'o', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l',
					'e', 4, 't', 'e', 's', 't', 0, ALPN_DOT };
	static const uint8_t five[] = { 192, 0, 2, 9, 9 };
	struct ddr_designation g;
	char said[320];

	(void)state;
	rr(T_SVCB, NULL, 0, svcb, sizeof(svcb), sizeof(svcb));
	a_rec((const uint8_t[]){ ADN_WIRE }, 18, 203, 0, 113, 1); /* another owner */
	rr(T_A, NULL, 0, five, sizeof(five), sizeof(five));     /* not 4 octets */
	a_rec(NULL, 0, 224, 0, 0, 1);                           /* multicast */
	for (uint8_t i = 0; i < 10; i++)
		a_rec(NULL, 0, 192, 0, 2, (uint8_t)(100 + i));
	assert_int_equal(resolve(&g, said, sizeof(said)), 0);
	/* 8 records of the name read: the multicast one dropped, 7 kept */
	assert_int_equal(g.naddr, DDR_MAX_HINTS - 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&g.addr[0])->sin_port), 853);
	assert_non_null(strstr(said, ": 192.0.2.100:853 192.0.2.101:853"));
	assert_non_null(strstr(said, "; discarded 224.0.0.1 (multicast)"));
	assert_null(strstr(said, "203.0.113.1"));
}

static void test_owner_mismatch(void **state)
{
	/* the SVCB record is of another name: refused */
	static const uint8_t evil[] = { 4, '_', 'd', 'n', 's', 4, 'e', 'v', 'i', 'l', 0 };
	static const uint8_t svcb[] = { 0, 1, ADN_WIRE, ALPN_DOT, 0, 4, 0, 4, 192, 0, 2, 66 };
	struct ddr_designation g;
	char said[320];

	(void)state;
	rr(T_SVCB, evil, sizeof(evil), svcb, sizeof(svcb), sizeof(svcb));
	assert_int_equal(resolve(&g, said, sizeof(said)), -ENOENT);
	assert_int_equal(g.naddr, 0);
	assert_string_equal(said, "no SVCB record for _dns.dns.example.test. (other records only)");
}

static void test_no_dot(void **state)
{
	static const uint8_t svcb[] = { 0, 1, ADN_WIRE, 0, 1, 0, 3, 2, 'h', '2',
					0, 4, 0, 4, 192, 0, 2, 66 };
	struct ddr_designation g;
	char said[320];

	(void)state;
	rr(T_SVCB, NULL, 0, svcb, sizeof(svcb), sizeof(svcb));
	assert_int_equal(resolve(&g, said, sizeof(said)), -ENOENT);
	assert_string_equal(said, "no DoT record (alpn dot, ServiceMode) among 1 for "
				  "_dns.dns.example.test.");
}

static void test_record_past_the_end(void **state)
{
	/* no hints; the A record says 200 octets and has 4: nothing is read */
	static const uint8_t svcb[] = { 0, 1, ADN_WIRE, ALPN_DOT };
	static const uint8_t ip[] = { 192, 0, 2, 1 };
	struct ddr_designation g;
	char said[320];

	(void)state;
	rr(T_SVCB, NULL, 0, svcb, sizeof(svcb), sizeof(svcb));
	rr(T_A, NULL, 0, ip, sizeof(ip), 200);
	assert_int_equal(resolve(&g, said, sizeof(said)), -ENOENT);
	assert_int_equal(g.naddr, 0);
	assert_string_equal(said, "_dns.dns.example.test. SVCB 1 dns.example.test. alpn=\"dot\": "
				  "no usable address");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hints_and_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_past_the_end, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
