/*
 * dotctl.c -- the control tool of dotstub.  Commands that concern the
 * running daemon go over its control socket (dotstub/ctlproto.h); the
 * daemon checks the caller's credentials.  provision and discover work
 * without a daemon.
 */
#include "dotstub-config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dotstub/clock.h"
#include "dotstub/ctl_discover.h"
#include "dotstub/ctlproto.h"
#include "dotstub/provision.h"
#include "json.h"
#include "query.h"
#include "status_text.h"

static const char *control_path = DOTSTUB_RUNDIR "/control";
/* How long a request may take, from connecting to the answer's end. */
#define TIMEOUT_DEFAULT 30
#define TIMEOUT_MAX 3600
static unsigned timeout_s = TIMEOUT_DEFAULT;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dotctl [-s PATH] [-t SECONDS] [--json] COMMAND [ARGS]\n"
		"\n"
		"  -s, --control PATH   the daemon's control socket (default %s)\n"
		"  -t, --timeout SECONDS  give up on a daemon that has not answered\n"
		"                       within SECONDS (default %u, at most %u)\n"
		"  --json               machine-readable output where the command has it\n"
		"\n"
		"Commands (talking to dotstubd):\n"
		"  status               listeners, upstream (name, address, TLS, matched\n"
		"                       TLSA, connection state), network, discovery state,\n"
		"                       policy and counters\n"
		"  network              the current network fingerprint\n"
		"  query NAME [TYPE]    resolve through dotstubd (TYPE: A by default, a\n"
		"                       number or a mnemonic): the answer records, the\n"
		"                       rcode, any EDE, which path answered (cache, DoT\n"
		"                       to whom with which TLSA, plain DNS, local, no\n"
		"                       answer), the link and the network; --json as data\n"
		"  trust list           pinned and managed anchors: resolver, key tag/alg,\n"
		"                       SHA-256 prefix, first/last seen, state, networks\n"
		"  trust show X         everything about one anchor (X: resolver name, key\n"
		"                       tag or SHA-256 prefix)\n"
		"  trust approve X      pending -> trusted (tofu ask; a changed key)\n"
		"  trust forget X       remove an anchor and what was learned under it, or\n"
		"                       (X: its SHA-256 prefix) a designated resolver's pin\n"
		"  trust import FILE|-  trust the DNSKEY records of a file (zone-file lines)\n"
		"  trust export         the trusted and managed anchors as DNSKEY records\n"
		"  link IFACE dns ADDR... [domain DOMAIN...] [default-route yes|no] [dot yes|no]\n"
		"                       this link's resolvers and domains (~DOMAIN: routing\n"
		"                       only; ~.: every name), over any other source (root)\n"
		"  link IFACE dnr PRIORITY ADN ADDR... [alpn dot] [port N]\n"
		"                       an encrypted resolver IFACE designates (DNR, RFC\n"
		"                       9463), verified by ADN under the CA store (root)\n"
		"  link IFACE dnr-option dhcp4|dhcp6 [HEX]\n"
		"                       the DNR option of IFACE's DHCP lease as received\n"
		"                       (HEX: plain or colon-separated, as dhclient gives\n"
		"                       it; none: no option), read by the daemon; its\n"
		"                       designations replace the last option's of that\n"
		"                       family on IFACE (root)\n"
		"  link IFACE revert    forget what dotctl link said about IFACE (root)\n"
		"  hotspot-signon [MINUTES]  plain DNS, unauthenticated, to this network's\n"
		"                       own resolver for MINUTES (default 5, at most 60) to\n"
		"                       sign on to a captive portal; never on a known\n"
		"                       (pinned) network; --seconds N for short tests\n"
		"  publish show         with publish yes: the trust anchor (the\n"
		"                       resolver-name.arpa KSK, a DNSKEY record) to hand\n"
		"                       to the LAN's clients, and what is published\n"
		"\n"
		"Commands (standalone):\n"
		"  discover ADDR ...    dry run of discovery against a resolver: every step\n"
		"                       with its validation result, then the designated\n"
		"                       resolvers it names (DDR, unverified); pins nothing\n"
		"                       (dotctl discover --help)\n"
		"  provision ...        generate what a resolver operator publishes\n"
		"                       (dotctl provision --help)\n"
		"\n"
		"See dotctl(8).\n",
		DOTSTUB_RUNDIR "/control", TIMEOUT_DEFAULT, TIMEOUT_MAX);
}

/* An answer's body kept in memory (bounded: CJ_MAX_INPUT). */
struct body {
	char *buf;
	size_t len;
	bool too_long;
};

static void body_add(struct body *b, const char *p, size_t n)
{
	char *nb;

	if (b->too_long)
		return;
	if (n > CJ_MAX_INPUT - b->len) {
		b->too_long = true;
		return;
	}
	nb = realloc(b->buf, b->len + n + 1);
	if (!nb) {
		b->too_long = true;
		return;
	}
	b->buf = nb;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

/* Wait until fd is readable or the deadline (ds_now_ms) has passed:
 * 1 readable, 0 too late, -1 an error (errno). */
static int wait_readable(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now;
	int r;

	for (;;) {
		now = ds_now_ms();
		if (now >= deadline)
			return 0;
		r = poll(&p, 1, (int)(deadline - now));
		if (r >= 0 || errno != EINTR)
			return r < 0 ? -1 : r > 0;
	}
}

/* Connect to the control socket: the descriptor, or -1 with the reason
 * said.  A daemon whose socket's queue stays full is given up on after
 * the timeout (SO_SNDTIMEO bounds connect(2) on a local socket). */
static int control_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = (time_t)timeout_s };
	int fd;

	if (strlen(control_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dotctl: control socket path too long\n");
		return -1;
	}
	memcpy(sun.sun_path, control_path, strlen(control_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EAGAIN)
			fprintf(stderr, "dotctl: dotstubd at %s accepts no connection (no room "
				"within %u s)\n", control_path, timeout_s);
		else
			fprintf(stderr, "dotctl: cannot reach dotstubd at %s: %s\n", control_path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send one request line; copy the answer's body to stdout, or into *keep
 * if keep is set.  Returns the exit status: 0 on "ok", 1 on "error: ...",
 * 2 if the daemon could not be reached or did not answer in time. */
static int request_to(const char *line, struct body *keep)
{
	char buf[8192];
	size_t have = 0;
	bool first = true, ok = false;
	uint64_t deadline = ds_now_ms() + (uint64_t)timeout_s * 1000;
	ssize_t n;
	int fd, w;

	if (strlen(line) + 1 > DS_CTL_LINE_MAX) {
		fprintf(stderr, "dotctl: request too long\n");
		return 2;
	}
	if ((fd = control_connect()) < 0)
		return 2;
	if (dprintf(fd, "%s\n", line) < 0) {
		fprintf(stderr, "dotctl: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	for (;;) {
		if ((w = wait_readable(fd, deadline)) <= 0) {
			if (w == 0)
				fprintf(stderr, "dotctl: dotstubd did not answer within %u s (%s)\n",
					timeout_s, control_path);
			else
				fprintf(stderr, "dotctl: %s\n", strerror(errno));
			close(fd);
			return 2;
		}
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (first) {
			char *nl = strchr(buf, '\n');
			if (!nl && have < sizeof(buf) - 1)
				continue;
			first = false;
			if (!strncmp(buf, "ok\n", 3)) {
				ok = true;
				if (keep)
					body_add(keep, buf + 3, have - 3);
				else
					fwrite(buf + 3, 1, have - 3, stdout);
			} else {
				fprintf(stderr, "dotctl: %s", buf);
			}
		} else if (ok && keep) {
			body_add(keep, buf, have);
		} else {
			fwrite(buf, 1, have, ok ? stdout : stderr);
		}
		have = 0;
	}
	if (first && have) {
		buf[have] = '\0';
		fprintf(stderr, "dotctl: %s%s", buf, buf[have - 1] == '\n' ? "" : "\n");
	} else if (first) {
		fprintf(stderr, "dotctl: dotstubd closed the connection without an answer\n");
	}
	close(fd);
	if (ok && keep && keep->too_long) {
		fprintf(stderr, "dotctl: the daemon's answer is longer than %u octets\n",
			CJ_MAX_INPUT);
		return 1;
	}
	return ok ? 0 : 1;
}

static int request(const char *line)
{
	return request_to(line, NULL);
}

/* "status" and "network": the daemon answers with JSON (it always does
 * when asked "CMD json", also before it stopped writing text itself).
 * --json prints it unchanged; the text view is rendered from it. */
static int status_main(const char *cmd, bool json)
{
	char line[64], err[160];
	struct body b = { 0 };
	int r;

	snprintf(line, sizeof(line), "%s json", cmd);
	if (json)
		return request(line);
	r = request_to(line, &b);
	if (r == 0) {
		r = !strcmp(cmd, "status")
			? ctl_status_render(stdout, b.buf ? b.buf : "", b.len, err, sizeof(err))
			: ctl_network_render(stdout, b.buf ? b.buf : "", b.len, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "dotctl: the daemon's %s answer is not valid: %s\n", cmd, err);
			r = 1;
		}
	}
	free(b.buf);
	return r;
}

/* Join argv into one request line, refusing characters the protocol does
 * not carry. */
static int join_request(int argc, char **argv, bool json, char *out, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < argc; i++) {
		int n;
		if (!argv[i][0] || strpbrk(argv[i], " \t\r\n")) {
			fprintf(stderr, "dotctl: argument '%s' is empty or has white space\n", argv[i]);
			return -EINVAL;
		}
		n = snprintf(out + len, cap - len, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return -E2BIG;
		len += (size_t)n;
	}
	if (json && snprintf(out + len, cap - len, " json") >= (int)(cap - len))
		return -E2BIG;
	return 0;
}

/* "trust import FILE": one request per DNSKEY line of the file. */
static int trust_import(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char buf[DS_CTL_LINE_MAX], req[DS_CTL_LINE_MAX + 16];
	unsigned lineno = 0, imported = 0, failed = 0;

	if (!f) {
		fprintf(stderr, "dotctl: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *p = buf, *q = buf;
		bool space = false;

		lineno++;
		if (!strchr(buf, '\n') && !feof(f)) {
			fprintf(stderr, "dotctl: %s:%u: line too long\n", path, lineno);
			failed++;
			while (fgets(buf, sizeof(buf), f) && !strchr(buf, '\n'))
				;
			continue;
		}
		/* collapse white space; stop at a comment */
		for (; *p && *p != ';' && *p != '#'; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
				space = q != buf;
				continue;
			}
			if (space)
				*q++ = ' ';
			space = false;
			*q++ = *p;
		}
		*q = '\0';
		if (q == buf)
			continue;
		snprintf(req, sizeof(req), "trust import %s", buf);
		if (request(req) == 0)
			imported++;
		else
			failed++;
	}
	if (f != stdin)
		fclose(f);
	if (imported + failed == 0) {
		fprintf(stderr, "dotctl: %s holds no DNSKEY record\n", path);
		return 1;
	}
	return failed ? 1 : 0;
}

static int trust_main(int argc, char **argv, bool json)
{
	char line[DS_CTL_LINE_MAX];
	int n = argc;

	if (argc >= 2 && !strcmp(argv[1], "import")) {
		if (argc != 3) {
			fprintf(stderr, "usage: dotctl trust import FILE|-\n");
			return 2;
		}
		return trust_import(argv[2]);
	}
	if (n > 1 && !strcmp(argv[n - 1], "--json")) {
		json = true;
		n--;
	}
	if (n < 2 || ((!strcmp(argv[1], "list") || !strcmp(argv[1], "export")) ? n != 2
	    : (!strcmp(argv[1], "show") || !strcmp(argv[1], "approve") ||
	       !strcmp(argv[1], "forget")) ? n != 3 : true)) {
		fprintf(stderr, "usage: dotctl trust list [--json] | show X | approve X | forget X | "
				"import FILE|- | export\n"
				"       X: a resolver name, a key tag, or a SHA-256 prefix\n");
		return 2;
	}
	if (join_request(n, argv, json && !strcmp(argv[1], "list"), line, sizeof(line)) < 0)
		return 2;
	return request(line);
}

/* "query NAME [TYPE] [--json]": exit 0 answered, 1 SERVFAIL or a daemon
 * error, 2 a bad name or type, or no daemon */
static int query_main(int argc, char **argv, bool json)
{
	char line[DS_CTL_LINE_MAX], err[160];
	struct body b = { 0 };
	int r;

	if (argc > 1 && !strcmp(argv[argc - 1], "--json")) {
		json = true;
		argc--;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: dotctl query NAME [TYPE] [--json]\n");
		return 2;
	}
	if (ctl_query_request(argv[1], argc == 3 ? argv[2] : NULL, line, sizeof(line), err,
			      sizeof(err)) < 0) {
		fprintf(stderr, "dotctl: query: %s\n", err);
		return 2;
	}
	r = request_to(line, &b);
	if (r == 0) {
		r = ctl_query_render(stdout, b.buf ? b.buf : "", b.len, json, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "dotctl: the daemon's query answer is not valid: %s\n", err);
			r = 1;
		}
	}
	free(b.buf);
	return r;
}

/* "link IFACE dns ADDR... [domain D...] [default-route yes|no] [dot yes|no]",
 * "link IFACE dnr PRIORITY ADN ADDR... [alpn dot] [port N]", "link IFACE
 * dnr-option dhcp4|dhcp6 [HEX]" and "link IFACE revert": the daemon checks
 * the words (the option's octets are the DHCP server's: read there, in
 * the sandboxed network process, not here) */
static int link_main(int argc, char **argv)
{
	char line[DS_CTL_LINE_MAX];

	if (argc < 3 || (strcmp(argv[2], "dns") && strcmp(argv[2], "dnr") &&
			 strcmp(argv[2], "dnr-option") && strcmp(argv[2], "revert"))) {
		fprintf(stderr, "usage: dotctl link IFACE dns ADDR... [domain DOMAIN...] "
				"[default-route yes|no] [dot yes|no]\n"
				"       dotctl link IFACE dnr PRIORITY ADN ADDR... [alpn dot] [port N]\n"
				"       dotctl link IFACE dnr-option dhcp4|dhcp6 [HEX]\n"
				"       dotctl link IFACE revert\n");
		return 2;
	}
	/* an empty HEX (a DHCP client's variable for a lease without the
	 * option): the link has no DNR option */
	if (argc == 5 && !strcmp(argv[2], "dnr-option") && argv[4][0] == '\0')
		argc = 4;
	if (argc > DS_CTL_MAX_ARGS) {
		fprintf(stderr, "dotctl: too many words (at most %d)\n", DS_CTL_MAX_ARGS);
		return 2;
	}
	if (join_request(argc, argv, false, line, sizeof(line)) < 0)
		return 2;
	return request(line);
}

/* "hotspot-signon [MINUTES] | --seconds N" */
static int hotspot_main(int argc, char **argv)
{
	char line[64], *end;
	unsigned long v = 5, mult = 60;

	if (argc == 3 && !strcmp(argv[1], "--seconds")) {
		mult = 1;
		argv++;
		argc--;
	}
	if (argc > 2 || (argc == 2 && (argv[1][0] < '0' || argv[1][0] > '9'))) {
		fprintf(stderr, "usage: dotctl hotspot-signon [MINUTES] | --seconds N\n");
		return 2;
	}
	if (argc == 2) {
		errno = 0;
		v = strtoul(argv[1], &end, 10);
		if (errno || *end || v == 0 || v * mult > 3600) {
			fprintf(stderr, "dotctl: a sign-on lasts 1 s to 60 minutes\n");
			return 2;
		}
	}
	snprintf(line, sizeof(line), "hotspot-signon %lu", v * mult);
	return request(line);
}

/* "publish show" */
static int publish_main(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "show") != 0) {
		fprintf(stderr, "usage: dotctl publish show\n");
		return 2;
	}
	return request("publish show");
}

/* SECONDS of --timeout into timeout_s: false unless 1..TIMEOUT_MAX. */
static bool parse_timeout(const char *v)
{
	char *end;
	unsigned long n;

	if (!v || *v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < 1 || n > TIMEOUT_MAX)
		return false;
	timeout_s = (unsigned)n;
	return true;
}

int main(int argc, char **argv)
{
	bool json = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--control")) {
			if (++i >= argc) {
				fprintf(stderr, "dotctl: %s needs a path\n", argv[i - 1]);
				return 2;
			}
			control_path = argv[i];
		} else if (!strncmp(argv[i], "--control=", 10)) {
			control_path = argv[i] + 10;
		} else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timeout") ||
			   !strncmp(argv[i], "--timeout=", 10)) {
			const char *v = argv[i][1] == '-' && argv[i][9] == '=' ? argv[i] + 10 :
					++i < argc ? argv[i] : NULL;

			if (!parse_timeout(v)) {
				fprintf(stderr, "dotctl: --timeout needs a number of seconds, 1 to %u\n",
					TIMEOUT_MAX);
				return 2;
			}
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("dotctl %s\n", DOTSTUB_VERSION);
			return 0;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "provision"))
		return ctl_provision_main(argc - i, argv + i);
	if (!strcmp(argv[i], "discover"))
		return ctl_discover_main(argc - i, argv + i);
	if (!strcmp(argv[i], "trust"))
		return trust_main(argc - i, argv + i, json);
	if (!strcmp(argv[i], "hotspot-signon"))
		return hotspot_main(argc - i, argv + i);
	if (!strcmp(argv[i], "query"))
		return query_main(argc - i, argv + i, json);
	if (!strcmp(argv[i], "link"))
		return link_main(argc - i, argv + i);
	if (!strcmp(argv[i], "publish"))
		return publish_main(argc - i, argv + i);
	if (!strcmp(argv[i], "status") || !strcmp(argv[i], "network")) {
		if (argc - i > 2 || (argc - i == 2 && strcmp(argv[i + 1], "--json") != 0)) {
			fprintf(stderr, "usage: dotctl %s [--json]\n", argv[i]);
			return 2;
		}
		return status_main(argv[i], json || argc - i == 2);
	}
	fprintf(stderr, "dotctl: unknown command '%s' (see dotctl --help)\n", argv[i]);
	return 2;
}
