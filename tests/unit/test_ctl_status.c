/*
 * test_ctl_status.c -- dotctl's status JSON parser (ctl/json.c: strict
 * grammar, escapes, UTF-8, limits) and the text view rendered from the
 * daemon's status JSON (ctl/status_text.c: the lines the integration tests
 * and the demo look for, unknown members shown generically, control
 * characters neutralised, malformed answers refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "status_text.h"

static struct cj_value *parse(const char *s)
{
	char err[128];

	return cj_parse(s, strlen(s), err, sizeof(err));
}

/* ------------------------------------------------------------- parser */

static void test_parse_values(void **state)
{
	const char *doc = " {\"s\": \"x\", \"n\": 12, \"neg\": -1.5e3, \"t\": true, \"f\": false,"
			  " \"z\": null, \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}} \n";
	struct cj_value *v = parse(doc), *a, *m;
	const char *s;
	uint64_t u;
	bool b;

	assert_non_null(v);
	assert_int_equal(v->type, CJ_OBJECT);
	assert_int_equal(v->count, 8);
	assert_true(cj_get_str(v, "s", &s));
	assert_string_equal(s, "x");
	assert_true(cj_get_u64(v, "n", &u));
	assert_int_equal(u, 12);
	assert_false(cj_get_u64(v, "neg", &u));   /* not a non-negative integer */
	m = cj_get(v, "neg");
	assert_non_null(m);
	assert_int_equal(m->type, CJ_NUMBER);
	assert_string_equal(m->text, "-1.5e3");  /* kept as written */
	assert_false(m->used);                    /* a failed typed lookup does not mark */
	assert_true(cj_get_bool(v, "t", &b) && b);
	assert_true(cj_get_bool(v, "f", &b) && !b);
	assert_int_equal(cj_get(v, "z")->type, CJ_NULL);
	assert_false(cj_get_str(v, "n", &s));     /* wrong type */
	assert_null(cj_get(v, "missing"));
	a = cj_get(v, "a");
	assert_int_equal(a->type, CJ_ARRAY);
	assert_int_equal(a->count, 3);
	assert_int_equal(a->child->next->type, CJ_ARRAY);
	assert_int_equal(a->child->next->next->type, CJ_OBJECT);
	assert_true(cj_get_str(cj_get(v, "o"), "k", &s));
	assert_string_equal(s, "v");
	assert_true(cj_get(v, "s")->used);
	cj_free(v);

	/* scalars at the top are JSON too */
	v = parse("\"top\"");
	assert_non_null(v);
	assert_string_equal(v->text, "top");
	cj_free(v);
	v = parse("0");
	assert_non_null(v);
	cj_free(v);
}

static void test_parse_u64(void **state)
{
	struct cj_value *v = parse("[18446744073709551615, 18446744073709551616, 0, 1.0, 1e2]");
	const struct cj_value *e = v->child;
	uint64_t u = 7;

	assert_true(cj_u64(e, &u));
	assert_true(u == UINT64_MAX);
	assert_false(cj_u64(e->next, &u));        /* overflows */
	assert_true(cj_u64(e->next->next, &u));
	assert_int_equal(u, 0);
	assert_false(cj_u64(e->next->next->next, &u));
	assert_false(cj_u64(e->next->next->next->next, &u));
	cj_free(v);
}

static void test_parse_escapes(void **state)
{
	struct cj_value *v;

	v = parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
	assert_non_null(v);
	assert_string_equal(v->text, "q\" b\\ s/ \b\f\n\r\t");
	cj_free(v);
	/* \u: one, two and three octets of UTF-8, and a surrogate pair */
	v = parse("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"");
	assert_non_null(v);
	assert_string_equal(v->text, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	cj_free(v);
	/* what the daemon's ds_json_str writes for a control character */
	v = parse("\"a\\u001bb\"");
	assert_non_null(v);
	assert_string_equal(v->text, "a\x1b" "b");
	cj_free(v);
	/* raw UTF-8 is kept */
	v = parse("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
	assert_non_null(v);
	assert_string_equal(v->text, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	cj_free(v);
	/* escaped member names */
	v = parse("{\"a\\u0062\": 1}");
	assert_non_null(v);
	assert_non_null(cj_get(v, "ab"));
	cj_free(v);
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[", "{\"a\":1,}", "[1,]", "[,1]", "{'a':1}", "{a:1}",
		"{\"a\" 1}", "{\"a\":}", "{\"a\"}", "[1 2]", "tru", "nul", "True", "NaN",
		"Infinity", "01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10",
		"\"abc", "\"a\x01\"", "\"\t\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
		"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
		"\"\\u0000\"", "\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "{} x", "{}{}", "[] ]",
		"{\"a\":1,\"a\":2}", "// c\n{}", "/* c */ {}", "[1]\x00",
	};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]) + (i == sizeof(bad) / sizeof(bad[0]) - 1);
		struct cj_value *v = cj_parse(bad[i], len, err, sizeof(err));
		if (v)
			fail_msg("accepted malformed input #%zu: %s", i, bad[i]);
		assert_true(strncmp(err, "offset ", 7) == 0);
	}
	/* the error says what and where */
	assert_null(cj_parse("{\"a\": 1,}", 9, err, sizeof(err)));
	assert_string_equal(err, "offset 8: expected a member name");
	assert_null(cj_parse("{\"a\":1,\"a\":2}", 13, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate member \"a\""));
	/* no message buffer is fine */
	assert_null(cj_parse("[", 1, NULL, 0));
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);

	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[2 * depth - 1 - i] = ']';
	}
	s[2 * depth] = '\0';
	return s;
}

/* "[0,0,...,0]" with k elements */
static char *array_of(int k, size_t *len)
{
	char *s = malloc((size_t)k * 2 + 2);
	size_t n = 0;

	s[n++] = '[';
	for (int i = 0; i < k; i++) {
		s[n++] = '0';
		s[n++] = ',';
	}
	s[n - 1] = ']';
	s[n] = '\0';
	*len = n;
	return s;
}

static void test_parse_limits(void **state)
{
	char err[128], *s;
	struct cj_value *v;
	size_t n;

	/* depth */
	s = nested(CJ_MAX_DEPTH);
	v = parse(s);
	assert_non_null(v);
	cj_free(v);
	free(s);
	s = nested(CJ_MAX_DEPTH + 1);
	assert_null(cj_parse(s, strlen(s), err, sizeof(err)));
	assert_non_null(strstr(err, "nested deeper than"));
	free(s);
	s = nested(200000);   /* no stack overflow: refused at the bound */
	assert_null(cj_parse(s, strlen(s), err, sizeof(err)));
	free(s);

	/* number of values: an array and its elements */
	s = array_of(CJ_MAX_VALUES - 1, &n);     /* CJ_MAX_VALUES values in all */
	v = cj_parse(s, n, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(v->count, CJ_MAX_VALUES - 1);
	cj_free(v);
	free(s);
	s = array_of(CJ_MAX_VALUES, &n);
	assert_null(cj_parse(s, n, err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
	free(s);

	/* size */
	n = CJ_MAX_INPUT + 1;
	s = malloc(n);
	memset(s, ' ', n);
	s[0] = '0';
	assert_null(cj_parse(s, n, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than"));
	v = cj_parse(s, n - 1, err, sizeof(err));   /* the bound itself is fine */
	assert_non_null(v);
	cj_free(v);
	free(s);
}

/* ------------------------------------------------------------ renderer */

/* The shape stub/daemon/status.c writes (DoT upstream, network manager). */
static const char status_dot[] =
	"{\"version\": \"0.1.0\", \"uptime_s\": 3725, \"listen\": [\"127.0.0.53:53\", \"[::1]:53\"], "
	"\"tcp_clients\": 2, \"upstream\": {\"name\": \"abc.zz\", \"source\": \"known network\", "
	"\"state\": \"ready\", \"address\": \"[fd79::1]:853\", \"tls_version\": \"TLSv1.3\", "
	"\"cipher\": \"TLS_AES_256_GCM_SHA384\", \"matched_tlsa\": \"3 1 1 ab12cd34\", "
	"\"resumed\": true, \"conns\": 1, \"inflight\": 0, \"waiting\": 0, \"connects\": 3, "
	"\"handshakes\": 3, \"resumptions\": 2, \"queries\": 10, \"answers\": 9, \"timeouts\": 1, "
	"\"retries\": 1, \"fail_network\": 0, \"fail_tls\": 0, \"fail_auth\": 0, "
	"\"rtt_p50_us\": 1250, \"rtt_p99_us\": 20000, \"backoff_ms\": 0, \"keepalive_ms\": 4000, "
	"\"last_error\": \"\"}, \"not_ready\": \"\", "
	"\"network\": {\"id\": \"2ed6b476bddb84bd\", \"fingerprint\": \"res=10.77.0.53 "
	"v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01\", \"match\": \"exact\", \"known\": true, "
	"\"changes\": 1}, "
	"\"discovery\": {\"state\": \"dot\", \"reason\": \"known network\", \"resolvers\": "
	"\"10.77.0.53@53\", \"upstream\": \"abc.zz\", \"from_store\": true, \"alert\": false, "
	"\"anchor\": {\"tag\": 12345, \"algorithm\": 13, \"sha256\": "
	"\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}, "
	"\"last_walk\": \"ok: abc.zz\", \"forwarder_upstreams\": [{\"upstream\": \"up.zz\"}], "
	"\"walks\": 1, \"refreshes\": 2, \"refresh_failures\": 0, \"last_refresh\": \"ok\", "
	"\"tofu\": \"auto\", \"unknown_network\": \"strict\"}, "
	"\"counters\": {\"queries\": 12, \"queries_udp\": 11, \"queries_tcp\": 1, "
	"\"cache_hits\": 2, \"upstream_answers\": 9, \"local_answers\": 1, "
	"\"servfail_upstream\": 1, \"servfail_not_ready\": 0, \"overload\": 0, \"formerr\": 0, "
	"\"notimp\": 0, \"dropped\": 1, \"truncated\": 0, \"servfail_by_error\": {\"timeout\": 1, "
	"\"tls\": 0}}, "
	"\"cache\": {\"entries\": 5, \"bytes\": 2048, \"max_bytes\": 4194304, \"hits\": 2, "
	"\"misses\": 7, \"evictions\": 0, \"lookups\": 9, \"inserts\": 5, \"expired\": 1}}\n";

static const char text_dot[] =
	"dotstubd 0.1.0, up 1h02m\n"
	"listen:     127.0.0.53:53, [::1]:53 (udp+tcp), 2 tcp clients\n"
	"upstream:   abc.zz (from known network)\n"
	"  state:    ready to [fd79::1]:853\n"
	"  tls:      TLSv1.3 TLS_AES_256_GCM_SHA384, resumed session\n"
	"  auth:     DANE, TLSA 3 1 1 ab12cd34\n"
	"  conns:    1 open, 0 in flight, 0 waiting; 3 connects, 3 handshakes, 2 resumed\n"
	"  queries:  10 sent, 9 answered\n"
	"  keepalive: 4000 ms (server)\n"
	"  rtt:      p50 1.25 ms, p99 20.00 ms\n"
	"  failures: network 0, tls 0, dane 0, timeouts 1, retries 1\n"
	"network:    2ed6b476bddb84bd, known\n"
	"  fingerprint: res=10.77.0.53 v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01\n"
	"  resolvers: 10.77.0.53@53\n"
	"  changes:  1\n"
	"discovery:  dot -- known network\n"
	"  chosen:   abc.zz\n"
	"  anchor:   resolver-name.arpa key tag 12345 alg 13 sha256 0011223344556677..."
	" (known network, from the store)\n"
	"  last walk: ok: abc.zz\n"
	"  forwarder upstream: up.zz\n"
	"  refresh:  2 over DoT, 0 failed; last: ok\n"
	"  policy:   tofu auto, unknown-network strict\n"
	"  walks:    1\n"
	"queries:    12 (udp 11, tcp 1); cache hits 2, upstream answers 9, local 1\n"
	"errors:     servfail upstream 1, not ready 0, overload 0, formerr 0, notimp 0, "
	"dropped 1, truncated 0\n"
	"  servfail by upstream error: timeout 1, tls 0\n"
	"cache:      5 entries, 2048 of 4194304 bytes, 0 evictions\n"
	"  lookups:  9: 2 hits, 7 misses; 5 inserts, 1 expired\n";

/* render json; returns the text (free it) or NULL with err */
static char *render(int (*fn)(FILE *, const char *, size_t, char *, size_t), const char *json,
		    char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	assert_non_null(f);
	r = fn(f, json, strlen(json), err, errlen);
	fclose(f);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *status(const char *json)
{
	char err[160];
	char *t = render(ctl_status_render, json, err, sizeof(err));

	if (!t)
		fail_msg("render failed: %s", err);
	return t;
}

static void test_render_dot(void **state)
{
	char *t = status(status_dot);

	assert_string_equal(t, text_dot);
	free(t);
}

/* what tests/integration and scripts/test.sh grep for */
static void test_render_grepped_lines(void **state)
{
	char *t = status(status_dot);

	assert_non_null(strstr(t, "upstream:   abc.zz (from "));
	assert_non_null(strstr(t, "auth:     DANE, TLSA 3 1 1"));
	assert_non_null(strstr(t, "TLSv1.3"));
	assert_non_null(strstr(t, "dropped 1,"));
	assert_non_null(strstr(t, "known network"));
	assert_non_null(strstr(t, "forwarder upstream: up.zz"));
	assert_non_null(strstr(t, "refresh:"));
	assert_non_null(strstr(t, "ready to [fd79::1]:853"));
	assert_non_null(strstr(t, "v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01"));
	free(t);
}

static void test_render_plain_and_refused(void **state)
{
	static const char json[] =
		"{\"version\": \"0.1.0\", \"uptime_s\": 59, \"listen\": [\"127.0.0.53:53\"], "
		"\"tcp_clients\": 0, \"upstream\": {\"plain\": true, \"address\": \"127.0.0.89:53\", "
		"\"queries\": 3, \"answers\": 3, \"timeouts\": 0, \"tcp_retries\": 1, \"errors\": 0, "
		"\"inflight\": 0}, \"not_ready\": \"\", \"network\": {\"id\": \"x\", \"fingerprint\": "
		"\"\", \"match\": \"impostor\", \"known\": true, \"changes\": 0}, \"discovery\": "
		"{\"state\": \"refused\", \"reason\": \"a changed key\", \"resolvers\": \"\", "
		"\"alert\": true, \"last_walk\": \"bogus: not-published\", \"refreshes\": 1, "
		"\"refresh_failures\": 1, \"last_refresh\": \"bogus\", \"tofu\": \"ask\", "
		"\"unknown_network\": \"opportunistic\"}, \"counters\": {}, \"cache\": null}";
	char *t = status(json);

	assert_non_null(strstr(t, "dotstubd 0.1.0, up 0m59s\n"));
	assert_non_null(strstr(t, "upstream:   PLAIN DNS to 127.0.0.89:53 (opportunistic, "
				  "unauthenticated)\n"));
	assert_non_null(strstr(t, ", 1 retried over TCP, "));
	assert_non_null(strstr(t, "network:    x, known\n  match:    impostor\n"));
	assert_null(strstr(t, "fingerprint:"));
	assert_non_null(strstr(t, "  resolvers: none\n"));
	assert_non_null(strstr(t, "discovery:  refused -- a changed key\n"));
	assert_non_null(strstr(t, "  ALERT:    see the log"));
	assert_non_null(strstr(t, "not-published"));
	assert_non_null(strstr(t, "  refresh:  1 over DoT, 1 failed; last: bogus\n"));
	assert_non_null(strstr(t, "  policy:   tofu ask, unknown-network opportunistic\n"));
	assert_non_null(strstr(t, "cache:      off\n"));
	free(t);
}

static void test_render_static_none(void **state)
{
	/* no upstream, no network manager; an older daemon's answer misses
	 * members: the view still renders */
	static const char json[] =
		"{\"version\": \"0.0.9\", \"uptime_s\": 90061, \"upstream\": null, "
		"\"not_ready\": \"waiting for discovery\", \"discovery\": null}";
	char *t = status(json);

	assert_non_null(strstr(t, "dotstubd 0.0.9, up 1d01h\n"));
	assert_non_null(strstr(t, "upstream:   none (queries get SERVFAIL: waiting for "
				  "discovery)\n"));
	assert_null(strstr(t, "network:"));
	assert_null(strstr(t, "discovery:"));
	free(t);
}

/* The TCP listener's limits at work show on the listen line. */
static void test_render_tcp_limits(void **state)
{
	static const char json[] =
		"{\"version\": \"0.1.0\", \"uptime_s\": 5, \"listen\": [\"127.0.0.53:53\"], "
		"\"tcp_clients\": 256, \"tcp_output\": 1048577, \"tcp_evicted\": 300, "
		"\"tcp_refused\": 2, \"upstream\": null, \"discovery\": null}";
	char *t = status(json);

	assert_non_null(strstr(t, "listen:     127.0.0.53:53 (udp+tcp), 256 tcp clients, 1025 KiB "
				  "of answers buffered; 300 closed by limits, 2 refused\n"));
	assert_null(strstr(t, "tcp_evicted"));
	free(t);
}

/* Access control: where the rules come from, the counters, the rules. */
static void test_render_access(void **state)
{
	static const char json[] =
		"{\"version\": \"0.1.0\", \"uptime_s\": 5, \"listen\": [\"10.77.0.1:53\"], "
		"\"access_control\": {\"source\": \"default\", \"rules\": [\"127.0.0.0/8 allow\", "
		"\"10.77.0.0/24 allow\", \"::1/128 allow\"], \"refused\": 4, \"denied\": 1}, "
		"\"upstream\": null, \"discovery\": null}";
	char *t = status(json);

	assert_non_null(strstr(t, "(udp+tcp), 0 tcp clients\n"
				  "access:     default; refused 4, denied 1\n"
				  "  rules:    127.0.0.0/8 allow, 10.77.0.0/24 allow, ::1/128 allow\n"
				  "upstream:"));
	assert_null(strstr(t, "access_control"));
	free(t);
	/* a daemon without it (null, or older): nothing */
	t = status("{\"version\": \"1\", \"uptime_s\": 1, \"access_control\": null}");
	assert_null(strstr(t, "access"));
	free(t);
}

/* Router advertisements: the counters on one line; null: no line. */
static void test_render_ra(void **state)
{
	char *t = status("{\"version\": \"1\", \"uptime_s\": 1, \"router_advertisements\": "
			 "{\"received\": 7, \"ignored\": 2, \"malformed\": 1, "
			 "\"designations\": 1}}");

	assert_non_null(strstr(t, "router ads: 7 read, 2 ignored (not from a router on the "
				  "link), 1 with a malformed DNR option; 1 DNR designations in "
				  "force\n"));
	assert_null(strstr(t, "router_advertisements"));
	free(t);
	t = status("{\"version\": \"1\", \"uptime_s\": 1, \"router_advertisements\": null}");
	assert_null(strstr(t, "router"));
	free(t);
}

/* A member the renderer does not know still shows, in its section. */
static void test_render_unknown_members(void **state)
{
	static const char json[] =
		"{\"version\": \"1\", \"uptime_s\": 1, \"upstream\": {\"name\": \"n\", "
		"\"new_field\": \"hello\", \"conns\": \"many\"}, \"new_top\": 42, "
		"\"new_flag\": true, \"new_list\": [\"a\", \"b\"], \"new_obj\": {\"x\": 1, "
		"\"deep\": {\"y\": null}}, \"new_objs\": [{\"k\": \"v\"}], \"empty\": [], "
		"\"blank\": \"\"}";
	char *t = status(json);

	assert_non_null(strstr(t, "\n  new_field: hello\n"));
	assert_non_null(strstr(t, "\n  conns:    many\n"));   /* not a number: shown as is */
	assert_non_null(strstr(t, "\nnew_top:    42\n"));
	assert_non_null(strstr(t, "\nnew_flag:   yes\n"));
	assert_non_null(strstr(t, "\nnew_list:   a, b\n"));
	/* null is "none", an empty string "-" */
	assert_non_null(strstr(t, "\nnew_obj:    \n  x:        1\n  deep:     \n    y:      none\n"));
	assert_non_null(strstr(t, "\nblank:      -\n"));
	assert_non_null(strstr(t, "\nnew_objs:   \n  - \n    k:      v\n"));
	assert_non_null(strstr(t, "\nempty:      none\n"));
	/* each once: the known members are not repeated */
	assert_null(strstr(strstr(t, "new_top") + 1, "new_top"));
	assert_null(strstr(t, "version:"));
	free(t);
}

static void test_render_sanitizes(void **state)
{
	static const char json[] =
		"{\"version\": \"1\", \"uptime_s\": 1, \"upstream\": {\"name\": "
		"\"evil\\u001b[2J\\r\\n\", \"last_error\": \"x\\u007fy\"}, \"k\\u0007\": \"\\t\"}";
	char *t = status(json);

	assert_non_null(strstr(t, "upstream:   evil?[2J?? (from )\n"));
	assert_non_null(strstr(t, "last error: x?y\n"));
	assert_non_null(strstr(t, "\nk?:         ?\n"));
	for (const char *p = t; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	free(t);
}

static void test_render_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"", "ok\nupstream: x", "[1, 2]", "\"status\"", "{\"version\": \"1\",}",
		"{\"version\": \"1\"} trailing",
	};
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(render(ctl_status_render, bad[i], err, sizeof(err)));
		assert_true(err[0] != '\0');
		assert_null(render(ctl_network_render, bad[i], err, sizeof(err)));
	}
	assert_null(render(ctl_status_render, "[1]", err, sizeof(err)));
	assert_string_equal(err, "not a JSON object");
}

static void test_render_network(void **state)
{
	char err[160], *t;

	t = render(ctl_network_render, "{\"network\": {\"id\": \"x\", \"fingerprint\": \"res=1 "
		   "v4gw=2\"}, \"discovery\": {}}", err, sizeof(err));
	assert_string_equal(t, "res=1 v4gw=2\n");
	free(t);
	t = render(ctl_network_render, "{\"network\": {\"id\": \"x\", \"fingerprint\": \"\"}, "
		   "\"discovery\": {}}", err, sizeof(err));
	assert_string_equal(t, "(no fingerprint yet)\n");
	free(t);
	t = render(ctl_network_render, "{\"discovery\": null}", err, sizeof(err));
	assert_string_equal(t, "no network awareness: a static upstream is configured\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_render_dot),
		cmocka_unit_test(test_render_grepped_lines),
		cmocka_unit_test(test_render_plain_and_refused),
		cmocka_unit_test(test_render_static_none),
		cmocka_unit_test(test_render_tcp_limits),
		cmocka_unit_test(test_render_access),
		cmocka_unit_test(test_render_ra),
		cmocka_unit_test(test_render_unknown_members),
		cmocka_unit_test(test_render_sanitizes),
		cmocka_unit_test(test_render_refuses_malformed),
		cmocka_unit_test(test_render_network),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
