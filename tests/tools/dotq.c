/*
 * dotq -- drive a ds_upstream (the dotstub DNS-over-TLS client) against a
 * real DoT server and check what comes back.  A test tool, not installed.
 *
 *   dotq [options] NAME@ADDR[:PORT]...
 *	-t "U S M HEX"  a TLSA record (repeatable)
 *	-T "U S M HEX"  a record of the second TLSA set (see -u)
 *	-q QNAME        question name (default www.test)
 *	-y TYPE         A, AAAA, TXT or a number (default A)
 *	-n COUNT        bench mode: COUNT queries for nI.bench.test (I < -N),
 *	                each answer checked against A 10.77.(I/256).(I%256)
 *	-N NAMES        number of distinct bench names (default 2000)
 *	-c CONC         at most CONC queries outstanding (default 100)
 *	-r ROUNDS       repeat (default 1), -w MS apart
 *	-w MS           pause between rounds (default 0)
 *	-u ROUND        from round ROUND on, use the -T set (ds_upstream_update)
 *	-R ROUND        call ds_upstream_reset before round ROUND
 *	-P MAX          at most MAX queries pending (max_pending)
 *	-X SEED         torture mode: -n queries, -c at a time; callbacks cancel
 *	                other queries, submit more, reset the upstream and at last
 *	                free it, all from inside callbacks; checks that every
 *	                query gets exactly one callback unless it was cancelled
 *	-i MS -d MS     interval mode: one query every -i ms for -d ms
 *	-I MS           idle timeout (default: the client's)
 *	-o MS           per-attempt query timeout (default: the client's)
 *	-Q              no ACK policy, no TCP_QUICKACK (to measure without it)
 *	-2              allow TLS 1.2
 *	-A AUTH         dane (default), pkix or opportunistic
 *	-C FILE         PKIX: the CA certificates (default: the system's)
 *	-p ADDR         PKIX: an address the certificate must carry too
 *	-v              debug logging to stderr
 *
 * Output (one line each, key=value): "answer ..." for a single query,
 * "round ..." after each round, "interval ..." at the end of interval
 * mode, "status ..." last.  Exit 0 if every query was answered correctly,
 * 1 if not, 2 on usage errors, 3 if ds_upstream_new refused
 * ("new error=ENOKEY" / "EINVAL").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"
#include "dotstub/upstream.h"
#include "dotstub/wire.h"

struct run {
	struct event_base *base;
	struct ds_upstream *u;
	struct ds_upstream_desc desc2;
	bool have_desc2;
	/* what to ask */
	const char *qname;
	uint16_t qtype;
	long count;       /* bench mode if > 0 */
	long names;
	long conc;
	/* progress of one round */
	long submitted, finished, ok, bad;
	long errs[DS_UP_ERR_CANCELLED + 1];
	uint32_t *lat_us;
	long nlat, lat_cap;
	/* interval mode */
	long interval_ms, duration_ms;
	uint64_t start_us;
	long last_fail_ms, first_fail_ms, last_ok_ms;
	bool last_ok;
	long ok_after_fail;
	struct event *tick;
	bool stop_ticks;
};

struct pending {
	struct run *run;
	long index;
	uint64_t t0;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *err_token(enum ds_upstream_err e)
{
	static const char *const t[] = {
		"ok", "timeout", "network", "tls", "auth", "no_tlsa", "overload", "badanswer",
		"cancelled",
	};

	return (unsigned)e < sizeof(t) / sizeof(t[0]) ? t[e] : "unknown";
}

static int parse_type(const char *s)
{
	if (strcasecmp(s, "A") == 0)
		return DNS_TYPE_A;
	if (strcasecmp(s, "AAAA") == 0)
		return DNS_TYPE_AAAA;
	if (strcasecmp(s, "TXT") == 0)
		return DNS_TYPE_TXT;
	if (strcasecmp(s, "TLSA") == 0)
		return DNS_TYPE_TLSA;
	return atoi(s) > 0 && atoi(s) < 65536 ? atoi(s) : -1;
}

/* Print the answer section's data as " A=1.2.3.4 TXT=..." into out; store
 * the first A record in *a (host order) if a is not NULL. */
static int answer_data(const uint8_t *pkt, size_t len, const struct dns_response *r, char *out,
		       size_t outlen, uint32_t *a)
{
	struct dns_reader rd;
	size_t pos = 0;

	out[0] = '\0';
	dns_reader_init(&rd, pkt, len);
	rd.pos = r->question_end;
	for (unsigned i = 0; i < r->ancount; i++) {
		char buf[300];
		uint16_t type, rdlen;
		size_t end;

		dns_skip_name(&rd);
		type = dns_read_u16(&rd);
		(void)dns_read_u16(&rd);
		(void)dns_read_u32(&rd);
		rdlen = dns_read_u16(&rd);
		if (rd.err || rd.len - rd.pos < rdlen)
			return -EBADMSG;
		end = rd.pos + rdlen;
		buf[0] = '\0';
		if (type == DNS_TYPE_A && rdlen == 4) {
			char ip[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, pkt + rd.pos, ip, sizeof(ip));
			snprintf(buf, sizeof(buf), " A=%s", ip);
			if (a != NULL) {
				*a = (uint32_t)pkt[rd.pos] << 24 | (uint32_t)pkt[rd.pos + 1] << 16 |
				     (uint32_t)pkt[rd.pos + 2] << 8 | pkt[rd.pos + 3];
				a = NULL;
			}
		} else if (type == DNS_TYPE_AAAA && rdlen == 16) {
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, pkt + rd.pos, ip, sizeof(ip));
			snprintf(buf, sizeof(buf), " AAAA=%s", ip);
		} else if (type == DNS_TYPE_TXT && rdlen > 0) {
			size_t n = pkt[rd.pos];

			if (n + 1 > rdlen)
				return -EBADMSG;
			snprintf(buf, sizeof(buf), " TXT=%.*s", (int)n, (const char *)pkt + rd.pos + 1);
		} else {
			snprintf(buf, sizeof(buf), " TYPE%u/%u", type, rdlen);
		}
		rd.pos = end;
		if (pos + strlen(buf) < outlen) {
			memcpy(out + pos, buf, strlen(buf) + 1);
			pos += strlen(buf);
		}
	}
	return rd.err;
}

static void submit_next(struct run *run);

/* ---- torture mode ---- */

enum { T_OUT, T_DONE, T_CANCELLED };

struct tq {
	struct ds_upstream_query *h;
	int state;
};

static struct {
	struct run *run;
	struct tq *q;
	long n, cap, done, cancelled, answered, failed, violations, resets;
	long free_at;
	bool freed;
} tort;

static void tort_submit(void);

static void tort_cb(void *arg, enum ds_upstream_err err, const uint8_t *pkt, size_t len,
		    struct dns_response *r)
{
	struct tq *t = arg;
	long roll = random();

	if (t->state != T_OUT) {
		tort.violations++; /* after a cancel, or twice */
		return;
	}
	t->state = T_DONE;
	t->h = NULL;
	tort.done++;
	if (err == DS_UP_OK)
		tort.answered++;
	else
		tort.failed++;
	if (tort.freed)
		return; /* callbacks run by ds_upstream_free itself */
	if (roll % 8 == 0 && tort.n > 0) {
		struct tq *o = &tort.q[random() % tort.n];

		if (o->state == T_OUT && o->h != NULL) {
			ds_upstream_cancel(o->h);
			o->state = T_CANCELLED;
			o->h = NULL;
			tort.cancelled++;
		}
	}
	if (roll % 1499 == 0) {
		tort.resets++;
		ds_upstream_reset(tort.run->u); /* nested callbacks */
	}
	tort_submit();
	if (roll % 3 == 0)
		tort_submit();
	if (tort.done >= tort.free_at && !tort.freed) {
		tort.freed = true;
		ds_upstream_free(tort.run->u); /* from inside a callback */
		event_base_loopbreak(tort.run->base);
	}
}

static void tort_submit(void)
{
	struct run *run = tort.run;
	struct dns_query q;
	struct tq *t;
	char name[64];
	int n;

	if (tort.n >= tort.cap || tort.freed)
		return;
	t = &tort.q[tort.n];
	snprintf(name, sizeof(name), "n%ld.bench.test", tort.n % run->names);
	memset(&q, 0, sizeof(q));
	n = dns_name_from_str(name, q.qname);
	q.qname_len = n > 0 ? (size_t)n : 0;
	q.qtype = DNS_TYPE_A;
	q.qclass = DNS_CLASS_IN;
	q.flags = DNS_FLAG_RD;
	tort.n++;
	t->state = T_OUT;
	t->h = ds_upstream_submit(run->u, &q, tort_cb, t);
	if (t->h == NULL) {
		t->state = T_DONE;
		tort.done++;
		tort.failed++;
	}
}

static int torture(struct run *run, long seed)
{
	long out = 0;

	srandom((unsigned)seed);
	tort.run = run;
	tort.cap = run->count > 0 ? run->count : 1000;
	tort.q = calloc((size_t)tort.cap, sizeof(*tort.q));
	if (tort.q == NULL)
		return 1;
	tort.free_at = tort.cap * 3 / 4;
	for (long i = 0; i < run->conc; i++)
		tort_submit();
	event_base_dispatch(run->base);
	if (!tort.freed) {
		tort.freed = true;
		ds_upstream_free(run->u);
	}
	for (long i = 0; i < tort.n; i++)
		out += tort.q[i].state == T_OUT;
	printf("torture submitted=%ld answered=%ld failed=%ld cancelled=%ld resets=%ld "
	       "outstanding=%ld violations=%ld\n",
	       tort.n, tort.answered, tort.failed, tort.cancelled, tort.resets, out,
	       tort.violations);
	free(tort.q);
	return out == 0 && tort.violations == 0 && tort.answered > 0 ? 0 : 1;
}

static void done_one(struct run *run)
{
	run->finished++;
	if (run->count > 0 && run->submitted < run->count)
		submit_next(run);
	if (run->count > 0 && run->finished == run->count)
		event_base_loopbreak(run->base);
}

static void query_cb(void *arg, enum ds_upstream_err err, const uint8_t *pkt, size_t len,
		     struct dns_response *r)
{
	struct pending *p = arg;
	struct run *run = p->run;
	char data[1024];
	uint32_t a = 0;
	long ms = (long)((now_us() - run->start_us) / 1000u);

	if (run->lat_us != NULL && run->nlat < run->lat_cap)
		run->lat_us[run->nlat++] = (uint32_t)(now_us() - p->t0);
	if (err != DS_UP_OK) {
		run->errs[err]++;
		if (run->interval_ms > 0) {
			if (run->first_fail_ms < 0)
				run->first_fail_ms = ms;
			run->last_fail_ms = ms;
			run->last_ok = false;
			run->ok_after_fail = 0;
		}
		if (run->count == 0 && run->interval_ms == 0)
			printf("answer result=%s\n", err_token(err));
		free(p);
		done_one(run);
		return;
	}
	if (answer_data(pkt, len, r, data, sizeof(data), &a) < 0) {
		run->bad++;
	} else if (run->count > 0) {
		long i = p->index % run->names;
		uint32_t want = (uint32_t)(10u << 24 | 77u << 16 | (uint32_t)(i / 256 % 256) << 8 |
					   (uint32_t)(i % 256));

		if (r->ancount >= 1 && a == want && DNS_RCODE(r->flags) == DNS_RCODE_NOERROR)
			run->ok++;
		else
			run->bad++;
	} else {
		run->ok++;
		if (run->interval_ms == 0)
			printf("answer result=ok rcode=%u ancount=%u%s\n", DNS_RCODE(r->flags),
			       r->ancount, data);
		else {
			run->last_ok = true;
			run->last_ok_ms = ms;
			run->ok_after_fail++;
		}
	}
	free(p);
	done_one(run);
}

static void submit_index(struct run *run, long index, const char *name)
{
	struct dns_query q;
	struct pending *p;
	int n;

	memset(&q, 0, sizeof(q));
	n = dns_name_from_str(name, q.qname);
	if (n < 0) {
		fprintf(stderr, "dotq: bad name %s\n", name);
		exit(2);
	}
	q.qname_len = (size_t)n;
	q.qtype = run->qtype;
	q.qclass = DNS_CLASS_IN;
	q.flags = DNS_FLAG_RD;
	q.udp_size = 512;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		exit(1);
	p->run = run;
	p->index = index;
	p->t0 = now_us();
	run->submitted++;
	if (ds_upstream_submit(run->u, &q, query_cb, p) == NULL) {
		run->errs[DS_UP_ERR_OVERLOAD]++;
		free(p);
		done_one(run);
	}
}

static void submit_next(struct run *run)
{
	char name[64];
	long i = run->submitted;

	snprintf(name, sizeof(name), "n%ld.bench.test", i % run->names);
	submit_index(run, i, name);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void print_status(struct ds_upstream *u, const char *prefix)
{
	struct ds_upstream_status st;

	ds_upstream_get_status(u, &st);
	printf("%s state=%s auth=%s spki=%s addr=%s version=%s resumed=%d matched=%.20s conns=%u connects=%llu "
	       "handshakes=%llu resumptions=%llu queries=%llu answers=%llu timeouts=%llu "
	       "retries=%llu fail_network=%llu fail_tls=%llu fail_auth=%llu rtt_p50_us=%u "
	       "rtt_p99_us=%u backoff_ms=%u keepalive_ms=%u inflight=%u pending=%u "
	       "last_error=\"%s\"\n",
	       prefix, st.state, st.auth, st.spki_sha256[0] ? st.spki_sha256 : "-",
	       st.addr[0] ? st.addr : "-",
	       st.tls_version[0] ? st.tls_version : "-", st.resumed,
	       st.matched_tlsa[0] ? st.matched_tlsa : "-", st.conns,
	       (unsigned long long)st.connects, (unsigned long long)st.handshakes,
	       (unsigned long long)st.resumptions, (unsigned long long)st.queries,
	       (unsigned long long)st.answers, (unsigned long long)st.timeouts,
	       (unsigned long long)st.retries, (unsigned long long)st.fail_network,
	       (unsigned long long)st.fail_tls, (unsigned long long)st.fail_auth, st.rtt_p50_us,
	       st.rtt_p99_us, st.backoff_ms, st.keepalive_ms, st.inflight, st.pending,
	       st.last_error);
}

static void print_round(struct run *run, int round)
{
	struct ds_upstream_status st;
	uint32_t p50 = 0, p99 = 0, max = 0;
	long nerr = 0;

	for (unsigned e = 1; e <= DS_UP_ERR_CANCELLED; e++)
		nerr += run->errs[e];
	if (run->nlat > 0) {
		qsort(run->lat_us, (size_t)run->nlat, sizeof(run->lat_us[0]), cmp_u32);
		p50 = run->lat_us[(run->nlat - 1) / 2];
		p99 = run->lat_us[(run->nlat - 1) * 99 / 100];
		max = run->lat_us[run->nlat - 1];
	}
	ds_upstream_get_status(run->u, &st);
	printf("round=%d sent=%ld ok=%ld bad=%ld err=%ld", round, run->submitted, run->ok,
	       run->bad, nerr);
	for (unsigned e = 1; e <= DS_UP_ERR_CANCELLED; e++)
		if (run->errs[e] > 0)
			printf(" err_%s=%ld", err_token(e), run->errs[e]);
	printf(" p50_us=%u p99_us=%u max_us=%u resumed=%d matched=%.20s conns=%u connects=%llu\n",
	       p50, p99, max, st.resumed, st.matched_tlsa[0] ? st.matched_tlsa : "-", st.conns,
	       (unsigned long long)st.connects);
}

static void sleep_loop(struct run *run, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_base_loopexit(run->base, &tv);
	event_base_dispatch(run->base);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;
	long ms = (long)((now_us() - run->start_us) / 1000u);

	if (ms >= run->duration_ms) {
		event_del(run->tick);
		run->stop_ticks = true;
		/* let the last queries finish */
		if (run->finished == run->submitted)
			event_base_loopbreak(run->base);
		return;
	}
	submit_index(run, run->submitted, run->qname);
}

static void interval_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;

	if (run->stop_ticks && run->finished == run->submitted)
		event_base_loopbreak(run->base);
}

static int add_tlsa(struct ds_upstream_desc *d, const char *text)
{
	struct ds_tlsa t;
	int r = ds_tlsa_parse(text, &t);

	if (r < 0)
		return r;
	r = ds_upstream_desc_add_tlsa(d, &t);
	free(t.data);
	return r;
}

static void usage(void)
{
	fprintf(stderr, "usage: dotq [-t TLSA]... [-T TLSA]... [-q NAME] [-y TYPE] [-n COUNT] "
			"[-N NAMES] [-c CONC] [-r ROUNDS] [-w MS] [-u ROUND] [-R ROUND] [-P MAX] [-X SEED] "
			"[-i MS -d MS] [-I MS] "
			"[-o MS] [-Q] [-2] [-A dane|pkix|opportunistic] [-C CAFILE] [-p ADDR] [-v] "
			"NAME@ADDR[:PORT]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct run run = { .qname = "www.test", .qtype = DNS_TYPE_A, .names = 2000, .conc = 100,
			   .first_fail_ms = -1, .last_fail_ms = -1, .last_ok_ms = -1 };
	struct ds_upstream_desc desc;
	struct ds_upstream_opts o;
	long rounds = 1, wait_ms = 0, update_round = 0, reset_round = 0, seed = 0;
	bool all_ok = true;
	int ch, err = 0, level = LOG_WARNING;
	enum ds_auth auth = DS_AUTH_DANE;
	struct sockaddr_storage pkix_ip;

	memset(&pkix_ip, 0, sizeof(pkix_ip));

	memset(&desc, 0, sizeof(desc));
	memset(&run.desc2, 0, sizeof(run.desc2));
	ds_upstream_opts_default(&o);
	while ((ch = getopt(argc, argv, "t:T:q:y:n:N:c:r:w:u:R:P:X:i:d:I:o:Q2A:C:p:v")) != -1) {
		switch (ch) {
		case 't':
			if (add_tlsa(&desc, optarg) < 0)
				usage();
			break;
		case 'T':
			if (add_tlsa(&run.desc2, optarg) < 0)
				usage();
			run.have_desc2 = true;
			break;
		case 'q':
			run.qname = optarg;
			break;
		case 'y':
			if (parse_type(optarg) < 0)
				usage();
			run.qtype = (uint16_t)parse_type(optarg);
			break;
		case 'n':
			run.count = atol(optarg);
			break;
		case 'N':
			run.names = atol(optarg) > 0 ? atol(optarg) : 1;
			break;
		case 'c':
			run.conc = atol(optarg) > 0 ? atol(optarg) : 1;
			break;
		case 'r':
			rounds = atol(optarg) > 0 ? atol(optarg) : 1;
			break;
		case 'w':
			wait_ms = atol(optarg);
			break;
		case 'u':
			update_round = atol(optarg);
			break;
		case 'R':
			reset_round = atol(optarg);
			break;
		case 'P':
			o.max_pending = (unsigned)atol(optarg);
			break;
		case 'X':
			seed = atol(optarg) > 0 ? atol(optarg) : 1;
			break;
		case 'i':
			run.interval_ms = atol(optarg);
			break;
		case 'd':
			run.duration_ms = atol(optarg);
			break;
		case 'I':
			o.idle_timeout_ms = (unsigned)atol(optarg);
			break;
		case 'o':
			o.query_timeout_ms = (unsigned)atol(optarg);
			break;
		case 'Q':
			o.no_quickack = true;
			break;
		case '2':
			o.allow_tls12 = true;
			break;
		case 'A':
			if (strcmp(optarg, "dane") == 0)
				auth = DS_AUTH_DANE;
			else if (strcmp(optarg, "pkix") == 0)
				auth = DS_AUTH_PKIX;
			else if (strcmp(optarg, "opportunistic") == 0)
				auth = DS_AUTH_OPPORTUNISTIC;
			else
				usage();
			break;
		case 'C':
			o.ca_file = optarg;
			break;
		case 'p':
			if (ds_parse_sockaddr(optarg, 53, &pkix_ip) < 0)
				usage();
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	for (int i = optind; i < argc; i++)
		if (ds_upstream_desc_add(&desc, argv[i]) < 0 ||
		    ds_upstream_desc_add(&run.desc2, argv[i]) < 0)
			usage();
	desc.auth = run.desc2.auth = auth;
	desc.pkix_ip = run.desc2.pkix_ip = pkix_ip;
	ds_log_init("dotq", level, true);
	run.base = event_base_new();
	if (run.base == NULL)
		return 1;
	run.u = ds_upstream_new(run.base, &desc, &o, &err);
	if (run.u == NULL) {
		printf("new error=%s\n", err == -ENOKEY ? "ENOKEY" :
					 err == -EINVAL ? "EINVAL" : strerror(-err));
		event_base_free(run.base);
		ds_upstream_desc_clear(&desc);
		ds_upstream_desc_clear(&run.desc2);
		return 3;
	}
	if (seed > 0) {
		int r = torture(&run, seed);

		event_base_free(run.base);
		ds_upstream_desc_clear(&desc);
		ds_upstream_desc_clear(&run.desc2);
		return r;
	}
	if (run.interval_ms > 0) {
		struct timeval tv = { .tv_sec = run.interval_ms / 1000,
				      .tv_usec = (run.interval_ms % 1000) * 1000 };
		struct timeval tv2 = { .tv_sec = 0, .tv_usec = 50000 };
		struct event *check;

		run.lat_cap = 100000;
		run.lat_us = calloc((size_t)run.lat_cap, sizeof(uint32_t));
		run.start_us = now_us();
		run.tick = event_new(run.base, -1, EV_PERSIST, tick_cb, &run);
		check = event_new(run.base, -1, EV_PERSIST, interval_done_cb, &run);
		event_add(run.tick, &tv);
		event_add(check, &tv2);
		event_base_dispatch(run.base);
		printf("interval sent=%ld ok=%ld fail=%ld first_fail_ms=%ld last_fail_ms=%ld "
		       "last_ok=%d ok_after_last_fail=%ld\n",
		       run.submitted, run.ok, run.submitted - run.ok, run.first_fail_ms,
		       run.last_fail_ms, run.last_ok, run.ok_after_fail);
		all_ok = run.last_ok;
		event_free(check);
		event_free(run.tick);
	} else {
		for (long round = 1; round <= rounds; round++) {
			if (round > 1 && wait_ms > 0)
				sleep_loop(&run, wait_ms);
			if (reset_round > 0 && round == reset_round)
				ds_upstream_reset(run.u);
			if (update_round > 0 && round == update_round) {
				int r = ds_upstream_update(run.u, &run.desc2);

				if (r < 0) {
					printf("update error=%s\n", strerror(-r));
					all_ok = false;
				}
			}
			run.submitted = run.finished = run.ok = run.bad = run.nlat = 0;
			memset(run.errs, 0, sizeof(run.errs));
			run.start_us = now_us();
			if (run.count > 0) {
				free(run.lat_us);
				run.lat_us = calloc((size_t)run.count, sizeof(uint32_t));
				run.lat_cap = run.lat_us != NULL ? run.count : 0;
				for (long i = 0; i < run.conc && run.submitted < run.count; i++)
					submit_next(&run);
			} else {
				run.count = 0;
				submit_index(&run, 0, run.qname);
			}
			if (run.finished < (run.count > 0 ? run.count : 1)) {
				/* single query: stop once it is done */
				while (run.finished < (run.count > 0 ? run.count : 1))
					event_base_loop(run.base, EVLOOP_ONCE);
			}
			print_round(&run, (int)round);
			if (run.ok != (run.count > 0 ? run.count : 1) || run.bad > 0)
				all_ok = false;
		}
	}
	print_status(run.u, "status");
	ds_upstream_free(run.u);
	event_base_free(run.base);
	ds_upstream_desc_clear(&desc);
	ds_upstream_desc_clear(&run.desc2);
	free(run.lat_us);
	return all_ok ? 0 : 1;
}
