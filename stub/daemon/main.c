/*
 * main.c -- dotstubd: reads the configuration and checks the state
 * directory; then the store process binds, drops privileges and starts
 * the network process (storeproc.c, netproc.c; privsep.h).
 */
#include "dotstub-config.h"
#include "daemon.h"
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

	TAILQ_INIT(&d.waitq);
	d.cfg = &cfg;
	d.argc = argc;
	d.argv = argv;
	d.started_ms = ds_now_ms();
	d.started_wall = time(NULL);
	snprintf(d.up_source, sizeof(d.up_source), "none");
	if (make_dirs(&cfg) < 0)
		rc = 1;
	else if (check_state_dir(&cfg) < 0)
		rc = 2;
	else /* the two processes: both return here (privsep.h) */
		rc = ds_storeproc_main(&d);
	ds_notify_close();
	ds_config_free(&cfg);
	return rc;
}
