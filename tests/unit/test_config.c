/* test_config.c -- dotstubd's configuration file and option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotstub-config.h"
#include "dotstub/config.h"
#include "dotstub/sockaddr.h"

static const char *HASH =
	"9cab2d0bd35a1f46c8a8b0eb5c9e3a5c1a1b5b0cb3f47a4d3c1c6f2b7e8d9a01";

static int parse(struct ds_config *c, const char *text, char *err, size_t errlen)
{
	return ds_config_parse(c, text, strlen(text), "test.conf", err, errlen);
}

static void test_good_file(void **state)
{
	struct ds_config c;
	char err[256] = "", text[1024];
	const struct sockaddr_in *sin;

	snprintf(text, sizeof(text),
		 "# a comment\n"
		 "listen 127.0.0.20:5353\n"
		 "listen: [::1]:53   # trailing comment\n"
		 "upstream = abcd1234efgh.zz@127.0.0.21\n"
		 "upstream abcd1234efgh.zz@[::1]:8853\n"
		 "tlsa \"3 1 1 %s\"\n"
		 "cache-size 8m\n"
		 "log-level info\n"
		 "tofu ask\n"
		 "unknown-network strict\r\n"
		 "tcp-clients-per-address 0\n"
		 "tcp-client-output 64k\n"
		 "tcp-output-total 2m\n"
		 "\n",
		 HASH);
	ds_config_init(&c);
	assert_int_equal(parse(&c, text, err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.nlisten, 2);
	sin = (const struct sockaddr_in *)&c.listen[0];
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 5353);
	assert_int_equal(c.listen[1].ss_family, AF_INET6);
	assert_string_equal(c.upstream.name, "abcd1234efgh.zz");
	assert_int_equal(c.upstream.naddr, 2);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&c.upstream.addr[0])->sin_port), 853);
	assert_int_equal(ntohs(((const struct sockaddr_in6 *)&c.upstream.addr[1])->sin6_port), 8853);
	assert_int_equal(c.upstream.ntlsa, 1);
	assert_int_equal(c.upstream.tlsa[0].usage, 3);
	assert_int_equal(c.upstream.tlsa[0].len, 32);
	assert_int_equal(c.cache_bytes, 8u << 20);
	assert_int_equal(c.log_level, 6);
	assert_int_equal(c.tofu, TRUST_TOFU_ASK);
	assert_int_equal(c.unknown_network, TRUST_UNKNOWN_STRICT);
	assert_int_equal(c.tcp_clients_per_address, 0);
	assert_int_equal(c.tcp_client_output, 64u << 10);
	assert_int_equal(c.tcp_output_total, 2u << 20);
	ds_config_free(&c);
}

static void test_default_listen(void **state)
{
	struct ds_config c;
	char err[256];
	char a[64];

	ds_config_init(&c);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.nlisten, 1);
	ds_sockaddr_format(&c.listen[0], a, sizeof(a));
	assert_string_equal(a, "127.0.0.53:53");
	assert_int_equal(c.tcp_clients_per_address, 32);
	assert_int_equal(c.tcp_client_output, 256u << 10);
	assert_int_equal(c.tcp_output_total, 16u << 20);
	ds_config_free(&c);
}

struct bad_case {
	const char *text;
	const char *expect; /* substring of the error */
};

static void test_bad_files(void **state)
{
	static const struct bad_case cases[] = {
		{ "listen 127.0.0.1:99999\n", "test.conf:1: listen" },
		{ "listen nowhere\n", "is not ADDR[:PORT]" },
		{ "\n\nbogus-key 1\n", "test.conf:3: unknown key 'bogus-key'" },
		{ "tlsa \"3 1 1 zz\"\n", "tlsa" },
		{ "tlsa \"3 1 1 abcd\n", "unterminated quote" },
		{ "cache-size lots\n", "cache-size" },
		{ "cache-size 5 bananas\n", "cache-size" },
		{ "log-level loud\n", "log-level" },
		{ "tofu maybe\n", "tofu" },
		{ "allow-tls12 perhaps\n", "allow-tls12" },
		{ "listen\n", "missing value" },
		{ "listen 127.0.0.1 extra\n", "is not ADDR" },
		{ "tlsa \"3 1 1 ab\" junk\n", "trailing characters" },
		{ "=value\n", "expected a key" },
		{ "upstream a.zz@127.0.0.1\nupstream b.zz@127.0.0.2\n", "test.conf:2: upstream" },
		{ "query-timeout 5\n", "query-timeout" },
		{ "tcp-clients 0\n", "tcp-clients" },
		{ "tcp-clients-per-address -1\n", "tcp-clients-per-address" },
		{ "tcp-client-output 1k\n", "tcp-client-output" },
		{ "tcp-output-total lots\n", "tcp-output-total" },
		{ "serve-dot nowhere\n", HAVE_DOT_SERVER ? "serve-dot: 'nowhere' is not ADDR[:PORT]"
							 : "serve-dot: this dotstubd is built without" },
		{ "serve-dot-name -bad.zz\n", "serve-dot-name" },
		{ "serve-dot-name a..zz\n", "serve-dot-name" },
		{ "serve-dot-name router.1\n", "serve-dot-name" },
		{ "serve-dot-name x_y.zz\n", "serve-dot-name" },
		{ "dot-clients 0\n", "dot-clients" },
		{ "dot-clients-per-address x\n", "dot-clients-per-address" },
		{ "dot-client-output 1k\n", "dot-client-output" },
		{ "dot-output-total 5g\n", "dot-output-total" },
		{ "dot-client-inflight 0\n", "dot-client-inflight" },
		{ "dot-idle-timeout 10\n", "dot-idle-timeout" },
		{ "dot-handshake-timeout 99999\n", "dot-handshake-timeout" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ds_config c;
		char err[256] = "";

		ds_config_init(&c);
		assert_int_equal(parse(&c, cases[i].text, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].expect))
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].expect);
		ds_config_free(&c);
	}
}

/* Sizes never wrap: a value that does not fit this machine's size_t (4g
 * and more on a 32-bit router) is refused, never cut to its low 32 bits
 * (there, cache-size 4g was a cache of 0 octets, the cache off, and a
 * tcp-output-total of 4g + 64k passed as 64k). */
static void test_sizes_do_not_wrap(void **state)
{
	struct ds_config c;
	char err[256] = "";
	int r;

	ds_config_init(&c);
	r = parse(&c, "cache-size 4g\n", err, sizeof(err));
	if (SIZE_MAX >= (4ull << 30)) {
		assert_int_equal(r, 0);
		assert_true(c.cache_bytes == (4ull << 30));
	} else {
		assert_int_equal(r, -EINVAL);
		if (!strstr(err, "cache-size: '4g' is more than this machine can address"))
			fail_msg("error '%s'", err);
		assert_int_equal(c.cache_bytes, 4u << 20); /* the default, unchanged */
	}
	ds_config_free(&c);

	/* 4g + 64k is above tcp-output-total's range on any machine */
	ds_config_init(&c);
	assert_int_equal(parse(&c, "tcp-output-total 4194368k\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tcp-output-total"));
	assert_int_equal(c.tcp_output_total, 16u << 20);
	ds_config_free(&c);

	/* and the largest value that fits is taken as it is */
	ds_config_init(&c);
	assert_int_equal(parse(&c, SIZE_MAX >= (4ull << 30) ? "tcp-output-total 4g\n" :
				   "tcp-output-total 4194303k\n", err, sizeof(err)), 0);
	assert_true(c.tcp_output_total == (SIZE_MAX >= (4ull << 30) ? 4ull << 30 : 4194303ull << 10));
	ds_config_free(&c);
}

static void test_consistency(void **state)
{
	struct ds_config c;
	char err[256] = "", line[160];

	/* an upstream without TLSA is refused: DANE is the only way */
	ds_config_init(&c);
	assert_int_equal(parse(&c, "upstream a1.zz@127.0.0.1\n", err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no tlsa"));
	ds_config_free(&c);

	/* only PKIX usages: nothing usable */
	ds_config_init(&c);
	snprintf(line, sizeof(line), "upstream a1.zz@127.0.0.1\ntlsa \"1 1 1 %s\"\n", HASH);
	assert_int_equal(parse(&c, line, err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no usable tlsa"));
	ds_config_free(&c);

	/* TLSA without upstream */
	ds_config_init(&c);
	snprintf(line, sizeof(line), "tlsa \"3 1 1 %s\"\n", HASH);
	assert_int_equal(parse(&c, line, err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	ds_config_free(&c);
}

/* resolv-conf-out: next to the control socket unless given; "none";
 * absolute paths only */
static void test_resolv_conf_out(void **state)
{
	struct ds_config c;
	char err[256] = "";

	ds_config_init(&c);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.resolv_conf_out, DOTSTUB_RUNDIR "/resolv.conf");
	ds_config_free(&c);

	ds_config_init(&c);
	assert_int_equal(parse(&c, "control /tmp/x/ctl\n", err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.resolv_conf_out, "/tmp/x/resolv.conf");
	ds_config_free(&c);

	ds_config_init(&c);
	assert_int_equal(parse(&c, "control /tmp/x/ctl\nresolv-conf-out none\n", err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.resolv_conf_out, "none");
	assert_int_equal(ds_config_set(&c, "resolv-conf-out", "/run/x/r.conf", true, err,
				       sizeof(err)), 0);
	assert_string_equal(c.resolv_conf_out, "/run/x/r.conf");
	assert_int_equal(ds_config_set(&c, "resolv-conf-out", "relative/r.conf", true, err,
				       sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "resolv-conf-out"));
	ds_config_free(&c);
}

static void test_resolve1(void **state)
{
	struct ds_config c;
	char err[256] = "";

	ds_config_init(&c);
	assert_false(c.resolve1);
	assert_int_equal(c.dbus_max_calls, 64);
	assert_string_equal(c.resolve1_group, "");
	assert_int_equal(parse(&c, "resolve1 yes\nresolve1-group netdev\ndbus-max-calls 8\n", err,
			       sizeof(err)), 0);
	assert_true(c.resolve1);
	assert_string_equal(c.resolve1_group, "netdev");
	assert_int_equal(c.dbus_max_calls, 8);
	assert_int_equal(ds_config_set(&c, "dbus-max-calls", "0", true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dbus-max-calls"));
	assert_int_equal(ds_config_set(&c, "dbus-max-calls", "4097", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(ds_config_set(&c, "resolve1", "maybe", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(ds_config_set(&c, "resolve1-group", "a b", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(ds_config_set(&c, "resolve1-group", "x/y", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(c.dbus_max_calls, 8);
	assert_string_equal(c.resolve1_group, "netdev");
	ds_config_free(&c);
}

static void test_cmdline_overrides(void **state)
{
	struct ds_config c;
	char err[256] = "";

	ds_config_init(&c);
	assert_int_equal(parse(&c, "listen 127.0.0.1\nlisten 127.0.0.2\nlog-level err\n", err,
			       sizeof(err)), 0);
	assert_int_equal(c.nlisten, 2);
	/* the first command-line listen replaces the file's list, later ones add */
	assert_int_equal(ds_config_set(&c, "listen", "127.0.0.9:5300", true, err, sizeof(err)), 0);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(ds_config_set(&c, "listen", "127.0.0.10", true, err, sizeof(err)), 0);
	assert_int_equal(c.nlisten, 2);
	assert_int_equal(ds_config_set(&c, "log-level", "debug", true, err, sizeof(err)), 0);
	assert_int_equal(c.log_level, 7);
	ds_config_free(&c);
}

static void test_print_roundtrip(void **state)
{
	struct ds_config a, b;
	char err[256] = "", text[1024], *printed = NULL;
	size_t plen = 0;
	FILE *f;

	snprintf(text, sizeof(text),
		 "listen 127.0.0.20:5353\nupstream x1.zz@127.0.0.21:8853\ntlsa \"2 0 1 %s\"\n"
		 "cache-size \"1000 entries\"\nnetwork-resolver 127.0.0.5\n",
		 HASH);
	ds_config_init(&a);
	assert_int_equal(parse(&a, text, err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&a, err, sizeof(err)), 0);
	f = open_memstream(&printed, &plen);
	ds_config_print(&a, f);
	fclose(f);
	ds_config_init(&b);
	if (ds_config_parse(&b, printed, plen, "printed", err, sizeof(err)) < 0)
		fail_msg("printed config does not parse: %s\n%s", err, printed);
	assert_int_equal(ds_config_finish(&b, err, sizeof(err)), 0);
	assert_int_equal(b.nlisten, a.nlisten);
	assert_memory_equal(&b.listen[0], &a.listen[0], sizeof(a.listen[0]));
	assert_string_equal(b.upstream.name, a.upstream.name);
	assert_int_equal(b.upstream.tlsa[0].usage, 2);
	assert_memory_equal(b.upstream.tlsa[0].data, a.upstream.tlsa[0].data, 32);
	assert_int_equal(b.cache_bytes, a.cache_bytes);
	assert_int_equal(b.nnetwork_resolver, 1);
	free(printed);
	ds_config_free(&a);
	ds_config_free(&b);
}

/* serve-dot and its keys: port 853 by default, the command line
 * replacing the file's list, defaults of the limits, what goes together,
 * printed and read back */
static void test_serve_dot(void **state)
{
	struct ds_config c, b;
	char err[256] = "", a[64], *printed = NULL;
	size_t plen = 0;
	FILE *f;

	ds_config_init(&c);
	assert_int_equal(c.dot.naddr, 0);
	assert_int_equal(c.dot.clients, 256);
	assert_int_equal(c.dot.clients_per_address, 32);
	assert_int_equal(c.dot.client_output, 256u << 10);
	assert_int_equal(c.dot.output_total, 16u << 20);
	assert_int_equal(c.dot.client_inflight, 128);
	assert_int_equal(c.dot.idle_timeout_ms, 30000);
	assert_int_equal(c.dot.handshake_timeout_ms, 5000);
	if (!HAVE_DOT_SERVER) {
		/* dot-server=false: serve-dot and publish yes are refused, the
		 * server's other keys (and publish no) are harmless settings */
		assert_int_equal(parse(&c, "serve-dot 192.0.2.1\n", err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "serve-dot: this dotstubd is built without the DoT server"));
		assert_int_equal(parse(&c, "publish yes\n", err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "publish: this dotstubd is built without"));
		assert_int_equal(parse(&c, "publish no\ndot-clients 10\n", err, sizeof(err)), 0);
		assert_int_equal(c.dot.naddr, 0);
		ds_config_free(&c);
		return;
	}
	assert_int_equal(parse(&c, "serve-dot 192.0.2.1\nserve-dot [2001:db8::1]:8853\n"
				   "serve-dot-name Router-1.Example.\ndot-clients 10\n"
				   "dot-idle-timeout 2000\n", err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.dot.naddr, 2);
	ds_sockaddr_format(&c.dot.addr[0], a, sizeof(a));
	assert_string_equal(a, "192.0.2.1:853");
	ds_sockaddr_format(&c.dot.addr[1], a, sizeof(a));
	assert_string_equal(a, "[2001:db8::1]:8853");
	assert_string_equal(c.dot.name, "router-1.example");
	f = open_memstream(&printed, &plen);
	ds_config_print(&c, f);
	fclose(f);
	ds_config_init(&b);
	if (ds_config_parse(&b, printed, plen, "printed", err, sizeof(err)) < 0)
		fail_msg("printed config does not parse: %s\n%s", err, printed);
	assert_int_equal(ds_config_finish(&b, err, sizeof(err)), 0);
	assert_int_equal(b.dot.naddr, 2);
	assert_memory_equal(&b.dot.addr[1], &c.dot.addr[1], sizeof(c.dot.addr[1]));
	assert_string_equal(b.dot.name, c.dot.name);
	assert_int_equal(b.dot.clients, 10);
	assert_int_equal(b.dot.idle_timeout_ms, 2000);
	free(printed);
	ds_config_free(&b);
	/* the first command-line serve-dot replaces the file's list */
	assert_int_equal(ds_config_set(&c, "serve-dot", "127.0.0.9", true, err, sizeof(err)), 0);
	assert_int_equal(c.dot.naddr, 1);
	ds_config_free(&c);

	/* twice, or on a listen address: refused */
	ds_config_init(&c);
	assert_int_equal(parse(&c, "serve-dot 127.0.0.1\nserve-dot 127.0.0.1:853\n", err,
			       sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	ds_config_free(&c);
	ds_config_init(&c);
	assert_int_equal(parse(&c, "listen 127.0.0.1:853\nserve-dot 127.0.0.1\n", err,
			       sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "listen address too"));
	ds_config_free(&c);
	/* a certificate needs its key; a name is for the generated one only */
	ds_config_init(&c);
	assert_int_equal(parse(&c, "serve-dot-cert /etc/x.pem\n", err, sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "go together"));
	assert_int_equal(parse(&c, "serve-dot-key /etc/x.key\nserve-dot-name a.zz\n", err,
			       sizeof(err)), 0);
	assert_int_equal(ds_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "serve-dot-name"));
	ds_config_free(&c);
}

/* access-control lines: parsed into rules, a netmask only once, the
 * command line replacing the file's list, printed normalised */
static void test_access_control(void **state)
{
	struct ds_config c, b;
	char err[256] = "", *printed = NULL;
	size_t plen = 0;
	FILE *f;

	ds_config_init(&c);
	assert_int_equal(parse(&c,
			       "access-control: 10.1.2.3/8 refuse\n"
			       "access-control 192.168.1.0/24 allow   # the LAN\n"
			       "access-control = fd00::5 deny\n",
			       err, sizeof(err)), 0);
	assert_int_equal(c.naccess_control, 3);
	assert_int_equal(c.access_control[0].action, DS_ACL_REFUSE);
	assert_int_equal(c.access_control[0].plen, 8);
	assert_int_equal(c.access_control[2].family, AF_INET6);
	assert_int_equal(c.access_control[2].plen, 128);
	f = open_memstream(&printed, &plen);
	ds_config_print(&c, f);
	fclose(f);
	assert_non_null(strstr(printed, "access-control 10.0.0.0/8 refuse\n"));
	assert_non_null(strstr(printed, "access-control fd00::5/128 deny\n"));
	ds_config_init(&b);
	if (ds_config_parse(&b, printed, plen, "printed", err, sizeof(err)) < 0)
		fail_msg("printed config does not parse: %s\n%s", err, printed);
	assert_int_equal(b.naccess_control, 3);
	assert_memory_equal(b.access_control, c.access_control, 3 * sizeof(c.access_control[0]));
	free(printed);

	/* the same netmask twice, even written otherwise */
	assert_int_equal(parse(&c, "access-control 10.9.9.9/8 allow\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(parse(&c, "access-control 10.0.0.0/8 permit\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "allow, refuse or deny"));
	assert_int_equal(parse(&c, "access-control 10.0.0.0/40 allow\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0..32"));

	/* the command line replaces the file's lines */
	assert_int_equal(ds_config_set(&c, "access-control", "0.0.0.0/0 allow", true, err,
				       sizeof(err)), 0);
	assert_int_equal(c.naccess_control, 1);
	assert_int_equal(c.access_control[0].plen, 0);
	ds_config_free(&c);
	ds_config_free(&b);
}

static void test_load_file(void **state)
{
	struct ds_config c;
	char path[] = "/tmp/dotstub-config-XXXXXX", err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "listen 127.0.0.7\n", 17), 17);
	close(fd);
	ds_config_init(&c);
	assert_int_equal(ds_config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.nlisten, 1);
	unlink(path);
	assert_int_equal(ds_config_load(&c, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	ds_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_default_listen),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_sizes_do_not_wrap),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_resolv_conf_out),
		cmocka_unit_test(test_resolve1),
		cmocka_unit_test(test_cmdline_overrides),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_access_control),
		cmocka_unit_test(test_serve_dot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
