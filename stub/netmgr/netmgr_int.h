/*
 * netmgr_int.h -- the network manager's state, shared by its files:
 * netmgr.c (events), netmgr_ctx.c (one network: its start, a change, its
 * end), netmgr_walk.c (discovery and refresh results, policy),
 * netmgr_trust.c (the store, pinning after DANE, RFC 5011),
 * netmgr_links.c (the links: their configuration, their networks, where
 * names go), netmgr_sources.c (resolv-source and networkd as link
 * sources), netmgr_status.c (dotctl status).  Internal to the daemon.
 *
 * A struct ds_netmgr is one network with its own discovery, policy
 * decision and lane: the default route's (d->netmgr, which owns the
 * store, the watchers and the links' hub), or a link's own (a VPN with
 * its own resolver, netmgr_links.c).
 */
#ifndef DOTSTUB_NETMGR_INT_H
#define DOTSTUB_NETMGR_INT_H

#include "../daemon/daemon.h"

#include "dotstub/clock.h"
#include "dotstub/ddr_verify.h"
#include "dotstub/discovery.h"
#include "dotstub/netinfo.h"
#include "dotstub/trust.h"
#include "walkjob.h"

#include <event2/util.h>

#include "dotstub/timer.h"

#define SETTLE_MS 150        /* coalesce a link change and the resolver update after it */
#define NETWATCH_DEBOUNCE_MS 300
#define RETRY_MIN_MS 2000
#define RETRY_MAX_MS 60000



struct nm_hub;

struct ds_netmgr {
	struct ds_daemon *d;
	struct trust_store *store;    /* the default network's, shared */
	struct ds_netwatch *nw;       /* the default network's only */
	struct nm_hub *hub;           /* the links (netmgr_links.c) */
	struct ds_lane *lane;         /* what serves this network's queries */
	bool is_link;                 /* a link's own network, not the default route's */
	int ifindex;                  /* its link (the default: the default link's, or 0) */
	char ifname[IF_NAMESIZE];
	bool strict;                  /* the link asks for DoT (DNSOverTLS=yes) */
	/* the last transport logged and since when (wall clock) */
	char said[1024];
	time_t since;
	/* a refresh walk over our own DoT starts (true) and ends: the hub
	 * routes the resolver's names to this network's lane meanwhile */
	void (*refresh_hook)(struct ds_netmgr *nm, bool running);
	/* the network's resolvers (with ports) */
	struct sockaddr_storage res[DS_MAX_NETWORK_RESOLVERS];
	int nres;
	/* where we are */
	struct ds_netfp fp;
	char fp_text[DS_NETFP_TEXT_MAX];
	char fp_id[DS_NETFP_ID_LEN + 1];
	bool have_fp;
	enum trust_match match;       /* how the store's networks match this one */
	/* what the policy decided */
	enum trust_posture state;
	char reason[512];
	bool alert;
	char upstream_name[DNS_NAME_MAX + 1];
	struct ds_upstream_desc cur_desc;   /* what the DoT upstream was made from */
	/* the unique zone's KSK of the upstream chosen by the last walk (its
	 * KEY), for publish yes; up_key_name "" if none */
	struct trust_dnskey up_key;
	char up_key_name[DNS_NAME_MAX + 1];
	uint8_t anchor_sha[TRUST_SHA256_LEN];
	uint16_t anchor_tag;
	uint8_t anchor_alg;
	time_t anchor_since;          /* the anchor's first use */
	bool have_anchor;
	bool from_store;              /* DoT from stored data, no walk */
	/* discovery: walks report to on_walk_done (set by netmgr.c) */
	struct ds_walkjob *job;
	ds_walkjob_cb *on_walk_done;
	bool job_first_use;           /* the running walk has no anchors */
	bool job_refresh;             /* the running walk goes over our own DoT */
	bool rerun;                   /* decide again when the job ends */
	struct trust_dnskey job_anchor_keys[DISC_MAX_ANCHORS];
	int job_nanchors;
	char last_walk[DISC_REASON_MAX + 32];
	struct ds_timer *retry_ev;
	struct ds_timer *settle_ev;
	struct ds_timer *refresh_ev;
	uint64_t refreshes, refresh_failures;
	char last_refresh[DISC_REASON_MAX + 32];
	unsigned retry_ms;
	uint64_t walks, changes;
	/* Pins and learned data are committed only once the TLS handshake
	 * authenticated the resolver with DANE (PROTOCOL.md step 7). */
	struct {
		bool active;
		bool pin;                 /* pin the anchor as trusted (TOFU) */
		struct trust_dnskey key;
		struct ds_upstream_desc desc;
		bool transparent;         /* a transparent forwarder's upstream */
		char how[96];             /* the status once authenticated */
		uint64_t deadline_ms;     /* no handshake by then: unreachable */
		struct ds_timer *ev;
	} commit;
	/* An unknown network whose resolver has a pinned resolver's address:
	 * DoT to it, with the pinned name and TLSA, before anything else
	 * (netmgr_probe.c). */
	struct {
		bool looked;                  /* looked for it on this network */
		enum trust_pinned_addr state;
		char name[DNS_NAME_MAX + 1];  /* the pinned resolver */
		struct ds_upstream_desc desc; /* its stored description */
		struct ds_upstream *up;       /* the DoT attempt */
		uint64_t deadline_ms;
		char why[160];                /* why it failed */
		struct ds_timer *ev;
	} probe;
	/* DoT from the store: its DANE failures since the last authenticated
	 * handshake; repeated ones make the policy walk again */
	struct {
		struct ds_timer *ev;
		uint64_t handshakes, fail_base;
		bool failed;                  /* for the current network */
	} watch;
	/* a forwarder's upstreams, from the last walk */
	char upstreams[DISC_MAX_UPSTREAMS][DNS_NAME_MAX + 16];
	/* a hotspot sign-on in force (netmgr_hotspot.c) */
	struct {
		bool active;
		uint64_t until_ms;
		char fp_id[DS_NETFP_ID_LEN + 1]; /* the network it is for */
		struct ds_timer *ev;
	} hotspot;
	char portal[768];             /* "" or why a captive portal is suspected */
	bool portal_logged;           /* said once on this network */
	char hijack[DISC_REASON_MAX]; /* the last walk: the resolver makes up
					 answers (disc_result.hijack), or "" */
	/* the last walk found a transparent forwarder: "NAME at ADDR ..." of
	 * the resolver its publication describes, else "" */
	char transparent[DNS_NAME_MAX + 4 + 4 * 48];
	int nupstreams;
	/* designated resolvers (netmgr_ddr.c): where resolver-name.arpa gives
	 * no DoT, the DDR answer the walk job got is tried over DoT before the
	 * policy decides on the walk's result */
	struct {
		struct ds_ddr_verify *run;    /* the designations being tried */
		struct disc_result *res;      /* the walk's result, held meanwhile */
		bool first_use;               /* the held walk ran with no anchor */
		struct sockaddr_storage resolver; /* the resolver asked */
		enum trust_designated outcome;
		struct ds_ddr_verdict verdict; /* the one used, when outcome is not NONE */
		/* the key pinned for this network when the run started, or "" */
		char pin[2 * TRUST_SHA256_LEN + 1];
		enum trust_dpin_source pin_source;
		char said[640];               /* the last outcome, for status and the log */
		uint64_t started_ms;          /* when the network's decision started */
	} desig;
};


/* The links: their configuration in force (d->linktab), a network of its
 * own for every link with resolvers that is not the default one, and
 * where names go (netmgr_links.c). */
struct nm_hub {
	struct ds_daemon *d;
	struct ds_netmgr *def;        /* the default route's network */
	struct ds_netmgr *link[DS_LINKTAB_MAX]; /* the links' own, by ifindex */
	int nlinks;
	int default_ifindex;          /* the default link (0: none) */
	/* the resolv.conf source (netmgr_sources.c) and where it is placed */
	bool have_rc;
	bool rc_reported;             /* the watcher reported at least once */
	struct ds_linkconf rc;
	int rc_ifindex;               /* 0: not placed (no default route known yet) */
	struct ds_resolvwatch *rw;
	struct ds_timer *rw_retry_ev;
	/* systemd-networkd's state files */
	struct ds_networkd_watch *ndw;
	bool nd_reported;             /* the watcher reported at least once */
	struct ds_timer *nd_retry_ev;
	bool nd_missing_logged;
	/* the interfaces' addresses: each link's reverse zones */
	struct ds_netwatch *addr_nw;
	struct ds_net_ifaddr addrs[DS_NET_MAX_IFADDRS];
	size_t naddrs;
	/* the link whose refresh walk runs over our own DoT, or NULL */
	struct ds_netmgr *refreshing;
	/* the links' DNR designations, by ifindex: what each source said,
	 * and the link's set made of them (dnr_merge) */
	struct nm_link_dnr {
		int ifindex;
		struct nm_dnr_set {
			struct ds_link_dnr g[DS_LINK_MAX_DNR];
			int n;
		} src[DS_DNR_NSOURCES];
		struct ds_link_dnr g[DS_LINK_MAX_DNR];
		int n;
	} dnr[DS_LINKTAB_MAX];
	int ndnr;
	unsigned updates;             /* for the log */
};

/* ---- netmgr_ctx.c: one network ---- */
/* A network served by lane (its timers; the caller sets the rest).  NULL
 * if out of memory. */
struct ds_netmgr *nm_ctx_new(struct ds_daemon *d, struct ds_lane *lane);
/* End it: walks, timers, probes; frees it (not its lane, store or hub). */
void nm_ctx_free(struct ds_netmgr *nm);
/* Another network: nothing of the old one may leak into it; decide anew
 * after the settle delay. */
void nm_network_changed(struct ds_netmgr *nm, const struct ds_netfp *fp);
/* Its resolvers (with ports); the default network's go to its netlink
 * watcher too (the fingerprint holds them). */
void nm_set_resolvers(struct ds_netmgr *nm, const struct sockaddr_storage *res, int n);

/* ---- netmgr_links.c: the links ---- */
struct nm_hub *nm_hub_new(struct ds_netmgr *def);
void nm_hub_free(struct nm_hub *hub);
/* Act on what changed: the resolv.conf source placed, the default link
 * chosen, the links' networks made or ended, the routes and the search
 * list written. */
void nm_hub_update(struct nm_hub *hub);
/* The default network changed: decide again on every link too (the
 * trust store changed, or a reload). */
void nm_hub_redecide(struct nm_hub *hub);
/* Reconnect every link's upstream (the default network bounced or the
 * machine resumed). */
void nm_hub_reconnect(struct nm_hub *hub);
/* The links' table (d->linktab), made if needed; NULL if out of memory. */
struct ds_linktab *nm_linktab(struct ds_daemon *d);

/* ---- netmgr_sources.c: resolv-source and networkd ---- */
int nm_sources_start(struct nm_hub *hub);
void nm_sources_stop(struct nm_hub *hub);

/* the anchors to walk with (the known network's, else every usable one), best first */
int nm_collect_anchors(struct ds_netmgr *nm, struct trust_dnskey *out, int cap);
/* forget a pin/learn waiting for the DANE handshake */
void nm_commit_clear(struct ds_netmgr *nm);
/* timer: pin and learn once DANE authenticated the new upstream */
void nm_commit_poll(void *arg);
enum nm_commit {
	NM_COMMIT_DONE,        /* pinned and learned, or given up: nothing pending */
	NM_COMMIT_AGAIN,       /* no authenticated handshake yet: look again */
	NM_COMMIT_DANE_FAILED, /* the certificate does not match the TLSA */
	NM_COMMIT_UNREACHABLE, /* no handshake within discovery-wait */
};
/* pin and learn once DANE authenticated the new upstream (netmgr_trust.c) */
enum nm_commit nm_commit_check(struct ds_netmgr *nm);
/* ---- netmgr_probe.c: DoT to a pinned resolver's address ---- */
#define NM_PROBE_MS 2000
enum nm_probe {
	NM_PROBE_AGAIN,         /* no answer yet: look again */
	NM_PROBE_AUTHENTICATED, /* a DANE-authenticated handshake */
	NM_PROBE_FAILED,        /* refused, not authenticated, or too slow */
};
/* look for a usable pinned resolver with one of the network's resolver
 * addresses (once per network); sets probe.state UNTRIED if there is one */
void nm_probe_look(struct ds_netmgr *nm);
/* open a DoT connection to it; 0 or -errno */
int nm_probe_start(struct ds_netmgr *nm);
enum nm_probe nm_probe_check(struct ds_netmgr *nm);
/* close the attempt (the result in probe.state stays) */
void nm_probe_stop(struct ds_netmgr *nm);
/* a new network: forget everything about the last one's probe */
void nm_probe_reset(struct ds_netmgr *nm);
/* timer: look at the attempt (netmgr_decide.c) */
void nm_probe_poll(void *arg);
/* a DoT client for desc on this network (netmgr_serve.c) */
struct ds_upstream *nm_make_upstream(struct ds_netmgr *nm, const struct ds_upstream_desc *desc);
/* a usable pinned resolver with one of the network's resolver addresses,
 * its description in desc (netmgr_trust.c) */
const struct trust_anchor *nm_pinned_at_address(struct ds_netmgr *nm,
						struct ds_upstream_desc *desc);

/* timer: watch the stored resolver's DANE authentication (netmgr_decide.c) */
void nm_watch_poll(void *arg);
#define NM_WATCH_MS 500
/* a certificate that does not match the stored TLSA is no glitch: once is
 * enough to walk again (the walk decides, over plain DNS like discovery) */
#define NM_WATCH_FAILURES 1

/* the daemon's discovery-wait hook (netmgr_decide.c) */
bool nm_wait_expired(void *arg);
/* a refresh walk over our own DoT ended (netmgr_walk.c) */
void nm_refresh_done(struct ds_netmgr *nm, struct disc_result *res);
/* "link wg0 (5)" or "link wlan0 (3, default)" or "the default network"
 * (netmgr_serve.c) */
const char *nm_label(const struct ds_netmgr *nm, char *buf, size_t len);
/* log the transport if it changed (netmgr_serve.c) */
void nm_say_transport(struct ds_netmgr *nm);
/* set the posture shown in status and its reason (netmgr_serve.c) */
void nm_set_state(struct ds_netmgr *nm, enum trust_posture st, const char *reason);
/* poll the new upstream for its first authenticated handshake */
void nm_commit_poll_arm(struct ds_netmgr *nm);
/* pin (if pin) and learn desc once the handshake succeeds */
void nm_commit_prepare(struct ds_netmgr *nm, bool pin, const struct trust_dnskey *k,
			   const struct ds_upstream_desc *desc);
/* decide what serves this network: known DoT, discovery, plain or nothing */
void nm_decide(struct ds_netmgr *nm);
/* the policy's input for the current network, discovery at disc */
void nm_policy_input(struct ds_netmgr *nm, enum trust_discovery disc,
		     struct trust_policy_input *in);
/* carry out the policy's decision for in (res, ksk, use: the walk's result,
 * its anchor and the description to serve, for TRUST_DISC_OK; else NULL) */
void nm_carry_out(struct ds_netmgr *nm, const struct trust_policy_input *in,
		  const struct disc_result *res, const struct trust_dnskey *ksk,
		  const struct ds_upstream_desc *use);
/* an upstream description from what the store learned; -ENOENT if unusable */
int nm_desc_from_resolver(const struct trust_resolver *r, struct ds_upstream_desc *d);
/* "ADDR@PORT" of a resolver address */
void nm_format_resolver(const struct sockaddr_storage *ss, char *out, size_t len);
/* a usable anchor with resolver data seen on exactly this network (sets match) */
const struct trust_anchor *nm_known_network_anchor(struct ds_netmgr *nm,
						       const struct trust_resolver **ret_r);
/* record the resolver, the sighting and this network under anchor a */
void nm_learn(struct ds_netmgr *nm, const struct trust_anchor *a,
		  const struct ds_upstream_desc *desc);
/* apply a validated DNSKEY observation to RFC 5011 state */
void nm_observe_rollover(struct ds_netmgr *nm, const struct disc_result *res);
/* schedule the next refresh over DoT */
void nm_refresh_arm(struct ds_netmgr *nm, bool after_failure);
/* timer: refresh the resolver's records over our own DoT */
void nm_refresh_fired(void *arg);
/* show anchor a in status as the one in use */
void nm_remember_anchor(struct ds_netmgr *nm, const struct trust_anchor *a);
/* decide again later, with backoff */
void nm_schedule_retry(struct ds_netmgr *nm);
/* serve the network with DoT to desc */
void nm_serve_dot(struct ds_netmgr *nm, const struct ds_upstream_desc *desc, const char *how);
/* serve nothing: queries get SERVFAIL with ede and reason */
void nm_serve_nothing(struct ds_netmgr *nm, enum trust_posture st, int ede, const char *reason);
/* no upstream yet: queries wait up to discovery-wait, then SERVFAIL */
void nm_serve_wait(struct ds_netmgr *nm, enum trust_posture st, int ede, const char *reason);
/* serve with plain DNS to the network's resolvers (opportunistic only) */
void nm_serve_plain(struct ds_netmgr *nm, const char *reason);
/* start discovery (first_use: with no anchors) */
int nm_start_walk(struct ds_netmgr *nm, bool first_use);
/* save the trust store, logging a failure */
void nm_store_save(struct ds_netmgr *nm);
/* walk job callback: policy, pinning, service */
void nm_walk_done(void *arg, int rc, struct disc_result *res);

/* ---- netmgr_ddr.c: designated resolvers (DDR, RFC 9462) ---- */
/* The walk job ended with q (NULL: not asked) and res: try the DoT
 * designations, holding res; true if that started (done is called with nm
 * when it ends), false if there is nothing to try. */
bool nm_ddr_start(struct ds_netmgr *nm, const struct ddr_query *q,
		  const struct ds_walkjob_adn *adn, int nadn, struct disc_result *res,
		  ds_ddr_verify_cb *done);
/* The ADN-only DNR designations of the link nm sits on (RFC 9463 3.1.6),
 * for the walk job to resolve, into out (adn and priority); how many. */
int nm_ddr_adn_only(const struct ds_netmgr *nm, struct ds_walkjob_adn *out, int cap);
/* In done: record the outcome (the first designation that answered,
 * verified before opportunistic); returns the held walk result and
 * whether that walk ran with no anchor. */
struct disc_result *nm_ddr_result(struct ds_netmgr *nm, const struct ds_ddr_verdict *v, int n,
				  bool *ret_first_use);
/* Stop trying (a new decision or network); the held result is freed. */
void nm_ddr_stop(struct ds_netmgr *nm);
/* Serve the designated resolver the policy chose (dec: USE_DESIGNATED or
 * USE_OPPORTUNISTIC). */
void nm_ddr_serve(struct ds_netmgr *nm, const struct trust_decision *dec, const char *why);
/* The policy's input and decision on a walk's result (netmgr_decide.c);
 * frees res */
void nm_walk_decide(struct ds_netmgr *nm, struct disc_result *res, bool first_use);

/* netmgr_hotspot.c */
#define NM_HOTSPOT_MAX_S (60 * 60)
void nm_hotspot_end(struct ds_netmgr *nm, const char *why);
void nm_hotspot_fired(void *arg);
unsigned nm_hotspot_left_s(const struct ds_netmgr *nm);

#endif
