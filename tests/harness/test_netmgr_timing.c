/*
 * test_netmgr_timing.c -- the network manager's timing, replayed on a
 * virtual clock: the settle delay after a network change, the retry
 * backoff of discovery, discovery-wait (plain DNS on an unknown network,
 * SERVFAIL where strict), the DANE commit poll, the refresh interval over
 * DoT and the RFC 5011 hold-down.  The manager (stub/netmgr), the policy
 * and the trust store (trust/), the query path (stub/daemon/resolve.c) and
 * the cache are the real ones; the walk job, the netlink watcher and the
 * DoT and plain clients are played by peers.c, and time by vclock.c.
 * Hours and days of timing run in milliseconds, without a sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../unit/testpkt.h"
#include "daemon.h"
#include "dotstub/sockaddr.h"
#include "dotstub/trust.h"
#include "netmgr_status.h"
#include "peers.h"
#include "vclock.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define WAIT_MS 1500
#define REFRESH_S 3600
#define HOLD_DOWN_S (2 * 86400)

static const char FP_TEXT[] =
	"res=192.0.2.53 ssid=- v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01 v4if=eth0 "
	"v4ifmac=02:00:00:00:00:10 v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-";

struct fixture {
	struct ds_config cfg;
	struct ds_daemon d;
	char dir[64];
	/* answers the query path gave */
	int replies;
	uint8_t reply[512];
	size_t reply_len;
};

static struct fixture *F;

static void origin_track(struct ds_request *req)
{
}

static void origin_untrack(struct ds_request *req)
{
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	F->replies++;
	F->reply_len = len < sizeof(F->reply) ? len : sizeof(F->reply);
	memcpy(F->reply, pkt, F->reply_len);
}

static const struct ds_origin_ops ops = { origin_track, origin_untrack, origin_reply };

static int setup_with(void **state, enum trust_unknown_mode unknown)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	char path[128];

	assert_non_null(f);
	F = f;
	vclock_reset(T0);
	peers_reset();
	snprintf(f->dir, sizeof(f->dir), "/tmp/dotstub-timing.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	ds_config_init(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s", f->dir);
	snprintf(path, sizeof(path), "%s/anchors.d", f->dir);
	snprintf(f->cfg.anchors_dir, sizeof(f->cfg.anchors_dir), "%s", path);
	assert_int_equal(ds_config_set(&f->cfg, "network-resolver", "192.0.2.53", true, err,
				       sizeof(err)), 0);
	f->cfg.discovery_wait_ms = WAIT_MS;
	f->cfg.refresh_interval_s = REFRESH_S;
	f->cfg.rfc5011_hold_down_s = HOLD_DOWN_S;
	f->cfg.unknown_network = unknown;
	f->cfg.networkd = DS_NETWORKD_NO; /* the machine's own links stay out */
	assert_int_equal(ds_config_finish(&f->cfg, err, sizeof(err)), 0);
	f->d.cfg = &f->cfg;
	f->d.cache = ds_cache_new(1 << 20);
	assert_int_equal(ds_resolve_init(&f->d), 0);
	assert_int_equal(ds_netmgr_start(&f->d), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, TRUST_UNKNOWN_OPPORTUNISTIC);
}

static int setup_strict(void **state)
{
	return setup_with(state, TRUST_UNKNOWN_STRICT);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ds_netmgr_stop(&f->d);
	ds_netmgr_links_free(&f->d);
	ds_daemon_set_upstream(&f->d, NULL, "none", false);
	ds_resolve_fini(&f->d);
	ds_cache_free(f->d.cache);
	ds_config_free(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The network appears: the netlink watcher reports its fingerprint. */
static void network_appears(void)
{
	struct ds_netfp fp;

	assert_int_equal(ds_netfp_parse(FP_TEXT, &fp), 0);
	peers_netwatch_report(&fp, DS_NETWATCH_INITIAL);
}

static struct disc_result *result(enum trust_discovery kind)
{
	struct disc_result *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	r->ksk_used = -1;
	r->anchor_matched = -1;
	snprintf(r->reason, sizeof(r->reason), "%s", kind == TRUST_DISC_OK ? "" : "scripted");
	return r;
}

static void a_key(struct trust_dnskey *k, uint8_t fill)
{
	memset(k, 0, sizeof(*k));
	k->flags = TRUST_DNSKEY_ZONE | TRUST_DNSKEY_SEP;
	k->protocol = 3;
	k->algorithm = 13;
	k->keylen = 64;
	memset(k->key, fill, 64);
}

/* A validated publication: KSK "old" (and, for a rollover, "new"). */
static struct disc_result *published(bool known_anchor, bool with_new_key)
{
	struct disc_result *r = result(TRUST_DISC_OK);
	struct ds_tlsa t = { 3, 1, 1, 32, NULL };
	uint8_t data[32];

	a_key(&r->ksk[0].key, 0x11);
	r->ksk[0].validates = true;
	r->ksk[0].known = known_anchor ? 0 : -1;
	r->nksk = r->nksk_seen = 1;
	if (with_new_key) {
		a_key(&r->ksk[1].key, 0x22);
		r->ksk[1].known = -1;
		r->nksk = r->nksk_seen = 2;
	}
	r->ksk_used = 0;
	r->anchor_matched = known_anchor ? 0 : -1;
	r->first_use = !known_anchor;
	r->confirmed = true;
	r->dnskey_ttl = 3600;
	snprintf(r->desc.name, sizeof(r->desc.name), "abcd1234efgh.zz");
	assert_int_equal(ds_parse_sockaddr("192.0.2.53", DS_DOT_PORT, &r->desc.addr[0]), 0);
	r->desc.naddr = 1;
	r->desc.type = DS_SERVER_RESOLVER;
	memset(data, 0xab, sizeof(data));
	t.data = data;
	assert_int_equal(ds_upstream_desc_add_tlsa(&r->desc, &t), 0);
	return r;
}

static enum trust_state state_of(uint8_t fill)
{
	struct trust_store *s = ds_netmgr_store(&F->d);
	struct trust_dnskey k;
	const struct trust_anchor *a;

	a_key(&k, fill);
	a = trust_store_lookup(s, DISC_ZONE, &k);
	assert_non_null(a);
	return a->state;
}

/* A query from a client; the answer, if given at once, in F->reply. */
static enum ds_resolve_rc ask(void)
{
	uint8_t pkt[512], out[DNS_MSG_MAX];
	size_t n = tp_query(pkt, sizeof(pkt), 0x1234, DNS_FLAG_RD, "www.example.", DNS_TYPE_A,
			    true, 1232, 0, NULL, 0);
	struct ds_origin o = { .kind = DS_ORIGIN_UDP, .ops = &ops };
	size_t outlen = 0;
	enum ds_resolve_rc rc = ds_resolve(&F->d, pkt, n, &o, out, &outlen);

	if (rc == DS_RESOLVE_ANSWER)
		origin_reply(NULL, out, outlen);
	return rc;
}

/* A query that waits for an upstream. */
static void query(void)
{
	assert_int_equal(ask(), DS_RESOLVE_PENDING);
}

/* A first use: the network appears, its publication is walked, DoT
 * authenticates, the anchor (KSK "0x11") is pinned. */
static void first_use_pinned(void)
{
	network_appears();
	vclock_advance(150);
	peers_walk_finish(0, published(false, false));
	peers.up_handshakes = 1;
	vclock_advance(50);
	assert_int_equal(state_of(0x11), TRUST_STATE_TRUSTED);
}

/* A network change is acted on after the settle delay, not before. */
static void test_settle(void **state)
{
	network_appears();
	assert_int_equal(peers.nwalks, 0);
	vclock_advance(149);
	assert_int_equal(peers.nwalks, 0);
	vclock_advance(1);
	assert_int_equal(peers.nwalks, 1);
	assert_int_equal(peers.walks[0].at_ms, 150);
	assert_string_equal(peers.walks[0].resolver, "192.0.2.53@53");
	assert_int_equal(peers.walks[0].nanchors, 0);
}

/* A resolver that does not answer discovery is walked again with an
 * exponential backoff, 2 s doubling to 60 s; plain DNS meanwhile. */
static void test_retry_backoff(void **state)
{
	static const unsigned delays[] = { 2000, 4000, 8000, 16000, 32000, 60000, 60000 };

	network_appears();
	vclock_advance(150);
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		int walks = peers.nwalks;

		peers_walk_finish(0, result(TRUST_DISC_UNREACHABLE));
		assert_int_equal(peers.plain_created, (int)i + 1);
		vclock_advance(delays[i] - 1);
		assert_int_equal(peers.nwalks, walks);
		vclock_advance(1);
		assert_int_equal(peers.nwalks, walks + 1);
	}
}

/* Queries wait discovery-wait for the walk; then an unknown network in
 * opportunistic mode gets plain DNS while the walk goes on. */
static void test_discovery_wait_plain(void **state)
{
	network_appears();
	vclock_advance(150);
	query();
	vclock_advance(WAIT_MS - 1);
	assert_int_equal(peers.plain_created, 0);
	assert_int_equal(F->replies, 0);
	vclock_advance(1);
	assert_int_equal(peers.plain_created, 1);
	assert_int_equal(peers.plain_submitted, 1);
	assert_int_equal(F->replies, 0);
	assert_true(peers.walk_running); /* its result replaces the plain service */
}

/* ... and in strict mode SERVFAIL (EDE 14) at discovery-wait, never
 * plain DNS. */
static void test_discovery_wait_strict(void **state)
{
	network_appears();
	vclock_advance(150);
	query();
	vclock_advance(WAIT_MS - 1);
	assert_int_equal(F->replies, 0);
	vclock_advance(1);
	assert_int_equal(peers.plain_created, 0);
	assert_int_equal(F->replies, 1);
	assert_int_equal(F->reply[3] & 0xf, DNS_RCODE_SERVFAIL);
}

/* First use: DoT at once, the pin is written only once the DANE handshake
 * succeeded (polled every 50 ms), and the records are refreshed over DoT
 * every refresh-interval. */
static void test_commit_and_refresh(void **state)
{
	network_appears();
	vclock_advance(150);
	peers_walk_finish(0, published(false, false));
	assert_int_equal(peers.up_created, 1);
	assert_string_equal(peers.up_name, "abcd1234efgh.zz");
	vclock_advance(500);
	assert_int_equal(trust_store_count(ds_netmgr_store(&F->d)), 0); /* no handshake yet */
	peers.up_handshakes = 1;
	vclock_advance(50);
	assert_int_equal(state_of(0x11), TRUST_STATE_TRUSTED);
	/* the refresh: over our own listener, with the pinned anchor */
	assert_int_equal(peers.nwalks, 1);
	vclock_advance((uint64_t)REFRESH_S * 1000 - 550 - 1);
	assert_int_equal(peers.nwalks, 1);
	vclock_advance(1);
	assert_int_equal(peers.nwalks, 2);
	assert_string_equal(peers.walks[1].resolver, "127.0.0.53@53");
	assert_int_equal(peers.walks[1].nanchors, 1);
}

/* RFC 5011: a new KSK signed by the trusted one is held down for
 * rfc5011-hold-down, seen at every refresh, and trusted only after. */
static void test_rfc5011_hold_down(void **state)
{
	uint64_t added_at;

	first_use_pinned();
	vclock_advance(vclock_next()); /* the first refresh starts */
	assert_true(peers.walk_running);
	peers_walk_finish(0, published(true, true));
	added_at = vclock_now_ms();
	assert_int_equal(state_of(0x22), TRUST_STATE_ADD_PENDING);
	/* every refresh before the hold-down ends sees it, and keeps it pending */
	for (;;) {
		uint64_t next = vclock_next();
		assert_true(next <= (uint64_t)REFRESH_S * 1000);
		vclock_advance(next);
		if (!peers.walk_running)
			continue; /* another timer */
		peers_walk_finish(0, published(true, true));
		if (vclock_now_ms() - added_at >= (uint64_t)HOLD_DOWN_S * 1000)
			break;
		assert_int_equal(state_of(0x22), TRUST_STATE_ADD_PENDING);
	}
	assert_int_equal(state_of(0x22), TRUST_STATE_TRUSTED);
	assert_int_equal(state_of(0x11), TRUST_STATE_TRUSTED);
	/* two days of hourly refreshes */
	assert_true(peers.nwalks >= HOLD_DOWN_S / REFRESH_S);
}

/* The network changes to one that looks new (another gateway address and
 * MAC) but whose resolver has the pinned resolver's address. */
static const char LOOKALIKE_TEXT[] =
	"res=192.0.2.53 ssid=- v4gw=10.99.0.1 v4gwmac=02:00:00:00:00:99 v4if=eth0 "
	"v4ifmac=02:00:00:00:00:10 v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-";

static void pinned_then_lookalike(void)
{
	struct ds_netfp fp;

	first_use_pinned();
	assert_int_equal(ds_netfp_parse(LOOKALIKE_TEXT, &fp), 0);
	peers_netwatch_report(&fp, DS_NETWATCH_CHANGED);
}

/* ... and it is the pinned resolver (DANE authenticates it): DoT at once,
 * strict, without a walk. */
static void test_lookalike_is_pinned(void **state)
{
	struct ds_netmgr_status st;

	pinned_then_lookalike();
	vclock_advance(150);
	assert_int_equal(peers.up_created, 2); /* the DoT attempt to the pinned resolver */
	vclock_advance(50);
	assert_int_equal(peers.up_created, 3); /* ... authenticated: now the upstream */
	assert_int_equal(peers.nwalks, 1);     /* no discovery on this network */
	ds_netmgr_get_status(&F->d, &st);
	assert_string_equal(st.state, "dot");
	assert_false(st.alert);
}

/* ... or nothing answers DoT there: after the attempt's 2 s, a walk; a
 * network that publishes nothing then gets plain DNS only with an ALERT
 * and the reason in status (strict mode would answer SERVFAIL). */
static void test_lookalike_is_not(void **state)
{
	struct ds_netmgr_status st;

	pinned_then_lookalike();
	peers.up_handshakes = 0;
	vclock_advance(150);
	assert_int_equal(peers.up_created, 2);
	vclock_advance(1950);
	assert_int_equal(peers.nwalks, 1);
	vclock_advance(50);
	assert_int_equal(peers.nwalks, 2);
	peers_walk_finish(0, result(TRUST_DISC_NOT_PUBLISHED));
	assert_int_equal(peers.plain_created, 1);
	ds_netmgr_get_status(&F->d, &st);
	assert_true(st.alert);
	assert_non_null(strstr(st.reason, "resolver address of pinned abcd1234efgh.zz, DoT failed"));
	assert_non_null(strstr(st.reason, "looks like a new network"));
}

/* A known network whose resolver was re-keyed (same fingerprint, new key
 * and certificate): DoT from the store fails DANE, the network is
 * walked again, and the different anchor is refused with an ALERT and kept
 * pending for "dotctl trust approve". */
static void test_rekeyed_known_network(void **state)
{
	struct ds_netmgr_status st;
	struct ds_netfp fp;
	struct disc_result *r;

	first_use_pinned();
	/* the same network again (a restart would look the same): from the store */
	assert_int_equal(ds_netfp_parse(FP_TEXT, &fp), 0);
	peers_netwatch_report(&fp, DS_NETWATCH_CHANGED);
	vclock_advance(150);
	assert_int_equal(peers.up_created, 2);
	assert_int_equal(peers.nwalks, 1);
	vclock_advance(2000); /* it authenticates: nothing happens */
	assert_int_equal(peers.nwalks, 1);
	peers.up_fail_auth = 1; /* a certificate that does not match */
	vclock_advance(499);
	assert_int_equal(peers.nwalks, 1);
	vclock_advance(1);
	assert_int_equal(peers.nwalks, 2);
	assert_int_equal(peers.walks[1].nanchors, 1);
	r = result(TRUST_DISC_ANCHOR_MISMATCH);
	a_key(&r->ksk[0].key, 0x33);
	r->nksk = r->nksk_seen = 1;
	peers_walk_finish(0, r);
	ds_netmgr_get_status(&F->d, &st);
	assert_string_equal(st.state, "refused");
	assert_true(st.alert);
	assert_int_equal(state_of(0x33), TRUST_STATE_PENDING);
	assert_int_equal(state_of(0x11), TRUST_STATE_TRUSTED);
}

/* No route: queries get SERVFAIL (EDE 14) at once, they do not wait. */
static void test_no_route_answers_at_once(void **state)
{
	struct ds_netfp fp;

	ds_netfp_init(&fp);
	peers_netwatch_report(&fp, DS_NETWATCH_INITIAL);
	vclock_advance(150);
	assert_int_equal(ask(), DS_RESOLVE_ANSWER);
	assert_int_equal(F->replies, 1);
	assert_int_equal(F->reply[3] & 0xf, DNS_RCODE_SERVFAIL);
}

/* The netlink watcher's debounce window on the same clock: a burst is
 * reported once no event came for the window, and at the latest 1.5
 * windows after its first event, however long the trickle goes on. */
static int debounce_fired;
static uint64_t debounce_at;

static void debounce_cb(void *arg)
{
	debounce_fired++;
	debounce_at = vclock_now_ms();
}

static void debounce_event(struct ds_timer *t, uint64_t *burst)
{
	ds_timer_arm_ms(t, ds_debounce_delay(burst, ds_timer_armed(t), vclock_now_ms(), 300));
}

static void test_debounce(void **state)
{
	struct ds_timer *t = ds_timer_new(NULL, debounce_cb, NULL);
	uint64_t burst = 0;

	vclock_reset(T0);
	/* one event: reported 300 ms later */
	debounce_event(t, &burst);
	vclock_advance(299);
	assert_int_equal(debounce_fired, 0);
	vclock_advance(1);
	assert_int_equal(debounce_fired, 1);
	assert_int_equal(debounce_at, 300);
	/* an event every 100 ms for a second, from 300 ms: never held longer
	 * than 450 ms -- reported at 750, and the burst from 800 at 1250 */
	for (int i = 0; i < 10; i++) {
		debounce_event(t, &burst);
		vclock_advance(100);
		if (i == 4) {
			assert_int_equal(debounce_fired, 2);
			assert_int_equal(debounce_at, 750);
		}
	}
	assert_int_equal(debounce_fired, 3);
	assert_int_equal(debounce_at, 1250);
	/* two events 250 ms apart: the window would end at 550, the cap is 450 */
	vclock_advance(vclock_next() == UINT64_MAX ? 0 : vclock_next());
	debounce_fired = 0;
	{
		uint64_t start = vclock_now_ms();
		debounce_event(t, &burst);
		vclock_advance(250);
		debounce_event(t, &burst);
		vclock_advance(1000);
		assert_int_equal(debounce_fired, 1);
		assert_int_equal(debounce_at, start + 450);
	}
	ds_timer_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_wait_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_wait_strict, setup_strict, teardown),
		cmocka_unit_test_setup_teardown(test_commit_and_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc5011_hold_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookalike_is_pinned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookalike_is_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekeyed_known_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_route_answers_at_once, setup, teardown),
		cmocka_unit_test(test_debounce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
