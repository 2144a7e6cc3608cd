/*
 * test_tls_key.c -- the DoT client's session cache key (stub/dot/tls.c):
 * a ticket is offered only under the key it was stored with, and a
 * resumed session skips verification, so every part of what the
 * certificate had to prove must change the key.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../stub/dot/tls.h"

static void key_of(const struct ds_upstream_desc *d, uint8_t key[DS_TLS_KEY_LEN])
{
	ds_tls_session_key(d, key);
}

static void base_desc(struct ds_upstream_desc *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(ds_upstream_desc_add(d, "dns.example.test@192.0.2.53"), 0);
}

static void ip4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
}

static void test_auth_changes_key(void **state)
{
	struct ds_upstream_desc d;
	uint8_t dane[DS_TLS_KEY_LEN], pkix[DS_TLS_KEY_LEN], opp[DS_TLS_KEY_LEN];
	uint8_t again[DS_TLS_KEY_LEN];

	(void)state;
	base_desc(&d);
	key_of(&d, dane);
	key_of(&d, again);
	assert_memory_equal(dane, again, DS_TLS_KEY_LEN);
	d.auth = DS_AUTH_PKIX;
	key_of(&d, pkix);
	d.auth = DS_AUTH_OPPORTUNISTIC;
	key_of(&d, opp);
	assert_memory_not_equal(dane, pkix, DS_TLS_KEY_LEN);
	assert_memory_not_equal(dane, opp, DS_TLS_KEY_LEN);
	assert_memory_not_equal(pkix, opp, DS_TLS_KEY_LEN);
	ds_upstream_desc_clear(&d);
}

static void test_pkix_address_changes_key(void **state)
{
	struct ds_upstream_desc d;
	uint8_t none[DS_TLS_KEY_LEN], a[DS_TLS_KEY_LEN], b[DS_TLS_KEY_LEN];

	(void)state;
	base_desc(&d);
	d.auth = DS_AUTH_PKIX;
	key_of(&d, none);
	ip4(&d.pkix_ip, "192.0.2.53");
	key_of(&d, a);
	ip4(&d.pkix_ip, "192.0.2.54");
	key_of(&d, b);
	assert_memory_not_equal(none, a, DS_TLS_KEY_LEN);
	assert_memory_not_equal(a, b, DS_TLS_KEY_LEN);
	ds_upstream_desc_clear(&d);
}

static void test_auth_names(void **state)
{
	(void)state;
	assert_string_equal(ds_auth_name(DS_AUTH_DANE), "dane");
	assert_string_equal(ds_auth_name(DS_AUTH_PKIX), "pkix");
	assert_string_equal(ds_auth_name(DS_AUTH_OPPORTUNISTIC), "opportunistic");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_changes_key),
		cmocka_unit_test(test_pkix_address_changes_key),
		cmocka_unit_test(test_auth_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
