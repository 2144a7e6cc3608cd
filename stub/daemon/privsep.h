/*
 * privsep.h -- dotstubd's two processes and what crosses between them.
 *
 * The store process (the one the service manager started, its MAINPID)
 * binds the listeners and the control socket, opens at start the raw
 * ICMPv6 socket for router advertisements (CAP_NET_RAW; the network
 * process inherits it and only reads it), keeps the trust store and
 * is the only one that writes a file: the store, resolv-conf-out.  It
 * keeps CAP_NET_BIND_SERVICE (a reload may add a port-53 listener) and
 * answers the control socket's "trust" requests itself, so an operator's
 * approve, forget or import never passes through the other process.
 *
 * The network process, its child, parses everything that comes from the
 * network: client queries, upstream answers and TLS, discovery (libunbound),
 * netlink, resolv-source, and the control requests the store process hands
 * it (status, network, query, hotspot-signon).  It runs with no capability,
 * no_new_privs, and a seccomp filter that kills it for any system call that
 * could create, change or remove a file (stub/daemon/sandbox.c).
 *
 * They talk over one AF_UNIX SOCK_SEQPACKET socketpair.  Every message is
 * a fixed header (type, length of the body) and a body of exactly the size
 * of its type; a descriptor travels (SCM_RIGHTS) with exactly the types
 * that carry one.  The store process treats anything else from the network
 * process -- a short, oversized or truncated message, an unknown type, a
 * length that is not its type's, a descriptor where none belongs, a string
 * without its NUL, a count out of range -- as a protocol violation: it logs
 * why, kills the network process and exits with status 1 (the service
 * manager restarts the daemon); nothing of the batch being sent is written.
 * A well-formed change that breaks a rule of the store (PIN, NETWORK,
 * DPIN below) is refused, logged, and not applied; the other changes are.
 *
 * The network process keeps its own copy of the store.  It applies each
 * change to its copy as before (the same trust_store_* calls) and the
 * copy's journal (trust_store_set_journal) sends it as one message; a
 * save sends COMMIT.  The store process applies each change to its own
 * copy with its own clock and rules, writes the file on COMMIT, and
 * answers every COMMIT with its whole store (STORE, a sealed memfd), which
 * the network process takes as its copy: the two are the same after
 * every commit, and a refused change leaves no trace.  (Messages the
 * other way are checked alike; a bad one makes the network process exit.)
 *
 * What a compromised network process can still do, and what it cannot:
 * dotstubd(8), PROCESSES.
 */
#ifndef DOTSTUB_PRIVSEP_H
#define DOTSTUB_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "dotstub/config.h"
#include "dotstub/ctlproto.h"
#include "dotstub/netinfo.h"
#include "dotstub/trust.h"
#include "dotstub/upstream_desc.h"

#include "daemon.h"

/* ------------------------------------------------------------------ */
/* The messages                                                       */
/* ------------------------------------------------------------------ */

#define DS_PMSG_MAX (64u * 1024) /* header and body; larger is a violation */

struct ds_pmsg_hdr {
	uint32_t type; /* enum ds_pmsg_type */
	uint32_t len;  /* octets of the body: exactly its type's size */
};

enum ds_pmsg_type {
	/* network process -> store process: changes of the store */
	DS_PMSG_PIN = 1,  /* struct ds_pmsg_pin */
	DS_PMSG_TOUCH,    /* struct ds_pmsg_touch */
	DS_PMSG_NETWORK,  /* struct ds_pmsg_network */
	DS_PMSG_LEARN,    /* struct ds_pmsg_learn */
	DS_PMSG_RFC5011,  /* struct ds_pmsg_rfc5011 */
	DS_PMSG_DPIN,     /* struct ds_pmsg_dpin */
	DS_PMSG_COMMIT,   /* struct ds_pmsg_commit: write what came before */
	/* network process -> store process: what only it may do */
	DS_PMSG_RESOLVCONF, /* struct ds_pmsg_resolvconf: resolv-conf-out's inputs */
	DS_PMSG_READY,      /* struct ds_pmsg_ready: READY=1 for the service manager */
	DS_PMSG_RELOADED,   /* struct ds_pmsg_reloaded: a RELOAD was applied or not */
	/* store process -> network process */
	DS_PMSG_STORE = 64, /* struct ds_pmsg_store, + the memfd unless err */
	DS_PMSG_LISTEN,     /* struct ds_pmsg_listen, + the bound socket */
	DS_PMSG_CONTROL,    /* struct ds_pmsg_control, + the client's socket */
	DS_PMSG_RELOAD,     /* struct ds_pmsg_reload */
};

/* Which process reads a message (the checks differ by direction). */
enum ds_pmsg_dir {
	DS_PMSG_TO_STORE,   /* read by the store process */
	DS_PMSG_TO_NETWORK, /* read by the network process */
};

/* A DNSKEY rdata. */
struct ds_pmsg_key {
	uint16_t flags;
	uint8_t protocol;
	uint8_t algorithm;
	uint16_t keylen; /* 1..TRUST_KEY_MAX */
	uint8_t key[TRUST_KEY_MAX];
};

/* An anchor of the store: its zone and the SHA-256 of its key. */
struct ds_pmsg_anchor_id {
	char zone[TRUST_NAME_MAX + 1];
	uint8_t sha256[TRUST_SHA256_LEN];
};

/* PIN: trust_store_pin(zone, key, state).  Rules: the zone is
 * resolver-name.arpa.; the state trusted or pending; a key not in the
 * store is pinned as trusted only with tofu auto; a revoked key stays
 * revoked; a key already there only has last-seen moved (a pin never
 * approves). */
struct ds_pmsg_pin {
	char zone[TRUST_NAME_MAX + 1];
	struct ds_pmsg_key key;
	uint8_t state; /* enum trust_state */
};

/* TOUCH: trust_store_touch. */
struct ds_pmsg_touch {
	struct ds_pmsg_anchor_id anchor;
};

/* NETWORK: trust_store_seen_network(anchor, fp).  Rule: a usable (trusted
 * or managed) anchor is recorded on a network it does not have yet only
 * if no other anchor knows that network (the same fingerprint, or one the
 * policy takes for the same network: the same gateway MAC, or a known
 * gateway address with another MAC).  A pending anchor may be: it is
 * used only once an operator approves it. */
struct ds_pmsg_network {
	struct ds_pmsg_anchor_id anchor;
	char fp[TRUST_FP_MAX + 1];
};

/* LEARN: trust_store_learn_resolver(anchor, resolver). */
struct ds_pmsg_tlsa {
	uint8_t usage, selector, mtype;
	uint16_t len; /* 1..DS_TLSA_DATA_MAX */
	uint8_t data[DS_TLSA_DATA_MAX];
};
struct ds_pmsg_learn {
	struct ds_pmsg_anchor_id anchor;
	char name[TRUST_NAME_MAX + 1];
	uint8_t type;  /* enum ds_server_type */
	uint8_t naddr; /* 0..DS_MAX_UPSTREAM_ADDRS */
	uint8_t ntlsa; /* 0..DS_MAX_TLSA */
	char addr[DS_MAX_UPSTREAM_ADDRS][TRUST_ADDR_MAX];
	struct ds_pmsg_tlsa tlsa[DS_MAX_TLSA];
};

/* RFC5011: trust_store_rfc5011(zone, observation), with the store
 * process's own clock and rfc5011-hold-down. */
#define DS_PMSG_5011_KEYS 8
struct ds_pmsg_rfc5011 {
	char zone[TRUST_NAME_MAX + 1];
	uint32_t orig_ttl;
	uint8_t nkeys;                    /* 0..DS_PMSG_5011_KEYS */
	uint8_t signer[DS_PMSG_5011_KEYS]; /* 0 or 1 */
	struct ds_pmsg_key keys[DS_PMSG_5011_KEYS];
};

/* DPIN: trust_store_pin_designated(fp, source, adn, spki).  Rules: a
 * fingerprint, source ddr or dnr, a canonical name, a SPKI SHA-256 that is
 * not all zero; a pin never replaces another key pinned for that network
 * (a refusal: only "dotctl trust forget" removes it).  With replace (1):
 * trust_store_replace_designated, the network process having verified the
 * designated resolver's new certificate under PKIX; the same rules, and
 * the network has a key pinned for this very name (else a refusal). */
struct ds_pmsg_dpin {
	char fp[TRUST_FP_MAX + 1];
	char adn[TRUST_NAME_MAX + 1];
	uint8_t source; /* enum trust_dpin_source */
	uint8_t spki[TRUST_SHA256_LEN];
	uint8_t replace; /* 0 or 1 */
};

/* COMMIT: write the store; answered by STORE with the same seq. */
struct ds_pmsg_commit {
	uint32_t seq;
};

/* RESOLVCONF: what resolv-conf-out says beyond the listeners. */
struct ds_pmsg_resolvconf {
	uint8_t posture; /* enum ds_stubresolv_posture (daemon.h) */
	uint8_t nsearch; /* 0..DS_STUBRESOLV_MAX_SEARCH */
	char search[DS_STUBRESOLV_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
};

/* READY: READY=1 with this STATUS= (one line; the store process keeps
 * printable ASCII only and adds its own MAINPID=). */
#define DS_PMSG_STATUS_MAX 256
struct ds_pmsg_ready {
	char status[DS_PMSG_STATUS_MAX];
};

/* RELOADED: the answer to RELOAD. */
struct ds_pmsg_reloaded {
	uint8_t applied; /* 0 or 1 */
};

/* STORE: the store process's whole store, the text of trust_store_format
 * in a sealed memfd of len octets (none when err). */
enum ds_pmsg_store_why {
	DS_PMSG_STORE_COMMIT,   /* the answer to COMMIT seq */
	DS_PMSG_STORE_OPERATOR, /* dotctl trust changed it: decide again */
	DS_PMSG_STORE_RELOAD,   /* read again for a RELOAD that follows */
};
struct ds_pmsg_store {
	int32_t err;      /* 0, or -errno: no store to serve with (reload) */
	uint8_t why;      /* enum ds_pmsg_store_why */
	uint32_t seq;     /* COMMIT: the commit answered */
	uint32_t refused; /* COMMIT: changes refused since the last one */
	uint64_t len;     /* 0..TRUST_FILE_MAX */
};

/* LISTEN: a bound listener socket for a RELOAD that follows. */
struct ds_pmsg_listen {
	struct sockaddr_storage addr;
	int32_t socktype; /* SOCK_DGRAM or SOCK_STREAM */
};

/* CONTROL: a control connection, its peer checked and its request read
 * by the store process; the network process answers it. */
struct ds_pmsg_control {
	uint64_t refused; /* control connections the store process refused so far */
	char line[DS_CTL_LINE_MAX + 1];
};

/* RELOAD: apply the configuration again (ok), or count a reload the store
 * process refused (why). */
struct ds_pmsg_reload {
	uint8_t ok;
	char why[512];
};

/* One message as read (privmsg.c). */
struct ds_pmsg {
	struct ds_pmsg_hdr hdr;
	int fd; /* the descriptor that came with it, or -1 */
	union {
		struct ds_pmsg_pin pin;
		struct ds_pmsg_touch touch;
		struct ds_pmsg_network network;
		struct ds_pmsg_learn learn;
		struct ds_pmsg_rfc5011 rfc5011;
		struct ds_pmsg_dpin dpin;
		struct ds_pmsg_commit commit;
		struct ds_pmsg_resolvconf resolvconf;
		struct ds_pmsg_ready ready;
		struct ds_pmsg_reloaded reloaded;
		struct ds_pmsg_store store;
		struct ds_pmsg_listen listen;
		struct ds_pmsg_control control;
		struct ds_pmsg_reload reload;
	} u;
};

/* ---- privmsg.c: the channel ---- */
/* The socketpair, both ends blocking with a send timeout (the reader
 * reads with MSG_DONTWAIT).  0 or -errno. */
int ds_pmsg_pair(int sv[2]);
/* Send one message (and fd, if >= 0).  0 or -errno (logged by the caller). */
int ds_pmsg_send(int sock, uint32_t type, const void *body, uint32_t len, int fd);
/* Read one message into m and check it for dir: 1 (a message; m->fd is
 * the caller's), 0 (nothing to read), -EPIPE (the other end is gone),
 * -EBADMSG (a protocol violation: why says what; nothing kept), another
 * -errno. */
int ds_pmsg_recv(int sock, enum ds_pmsg_dir dir, struct ds_pmsg *m, char *why, size_t whylen);
/* The size of a type's body, or 0 for a type unknown in dir. */
size_t ds_pmsg_body_size(enum ds_pmsg_dir dir, uint32_t type);
/* The name of a type, for log lines. */
const char *ds_pmsg_name(uint32_t type);
/* DNSKEY <-> message form.  ds_pmsg_key_get: 0 or -EBADMSG. */
void ds_pmsg_key_put(struct ds_pmsg_key *m, const struct trust_dnskey *k);
int ds_pmsg_key_get(const struct ds_pmsg_key *m, struct trust_dnskey *k);

/* ------------------------------------------------------------------ */
/* The store process's rules (storeapply.c)                           */
/* ------------------------------------------------------------------ */

/* Apply one change of the network process (PIN, TOUCH, NETWORK, LEARN,
 * RFC5011, DPIN; well formed) to s with the store process's rules, its clock
 * (now) and configuration.  0: applied, what it did in note ("" if
 * nothing worth a line); -errno: refused, why in why.  Logs nothing. */
int ds_storeapply(struct trust_store *s, const struct ds_config *cfg, const struct ds_pmsg *m,
		  time_t now, char *note, size_t notelen, char *why, size_t whylen);

/* ------------------------------------------------------------------ */
/* The processes                                                      */
/* ------------------------------------------------------------------ */

/* The listener sockets bound by the store process. */
struct ds_listen_fd {
	struct sockaddr_storage addr;
	int socktype; /* SOCK_DGRAM or SOCK_STREAM */
	int fd;       /* -1: taken */
};
struct ds_listen_fds {
	struct ds_listen_fd l[2 * DS_MAX_LISTEN + DS_MAX_SERVE_DOT];
	int n;
};

/* What the network process serves with (main.c): called with d->base
 * made, the process confined and the hooks of d set; returns the exit
 * status. */
typedef int ds_serve_fn(struct ds_daemon *d);

/* ---- storeproc.c ---- */
/* Run dotstubd from here on (after the configuration was read and the
 * state directory checked): bind, drop privileges, open the store, start
 * the network process (which runs serve) and serve as the store process
 * until a signal stops it.  Returns the exit status (in both processes). */
int ds_storeproc_main(struct ds_daemon *d, ds_serve_fn *serve);

/* ---- netproc.c ---- */
/* The network process, started by the store process (fork) with its end
 * of the channel, the listener sockets, the raw ICMPv6 socket for router
 * advertisements (-1: none) and the store's text (NULL: no store):
 * confines itself and runs serve.  Returns the exit status. */
int ds_netproc_main(struct ds_daemon *d, int chan, struct ds_listen_fds *fds, int ra_fd,
		    char *store_text, size_t store_len, pid_t store_pid, ds_serve_fn *serve);

/* ---- privdrop.c ---- */
/* The store process, before the network process starts: as root with
 * user set, chown the state directory (and the control socket and the run
 * directory) to it and become it; in every case keep no capability but
 * CAP_NET_BIND_SERVICE (if it has it).  0 or -errno (logged). */
int ds_privdrop_store(const struct ds_config *c);
/* The network process: no capability at all (effective, permitted,
 * inheritable, ambient; the bounding set too where that is allowed).  0
 * or -errno (logged). */
int ds_privdrop_network(void);

/* ---- sandbox.c: seccomp ---- */
enum ds_sandbox_kind { DS_SANDBOX_STORE, DS_SANDBOX_NETWORK };
/* no_new_privs, then (if built with seccomp and on) the filter of kind:
 * only the system calls that process makes; any other kills the process
 * (SIGSYS).  bus: the network process may open AF_UNIX sockets (the
 * system bus, for resolve1).  peer: the one process the store process may
 * signal (the network process).  0 or -errno (logged). */
int ds_sandbox_enter(enum ds_sandbox_kind kind, bool seccomp_on, bool bus, pid_t peer);
/* How many distinct system calls the filter of kind allows (some only
 * with certain arguments); 0 without seccomp. */
unsigned ds_sandbox_syscalls(enum ds_sandbox_kind kind);

#endif
