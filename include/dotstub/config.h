/*
 * config.h -- dotstubd's configuration: the file and the command line.
 *
 * The file has one "key value" per line ("key: value" and "key = value"
 * work too); '#' starts a comment; a value may be double-quoted.  Every key
 * is also a long option (--key value); options override the file, and a
 * repeatable key given on the command line replaces the file's list.
 * Errors are returned as text "FILE:LINE: message" in the caller's buffer;
 * nothing here logs.
 */
#ifndef DOTSTUB_CONFIG_H
#define DOTSTUB_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "dotstub/acl.h"
#include "dotstub/trust.h" /* the policy modes */
#include "dotstub/upstream_desc.h"

#define DS_MAX_LISTEN 16
#define DS_MAX_NETWORK_RESOLVERS 8
#define DS_MAX_ACCESS_CONTROL 64
#define DS_MAX_SERVE_DOT 8
#define DS_DEFAULT_CONFIG DOTSTUB_SYSCONFDIR "/dotstub.conf"

/* networkd yes|no|auto: read systemd-networkd's per-link state files */
enum ds_networkd_mode { DS_NETWORKD_AUTO = 0, DS_NETWORKD_YES, DS_NETWORKD_NO };

/* The DoT server (router mode, stub/daemon/dotsrv*.c): its addresses, its
 * identity and the limits on its clients (dotstub.conf(5), LIMITS). */
struct ds_serve_dot_config {
	struct sockaddr_storage addr[DS_MAX_SERVE_DOT]; /* serve-dot ADDR[:PORT] (853) */
	int naddr;
	char cert[PATH_MAX];            /* serve-dot-cert FILE, or "": generated */
	char key[PATH_MAX];             /* serve-dot-key FILE (with cert) */
	char name[254];                 /* serve-dot-name NAME of the generated
					   certificate, or "": a random unique name */
	unsigned clients;               /* dot-clients (256) */
	unsigned clients_per_address;   /* dot-clients-per-address (32; 0: no limit) */
	size_t client_output;           /* dot-client-output (256k) */
	size_t output_total;            /* dot-output-total (16m) */
	unsigned client_inflight;       /* dot-client-inflight (128) */
	unsigned idle_timeout_ms;       /* dot-idle-timeout (30000) */
	unsigned handshake_timeout_ms;  /* dot-handshake-timeout (5000) */
};

struct ds_config {
	/* listen ADDR[:PORT], repeatable; default 127.0.0.53:53 */
	struct sockaddr_storage listen[DS_MAX_LISTEN];
	int nlisten;
	/* access-control NETMASK allow|refuse|deny, repeatable.  None: the
	 * default (loopback and the listeners' directly connected prefixes);
	 * any: these lines, plus 127.0.0.0/8 and ::1 allowed unless a line
	 * names that very netmask (stub/daemon/access.c) */
	struct ds_acl_rule access_control[DS_MAX_ACCESS_CONTROL];
	int naccess_control;
	/* upstream NAME@ADDR[:PORT] + tlsa "U S M HEX": a static upstream
	 * (name empty if none is configured) */
	struct ds_upstream_desc upstream;
	bool allow_tls12;               /* allow-tls12 yes|no (default no) */
	size_t cache_bytes;             /* cache-size; 0 disables the cache */
	char control_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char state_dir[PATH_MAX];
	/* resolv-conf-out PATH|none: the resolv.conf written for
	 * /etc/resolv.conf to link to; "none": not written.  Default (set by
	 * ds_config_finish): resolv.conf in the control socket's directory */
	char resolv_conf_out[PATH_MAX];
	char user[64];                  /* drop privileges to it after binding */
	bool seccomp;                   /* seccomp yes|no: the processes' filters (default yes) */
	int log_level;                  /* syslog level */
	unsigned max_tcp_clients;       /* tcp-clients (default 256) */
	unsigned tcp_clients_per_address; /* tcp-clients-per-address (default 32; 0: no limit) */
	size_t tcp_client_output;       /* tcp-client-output: answers buffered per client (256k) */
	size_t tcp_output_total;        /* tcp-output-total: ... for all clients (16m) */
	unsigned max_client_pending;    /* max-pending: queries waiting upstream (default 4096) */
	unsigned query_timeout_ms;      /* query-timeout: overall budget per query (default 4000) */
	/* discovery and trust */
	struct sockaddr_storage network_resolver[DS_MAX_NETWORK_RESOLVERS];
	int nnetwork_resolver;          /* network-resolver ADDR[:PORT], repeatable */
	char resolv_source[PATH_MAX];   /* resolv-source FILE */
	/* resolv-source-link IFACE: the link resolv-source configures ("":
	 * the default route's) */
	char resolv_source_link[IF_NAMESIZE];
	enum ds_networkd_mode networkd; /* networkd yes|no|auto (default auto) */
	char anchors_dir[PATH_MAX];     /* anchors-dir DIR: managed anchors */
	enum trust_tofu tofu;         /* tofu auto|ask|off */
	enum trust_unknown_mode unknown_network; /* unknown-network opportunistic|strict */
	bool prefer_upstream_resolver;  /* prefer-upstream-resolver yes|no */
	/* designated resolvers (RFC 9462, RFC 9463), where resolver-name.arpa
	 * gives no DoT: ddr yes|no asks the network's resolver for
	 * _dns.resolver.arpa SVCB, dnr yes|no uses the DNR options a link
	 * source hands over (both default yes); dnr-ra yes|no reads them from
	 * IPv6 router advertisements too (default yes; at start only: the
	 * raw socket needs CAP_NET_RAW); ca-file FILE verifies their
	 * certificates ("": the system's store) */
	bool ddr;
	bool dnr;
	bool dnr_ra;
	char ca_file[PATH_MAX];
	bool publish;                   /* publish yes|no: resolver-name.arpa and
					   the unique zone as a forwarder */
	unsigned discovery_wait_ms;     /* discovery-wait: how long queries wait */
	unsigned rfc5011_hold_down_s;   /* rfc5011-hold-down (test use; default 30 days) */
	unsigned refresh_interval_s;    /* refresh-interval: 0 = RFC 5011 2.3 active refresh */
	/* the org.freedesktop.resolve1 D-Bus API (stub/bus/) */
	bool resolve1;                  /* resolve1 yes|no (default no) */
	char resolve1_group[64];        /* resolve1-group NAME: may change links too */
	unsigned dbus_max_calls;        /* dbus-max-calls: resolve calls in flight (64) */
	struct ds_serve_dot_config dot; /* serve-dot and its keys */
	/* command-line only */
	char config_file[PATH_MAX];
	bool config_explicit;           /* named by -c: missing is an error */
	bool foreground;
	bool check_only;
	bool verbose;
	bool want_help, want_version;   /* -h, -V */
	unsigned long long cmdline_lists; /* internal: lists replaced from the command line */
};

/* Defaults (no listen address yet: ds_config_finish adds the default). */
void ds_config_init(struct ds_config *c);
void ds_config_free(struct ds_config *c);

/* Set one key.  from_cmdline: a repeatable key replaces the file's list on
 * its first use from the command line.  Returns 0 or -EINVAL with err. */
int ds_config_set(struct ds_config *c, const char *key, const char *value, bool from_cmdline,
		  char *err, size_t errlen);
/* Parse a configuration text (fname for messages).  Returns 0 or -EINVAL. */
int ds_config_parse(struct ds_config *c, const char *text, size_t len, const char *fname,
		    char *err, size_t errlen);
/* Read and parse a file.  -ENOENT if it does not exist (err set). */
int ds_config_load(struct ds_config *c, const char *path, char *err, size_t errlen);
/* Apply defaults and check consistency (TLSA without upstream...). */
int ds_config_finish(struct ds_config *c, char *err, size_t errlen);
/* The whole configuration of dotstubd's command line: the file named by
 * -c (or the default, which may be missing), then every --KEY VALUE over
 * it, the flags (-f, -n, -v, -h, -V) noted, then ds_config_finish.  The
 * daemon reads it so at start and again on SIGHUP.  Returns 0 or -errno
 * with err. */
int ds_config_read(struct ds_config *c, int argc, char *const argv[], char *err, size_t errlen);
/* Print the normalised configuration, in file syntax. */
void ds_config_print(const struct ds_config *c, FILE *f);

/* One line of --help per key (for dotstubd --help). */
void ds_config_usage(FILE *f);

#endif
