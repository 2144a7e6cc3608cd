/*
 * test_wire.c -- the bounds-checked reader and writer, name decompression
 * limits, and the name helpers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dotstub/wire.h"
#include "testpkt.h"

/* a message buffer: 12 header octets then the test's bytes */
static size_t
msg(uint8_t *buf, const uint8_t *tail, size_t n)
{
	memset(buf, 0, DNS_HDR_LEN);
	memcpy(buf + DNS_HDR_LEN, tail, n);
	return DNS_HDR_LEN + n;
}

static void
test_reader_bounds(void **state)
{
	const uint8_t b[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct dns_reader r;
	uint8_t out[8];

	(void)state;
	dns_reader_init(&r, b, sizeof(b));
	assert_int_equal(dns_read_u8(&r), 1);
	assert_int_equal(dns_read_u16(&r), 0x0203);
	assert_int_equal(dns_read_u32(&r), 0x04050607);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.pos, 7);
	/* one past the end: zero, sticky error, position kept */
	assert_int_equal(dns_read_u8(&r), 0);
	assert_int_equal(r.err, -EBADMSG);
	assert_int_equal(r.pos, 7);

	dns_reader_init(&r, b, sizeof(b));
	dns_read_bytes(&r, out, 5);
	assert_memory_equal(out, b, 5);
	assert_int_equal(dns_read_u32(&r), 0); /* only 2 left */
	assert_int_equal(r.err, -EBADMSG);
	assert_int_equal(r.pos, 5);
	/* sticky: even a read that would fit now fails */
	assert_int_equal(dns_read_u8(&r), 0);
	assert_int_equal(r.pos, 5);

	dns_reader_init(&r, b, sizeof(b));
	memset(out, 0xaa, sizeof(out));
	dns_read_bytes(&r, out, 8);
	assert_int_equal(r.err, -EBADMSG);
	assert_int_equal(out[0], 0);
	assert_int_equal(r.pos, 0);

	dns_reader_init(&r, b, sizeof(b));
	dns_read_bytes(&r, NULL, SIZE_MAX); /* no overflow in the check */
	assert_int_equal(r.err, -EBADMSG);

	/* u16/u32 at every short remainder */
	for (size_t len = 0; len < 4; len++) {
		dns_reader_init(&r, b, len);
		assert_int_equal(dns_read_u32(&r), 0);
		assert_int_equal(r.err, -EBADMSG);
		dns_reader_init(&r, b, len);
		(void)dns_read_u16(&r);
		assert_int_equal(r.err, len < 2 ? -EBADMSG : 0);
	}
}

static void
test_writer_bounds(void **state)
{
	uint8_t buf[6];
	struct dns_writer w;
	const uint8_t name[] = { 3, 'w', 'w', 'w', 0 };

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	dns_writer_init(&w, buf, 5);
	dns_write_u16(&w, 0x0102);
	dns_write_u16(&w, 0x0304);
	dns_write_u16(&w, 0x0506); /* does not fit: nothing written */
	assert_int_equal(w.err, -EMSGSIZE);
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xee);
	dns_write_u8(&w, 9); /* sticky, though it would fit */
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xee);

	dns_writer_init(&w, buf, 5);
	dns_write_u32(&w, 0xdeadbeef);
	dns_write_u8(&w, 1);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 5);
	assert_int_equal(tp_get32(buf), 0xdeadbeef);

	dns_writer_init(&w, buf, 4);
	dns_write_name(&w, name, sizeof(name));
	assert_int_equal(w.err, -EMSGSIZE);
	assert_int_equal(w.len, 0);
	dns_writer_init(&w, buf, 5);
	dns_write_name(&w, name, sizeof(name));
	assert_int_equal(w.err, 0);
	assert_memory_equal(buf, name, sizeof(name));
}

static void
test_name_plain_and_compressed(void **state)
{
	/* 12: 3www7example3com0   29: 4mail + pointer to 16 (example.com) */
	const uint8_t tail[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				 3, 'c', 'o', 'm', 0,
				 4, 'm', 'a', 'i', 'l', 0xc0, 16,
				 0xc0, 29 };
	const uint8_t want[] = { 4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				 3, 'c', 'o', 'm', 0 };
	uint8_t buf[64], out[DNS_NAME_MAX];
	size_t len = msg(buf, tail, sizeof(tail)), n;
	struct dns_reader r;
	struct dns_name_info info;

	(void)state;
	dns_reader_init(&r, buf, len);
	r.pos = 12;
	dns_read_name_info(&r, out, &n, &info);
	assert_int_equal(r.err, 0);
	assert_int_equal(n, 17);
	assert_memory_equal(out, tail, 17);
	assert_int_equal(r.pos, 29);
	assert_false(info.compressed);
	assert_int_equal(info.ptr_hi, 0);

	dns_read_name_info(&r, out, &n, &info);
	assert_int_equal(r.err, 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(r.pos, 36); /* past the pointer, not the target */
	assert_true(info.compressed);
	assert_int_equal(info.ptr_hi, 29); /* read 16..28 through the pointer */

	/* pointer to a pointer, both backwards */
	dns_read_name(&r, out, &n);
	assert_int_equal(r.err, 0);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(r.pos, 38);

	/* skip validates just the same */
	dns_reader_init(&r, buf, len);
	r.pos = 29;
	dns_skip_name(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.pos, 36);
}

static void
expect_bad_name(const uint8_t *tail, size_t tlen, size_t at)
{
	uint8_t buf[1024], out[DNS_NAME_MAX];
	size_t len = msg(buf, tail, tlen), n = 99;
	struct dns_reader r;

	memset(out, 0x5a, sizeof(out));
	dns_reader_init(&r, buf, len);
	r.pos = at;
	dns_read_name(&r, out, &n);
	assert_int_equal(r.err, -EBADMSG);
	assert_int_equal(n, 0);
	assert_int_equal(out[0], 0x5a); /* output untouched on error */
	dns_reader_init(&r, buf, len);
	r.pos = at;
	dns_skip_name(&r);
	assert_int_equal(r.err, -EBADMSG);
}

static void
test_name_pointer_rules(void **state)
{
	(void)state;
	/* pointer to itself */
	expect_bad_name((const uint8_t[]){ 0xc0, 12 }, 2, 12);
	/* forward pointer */
	expect_bad_name((const uint8_t[]){ 0xc0, 14, 1, 'a', 0 }, 5, 12);
	/* a loop: 1a then a pointer back to the start of its own run */
	expect_bad_name((const uint8_t[]){ 1, 'a', 0xc0, 12 }, 4, 12);
	/* two pointers at each other: 12 -> 14 is forward already */
	expect_bad_name((const uint8_t[]){ 0xc0, 14, 0xc0, 12 }, 4, 14);
	/* backwards jump into a run that jumps forward again: 16 -> 12, 12 -> 14 */
	expect_bad_name((const uint8_t[]){ 1, 'a', 0xc0, 14, 0xc0, 12 }, 6, 16);
	/* a backwards pointer whose labels run on over the name's own octets:
	 * 12: 4 "ab\xc0\x0c" 0, the name at 15 is the pointer inside it */
	expect_bad_name((const uint8_t[]){ 4, 'a', 'b', 0xc0, 12, 0 }, 6, 15);
	/* pointer into the header */
	expect_bad_name((const uint8_t[]){ 0xc0, 3 }, 2, 12);
	/* truncated pointer */
	expect_bad_name((const uint8_t[]){ 1, 'a', 0xc0 }, 3, 12);
	/* extended label types 0x40 and 0x80 */
	expect_bad_name((const uint8_t[]){ 0x41, 'a', 0 }, 3, 12);
	expect_bad_name((const uint8_t[]){ 0x81, 'a', 0 }, 3, 12);
	/* no terminating root label */
	expect_bad_name((const uint8_t[]){ 1, 'a', 1, 'b' }, 4, 12);

	{
		const uint8_t tail[] = { 2, 'a', 'b', 0, 0xc0, 12 };
		uint8_t buf[32], out[DNS_NAME_MAX];
		size_t len = msg(buf, tail, sizeof(tail)), n;
		struct dns_reader r;

		dns_reader_init(&r, buf, len);
		r.pos = 16;
		dns_read_name(&r, out, &n);
		assert_int_equal(r.err, 0);
		assert_int_equal(n, 4);
	}
}

static void
test_name_length_limits(void **state)
{
	uint8_t tail[600], buf[700], out[DNS_NAME_MAX];
	struct dns_reader r;
	size_t n, len, i, p;

	(void)state;
	/* label of 63 ok, 64 (= 0x40) refused */
	memset(tail, 'x', sizeof(tail));
	tail[0] = 63;
	tail[64] = 0;
	len = msg(buf, tail, 65);
	dns_reader_init(&r, buf, len);
	r.pos = 12;
	dns_read_name(&r, out, &n);
	assert_int_equal(r.err, 0);
	assert_int_equal(n, 65);
	tail[0] = 64;
	tail[65] = 0;
	expect_bad_name(tail, 66, 12);

	/* 255 octets total: 4 labels of 63 = 256 -> 63,63,63,61 + root = 255 */
	for (int total = 255; total <= 256; total++) {
		p = 0;
		for (i = 0; i < 3; i++) {
			tail[p++] = 63;
			memset(tail + p, 'a', 63);
			p += 63;
		}
		tail[p++] = (uint8_t)(total - 1 - 3 * 64 - 1);
		memset(tail + p, 'b', (size_t)total - 1 - 3 * 64 - 1);
		p += (size_t)total - 1 - 3 * 64 - 1;
		tail[p++] = 0;
		assert_int_equal(p, (size_t)total);
		if (total == 255) {
			len = msg(buf, tail, p);
			dns_reader_init(&r, buf, len);
			r.pos = 12;
			dns_read_name(&r, out, &n);
			assert_int_equal(r.err, 0);
			assert_int_equal(n, 255);
			assert_int_equal(r.pos, len);
		} else {
			expect_bad_name(tail, p, 12);
		}
	}

	/* the limit holds across a pointer: 56 octets at 12, then 63,63,63
	 * and a label of k, then a pointer to 12: 192 + k + 1 + 56 */
	for (size_t k = 6; k <= 7; k++) {
		p = 0;
		tail[p++] = 54;
		memset(tail + p, 'c', 54);
		p += 54;
		tail[p++] = 0;
		for (i = 0; i < 3; i++) {
			tail[p++] = 63;
			memset(tail + p, 'e', 63);
			p += 63;
		}
		tail[p++] = (uint8_t)k;
		memset(tail + p, 'f', k);
		p += k;
		tail[p++] = 0xc0;
		tail[p++] = 12;
		if (k == 7) {
			expect_bad_name(tail, p, 12 + 56);
			continue;
		}
		len = msg(buf, tail, p);
		dns_reader_init(&r, buf, len);
		r.pos = 12 + 56;
		dns_read_name(&r, out, &n);
		assert_int_equal(r.err, 0);
		assert_int_equal(n, 255);
		assert_int_equal(r.pos, len);
	}
}

static void
test_name_avoid(void **state)
{
	/* 12: 1a 0; 15: four octets that read as the name "b."; 19: ptr 15;
	 * 21: 1c ptr 12 */
	const uint8_t tail[] = { 1, 'a', 0, 1, 'b', 0, 0, 0xc0, 15, 1, 'c', 0xc0, 12 };
	const uint16_t avoid[] = { 14, 15, 30 };
	uint8_t buf[64];
	size_t len = msg(buf, tail, sizeof(tail));
	struct dns_reader r;
	struct dns_name_info info;

	(void)state;
	for (unsigned n = 0; n <= 3; n++) {
		/* fields at 14 (ends at 18: overlaps the run 15..17) and 15 */
		dns_reader_init(&r, buf, len);
		r.pos = 19;
		dns_read_name_avoid(&r, avoid + (n == 3 ? 2 : 0), n == 3 ? 1 : n, 0, &info);
		assert_int_equal(r.err, n == 0 || n == 3 ? 0 : -EBADMSG);
		if (n == 0) {
			assert_true(info.compressed);
			assert_int_equal(info.ptr_hi, 18);
		}
	}
	/* the field just before a run does not touch it */
	dns_reader_init(&r, buf, len);
	r.pos = 21;
	dns_read_name_avoid(&r, (const uint16_t[]){ 8, 15 }, 2, 0, &info);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.pos, 25);
	/* in-place labels are never checked: only what pointers lead to */
	dns_reader_init(&r, buf, len);
	r.pos = 21;
	dns_read_name_avoid(&r, (const uint16_t[]){ 20 }, 1, 0, NULL);
	assert_int_equal(r.err, 0);
	dns_reader_init(&r, buf, len);
	r.pos = 21;
	dns_read_name_avoid(&r, (const uint16_t[]){ 11 }, 1, 0, NULL); /* 11..14 */
	assert_int_equal(r.err, -EBADMSG);
}

static void
test_name_truncated_everywhere(void **state)
{
	const uint8_t tail[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				 3, 'c', 'o', 'm', 0, 4, 'm', 'a', 'i', 'l', 0xc0, 16 };
	uint8_t buf[64], out[DNS_NAME_MAX];
	size_t len = msg(buf, tail, sizeof(tail)), cut, n;
	struct dns_reader r;

	(void)state;
	for (cut = 0; cut < len; cut++) {
		dns_reader_init(&r, buf, cut);
		r.pos = 29;
		dns_read_name(&r, out, &n);
		assert_int_equal(r.err, -EBADMSG);
		dns_reader_init(&r, buf, cut);
		r.pos = 12;
		dns_read_name(&r, out, &n);
		assert_int_equal(r.err, cut >= 29 ? 0 : -EBADMSG);
	}
}

static void
test_name_from_str(void **state)
{
	uint8_t n[DNS_NAME_MAX];
	char s[1100];
	int len;

	(void)state;
	assert_int_equal(dns_name_from_str(".", n), 1);
	assert_int_equal(n[0], 0);
	assert_int_equal(dns_name_from_str("www.Example.com", n), 17);
	assert_memory_equal(n, "\3www\7Example\3com", 17);
	assert_int_equal(dns_name_from_str("www.Example.com.", n), 17);
	len = dns_name_from_str("a\\.b.\\099\\\\", n);
	assert_int_equal(len, 8);
	assert_memory_equal(n, "\3a.b\2c\\", 8);
	assert_int_equal(dns_name_from_str("\\000.x", n), 5);
	assert_int_equal(n[1], 0);

	assert_int_equal(dns_name_from_str("", n), -EINVAL);
	assert_int_equal(dns_name_from_str("..", n), -EINVAL);
	assert_int_equal(dns_name_from_str(".a", n), -EINVAL);
	assert_int_equal(dns_name_from_str("a..b", n), -EINVAL);
	assert_int_equal(dns_name_from_str("a\\", n), -EINVAL);
	assert_int_equal(dns_name_from_str("a\\25", n), -EINVAL);
	assert_int_equal(dns_name_from_str("a\\256", n), -EINVAL);

	/* label 63 ok, 64 not */
	memset(s, 'a', 64);
	s[63] = '\0';
	assert_int_equal(dns_name_from_str(s, n), 65);
	s[63] = 'a';
	s[64] = '\0';
	assert_int_equal(dns_name_from_str(s, n), -EINVAL);

	/* total 255 ok, 256 not: 63.63.63.61 -> 64*3 + 62 + 1 = 255 */
	memset(s, 'a', sizeof(s));
	s[63] = s[127] = s[191] = '.';
	s[253] = '\0';
	assert_int_equal(dns_name_from_str(s, n), 255);
	s[253] = '.';
	s[254] = '\0';
	assert_int_equal(dns_name_from_str(s, n), 255);
	s[253] = 'a';
	assert_int_equal(dns_name_from_str(s, n), -EINVAL);
	/* escapes count as one octet */
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 63; i++)
		memcpy(s + 4 * i, "\\097", 4);
	assert_int_equal(dns_name_from_str(s, n), 65);
	memcpy(s + 4 * 63, "\\097", 4);
	assert_int_equal(dns_name_from_str(s, n), -EINVAL);
}

static void
test_name_to_str(void **state)
{
	uint8_t n[DNS_NAME_MAX], back[DNS_NAME_MAX];
	char s[1100];
	const uint8_t odd[] = { 5, 'a', '.', ' ', '\\', 0xff, 3, 'c', '"', 'm', 0 };
	int len;
	size_t i;

	(void)state;
	assert_int_equal(dns_name_to_str(TP_ROOT, 1, s, sizeof(s)), 0);
	assert_string_equal(s, ".");
	len = dns_name_from_str("www.example.com", n);
	assert_int_equal(dns_name_to_str(n, (size_t)len, s, sizeof(s)), 0);
	assert_string_equal(s, "www.example.com.");
	assert_int_equal(dns_name_to_str(odd, sizeof(odd), s, sizeof(s)), 0);
	assert_string_equal(s, "a\\.\\032\\\\\\255.c\\\"m.");
	len = dns_name_from_str(s, back);
	assert_int_equal(len, sizeof(odd));
	assert_memory_equal(back, odd, sizeof(odd));

	/* exactly enough room, and one less at every size */
	for (i = 0; i <= strlen(s); i++) {
		char small[64];

		assert_int_equal(dns_name_to_str(odd, sizeof(odd), small, i), -ENOSPC);
	}
	assert_int_equal(dns_name_to_str(odd, sizeof(odd), s, strlen(s) + 1), 0);

	/* malformed wire names */
	assert_int_equal(dns_name_to_str(odd, sizeof(odd) - 1, s, sizeof(s)), -EINVAL);
	assert_int_equal(dns_name_to_str((const uint8_t *)"\1a\0\0", 4, s, sizeof(s)), -EINVAL);
	assert_int_equal(dns_name_to_str((const uint8_t *)"\100a", 2, s, sizeof(s)), -EINVAL);
	assert_int_equal(dns_name_to_str(n, 0, s, sizeof(s)), -EINVAL);

	/* a 255-octet name of \DDD-escaped octets fits 4*250+... and round-trips */
	memset(n, 0xfe, sizeof(n));
	n[0] = n[64] = n[128] = 63;
	n[192] = 61;
	n[254] = 0;
	assert_int_equal(dns_name_to_str(n, 255, s, sizeof(s)), 0);
	assert_int_equal(dns_name_from_str(s, back), 255);
	assert_memory_equal(back, n, 255);
}

static void
test_name_compare(void **state)
{
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX], z[DNS_NAME_MAX];
	size_t al, bl, zl;

	(void)state;
	al = tp_wname("WwW.ExAmple.COM", a);
	bl = tp_wname("www.example.com", b);
	assert_true(dns_name_equal(a, al, b, bl));
	bl = tp_wname("www.example.con", b);
	assert_false(dns_name_equal(a, al, b, bl));
	bl = tp_wname("ww.wexample.com", b); /* same octets but for one length */
	assert_false(dns_name_equal(a, al, b, bl));
	/* only ASCII folds */
	assert_false(dns_name_equal((const uint8_t *)"\1\xc4\0", 3,
				    (const uint8_t *)"\1\xe4\0", 3));

	zl = tp_wname("example.COM", z);
	assert_true(dns_name_is_subdomain(a, al, z, zl));
	assert_true(dns_name_is_subdomain(z, zl, z, zl));
	assert_true(dns_name_is_subdomain(a, al, TP_ROOT, 1));
	assert_false(dns_name_is_subdomain(z, zl, a, al));
	zl = tp_wname("ample.com", z); /* a suffix, but not at a label boundary */
	assert_false(dns_name_is_subdomain(a, al, z, zl));
	zl = tp_wname("com.example", z);
	assert_false(dns_name_is_subdomain(a, al, z, zl));

	dns_name_lower(a, al);
	assert_memory_equal(a, "\3www\7example\3com", al);

	assert_true(dns_name_valid(a, al));
	assert_false(dns_name_valid(a, al - 1));
	assert_false(dns_name_valid(a, al + 0 - 17 + 4));
	assert_false(dns_name_valid(a, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_bounds),
		cmocka_unit_test(test_writer_bounds),
		cmocka_unit_test(test_name_plain_and_compressed),
		cmocka_unit_test(test_name_pointer_rules),
		cmocka_unit_test(test_name_length_limits),
		cmocka_unit_test(test_name_avoid),
		cmocka_unit_test(test_name_truncated_everywhere),
		cmocka_unit_test(test_name_from_str),
		cmocka_unit_test(test_name_to_str),
		cmocka_unit_test(test_name_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
