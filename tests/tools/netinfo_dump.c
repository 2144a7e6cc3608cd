/*
 * netinfo_dump -- print the network fingerprint of the current network
 * namespace, or watch it.
 *
 *   netinfo_dump [options]            one line: "id=ID TEXT"
 *   netinfo_dump --watch [options]    one line per report:
 *       "TIME FLAGS ID match=V agree=P differ=P impostor=y|n TEXT"
 *     TIME is CLOCK_REALTIME seconds with microseconds; FLAGS is
 *     initial/changed/bounced/resync joined by ','; the match compares
 *     with the previous report.  Resolver-file changes print
 *       "TIME resolvers n=N bad=B err=E".
 *   netinfo_dump --parse TEXT         canonical form and id of TEXT
 *
 * Options: --res ADDR (repeatable), --resolv FILE (read; watched with
 * --watch), --wait MS (one-shot: wait for the gateway MAC, default 1000),
 * --debounce MS, --resolve-wait MS, --rcvbuf BYTES, --verbose.
 * SIGINT/SIGTERM stop --watch and print statistics to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dotstub/log.h"
#include "dotstub/netinfo.h"

struct tool {
	struct ds_netaddr res[DS_NETFP_MAX_RES];
	size_t nres;
	const char *resolv;
	struct ds_netwatch *w;
};

static void stamp(char *out, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, len, "%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

static void flags_format(unsigned f, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s", f & DS_NETWATCH_INITIAL ? "initial," : "",
		 f & DS_NETWATCH_CHANGED ? "changed," : "", f & DS_NETWATCH_BOUNCED ? "bounced," : "",
		 f & DS_NETWATCH_RESYNC ? "resync," : "");
	if (out[0])
		out[strlen(out) - 1] = '\0';
	else
		snprintf(out, len, "-");
}

static void on_change(struct ds_netwatch *w, const struct ds_netfp *old, const struct ds_netfp *cur,
		      unsigned flags, void *arg)
{
	char t[32], fl[64], id[DS_NETFP_ID_LEN + 1] = "?", text[DS_NETFP_TEXT_MAX];
	char agree[128] = "-", differ[128] = "-";
	struct ds_netfp_cmp c = { .verdict = DS_NETFP_NONE };

	stamp(t, sizeof(t));
	flags_format(flags, fl, sizeof(fl));
	(void)ds_netfp_id(cur, id, sizeof(id));
	if (ds_netfp_format(cur, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	if (old) {
		ds_netfp_match(cur, old, &c);
		ds_netfp_parts_format(c.agree, agree, sizeof(agree));
		ds_netfp_parts_format(c.differ, differ, sizeof(differ));
	}
	printf("%s %s %s match=%s agree=%s differ=%s impostor=%s %s\n", t, fl, id,
	       old ? ds_netfp_verdict_name(c.verdict) : "-", agree, differ,
	       c.flags & DS_NETFP_CMP_IMPOSTOR ? "y" : "n", text);
	fflush(stdout);
}

static void on_resolv(struct ds_resolvwatch *rw, const struct ds_resolvconf *rc, int err, void *arg)
{
	struct tool *t = arg;
	char ts[32];

	stamp(ts, sizeof(ts));
	printf("%s resolvers n=%zu bad=%u err=%d\n", ts, rc->nres, rc->bad_lines, err);
	fflush(stdout);
	if (t->w)
		(void)ds_netwatch_set_resolvers(t->w, rc->res, rc->nres);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static int watch(struct tool *t, const struct ds_netwatch_opts *o)
{
	struct event_base *base = event_base_new();
	struct ds_resolvwatch *rw = NULL;
	struct ds_netwatch_stats st;
	struct event *sint, *sterm;
	int r;

	if (!base)
		return -ENOMEM;
	if (t->resolv) {
		struct ds_resolvconf rc;

		/* the first report already with the file's resolvers */
		if (ds_resolvconf_load(t->resolv, &rc) == 0) {
			memcpy(t->res, rc.res, rc.nres * sizeof(rc.res[0]));
			t->nres = rc.nres;
		}
	}
	r = ds_netwatch_new(base, o, on_change, t, &t->w);
	if (r < 0) {
		fprintf(stderr, "netinfo_dump: watcher: %s\n", strerror(-r));
		event_base_free(base);
		return r;
	}
	if (t->nres)
		(void)ds_netwatch_set_resolvers(t->w, t->res, t->nres);
	if (t->resolv) {
		r = ds_resolvwatch_new(base, t->resolv, 0, on_resolv, t, &rw);
		if (r < 0)
			fprintf(stderr, "netinfo_dump: watching %s: %s\n", t->resolv, strerror(-r));
	}
	sint = evsignal_new(base, SIGINT, on_signal, base);
	sterm = evsignal_new(base, SIGTERM, on_signal, base);
	if (sint)
		evsignal_add(sint, NULL);
	if (sterm)
		evsignal_add(sterm, NULL);
	if (r == 0)
		event_base_dispatch(base);
	ds_netwatch_get_stats(t->w, &st);
	fprintf(stderr,
		"stats events=%llu relevant=%llu overruns=%llu reads=%llu provoked=%llu reports=%llu\n",
		(unsigned long long)st.events, (unsigned long long)st.relevant,
		(unsigned long long)st.overruns, (unsigned long long)st.reads,
		(unsigned long long)st.provoked, (unsigned long long)st.reports);
	if (sint)
		event_free(sint);
	if (sterm)
		event_free(sterm);
	ds_resolvwatch_free(rw);
	ds_netwatch_free(t->w);
	event_base_free(base);
	return r;
}

static int dump_once(struct tool *t, unsigned wait_ms)
{
	struct ds_resolvconf rc;
	struct ds_netfp fp;
	char id[DS_NETFP_ID_LEN + 1], text[DS_NETFP_TEXT_MAX];
	int r;

	if (t->resolv) {
		r = ds_resolvconf_load(t->resolv, &rc);
		if (r < 0) {
			fprintf(stderr, "netinfo_dump: %s: %s\n", t->resolv, strerror(-r));
			return r;
		}
		memcpy(t->res, rc.res, rc.nres * sizeof(rc.res[0]));
		t->nres = rc.nres;
	}
	r = ds_netfp_read(t->res, t->nres, wait_ms, &fp);
	if (r == 0)
		r = ds_netfp_id(&fp, id, sizeof(id));
	if (r == 0)
		r = ds_netfp_format(&fp, text, sizeof(text));
	if (r < 0) {
		fprintf(stderr, "netinfo_dump: %s\n", strerror(-r));
		return r;
	}
	printf("id=%s %s\n", id, text);
	return 0;
}

static int parse_text(const char *s)
{
	struct ds_netfp fp;
	char id[DS_NETFP_ID_LEN + 1], text[DS_NETFP_TEXT_MAX];

	if (ds_netfp_parse(s, &fp) < 0 || ds_netfp_id(&fp, id, sizeof(id)) < 0 ||
	    ds_netfp_format(&fp, text, sizeof(text)) < 0) {
		fprintf(stderr, "netinfo_dump: not a fingerprint\n");
		return -EINVAL;
	}
	printf("id=%s %s\n", id, text);
	return 0;
}

static unsigned num(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > 1000000000UL) {
		fprintf(stderr, "netinfo_dump: bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'W' },
		{ "res", required_argument, NULL, 'r' },
		{ "resolv", required_argument, NULL, 'f' },
		{ "wait", required_argument, NULL, 'w' },
		{ "debounce", required_argument, NULL, 'd' },
		{ "resolve-wait", required_argument, NULL, 'R' },
		{ "rcvbuf", required_argument, NULL, 'b' },
		{ "parse", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct ds_netwatch_opts o = { 0 };
	struct tool t = { 0 };
	unsigned wait_ms = 1000;
	bool do_watch = false;
	int c, level = LOG_NOTICE;

	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'W':
			do_watch = true;
			break;
		case 'r':
			if (t.nres == DS_NETFP_MAX_RES || ds_netaddr_parse(optarg, &t.res[t.nres]) < 0) {
				fprintf(stderr, "netinfo_dump: bad --res %s\n", optarg);
				return 2;
			}
			t.nres++;
			break;
		case 'f':
			t.resolv = optarg;
			break;
		case 'w':
			wait_ms = num(optarg, "--wait");
			break;
		case 'd':
			o.debounce_ms = num(optarg, "--debounce");
			break;
		case 'R':
			o.resolve_wait_ms = num(optarg, "--resolve-wait");
			break;
		case 'b':
			o.rcvbuf = (int)num(optarg, "--rcvbuf");
			break;
		case 'p':
			return parse_text(optarg) < 0 ? 1 : 0;
		case 'v':
			level = LOG_DEBUG;
			break;
		default:
			fprintf(stderr, "usage: netinfo_dump [--watch] [--res ADDR]... [--resolv FILE] "
					"[--wait MS] [--debounce MS] [--resolve-wait MS] [--rcvbuf N] "
					"[--parse TEXT] [-v]\n");
			return 2;
		}
	}
	ds_log_init("netinfo_dump", level, true);
	if (do_watch)
		return watch(&t, &o) < 0 ? 1 : 0;
	return dump_once(&t, wait_ms) < 0 ? 1 : 0;
}
