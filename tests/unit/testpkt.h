/*
 * testpkt.h -- small helpers for unit tests that build DNS messages with
 * the project's own writer.  Header-only (static inline) so each test
 * program takes what it uses.
 */
#ifndef DOTSTUB_TESTPKT_H
#define DOTSTUB_TESTPKT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dotstub/message.h"

/* compressed owner name: pointer to the question name */
static const uint8_t TP_PTR_Q[2] = { 0xc0, 0x0c };
static const uint8_t TP_ROOT[1] = { 0 };

static inline size_t
tp_wname(const char *s, uint8_t out[DNS_NAME_MAX])
{
	int n = dns_name_from_str(s, out);

	assert_true(n > 0);
	return (size_t)n;
}

static inline void
tp_header(struct dns_writer *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
	  uint16_t ns, uint16_t ar)
{
	dns_write_u16(w, id);
	dns_write_u16(w, flags);
	dns_write_u16(w, qd);
	dns_write_u16(w, an);
	dns_write_u16(w, ns);
	dns_write_u16(w, ar);
}

static inline void
tp_name(struct dns_writer *w, const char *s)
{
	uint8_t n[DNS_NAME_MAX];
	size_t len = tp_wname(s, n);

	dns_write_name(w, n, len);
}

static inline void
tp_question(struct dns_writer *w, const char *name, uint16_t type, uint16_t cls)
{
	tp_name(w, name);
	dns_write_u16(w, type);
	dns_write_u16(w, cls);
}

/* A record with a raw owner (may be a compression pointer). */
static inline void
tp_rr(struct dns_writer *w, const uint8_t *owner, size_t olen, uint16_t type, uint16_t cls,
      uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	dns_write_bytes(w, owner, olen);
	dns_write_u16(w, type);
	dns_write_u16(w, cls);
	dns_write_u32(w, ttl);
	dns_write_u16(w, rdlen);
	dns_write_bytes(w, rdata, rdlen);
}

static inline void
tp_a(struct dns_writer *w, const uint8_t *owner, size_t olen, uint32_t ttl, uint8_t last)
{
	const uint8_t ip[4] = { 192, 0, 2, last };

	tp_rr(w, owner, olen, DNS_TYPE_A, DNS_CLASS_IN, ttl, ip, 4);
}

/* OPT: udp size, extended rcode, version, flags, raw options */
static inline void
tp_opt(struct dns_writer *w, uint16_t udp, uint8_t ext_rcode, uint8_t version, uint16_t flags,
       const void *opts, uint16_t optlen)
{
	uint32_t ttl = (uint32_t)ext_rcode << 24 | (uint32_t)version << 16 | flags;

	tp_rr(w, TP_ROOT, 1, DNS_TYPE_OPT, udp, ttl, opts, optlen);
}

/* SOA with root-relative names; rdata written uncompressed */
static inline void
tp_soa(struct dns_writer *w, const uint8_t *owner, size_t olen, uint32_t ttl, uint32_t minimum)
{
	uint8_t rd[DNS_NAME_MAX * 2 + 20], n[DNS_NAME_MAX];
	struct dns_writer r;
	size_t l;

	dns_writer_init(&r, rd, sizeof(rd));
	l = tp_wname("ns.example.", n);
	dns_write_name(&r, n, l);
	l = tp_wname("hostmaster.example.", n);
	dns_write_name(&r, n, l);
	dns_write_u32(&r, 2024010101);
	dns_write_u32(&r, 3600);
	dns_write_u32(&r, 600);
	dns_write_u32(&r, 86400);
	dns_write_u32(&r, minimum);
	assert_int_equal(r.err, 0);
	tp_rr(w, owner, olen, DNS_TYPE_SOA, DNS_CLASS_IN, ttl, rd, (uint16_t)r.len);
}

/* A client query; edns: add an OPT with the given flags and options. */
static inline size_t
tp_query(uint8_t *buf, size_t cap, uint16_t id, uint16_t flags, const char *name,
	 uint16_t type, bool edns, uint16_t udp, uint16_t eflags, const void *opts,
	 uint16_t optlen)
{
	struct dns_writer w;

	dns_writer_init(&w, buf, cap);
	tp_header(&w, id, flags, 1, 0, 0, edns ? 1 : 0);
	tp_question(&w, name, type, DNS_CLASS_IN);
	if (edns)
		tp_opt(&w, udp, 0, 0, eflags, opts, optlen);
	assert_int_equal(w.err, 0);
	return w.len;
}

static inline uint16_t
tp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
tp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* www.example.com A: 2 answers (TTL 300, 120), NS in authority, glue A,
 * OPT with keepalive 1200 and two EDEs; opt_pos 0: OPT last, 1: first. */
static inline size_t
tp_build_answer(uint8_t *buf, size_t cap, int opt_first)
{
	const uint8_t opts[] = { 0, 11, 0, 2, 0x04, 0xb0,
				 0, 15, 0, 6, 0, 3, 's', 't', 'a', 'l',
				 0, 15, 0, 2, 0, 9 };
	struct dns_writer w;
	uint8_t ns[DNS_NAME_MAX], nsrd[32];
	size_t nsl, nsoff;

	dns_writer_init(&w, buf, cap);
	tp_header(&w, 0x55aa, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_AD, 1, 2, 1, 2);
	tp_question(&w, "www.example.com", DNS_TYPE_A, DNS_CLASS_IN);
	tp_a(&w, TP_PTR_Q, 2, 300, 1);
	tp_a(&w, TP_PTR_Q, 2, 120, 2);
	/* example.com NS ns1.example.com, compressed */
	nsl = 0;
	nsrd[nsl++] = 3;
	memcpy(nsrd + nsl, "ns1", 3);
	nsl += 3;
	nsrd[nsl++] = 0xc0;
	nsrd[nsl++] = 16;
	tp_rr(&w, (const uint8_t[]){ 0xc0, 16 }, 2, DNS_TYPE_NS, DNS_CLASS_IN, 86400, nsrd,
	      (uint16_t)nsl);
	nsoff = w.len - nsl;
	if (opt_first)
		tp_opt(&w, 1232, 0, 0, EDNS_FLAG_DO, opts, sizeof(opts));
	ns[0] = 0xc0;
	ns[1] = (uint8_t)nsoff;
	tp_a(&w, ns, 2, 3600, 53);
	if (!opt_first)
		tp_opt(&w, 1232, 0, 0, EDNS_FLAG_DO, opts, sizeof(opts));
	assert_int_equal(w.err, 0);
	return w.len;
}

#endif
