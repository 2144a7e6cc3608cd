/*
 * main.c -- dotstubd: wires the parts together.  Reads the configuration
 * and checks the state directory; the store process then binds the
 * listeners and the control socket, drops privileges and starts the
 * network process (storeproc.c, netproc.c; privsep.h), which creates the
 * upstream client and runs the event loop (serve, here).
 */
#include "dotstub-config.h"
#include "daemon.h"
#include "dotsrv.h"
#include "notify.h"
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <grp.h>
#include <openssl/ssl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"
#include "dotstub/trust.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dotstubd [-fhnvV] [-c FILE] [--KEY VALUE ...]\n"
		"\n"
		"dotstubd is a local DNS stub that forwards every query over DNS-over-TLS,\n"
		"authenticated with DANE, to the resolver it is given or discovers.\n"
		"\n"
		"  -c, --config FILE   configuration file (default %s; missing is fine\n"
		"                      unless given explicitly)\n"
		"  -f, --foreground    stay in the foreground, log to stderr\n"
		"  -n, --check         check the configuration and exit; with -v print it\n"
		"                      normalised\n"
		"  -v, --verbose       with -n: print the configuration; else log-level debug\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n"
		"\n"
		"SIGHUP reloads the file and these options; an invalid configuration is\n"
		"refused and the running one kept.  With NOTIFY_SOCKET set, dotstubd tells\n"
		"the service manager READY=1, RELOADING=1 and STOPPING=1.\n"
		"\n"
		"Every configuration key is also an option, --KEY VALUE or --KEY=VALUE;\n"
		"options override the file, and a repeatable key on the command line\n"
		"replaces the file's list:\n",
		DS_DEFAULT_CONFIG);
	ds_config_usage(f);
	fprintf(f, "\nExample:\n  dotstubd -f --listen 127.0.0.20:53 --upstream "
		   "abcd1234efgh.zz@127.0.0.21 \\\n      --tlsa \"3 1 1 "
		   "9cab2d0bd35a1f46c8a8b0eb5c9e3a5c1a1b5b0cb3f47a4d3c1c6f2b7e8d9a01\"\n");
}

static int parse_args(int argc, char **argv, struct ds_config *c)
{
	char err[512] = "";
	int r;

	r = ds_config_read(c, argc, argv, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "dotstubd: %s\n", err[0] ? err : strerror(-r));
		return r;
	}
	if (c->want_help) {
		usage(stdout);
		exit(0);
	}
	if (c->want_version) {
		printf("dotstubd %s\n", DOTSTUB_VERSION);
		exit(0);
	}
	return 0;
}

/* SIGTERM or SIGINT (SIGHUP goes to the store process, which tells us to
 * reload). */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ds_daemon *d = arg;

	log_info("network process: signal %d, stopping", (int)sig);
	event_base_loopbreak(d->base);
}

static int make_dirs(const struct ds_config *c)
{
	char dir[sizeof(c->control_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", c->control_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_err("cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	if (mkdir(c->state_dir, 0750) < 0 && errno != EEXIST)
		log_warn("cannot create state-dir %s: %s, ignoring", c->state_dir, strerror(errno));
	return 0;
}

/* Refuse a state directory (or anchors file) that someone other than root
 * or the daemon's user could have written: see trust_store_check_perms.
 * Run as root, before anything is chowned. */
static int check_state_dir(const struct ds_config *c)
{
	char msg[1024];
	uid_t uid = 0;
	int r;

	if (c->user[0]) {
		struct passwd *pw = getpwnam(c->user);

		if (pw)
			uid = pw->pw_uid;
	}
	r = trust_store_check_perms(c->state_dir, uid, msg, sizeof(msg));
	if (r == 0 || r == -ENOENT) /* missing: make_dirs said so; no pins */
		return 0;
	if (r == -EPERM)
		log_err("refusing to start: %s", msg);
	else
		log_err("refusing to start: cannot check state-dir %s: %s", c->state_dir,
			strerror(-r));
	return r;
}

/* The first decision is served: the service manager may go on. */
static void on_decided(struct ds_daemon *d)
{
	ds_timer_disarm(d->ready_timer);
	if (!ds_notify_ready_sent()) /* a reload may have said it */
		ds_notify_ready(d);
}

/* No decision after discovery-wait: queries are answered by now (SERVFAIL
 * or plain DNS where the policy allows it), so the daemon is ready. */
static void ready_timer_fired(void *arg)
{
	struct ds_daemon *d = arg;

	d->on_decided = NULL;
	if (!ds_notify_ready_sent())
		ds_notify_ready(d);
}

/* READY=1 when the first decision is served, or after discovery-wait. */
static int ready_when_decided(struct ds_daemon *d)
{
	d->ready_timer = ds_timer_new(d->base, ready_timer_fired, d);
	if (!d->ready_timer)
		return -ENOMEM;
	d->on_decided = on_decided;
	ds_timer_arm_ms(d->ready_timer, d->cfg->discovery_wait_ms + 500);
	return 0;
}

static void log_started(const struct ds_config *cfg)
{
	char a[64];

	ds_sockaddr_format(&cfg->listen[0], a, sizeof(a));
	log_notice("dotstubd %s started, listening on %s%s, upstream %s", DOTSTUB_VERSION, a,
		   cfg->nlisten > 1 ? " and more" : "",
		   cfg->upstream.name[0] ? cfg->upstream.name : "none");
}

/* publish yes: the publication names the started DoT server and its TLSA */
static int publish_open(struct ds_daemon *d)
{
	struct ds_dotsrv_status st;

	if (!d->cfg->publish)
		return 0;
	ds_dotsrv_get_status(d, &st);
	return ds_publishd_open(d, st.name, st.tlsa);
}

/* What dotstubd serves with, in its network process (netproc.c calls it
 * with d->base made, confined; the listeners come bound).  Returns the
 * exit status. */
static int serve(struct ds_daemon *d)
{
	struct event *sigs[2] = { NULL, NULL };
	int r, rc = 1;

	if (ds_resolve_init(d) < 0) {
		log_err("out of memory");
		goto out;
	}
	if (d->cfg->cache_bytes) {
		d->cache = ds_cache_new(d->cfg->cache_bytes);
		if (!d->cache) {
			log_err("cannot allocate the cache");
			goto out;
		}
	}
	if (ds_access_open(d) < 0)
		goto out;
	r = ds_listeners_open(d);
	if (r < 0)
		goto out;
	r = ds_dotsrv_open(d);
	if (r < 0)
		goto out;
	if (ds_stubresolv_open(d) < 0) {
		log_err("out of memory");
		goto out;
	}
	/* its certificate and key: made by the store process, read here */
	if (ds_dotsrv_start(d) < 0)
		goto out;
	/* the publication names the DoT server: its keys (made by the store
	 * process) are loaded now, before anything is served */
	if (publish_open(d) < 0)
		goto out;
	/* the signals first */
	sigs[0] = evsignal_new(d->base, SIGINT, on_signal, d);
	sigs[1] = evsignal_new(d->base, SIGTERM, on_signal, d);
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_add(sigs[i], NULL);
	if (ready_when_decided(d) < 0)
		goto out;
	if ((r = ds_reload_serve(d)) < 0) {
		if (r == -EPERM) /* the store may not be trusted */
			rc = 2;
		goto out;
	}
	ds_access_watch(d);
	if (ds_resolve1d_open(d) < 0)
		goto out;
	if (ds_linkra_open(d) < 0) {
		log_err("out of memory");
		goto out;
	}
	log_started(d->cfg);
	event_base_dispatch(d->base);
	rc = 0;
out:
	ds_resolve1d_close(d); /* cancels its queries: before the query path goes */
	ds_linkra_close(d);
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (d->ready_timer)
		ds_timer_free(d->ready_timer);
	/* the file stays as it was: what stops the daemon is not a network
	 * decision */
	ds_stubresolv_close(d);
	ds_access_close(d); /* before the watcher it may observe goes */
	ds_netmgr_stop(d);
	ds_netmgr_links_free(d);
	ds_daemon_set_upstream(d, NULL, "none", false);
	ds_resolve_fini(d);
	ds_control_close(d);
	ds_publishd_close(d);
	ds_dotsrv_close(d);
	ds_listeners_close(d);
	if (d->cache)
		ds_cache_free(d->cache);
	return rc;
}

int main(int argc, char **argv)
{
	static struct ds_config cfg;
	static struct ds_daemon d;
	int rc;

	ds_config_init(&cfg);
	if (parse_args(argc, argv, &cfg) < 0)
		return 2;
	if (cfg.check_only) {
		if (cfg.verbose)
			ds_config_print(&cfg, stdout);
		else
			printf("dotstubd: configuration OK\n");
		ds_config_free(&cfg);
		return 0;
	}
	if (cfg.verbose)
		cfg.log_level = LOG_DEBUG;
	ds_log_init("dotstubd", cfg.log_level, cfg.foreground || isatty(STDERR_FILENO));
	signal(SIGPIPE, SIG_IGN);
	ds_notify_init();

	d.cfg = &cfg;
	d.argc = argc;
	d.argv = argv;
	d.started_ms = ds_now_ms();
	d.started_wall = time(NULL);
	if (make_dirs(&cfg) < 0)
		rc = 1;
	else if (check_state_dir(&cfg) < 0)
		rc = 2;
	else /* both processes return here (privsep.h) */
		rc = ds_storeproc_main(&d, serve);
	ds_notify_close();
	ds_config_free(&cfg);
	return rc;
}
