/*
 * trust.h -- the trust part: DNSKEY helpers, the anchor store (a
 * known_hosts-like file in the state directory, written crash-safely),
 * read-only managed anchors, the trust policy decision and RFC 5011
 * rollover of the resolver-name.arpa KSK.
 *
 * No network I/O.  Nothing here logs above LOG_DEBUG: every failure is a
 * negative errno return, with a message for a human where one is needed;
 * the daemon or dotctl decides what to log.  ret_ outputs are written only
 * on success.  Not thread-safe: a store handle belongs to one thread.
 *
 * The store file ("anchors" in the state directory), version 1.  UTF-8 is
 * not needed: the file is printable ASCII.  Lines end in "\n" (the last one
 * too; a missing final newline is a truncated file).  "#" at column 0 is a
 * comment; comments and blank lines are not preserved when the file is
 * rewritten.  The first non-comment line is the header "dotstub-trust 1".
 * Each anchor is a block: an "anchor" line at column 0, then attribute
 * lines, each indented by exactly one tab.  Fields are separated by exactly
 * one space.  Times are UTC, "2024-05-01T10:00:00Z".
 *
 *   dotstub-trust 1
 *   anchor resolver-name.arpa. 257 3 13 <base64 public key>
 *   <TAB>tag 12345                      key tag (RFC 4034 App. B)
 *   <TAB>algorithm 13
 *   <TAB>sha256 <64 hex>                SHA-256 of the DNSKEY rdata
 *   <TAB>state trusted                  trusted|pending|revoked|managed|add-pending
 *   <TAB>add-pending-since <time>       add-pending only (and required there)
 *   <TAB>introduced-by <64 hex>         add-pending only: sha256 of the key
 *                                       that signed the RRset introducing it
 *   <TAB>first-seen <time>
 *   <TAB>last-seen <time>
 *   <TAB>resolver <name.> <type> <refreshed time>   type resolver|forwarder|unknown
 *   <TAB>address <name.> <IPv4 or IPv6>             name declared by "resolver" above
 *   <TAB>tlsa <name.> <U> <S> <M> <hex>
 *   <TAB>network <first-seen> <last-seen> <fingerprint to end of line>
 *   designated <ddr|dnr> <64 hex> <adn.> <first-seen> <last-seen> <fingerprint to end of line>
 *   designated <ddr|dnr> <64 hex> <adn.> <first-seen> <last-seen> <key-changed> <fingerprint...>
 *
 * A "designated" line (column 0, no attributes) is the key of the
 * designated resolver (DDR, RFC 9462; DNR, RFC 9463) first used on one
 * network: the SHA-256 of its certificate's SubjectPublicKeyInfo (the
 * data of a TLSA 3 1 1 record), its authentication domain name and where
 * it was designated.  At most one per network.  A file with such a line
 * says "dotstub-trust 2" (older readers quarantine it rather than drop
 * the pins); one without says 1, and both are read.  A pin whose key was
 * replaced (a new key the designated resolver's certificate vouched for,
 * PKIX) keeps the network's first-seen and records when the key changed:
 * a file with such a pin says "dotstub-trust 3", and there every
 * "designated" line has the <key-changed> field, a time or "-" (never).
 *
 * Parsing is strict: every field is validated (names canonical: lower
 * case, with the trailing dot; tag, algorithm and sha256 must equal the
 * values computed from the key; times, addresses and hex well formed;
 * required lines present exactly once).  Unknown keys are rejected, not
 * preserved: a newer format gets a new version number, and a file this
 * code cannot read completely is quarantined (moved aside, never deleted),
 * so no data is silently dropped or mangled by an older reader.
 * Duplicate anchors (same zone and sha256), resolvers, addresses, TLSA
 * records and networks are merged on load and never written.  Anchors are
 * written sorted by zone, first-seen, sha256, so diffs stay small.
 *
 * Managed anchors: files "*.key" in a configuration directory, one DNSKEY
 * RR per line ("zone. [TTL] [IN] DNSKEY flags proto alg base64", ";"
 * starts a comment), never written.  They show as state managed.  The store
 * file keeps an entry for a managed key to hold what was learned under it
 * (written with state managed); if the key later disappears from the
 * configuration directory, that entry is demoted to pending (not used until
 * approved).  A managed key revoked through RFC 5011 stays revoked (the
 * store entry overrides the configuration).
 */
#ifndef DOTSTUB_TRUST_H
#define DOTSTUB_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* struct ds_tlsa, DS_MAX_TLSA, DS_MAX_UPSTREAM_ADDRS, enum ds_server_type */
#include "dotstub/upstream_desc.h"
#include "dotstub/wire.h" /* DNS_EDE_* */

/* ------------------------------------------------------------------ */
/* Limits (every one enforced on input)                               */
/* ------------------------------------------------------------------ */

/* A name in presentation form with the trailing dot, without the NUL: the
 * 253 characters of a 255-octet wire name (DNS_NAME_MAX, dotstub/wire.h,
 * is the wire form's limit) and the dot. */
#define TRUST_NAME_MAX 254
#define TRUST_KEY_MAX 1024          /* public key octets of a DNSKEY (RSA-4096: 516) */
#define TRUST_SHA256_LEN 32
/* Per resolver the store takes the upstream description's limits
 * (dotstub/upstream_desc.h): DS_MAX_UPSTREAM_ADDRS addresses, DS_MAX_TLSA
 * TLSA records of at most DS_TLSA_DATA_MAX octets. */
#define TRUST_FP_MAX 767            /* network fingerprint text (dotstub/netinfo.h) */
#define TRUST_ADDR_MAX 46           /* text address incl. NUL (INET6_ADDRSTRLEN) */
#define TRUST_MAX_RESOLVERS 16      /* resolvers per anchor */
#define TRUST_MAX_NETWORKS 1024     /* hard cap of networks per anchor */
#define TRUST_DEFAULT_NETWORKS 32   /* default cap of networks per anchor */
#define TRUST_MAX_ANCHORS 1024      /* anchors per store */
#define TRUST_FILE_MAX (8u << 20)   /* store file size */
#define TRUST_LINE_MAX 8192         /* one line of the store file */

#define TRUST_STORE_FILE "anchors"
#define TRUST_STORE_LOCK "anchors.lock"
#define TRUST_STORE_VERSION 1
#define TRUST_STORE_VERSION_DPIN 2  /* written when there are designated pins */
#define TRUST_STORE_VERSION_REPIN 3 /* ... and one of them had its key replaced */
#define TRUST_MAX_DPINS 1024        /* designated pins per store */
#define TRUST_TIME_LEN 20           /* "2024-05-01T10:00:00Z" without NUL */

/* ------------------------------------------------------------------ */
/* DNSKEY helpers                                                     */
/* ------------------------------------------------------------------ */

#define TRUST_DNSKEY_ZONE 0x0100   /* flags: zone key */
#define TRUST_DNSKEY_REVOKE 0x0080 /* flags: RFC 5011 revoked */
#define TRUST_DNSKEY_SEP 0x0001    /* flags: secure entry point (KSK) */

/* A DNSKEY rdata, decoded.  Plain value: copy with "=". */
struct trust_dnskey {
	uint16_t flags;
	uint8_t protocol;  /* always 3 once parsed */
	uint8_t algorithm; /* never 0 once parsed */
	uint16_t keylen;   /* 1..TRUST_KEY_MAX */
	uint8_t key[TRUST_KEY_MAX];
};

/* Parse "flags proto alg base64" (the base64 may be split by blanks, as in
 * presentation format).  Checks protocol 3, algorithm != 0, the key length
 * of the algorithms with a fixed one (13, 14, 15, 16) and strict base64.
 * Returns 0 or -EINVAL. */
int trust_dnskey_parse(const char *text, struct trust_dnskey *ret);
/* Parse one RR "zone. [TTL] [IN] DNSKEY flags proto alg base64" (TTL and
 * class in either order; no parentheses; a trailing "; comment" allowed).
 * ret_zone gets the canonical zone name.  Returns 0 or -EINVAL. */
int trust_dnskey_parse_rr(const char *line, char ret_zone[TRUST_NAME_MAX + 1],
			  struct trust_dnskey *ret_key);
/* "257 3 13 base64" into out.  Returns the length, or -ENOBUFS. */
int trust_dnskey_format(const struct trust_dnskey *k, char *out, size_t outlen);
/* Decode rdata in wire form (flags, protocol, algorithm, key) into ret.
 * Only the layout is checked, not the algorithm: this is what a zone
 * published.  Returns 0, or -EBADMSG (shorter than 5 octets, protocol not
 * 3) / -E2BIG (key longer than TRUST_KEY_MAX); ret written only on
 * success. */
int trust_dnskey_from_rdata(const uint8_t *rdata, size_t len, struct trust_dnskey *ret);
/* The rdata in wire form into buf.  Returns its length or -ENOBUFS. */
int trust_dnskey_rdata(const struct trust_dnskey *k, uint8_t *buf, size_t buflen);
/* Key tag of RFC 4034 Appendix B (including the algorithm 1 rule). */
uint16_t trust_dnskey_tag(const struct trust_dnskey *k);
/* SHA-256 of the rdata (OpenSSL EVP).  Returns 0 or -ENOMEM. */
int trust_dnskey_sha256(const struct trust_dnskey *k, uint8_t out[TRUST_SHA256_LEN]);
/* Same rdata. */
bool trust_dnskey_equal(const struct trust_dnskey *a, const struct trust_dnskey *b);
/* Same key apart from the REVOKE flag (RFC 5011: a revoked key is matched
 * to its unrevoked self). */
bool trust_dnskey_same_key(const struct trust_dnskey *a, const struct trust_dnskey *b);

/* Canonical form of a domain name: lower case, trailing dot, labels of
 * [a-z0-9_-] of 1..63 octets, <= 255 octets in wire form; the root is
 * refused.  in may lack the trailing dot.  Returns 0 or -EINVAL. */
int trust_name_canonical(const char *in, char ret[TRUST_NAME_MAX + 1]);
/* "2024-05-01T10:00:00Z" (UTC) into out (TRUST_TIME_LEN + 1 octets). */
void trust_time_format(time_t t, char out[TRUST_TIME_LEN + 1]);
/* Parse exactly that form (years 1970..9999).  Returns 0 or -EINVAL. */
int trust_time_parse(const char *s, time_t *ret);

/* ------------------------------------------------------------------ */
/* What the store keeps                                               */
/* ------------------------------------------------------------------ */

enum trust_state {
	TRUST_STATE_TRUSTED = 0, /* pinned (TOFU or approved); used */
	TRUST_STATE_PENDING,     /* pinned, waiting for "dotctl trust approve" */
	TRUST_STATE_REVOKED,     /* revoked (RFC 5011 or by hand); never used */
	TRUST_STATE_MANAGED,     /* from the managed directory; used */
	TRUST_STATE_ADD_PENDING, /* RFC 5011 add hold-down running */
};
/* "trusted", "pending", "revoked", "managed", "add-pending" */
const char *trust_state_name(enum trust_state s);
/* Returns 0 and sets *ret, or -EINVAL. */
int trust_state_parse(const char *s, enum trust_state *ret);

/* A resolver learned under an anchor (PROTOCOL.md step 7). */
struct trust_resolver {
	char name[TRUST_NAME_MAX + 1]; /* canonical unique name, e.g. "abcd1234efgh.zz." */
	enum ds_server_type type;
	time_t refreshed; /* when this data was last validated */
	char addr[DS_MAX_UPSTREAM_ADDRS][TRUST_ADDR_MAX]; /* canonical inet_ntop text */
	size_t naddr;
	struct ds_tlsa tlsa[DS_MAX_TLSA]; /* data malloc'ed, owned by this struct */
	size_t ntlsa;
};

/* Zero r (name and type set separately by the caller). */
void trust_resolver_init(struct trust_resolver *r);
/* Free the TLSA data; r is then as after trust_resolver_init. */
void trust_resolver_clear(struct trust_resolver *r);
/* Set the name (canonicalised).  Returns 0 or -EINVAL. */
int trust_resolver_set_name(struct trust_resolver *r, const char *name);
/* Add an IPv4 or IPv6 address (text; stored canonical; a duplicate is
 * ignored).  Returns 0 or -EINVAL / -E2BIG. */
int trust_resolver_add_addr(struct trust_resolver *r, const char *addr);
/* Add a TLSA record (data copied; a duplicate is ignored).  Returns 0 or
 * -EINVAL (len 0 or above DS_TLSA_DATA_MAX) / -E2BIG (DS_MAX_TLSA) /
 * -ENOMEM. */
int trust_resolver_add_tlsa(struct trust_resolver *r, const struct ds_tlsa *t);
/* Add "U S M HEX" (single spaces, hex of either case).  Same returns. */
int trust_resolver_add_tlsa_text(struct trust_resolver *r, const char *text);
/* Deep copy into dst (which must be initialised and is cleared first).
 * Returns 0 or -ENOMEM (dst then cleared). */
int trust_resolver_copy(struct trust_resolver *dst, const struct trust_resolver *src);

/* A network on which the anchor was seen. */
struct trust_network {
	char fp[TRUST_FP_MAX + 1]; /* the caller's opaque fingerprint text */
	time_t first_seen;
	time_t last_seen;
};

/* One anchor.  Owned by the store; valid until it is forgotten, or the
 * store is reloaded or closed.  Read-only for callers: change it only
 * through trust_store_* functions. */
struct trust_anchor {
	char zone[TRUST_NAME_MAX + 1]; /* canonical: "resolver-name.arpa." or an operator's */
	struct trust_dnskey key;
	uint16_t tag;                        /* key tag of key */
	uint8_t sha256[TRUST_SHA256_LEN];    /* SHA-256 of the rdata: the identity */
	enum trust_state state;
	bool managed;                        /* key present in the managed directory */
	time_t first_seen;
	time_t last_seen;
	time_t add_pending_since;            /* add-pending only, else 0 */
	uint8_t introduced_by[TRUST_SHA256_LEN]; /* add-pending only */
	struct trust_resolver *resolvers;    /* array of nresolvers */
	size_t nresolvers;
	struct trust_network *networks;      /* array of nnetworks */
	size_t nnetworks;
};

/* Where a designated resolver came from. */
enum trust_dpin_source {
	TRUST_DPIN_DDR = 0, /* DDR: the network's resolver's _dns.resolver.arpa SVCB */
	TRUST_DPIN_DNR,     /* DNR: the link's DHCP/RA options (RFC 9463) */
};
const char *trust_dpin_source_name(enum trust_dpin_source src); /* "ddr", "dnr" */
/* Returns 0 and sets *ret, or -EINVAL. */
int trust_dpin_source_parse(const char *s, enum trust_dpin_source *ret);

/* The key of the designated resolver first used on a network. */
struct trust_dpin {
	char fp[TRUST_FP_MAX + 1];        /* the network's fingerprint */
	enum trust_dpin_source source;
	uint8_t spki[TRUST_SHA256_LEN];   /* SHA-256 of its SubjectPublicKeyInfo */
	char adn[TRUST_NAME_MAX + 1];     /* canonical authentication domain name */
	time_t first_seen;                /* of the network's pin, whatever the key */
	time_t last_seen;
	time_t key_changed;               /* the key was last replaced (PKIX), 0: never */
};

/* ------------------------------------------------------------------ */
/* The store                                                          */
/* ------------------------------------------------------------------ */

struct trust_store;

#define TRUST_OPEN_READONLY 0x1 /* no quarantine, no lock; save refused */

struct trust_store_opts {
	const char *state_dir;   /* holds TRUST_STORE_FILE; required */
	const char *managed_dir; /* "*.key" files; NULL for none */
	unsigned max_networks;   /* per anchor, 1..TRUST_MAX_NETWORKS; 0: default */
	unsigned flags;          /* TRUST_OPEN_* */
};

/* What went wrong while opening (for the caller's log). */
struct trust_open_report {
	char quarantined[4096]; /* path the corrupt file was moved to, or "" */
	unsigned line;          /* line of the store file's error (0: none/whole file) */
	char error[1024];       /* the store file's error, or "" */
	unsigned managed_skipped;  /* managed files skipped as invalid */
	char managed_error[512];   /* the first: "file:line: message", or "" */
};

/* May the store in state_dir be trusted by a process running as uid?
 * Checked as sshd's StrictModes does: the state directory and its
 * TRUST_STORE_FILE (if there is one) must be owned by root or uid and
 * writable by neither group nor others; neither may be a symbolic link;
 * every directory above the state directory, up to / (its symbolic links
 * resolved), must be owned by root or uid and not writable by group or
 * others unless it has the sticky bit (as /tmp: others cannot rename or
 * remove what they do not own there).  Returns 0; -EPERM with the path
 * and the fix in msg; -ENOENT when the state directory does not exist;
 * another -errno. */
int trust_store_check_perms(const char *state_dir, uid_t uid, char *msg, size_t msglen);

/* Returned by trust_store_open when the store file was corrupt or
 * unreadable, was moved aside (report->quarantined) and the store opened
 * empty.  The daemon must log this loudly. */
#define TRUST_STORE_QUARANTINED 1

/* Open the store: read state_dir/TRUST_STORE_FILE (a missing file is an
 * empty store) and the managed anchors.  A corrupt or unreadable store
 * file is renamed to "<file>.corrupt-<unixtime>" and the store opens empty
 * (returns TRUST_STORE_QUARANTINED); with TRUST_OPEN_READONLY it is left
 * in place and -EBADMSG is returned instead.  Invalid managed files are
 * skipped whole and counted in the report.  The state directory and the
 * store file are opened without following symbolic links and must be
 * owned by root or this process's effective user and not writable by
 * group or others: else -EPERM, the reason in report->error (nothing is
 * read, moved or created).  A missing state directory is an empty store.
 * report may be NULL; it is filled whatever the return.  Returns 0,
 * TRUST_STORE_QUARANTINED, or -errno (-ENOMEM, -EBADMSG, -EPERM, or the
 * error of a file operation). */
int trust_store_open(const struct trust_store_opts *o, struct trust_store **ret,
		     struct trust_open_report *report);
/* Free everything.  Does not save.  NULL is fine. */
void trust_store_close(struct trust_store *s);

/* Write the store crash-safely: under flock on TRUST_STORE_LOCK, the text
 * is serialised, parsed back and compared (never write what cannot be read
 * back), written to a temporary file in the same directory, fsync'ed,
 * renamed over the file, and the directory fsync'ed.  Stale temporary
 * files of killed writers are removed.  On any error (-ENOSPC, -EIO, ...)
 * the old file is left intact.  Returns -ESTALE, writing nothing, if the
 * file was replaced by another writer since this handle read or wrote it:
 * reopen, reapply, save again.  -EROFS for a read-only handle.  With a
 * journal (trust_store_set_journal), its commit() instead. */
int trust_store_save(struct trust_store *s);

/* ------------------------------------------------------------------ */
/* Changes, for an observer                                           */
/* ------------------------------------------------------------------ */

/* What a successful trust_store_* change did, told to the store's journal
 * (trust_store_set_journal) right after it was made.  The pointers are
 * valid during the call only. */
enum trust_change_kind {
	TRUST_CHANGE_PIN = 1,   /* zone, key, state (trust_store_pin) */
	TRUST_CHANGE_TOUCH,     /* anchor (trust_store_touch) */
	TRUST_CHANGE_NETWORK,   /* anchor, fp (trust_store_seen_network) */
	TRUST_CHANGE_LEARN,     /* anchor, resolver (trust_store_learn_resolver) */
	TRUST_CHANGE_RFC5011,   /* zone, obs, holddown (trust_store_rfc5011) */
	TRUST_CHANGE_APPROVE,   /* anchor (trust_store_approve) */
	TRUST_CHANGE_FORGET,    /* anchor, before it goes (trust_store_forget) */
	TRUST_CHANGE_REVOKE,    /* anchor (trust_store_revoke) */
	TRUST_CHANGE_DPIN,      /* dpin (trust_store_pin_designated) */
	TRUST_CHANGE_DPIN_FORGET, /* dpin, before it goes (trust_store_forget_designated) */
	TRUST_CHANGE_DPIN_REPLACE, /* dpin, with its new key (trust_store_replace_designated) */
};

struct trust_5011_obs;

struct trust_change {
	enum trust_change_kind kind;
	const char *zone;                    /* PIN, RFC5011: canonical */
	const struct trust_dnskey *key;      /* PIN */
	enum trust_state state;              /* PIN: the state asked for */
	const struct trust_anchor *anchor;   /* TOUCH, NETWORK, LEARN, APPROVE, FORGET, REVOKE */
	const char *fp;                      /* NETWORK */
	const struct trust_resolver *resolver; /* LEARN */
	const struct trust_dpin *dpin;       /* DPIN, DPIN_FORGET, DPIN_REPLACE */
	const struct trust_5011_obs *obs;    /* RFC5011 */
	uint32_t holddown;                   /* RFC5011 */
	time_t now;                          /* the time the caller gave */
};

/* An observer of a store: every change is told to change(); and
 * trust_store_save calls commit() instead of writing a file (its return
 * is save's).  The daemon's network process keeps its store so: the
 * store process writes the file (stub/daemon/netproc.c). */
struct trust_journal {
	void (*change)(void *arg, const struct trust_change *c);
	int (*commit)(void *arg);
	void *arg;
};
/* Attach j (copied; NULL detaches). */
void trust_store_set_journal(struct trust_store *s, const struct trust_journal *j);

/* The serialised text (malloc'ed, NUL-terminated) and its length. */
int trust_store_format(const struct trust_store *s, char **ret_text, size_t *ret_len);
/* Parse text (len octets, untrusted) into s, replacing its anchors (the
 * managed state is not applied).  On error s is unchanged; *ret_line and
 * msg (msglen octets, may be NULL) say what and where.  Returns 0,
 * -EBADMSG or -ENOMEM. */
int trust_store_parse(struct trust_store *s, const char *text, size_t len, unsigned *ret_line,
		      char *msg, size_t msglen);
/* An empty in-memory store with no file (for parsing and tests). */
struct trust_store *trust_store_new_memory(unsigned max_networks);

size_t trust_store_count(const struct trust_store *s);
/* The i-th anchor (0 <= i < count), in file order. */
const struct trust_anchor *trust_store_anchor(const struct trust_store *s, size_t i);

/* Lookups.  Each iterator form returns the next match after "after" (NULL
 * to start), or NULL when there is none. */
/* The anchor with exactly this zone and rdata, or NULL. */
const struct trust_anchor *trust_store_lookup(const struct trust_store *s, const char *zone,
					      const struct trust_dnskey *k);
/* Is k known and usable (trusted or managed) for zone? */
bool trust_store_is_known(const struct trust_store *s, const char *zone,
			  const struct trust_dnskey *k);
const struct trust_anchor *trust_store_find_tag(const struct trust_store *s, uint16_t tag,
						const struct trust_anchor *after);
/* Anchors under which resolver name (any case, dot optional) was learned. */
const struct trust_anchor *trust_store_find_resolver(const struct trust_store *s,
						     const char *name,
						     const struct trust_anchor *after);
/* Anchors seen on the network with exactly this fingerprint. */
const struct trust_anchor *trust_store_find_network(const struct trust_store *s, const char *fp,
						    const struct trust_anchor *after);
/* The one anchor whose sha256 starts with hex (4..64 digits, any case).
 * Returns 0, -EINVAL, -ENOENT or -ENOTUNIQ. */
int trust_store_find_sha256(const struct trust_store *s, const char *hex,
			    const struct trust_anchor **ret);

/* Changes.  "a" must be an anchor of s (else -ENOENT).  A managed anchor's
 * key and state cannot be changed by hand (-EPERM); learned data can. */
/* Add k for zone with state TRUSTED or PENDING (first/last seen = now), or,
 * if it is there, update its last seen (its state is kept: a pending pin
 * is never promoted here).  Returns 1 if added, 0 if it was there,
 * -EKEYREVOKED if it is revoked, -EINVAL (bad zone or state, a key with
 * the REVOKE flag), -E2BIG (store full), -ENOMEM.  *ret (may be NULL) is
 * set on success. */
int trust_store_pin(struct trust_store *s, const char *zone, const struct trust_dnskey *k,
		    enum trust_state state, time_t now, const struct trust_anchor **ret);
/* pending or add-pending -> trusted (no-op if trusted).  -EKEYREVOKED if
 * revoked, -EPERM if managed. */
int trust_store_approve(struct trust_store *s, const struct trust_anchor *a);
/* Remove a and everything learned under it (a is then invalid).  -EPERM
 * if managed. */
int trust_store_forget(struct trust_store *s, const struct trust_anchor *a);
/* Mark revoked (never used again; kept so it is not re-pinned). */
int trust_store_revoke(struct trust_store *s, const struct trust_anchor *a, time_t now);
/* Seen now (updates last seen). */
int trust_store_touch(struct trust_store *s, const struct trust_anchor *a, time_t now);
/* Record that a was seen on network fp (printable ASCII, no leading or
 * trailing blank, 1..TRUST_FP_MAX).  Beyond the cap, the networks with
 * the oldest last-seen are dropped.  Returns 0, -EINVAL, -ENOMEM. */
int trust_store_seen_network(struct trust_store *s, const struct trust_anchor *a, const char *fp,
			     time_t now);
/* Designated pins.  Pointers stay valid until the next change. */
size_t trust_store_dpin_count(const struct trust_store *s);
const struct trust_dpin *trust_store_dpin(const struct trust_store *s, size_t i);
/* The pin of the network with exactly this fingerprint, or NULL. */
const struct trust_dpin *trust_store_find_dpin(const struct trust_store *s, const char *fp);
/* The one pin whose SPKI SHA-256 starts with hex (4..64 digits, any
 * case).  Returns 0, -EINVAL, -ENOENT or -ENOTUNIQ. */
int trust_store_find_dpin_sha256(const struct trust_store *s, const char *hex,
				 const struct trust_dpin **ret);
/* Pin spki for network fp (valid fingerprint text), designated by source
 * with name adn (canonicalised), first and last seen now; if the network
 * has this very key pinned, only its last seen moves.  Returns 1 if
 * added, 0 if it was there, -EEXIST if the network has another key
 * pinned (never replaced here: "dotctl trust forget" it first, or
 * trust_store_replace_designated for a renewed certificate), -EINVAL
 * (bad fingerprint, source, name, or an all-zero key), -E2BIG
 * (TRUST_MAX_DPINS), -ENOMEM.  *ret (may be NULL) is set on success. */
int trust_store_pin_designated(struct trust_store *s, const char *fp,
			       enum trust_dpin_source source, const char *adn,
			       const uint8_t spki[TRUST_SHA256_LEN], time_t now,
			       const struct trust_dpin **ret);
/* Replace the key pinned for network fp by spki: the caller verified the
 * designated resolver's new certificate under PKIX for adn (and, for DDR,
 * the network's resolver's address).  Only a pin of this very adn is
 * replaced; its first seen stays, its last seen and key changed become
 * now (never earlier than its first seen), its source becomes source.  Returns 1 if replaced, 0 if the
 * network has this very key pinned already (its last seen moves), -ENOENT
 * (no pin for the network), -EPERM (pinned for another name), -EINVAL
 * (as trust_store_pin_designated).  *ret (may be NULL) is set on success. */
int trust_store_replace_designated(struct trust_store *s, const char *fp,
				   enum trust_dpin_source source, const char *adn,
				   const uint8_t spki[TRUST_SHA256_LEN], time_t now,
				   const struct trust_dpin **ret);
/* Remove p (then invalid).  Returns 0 or -ENOENT. */
int trust_store_forget_designated(struct trust_store *s, const struct trust_dpin *p);

/* Record (replace) what was learned about resolver r->name under a; r is
 * copied, its refreshed time set to now.  Returns 0, -EINVAL (no name),
 * -E2BIG (too many resolvers), -ENOMEM. */
int trust_store_learn_resolver(struct trust_store *s, const struct trust_anchor *a,
			       const struct trust_resolver *r, time_t now);

/* ------------------------------------------------------------------ */
/* Policy (pure)                                                      */
/* ------------------------------------------------------------------ */

enum trust_tofu {
	TRUST_TOFU_AUTO = 0, /* pin an unknown anchor and use it */
	TRUST_TOFU_ASK,      /* pin as pending; wait for approve */
	TRUST_TOFU_OFF,      /* managed anchors only */
};
const char *trust_tofu_name(enum trust_tofu t); /* "auto", "ask", "off" */
enum trust_unknown_mode {
	TRUST_UNKNOWN_OPPORTUNISTIC = 0, /* plain DNS where no DoT is possible */
	TRUST_UNKNOWN_STRICT,            /* SERVFAIL instead */
};
const char *trust_unknown_mode_name(enum trust_unknown_mode m); /* "opportunistic", "strict" */

/* What the store says about the anchor discovery found. */
enum trust_observed {
	TRUST_OBS_UNKNOWN = 0,
	TRUST_OBS_TRUSTED,
	TRUST_OBS_PENDING, /* pending or add-pending */
	TRUST_OBS_MANAGED,
	TRUST_OBS_REVOKED,
};
/* Map an anchor (NULL: not in the store) to what the policy sees. */
enum trust_observed trust_observed_of(const struct trust_anchor *a);

/* Where discovery stands for the current network.  Also the verdict of a
 * walk (struct disc_result.kind, dotstub/discovery.h): a walk ends in one
 * of OK .. FAILED, never in NONE, RUNNING or ERROR.  The zero value is
 * NONE, not OK: a zeroed result or input says nothing was found. */
enum trust_discovery {
	TRUST_DISC_NONE = 0,       /* not started: the network was just seen */
	TRUST_DISC_RUNNING,        /* a walk is running */
	TRUST_DISC_OK,             /* validated; the observed anchor is in "observed";
				      the only verdict with a usable description */
	/* The resolver does not publish resolver-name.arpa (NXDOMAIN or NODATA
	 * for its DNSKEY).  Unauthenticated by nature: policy may choose
	 * opportunistic mode. */
	TRUST_DISC_NOT_PUBLISHED,
	/* No usable answer from the resolver: it did not answer, or answered
	 * SERVFAIL that is not a validation failure (libunbound reports a
	 * REFUSED as SERVFAIL too), or the deadline passed. */
	TRUST_DISC_UNREACHABLE,
	/* Known anchors were given and none is in the DNSKEY RRset of
	 * resolver-name.arpa (a different key: possible man in the middle). */
	TRUST_DISC_ANCHOR_MISMATCH,
	/* A DNSSEC validation failed: bogus, or insecure where secure data was
	 * required.  The walk's reason carries libunbound's why_bogus. */
	TRUST_DISC_BOGUS,
	/* The data validated but breaks PROTOCOL.md (bad unique name, records
	 * disagreeing, no address, no TLSA, DNSKEY observations differing). */
	TRUST_DISC_FAILED,
	TRUST_DISC_ERROR,          /* the walk could not run at all */
};
#define TRUST_DISC_COUNT (TRUST_DISC_ERROR + 1)
/* The one name of each value, a token without blanks: "none", "running",
 * "ok", "not-published", "unreachable", "anchor-mismatch", "bogus",
 * "failed", "error".  What "dotctl discover" prints (text "result:" and
 * JSON "result") and what the daemon's status shows as last_walk and
 * last_refresh: scripts match these words, so they do not change. */
const char *trust_discovery_name(enum trust_discovery d);

/* How the network's fingerprint matches the networks in the store. */
enum trust_match {
	TRUST_MATCH_NONE = 0, /* an unknown network */
	TRUST_MATCH_EXACT,    /* the same fingerprint */
	TRUST_MATCH_PARTIAL,  /* the same gateway MAC, other details changed */
	TRUST_MATCH_IMPOSTOR, /* a known gateway address with another MAC */
};
#define TRUST_MATCH_COUNT (TRUST_MATCH_IMPOSTOR + 1)
const char *trust_match_name(enum trust_match m); /* "none", "exact", ... */

/* An unknown network whose resolver has the address of a pinned resolver
 * (an attacker who changed the gateway's address and MAC and strips
 * resolver-name.arpa looks exactly like this, and so does a new router
 * in front of a known resolver): DoT to that address, with the pinned
 * name and TLSA, says which. */
enum trust_pinned_addr {
	TRUST_PINNED_NONE = 0,   /* no pinned resolver has this address */
	TRUST_PINNED_UNTRIED,    /* it has: try DoT to it first */
	TRUST_PINNED_AUTHENTICATED, /* DoT to it authenticated: it is that resolver */
	TRUST_PINNED_FAILED,     /* DoT to it failed: looks like a new network */
};
#define TRUST_PINNED_COUNT (TRUST_PINNED_FAILED + 1)
const char *trust_pinned_addr_name(enum trust_pinned_addr p);

/* A hotspot sign-on (plain DNS for a bounded time, asked for by a user). */
enum trust_hotspot {
	TRUST_HOTSPOT_NONE = 0,
	TRUST_HOTSPOT_THIS_LINK,  /* in force for the link being decided */
	TRUST_HOTSPOT_OTHER_LINK, /* in force, for another link */
};
#define TRUST_HOTSPOT_COUNT (TRUST_HOTSPOT_OTHER_LINK + 1)

/* What the network's designated resolvers gave (DDR, RFC 9462; DNR, RFC
 * 9463), looked at only where resolver-name.arpa gives no DoT (it takes
 * precedence): the first designation, by priority, whose DoT handshake
 * succeeded. */
enum trust_designated {
	TRUST_DESIG_NONE = 0,      /* none, disabled, or no handshake succeeded */
	/* its certificate is valid for its ADN under the CA store and, for
	 * DDR, names the network's resolver's address (RFC 9462 4.2) */
	TRUST_DESIG_VERIFIED,
	/* only encrypted, unauthenticated DoT to the network's resolver's own
	 * private address (RFC 9462 4.3) */
	TRUST_DESIG_OPPORTUNISTIC,
	/* this network has a designated resolver's key pinned (first use) and
	 * the designated resolver answered with that key: authenticated */
	TRUST_DESIG_PINNED,
	/* this network has a designated resolver's key pinned and the one
	 * that answered has another key: possible man in the middle */
	TRUST_DESIG_PIN_CHANGED,
	/* this network has a designated resolver's key pinned and no
	 * designated resolver answered DoT (the designation removed, 853
	 * blocked): a known network, never plain DNS */
	TRUST_DESIG_PIN_ABSENT,
	/* this network has a designated resolver's key pinned, the one that
	 * answered has another key, and its certificate verifies as a
	 * verified one's must (PKIX: ADN, and for DDR the resolver's
	 * address): a renewed certificate; authenticated, the pin is replaced */
	TRUST_DESIG_PIN_RENEWED,
};
#define TRUST_DESIG_COUNT (TRUST_DESIG_PIN_RENEWED + 1)
/* "none", "verified", "opportunistic", "pinned", "pin-changed",
 * "pin-absent", "pin-renewed" */
const char *trust_designated_name(enum trust_designated g);

/* Everything the decision depends on.  The policy is the only place that
 * decides between DoT, plain DNS and SERVFAIL; the network manager fills
 * this in and carries out the decision. */
struct trust_policy_input {
	enum trust_tofu tofu;
	enum trust_unknown_mode unknown;
	bool have_resolver;   /* the network announced a resolver address */
	bool have_route;      /* a route (or a loopback resolver) to reach it */
	enum trust_discovery discovery;
	bool wait_expired;    /* RUNNING only: queries waited discovery-wait */
	bool first_use;       /* the walk ran with no anchor (TOFU observation) */
	enum trust_match match;
	bool stored;          /* EXACT only: a usable anchor with a usable
				 resolver (name, addresses, TLSA) was stored
				 for this very network */
	enum trust_pinned_addr pinned_addr; /* NONE match only */
	enum trust_observed observed; /* TRUST_DISC_OK only: the anchor found */
	bool dane_failed;     /* TRUST_DISC_OK: the resolver it describes served a
				 certificate that does not match its TLSA;
				 TRUST_DISC_NONE: the stored resolver did */
	enum trust_hotspot hotspot;
	/* TRUST_DISC_OK: the publication lists none of the addresses the
	 * network announced (a transparent forwarder passed its upstream's
	 * publication through) */
	bool transparent;
	bool prefer_upstream; /* prefer-upstream-resolver yes: such an
				 upstream may be used directly */
	bool dot_unreachable; /* TRUST_DISC_OK: the resolver it describes
				 completed no DoT handshake within
				 discovery-wait (not reachable from here) */
	/* a walk's verdict (not NONE, RUNNING or ERROR): the designated
	 * resolvers' outcome */
	enum trust_designated designated;
};

enum trust_action {
	TRUST_ACT_NONE = 0,       /* nothing to change (a walk goes on) */
	TRUST_ACT_DISCOVER,       /* start a walk with the anchors we know */
	TRUST_ACT_DISCOVER_FIRST_USE, /* walk again with no anchor (TOFU) */
	TRUST_ACT_USE_STORED,     /* DoT to the stored name, addresses and TLSA */
	TRUST_ACT_PROBE_PINNED,   /* try DoT to the pinned resolver at this address */
	TRUST_ACT_USE,            /* DoT authenticated by the (known) observed anchor */
	TRUST_ACT_PIN_AND_USE,    /* TOFU auto: pin as trusted once DANE authenticated */
	TRUST_ACT_PIN_PENDING,    /* ask: pin as pending and wait for approve */
	TRUST_ACT_REFUSE,         /* do not use the anchor; alert */
	TRUST_ACT_PLAIN,          /* opportunistic: plain DNS to the network's resolver */
	TRUST_ACT_SERVFAIL,       /* no service: answer SERVFAIL */
	TRUST_ACT_USE_DESIGNATED, /* DoT to the verified designated resolver (PKIX) */
	TRUST_ACT_USE_OPPORTUNISTIC, /* DoT, unauthenticated, to the resolver's own
					private address (DDR opportunistic) */
};
#define TRUST_ACT_COUNT (TRUST_ACT_USE_OPPORTUNISTIC + 1)

/* How queries are answered meanwhile. */
enum trust_service {
	TRUST_SERVICE_DOT = 0,
	TRUST_SERVICE_PLAIN,    /* always to the network's announced resolver */
	TRUST_SERVICE_SERVFAIL, /* with the decision's EDE */
	TRUST_SERVICE_WAIT,     /* hold queries up to discovery-wait */
};
#define TRUST_SERVICE_COUNT (TRUST_SERVICE_WAIT + 1)

/* Where queries go. */
enum trust_target {
	TRUST_TARGET_NONE = 0,
	TRUST_TARGET_NETWORK_RESOLVER, /* the address the network announced */
	TRUST_TARGET_DISCOVERED,       /* what the walk validated */
	TRUST_TARGET_STORED,           /* what the store learned (on this network, or
					  for the pinned resolver at this address) */
};

/* What the network's resolution looks like after the decision: shown by
 * "dotctl status" (one vocabulary for the daemon and the tools). */
enum trust_posture {
	TRUST_POSTURE_WAITING = 0, /* no network information or no route */
	TRUST_POSTURE_NO_RESOLVER, /* the network gave no resolver */
	TRUST_POSTURE_DISCOVERING,
	TRUST_POSTURE_DOT,         /* authenticated DoT */
	TRUST_POSTURE_PLAIN,       /* opportunistic clear text (unknown network) */
	TRUST_POSTURE_PENDING,     /* anchor pinned as pending: waiting for approval */
	TRUST_POSTURE_REFUSED,     /* anchor refused: alert */
	TRUST_POSTURE_FAILED,      /* no service (strict, or nothing usable) */
	TRUST_POSTURE_DOT_UNAUTH,  /* DoT, encrypted but unauthenticated (DDR
				      opportunistic): never shown as authenticated */
};
const char *trust_posture_name(enum trust_posture p);

struct trust_decision {
	enum trust_action action;
	enum trust_service service;
	enum trust_target target;
	enum trust_posture posture;
	int ede;             /* RFC 8914 code for SERVFAIL (and WAIT expiry) */
	bool alert;          /* a possible attack or downgrade: log loudly */
	bool record_pending; /* pin the observed anchor as PENDING (never used
				until approved) so "dotctl trust approve" can
				adopt it: set with PIN_PENDING, and with REFUSE
				of a changed anchor on a known network */
	bool retry;          /* walk again later, with backoff */
	const char *reason;  /* static, one human-readable sentence */
};

/* The decision for in (see doc/DESIGN.md "Policy").  Pure and total: every
 * input gives a decision. */
void trust_policy_decide(const struct trust_policy_input *in, struct trust_decision *ret);
const char *trust_action_name(enum trust_action a);
const char *trust_service_name(enum trust_service s);

/* A candidate anchor when several are found (e.g. several SEP keys). */
struct trust_candidate {
	enum trust_observed observed;
	time_t first_seen;                 /* 0 if unknown */
	uint8_t sha256[TRUST_SHA256_LEN];  /* tie-break, for a stable order */
};
/* qsort comparator over struct trust_candidate: best first.  Managed,
 * then trusted, pending, unknown, revoked; within a class the older
 * (first seen earlier; unknown last) first. */
int trust_candidate_cmp(const void *a, const void *b);

/* ------------------------------------------------------------------ */
/* RFC 5011 (pure)                                                    */
/* ------------------------------------------------------------------ */

#define TRUST_5011_HOLDDOWN_DEFAULT (30u * 24 * 3600)

/* One key of a trust point (the keys of one operator's zone). */
struct trust_5011_key {
	struct trust_dnskey key;
	enum trust_state state;  /* TRUSTED, MANAGED, ADD_PENDING, REVOKED; PENDING is left alone */
	time_t add_pending_since;
	uint8_t introduced_by[TRUST_SHA256_LEN];
	time_t last_seen;
};

/* An observed DNSKEY RRset (already checked by the caller: signatures
 * verified, in the validity period). */
struct trust_5011_obs {
	const struct trust_dnskey *keys;
	const bool *signer; /* signer[i]: keys[i] made a valid RRSIG over the RRset */
	size_t nkeys;
	uint32_t orig_ttl;  /* original TTL of the RRset */
	time_t now;
};

/* changes reported by trust_5011_update (bit mask) */
#define TRUST_5011_ADDED 0x01    /* a new key entered add-pending */
#define TRUST_5011_PROMOTED 0x02 /* an add-pending key became trusted */
#define TRUST_5011_REVOKED 0x04  /* a key was validly revoked */
#define TRUST_5011_REMOVED 0x08  /* an add-pending key vanished and was removed */
#define TRUST_5011_SEEN 0x10     /* a trusted key was seen (last_seen updated) */

/* Apply one observation to the trust point keys[0..*nkeys) (capacity
 * cap).  A revoked (REVOKE flag) key that signed the RRset revokes its
 * unrevoked self, whatever its state.  PENDING keys (TOFU, waiting for a
 * human) are otherwise left alone.  If the RRset is then signed by a
 * remaining trusted or managed key: new SEP zone keys enter add-pending
 * (hold-down max(holddown, orig_ttl)), add-pending keys seen after their
 * hold-down become trusted, add-pending keys absent from the RRset are
 * removed.  Trusted keys are never removed (only revoked), so the trust
 * point never loses its last trusted key except through a valid revoke.
 * *ret_changes (may be NULL) gets TRUST_5011_* bits.  Returns 0, -EPERM
 * (not signed by a trusted key, nothing but revocations applied; those
 * are in *ret_changes), -EINVAL, -E2BIG (cap reached; nothing changed). */
int trust_5011_update(struct trust_5011_key *keys, size_t *nkeys, size_t cap,
		      const struct trust_5011_obs *obs, uint32_t holddown, unsigned *ret_changes);

/* RFC 5011 section 2.3: seconds until the next active refresh,
 * max(1 h, min(15 d, orig_ttl / 2, (sig_expire - now) / 2)). */
uint32_t trust_5011_refresh_interval(uint32_t orig_ttl, time_t sig_expire, time_t now);
/* ... and after a failed query: max(1 h, min(1 d, orig_ttl / 10,
 * (sig_expire - now) / 10)). */
uint32_t trust_5011_retry_interval(uint32_t orig_ttl, time_t sig_expire, time_t now);

/* Apply an observation to the store's trust point for zone: the anchors
 * of zone whose key (REVOKE flag aside) is in the RRset, and the
 * add-pending anchors introduced by one of its keys.  New anchors are
 * added with first seen = now.  Same returns as trust_5011_update, plus
 * -ENOMEM. */
int trust_store_rfc5011(struct trust_store *s, const char *zone, const struct trust_5011_obs *obs,
			uint32_t holddown, unsigned *ret_changes);

#endif
