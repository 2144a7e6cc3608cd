/*
 * test_route.c -- where a name goes (stub/daemon/route.c): the longest
 * routing domain that holds it, the first of equal ones, whole labels
 * only, case-insensitive; no route: the default lane.  A call that names
 * a link: that link's own lane, the default lane for the default link,
 * none for a link without resolvers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../stub/daemon/daemon.h"

static struct ds_lane vpn, vpn2, lab, rev;

static struct ds_lane *where(const struct ds_route *r, size_t n, const char *name)
{
	uint8_t q[DNS_NAME_MAX];
	int len = dns_name_from_str(name, q);

	assert_true(len > 0);
	return ds_route_match(r, n, q, (size_t)len);
}

static void test_longest_suffix(void **state)
{
	struct ds_route r[6];
	size_t n = 0;

	assert_int_equal(ds_route_compile("corp.example", &vpn, &r[n++]), 0);
	assert_int_equal(ds_route_compile("Lab.Corp.Example.", &lab, &r[n++]), 0);
	assert_int_equal(ds_route_compile("corp.example", &vpn2, &r[n++]), 0); /* a tie: the first */
	assert_int_equal(ds_route_compile("0.99.10.in-addr.arpa", &rev, &r[n++]), 0);
	assert_int_equal(ds_route_compile("a..b", &vpn, &r[n]), -EINVAL);

	assert_ptr_equal(where(r, n, "corp.example"), &vpn);
	assert_ptr_equal(where(r, n, "intranet.CORP.example"), &vpn);
	assert_ptr_equal(where(r, n, "x.lab.corp.example"), &lab);
	assert_ptr_equal(where(r, n, "lab.corp.example"), &lab);
	assert_ptr_equal(where(r, n, "7.0.99.10.in-addr.arpa"), &rev);
	assert_null(where(r, n, "8.1.99.10.in-addr.arpa"));
	/* whole labels only */
	assert_null(where(r, n, "notcorp.example"));
	assert_null(where(r, n, "example"));
	assert_null(where(r, n, "www.example.com"));
	assert_null(where(r, n, "."));
	assert_null(where(r, 0, "corp.example"));
}

static void test_root(void **state)
{
	struct ds_route r[2];

	assert_int_equal(ds_route_compile(".", &vpn, &r[0]), 0);
	assert_int_equal(ds_route_compile("corp.example", &lab, &r[1]), 0);
	assert_ptr_equal(where(r, 2, "www.example.com"), &vpn);
	assert_ptr_equal(where(r, 2, "."), &vpn);
	assert_ptr_equal(where(r, 2, "a.corp.example"), &lab);
}

static void test_link(void **state)
{
	static struct ds_daemon d;
	struct ds_lane wifi = { .ifindex = 3 }, tun = { .ifindex = 7 };

	TAILQ_INIT(&d.lanes);
	d.def.ifindex = 2;
	assert_null(ds_route_link(&d, 3));
	TAILQ_INSERT_TAIL(&d.lanes, &wifi, link);
	TAILQ_INSERT_TAIL(&d.lanes, &tun, link);
	assert_ptr_equal(ds_route_link(&d, 3), &wifi);
	assert_ptr_equal(ds_route_link(&d, 7), &tun);
	assert_ptr_equal(ds_route_link(&d, 2), &d.def); /* the default link */
	assert_null(ds_route_link(&d, 5));               /* no resolver of its own */
	assert_null(ds_route_link(&d, 0));
	assert_null(ds_route_link(&d, -1));
	d.def.ifindex = 0;                               /* no default link */
	assert_null(ds_route_link(&d, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_suffix),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
