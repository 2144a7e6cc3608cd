/*
 * test_desc.c -- upstream descriptions: TLSA presentation parsing and
 * formatting, NAME@ADDR[:PORT] specifications, deep copies, the usable
 * TLSA count, socket address formatting, strings in JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dotstub/jsonstr.h"
#include "dotstub/upstream.h"
#include "dotstub/sockaddr.h"

#define H32 "d46376e1af43966453c0604ed7d8010334ebdd4adb8f668292c0fa577c0dec45"

static const struct ds_tlsa untouched = { .usage = 9, .selector = 9, .mtype = 9, .len = 7 };

static void tlsa_ok(const char *text, uint8_t u, uint8_t s, uint8_t m, uint16_t len)
{
	struct ds_tlsa t;

	assert_int_equal(ds_tlsa_parse(text, &t), 0);
	assert_int_equal(t.usage, u);
	assert_int_equal(t.selector, s);
	assert_int_equal(t.mtype, m);
	assert_int_equal(t.len, len);
	assert_non_null(t.data);
	free(t.data);
}

static void tlsa_bad(const char *text)
{
	struct ds_tlsa t = untouched;

	assert_int_equal(ds_tlsa_parse(text, &t), -EINVAL);
	/* outputs written only on success */
	assert_memory_equal(&t, &untouched, sizeof(t));
}

static void test_tlsa_parse(void **state)
{
	struct ds_tlsa t;
	char big[2 * DS_TLSA_DATA_MAX + 16];

	(void)state;
	tlsa_ok("3 1 1 " H32, 3, 1, 1, 32);
	tlsa_ok("  2 0 1\t" H32 "  ", 2, 0, 1, 32);
	tlsa_ok("3 1 1 d463 76e1 AF43\t9664", 3, 1, 1, 8);
	tlsa_ok("255 255 255 00", 255, 255, 255, 1);
	tlsa_ok("1 0 0 0102", 1, 0, 0, 2); /* parses; usability is decided elsewhere */

	assert_int_equal(ds_tlsa_parse("3 1 1 00ff10", &t), 0);
	assert_int_equal(t.data[0], 0x00);
	assert_int_equal(t.data[1], 0xff);
	assert_int_equal(t.data[2], 0x10);
	free(t.data);

	tlsa_bad("");
	tlsa_bad("3 1 1");
	tlsa_bad("3 1 1 ");
	tlsa_bad("3 1 1 abc");       /* odd number of digits */
	tlsa_bad("3 1 1 ab c");      /* odd, split */
	tlsa_bad("3 1 1 zz");
	tlsa_bad("3 1 1 0x12");
	tlsa_bad("256 1 1 00");
	tlsa_bad("3 1 1000 00");
	tlsa_bad("0003 1 1 00");
	tlsa_bad("-3 1 1 00");
	tlsa_bad("3 1 00");
	tlsa_bad("3,1,1 00");
	tlsa_bad("3 1 1 00\n");
	tlsa_bad("3 1 1 00;");
	tlsa_bad("31 1 00 ");

	/* DS_TLSA_DATA_MAX octets fit, one more does not */
	memcpy(big, "3 0 0 ", 6);
	memset(big + 6, 'a', 2 * DS_TLSA_DATA_MAX);
	big[6 + 2 * DS_TLSA_DATA_MAX] = '\0';
	tlsa_ok(big, 3, 0, 0, DS_TLSA_DATA_MAX);
	memcpy(big + 6 + 2 * DS_TLSA_DATA_MAX, "aa", 3);
	tlsa_bad(big);
	assert_int_equal(ds_tlsa_parse(NULL, &t), -EINVAL);
}

static void test_tlsa_format(void **state)
{
	uint8_t data[32];
	struct ds_tlsa t = { .usage = 3, .selector = 1, .mtype = 1, .len = 32, .data = data };
	char out[160], small[16];

	(void)state;
	for (int i = 0; i < 32; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	ds_tlsa_format(&t, out, sizeof(out));
	assert_int_equal(strlen(out), 6 + 64);
	assert_memory_equal(out, "3 1 1 01080f16", 14);

	/* the formatted text parses back to the same record */
	{
		struct ds_tlsa back;

		assert_int_equal(ds_tlsa_parse(out, &back), 0);
		assert_int_equal(back.len, 32);
		assert_memory_equal(back.data, data, 32);
		free(back.data);
	}

	/* too short: cut, marked, terminated */
	memset(small, 'X', sizeof(small));
	ds_tlsa_format(&t, small, sizeof(small));
	assert_string_equal(small, "3 1 1 01080f...");
	memset(small, 'X', sizeof(small));
	ds_tlsa_format(&t, small, 8);
	assert_string_equal(small, "3 1 1 "); /* no room for even "..." */
	assert_int_equal(small[9], 'X');
	ds_tlsa_format(&t, small, 1);
	assert_string_equal(small, "");
	small[0] = 'X';
	ds_tlsa_format(&t, small, 0);
	assert_int_equal(small[0], 'X');

	/* exactly fits */
	{
		char exact[6 + 64 + 1];

		ds_tlsa_format(&t, exact, sizeof(exact));
		assert_string_equal(exact, out);
	}
}

static void test_desc_add(void **state)
{
	struct ds_upstream_desc d;
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;
	char buf[64];

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(ds_upstream_desc_add(&d, "Abcd1234EFGH.zz.@192.0.2.1"), 0);
	assert_string_equal(d.name, "abcd1234efgh.zz");
	assert_int_equal(d.naddr, 1);
	s4 = (const struct sockaddr_in *)&d.addr[0];
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 853);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0xc0000201);

	assert_int_equal(ds_upstream_desc_add(&d, "abcd1234efgh.zz@192.0.2.2:8853"), 0);
	s4 = (const struct sockaddr_in *)&d.addr[1];
	assert_int_equal(ntohs(s4->sin_port), 8853);

	assert_int_equal(ds_upstream_desc_add(&d, "abcd1234efgh.zz@2001:db8::1"), 0);
	s6 = (const struct sockaddr_in6 *)&d.addr[2];
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 853);
	assert_int_equal(ds_upstream_desc_add(&d, "abcd1234efgh.zz@[2001:db8::2]:5353"), 0);
	s6 = (const struct sockaddr_in6 *)&d.addr[3];
	assert_int_equal(ntohs(s6->sin6_port), 5353);
	assert_int_equal(ds_upstream_desc_add(&d, "abcd1234efgh.zz@[2001:db8::3]"), 0);
	assert_int_equal(d.naddr, 5);
	ds_sockaddr_format(&d.addr[3], buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::2]:5353");

	/* the same address again is not added twice */
	assert_int_equal(ds_upstream_desc_add(&d, "ABCD1234efgh.zz@192.0.2.1:853"), 0);
	assert_int_equal(d.naddr, 5);

	/* another name: refused, nothing changed */
	assert_int_equal(ds_upstream_desc_add(&d, "other.zz@192.0.2.9"), -EINVAL);
	assert_int_equal(d.naddr, 5);
	assert_string_equal(d.name, "abcd1234efgh.zz");

	/* fill up to the limit with 192.0.2.6, .7, ... */
	for (int i = 6; d.naddr < DS_MAX_UPSTREAM_ADDRS; i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "abcd1234efgh.zz@192.0.2.%d", i);
		assert_int_equal(ds_upstream_desc_add(&d, spec), 0);
	}
	assert_int_equal(d.naddr, DS_MAX_UPSTREAM_ADDRS);
	assert_int_equal(ds_upstream_desc_add(&d, "abcd1234efgh.zz@192.0.2.99"), -E2BIG);
	assert_int_equal(d.naddr, DS_MAX_UPSTREAM_ADDRS);
	ds_upstream_desc_clear(&d);
	assert_int_equal(d.naddr, 0);
	assert_string_equal(d.name, "");
}

static void test_desc_add_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"@192.0.2.1",
		"name.zz",
		"name.zz@",
		"name.zz@@192.0.2.1",
		"name.zz@192.0.2.1@x",
		"name..zz@192.0.2.1",
		".name.zz@192.0.2.1",
		"name.zz..@192.0.2.1",
		"na me.zz@192.0.2.1",
		"name/zz@192.0.2.1",
		"name.zz@192.0.2",
		"name.zz@1",
		"name.zz@0x7f.1",
		"name.zz@[192.0.2.1]:853",
		"name.zz@::ffff:192.0.2.1:853:1:1:1:1",
		"name.zz@192.0.2.256",
		"name.zz@192.0.2.1:",
		"name.zz@192.0.2.1:0",
		"name.zz@192.0.2.1:65536",
		"name.zz@192.0.2.1:85x",
		"name.zz@192.0.2.1:-1",
		"name.zz@[2001:db8::1",
		"name.zz@[2001:db8::1]x",
		"name.zz@[2001:db8::1]:",
		"name.zz@[]:853",
		"name.zz@[2001:db8::g]",
		"name.zz@host.example",
		"name.zz@ 192.0.2.1",
	};
	struct ds_upstream_desc d;
	char name[300];

	(void)state;
	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ds_upstream_desc_add(&d, bad[i]) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(d.naddr, 0);
		assert_string_equal(d.name, "");
	}

	/* label of 63 is fine, 64 is not */
	memset(name, 'a', 63);
	strcpy(name + 63, ".zz@192.0.2.1");
	assert_int_equal(ds_upstream_desc_add(&d, name), 0);
	ds_upstream_desc_clear(&d);
	memset(name, 'a', 64);
	strcpy(name + 64, ".zz@192.0.2.1");
	assert_int_equal(ds_upstream_desc_add(&d, name), -EINVAL);

	/* 253 characters is fine, 254 is not */
	for (int i = 0; i < 253; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[252] = 'a';
	strcpy(name + 253, "@192.0.2.1");
	assert_int_equal(ds_upstream_desc_add(&d, name), 0);
	ds_upstream_desc_clear(&d);
	memmove(name + 1, name, strlen(name) + 1);
	name[0] = 'b';
	name[1] = '.';
	assert_int_equal(ds_upstream_desc_add(&d, name), -EINVAL);
	assert_int_equal(ds_upstream_desc_add(NULL, "a.zz@192.0.2.1"), -EINVAL);
	assert_int_equal(ds_upstream_desc_add(&d, NULL), -EINVAL);
}

static void test_desc_tlsa_copy(void **state)
{
	struct ds_upstream_desc d, c;
	struct ds_tlsa t;
	uint8_t data[64];

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&c, 0, sizeof(c));
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(ds_upstream_desc_add(&d, "x.zz@127.0.0.1"), 0);
	snprintf(d.network, sizeof(d.network), "net-1");

	t = (struct ds_tlsa){ .usage = 3, .selector = 1, .mtype = 1, .len = 32, .data = data };
	assert_int_equal(ds_upstream_desc_add_tlsa(&d, &t), 0);
	assert_ptr_not_equal(d.tlsa[0].data, data); /* copied */
	data[0] = 0;
	assert_int_equal(d.tlsa[0].data[0], 0x5a);

	assert_int_equal(ds_upstream_desc_copy(&c, &d), 0);
	assert_string_equal(c.name, "x.zz");
	assert_string_equal(c.network, "net-1");
	assert_int_equal(c.naddr, 1);
	assert_int_equal(c.ntlsa, 1);
	assert_ptr_not_equal(c.tlsa[0].data, d.tlsa[0].data); /* deep */
	assert_memory_equal(c.tlsa[0].data, d.tlsa[0].data, 32);
	ds_upstream_desc_clear(&d);
	assert_int_equal(c.tlsa[0].data[31], 0x5a);

	/* bounds */
	t.len = 0;
	assert_int_equal(ds_upstream_desc_add_tlsa(&c, &t), -EINVAL);
	t.len = DS_TLSA_DATA_MAX + 1;
	assert_int_equal(ds_upstream_desc_add_tlsa(&c, &t), -EINVAL);
	t.len = 32;
	t.data = NULL;
	assert_int_equal(ds_upstream_desc_add_tlsa(&c, &t), -EINVAL);
	t.data = data;
	while (c.ntlsa < DS_MAX_TLSA)
		assert_int_equal(ds_upstream_desc_add_tlsa(&c, &t), 0);
	assert_int_equal(ds_upstream_desc_add_tlsa(&c, &t), -E2BIG);
	assert_int_equal(c.ntlsa, DS_MAX_TLSA);
	ds_upstream_desc_clear(&c);
	ds_upstream_desc_clear(&c); /* twice is fine */
	ds_upstream_desc_clear(NULL);
}

static int usable(const char *const *recs, size_t n)
{
	struct ds_upstream_desc d;
	int r;

	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < n; i++) {
		struct ds_tlsa t;

		assert_int_equal(ds_tlsa_parse(recs[i], &t), 0);
		assert_int_equal(ds_upstream_desc_add_tlsa(&d, &t), 0);
		free(t.data);
	}
	r = ds_upstream_desc_usable_tlsa(&d);
	ds_upstream_desc_clear(&d);
	return r;
}

static void test_usable(void **state)
{
	static const char *const good[] = {
		"3 1 1 " H32,
		"3 0 1 " H32,
		"2 0 1 " H32,
		"2 1 2 " H32 H32,
		"3 1 0 3059301306072a8648ce3d020106082a8648ce3d03010703420004",
	};
	static const char *const unusable[] = {
		"0 0 1 " H32,          /* PKIX-TA */
		"1 1 1 " H32,          /* PKIX-EE */
		"4 1 1 " H32,          /* unknown usage */
		"3 2 1 " H32,          /* unknown selector */
		"3 1 3 " H32,          /* unknown matching type */
		"3 1 1 d46376e1",      /* SHA-256 of the wrong length */
		"3 1 2 " H32,          /* SHA-512 of the wrong length */
		"2 0 1 " H32 "00",
	};

	(void)state;
	assert_int_equal(usable(good, 5), 5);
	assert_int_equal(usable(unusable, 8), 0);
	assert_int_equal(usable(unusable + 1, 1), 0);
	{
		const char *mix[] = { unusable[0], unusable[1], good[0] };

		assert_int_equal(usable(mix, 3), 1);
	}
}

/* One transport type for the DoT client and discovery: a zeroed
 * description is DoT; "unknown" (a forwarder published nothing) is never
 * the zero value. */
static void test_transport(void **state)
{
	struct ds_upstream_desc d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(d.transport, DS_TRANSPORT_DOT);
	assert_int_not_equal(DS_TRANSPORT_UNKNOWN, 0);
	assert_string_equal(ds_transport_name(DS_TRANSPORT_DOT), "dot");
	assert_string_equal(ds_transport_name(DS_TRANSPORT_DO53), "do53");
	assert_string_equal(ds_transport_name(DS_TRANSPORT_UNKNOWN), "unknown");
}

static void test_sockaddr_format(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char buf[64], small[6];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(853);
	s4->sin_addr.s_addr = htonl(0x7f00001f);
	ds_sockaddr_format(&ss, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.31:853");
	/* never a cut address ("127.0" would name another one) */
	memset(small, 'X', sizeof(small));
	ds_sockaddr_format(&ss, small, sizeof(small));
	assert_string_equal(small, "?");

	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(853);
	s6->sin6_addr.s6_addr[15] = 1;
	ds_sockaddr_format(&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:853");

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ds_sockaddr_format(&ss, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

/* Every octet has one JSON form: printable ASCII as itself, quote and
 * backslash escaped, the rest \u00XX; the output is ASCII throughout. */
static void test_json_str(void **state)
{
	char e[8], *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(ds_json_escape('a', e), 1);
	assert_string_equal(e, "a");
	assert_int_equal(ds_json_escape('"', e), 2);
	assert_string_equal(e, "\\\"");
	assert_int_equal(ds_json_escape('\\', e), 2);
	assert_string_equal(e, "\\\\");
	assert_int_equal(ds_json_escape('\n', e), 6);
	assert_string_equal(e, "\\u000a");
	assert_int_equal(ds_json_escape(0x7f, e), 6);
	assert_string_equal(e, "\\u007f");
	assert_int_equal(ds_json_escape(0xe9, e), 6);
	assert_string_equal(e, "\\u00e9");
	assert_int_equal(ds_json_escape('~', e), 1);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	ds_json_fputs(f, "a\"b\\c\x01\xff");
	ds_json_fputs(f, "");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u0001\\u00ff\"\"\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlsa_parse),
		cmocka_unit_test(test_tlsa_format),
		cmocka_unit_test(test_desc_add),
		cmocka_unit_test(test_desc_add_bad),
		cmocka_unit_test(test_desc_tlsa_copy),
		cmocka_unit_test(test_usable),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_sockaddr_format),
		cmocka_unit_test(test_json_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
