/*
 * r1_int.h -- the resolve1 part's state, shared by its files (see
 * dotstub/resolve1.h).  Who calls whom, lowest first (no file calls a file
 * above it):
 *
 *   r1_answer.c   DNS answers into addresses, names and records (pure)
 *   r1_args.c     a method's hostile arguments into link values (pure)
 *   r1_auth.c     may this caller change links?
 *   r1_loop.c     the bus connection on the libevent loop
 *   r1_table.c    the links recorded
 *   r1_props.c    property values (Manager and Link)
 *   r1_set.c      SetLink*, RevertLink: checked, recorded, handed to the daemon
 *   r1_query.c    ResolveHostname, ResolveAddress, ResolveRecord
 *   r1_manager.c  the Manager object
 *   r1_link.c     the Link objects
 *   r1.c          open, close, the name
 */
#ifndef DOTSTUB_R1_INT_H
#define DOTSTUB_R1_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <systemd/sd-bus.h>

#include "dotstub/log.h"
#include "dotstub/resolve1.h"
#include "dotstub/timer.h"

#define R1_PATH "/org/freedesktop/resolve1"
#define R1_LINK_PREFIX "/org/freedesktop/resolve1/link"
#define R1_MANAGER_IFACE "org.freedesktop.resolve1.Manager"
#define R1_LINK_IFACE "org.freedesktop.resolve1.Link"

/* resolved's error names (org.freedesktop.resolve1(5), COMMON ERRORS) */
#define R1_ERR_NO_NAME_SERVERS "org.freedesktop.resolve1.NoNameServers"
#define R1_ERR_INVALID_REPLY "org.freedesktop.resolve1.InvalidReply"
#define R1_ERR_NO_SUCH_RR "org.freedesktop.resolve1.NoSuchRR"
#define R1_ERR_CNAME_LOOP "org.freedesktop.resolve1.CNameLoop"
#define R1_ERR_ABORTED "org.freedesktop.resolve1.Aborted"
#define R1_ERR_NO_SUCH_LINK "org.freedesktop.resolve1.NoSuchLink"
#define R1_ERR_LINK_BUSY "org.freedesktop.resolve1.LinkBusy"
#define R1_ERR_DNS_ERROR "org.freedesktop.resolve1.DnsError."

/* The flags of the Resolve* methods (org.freedesktop.resolve1(5)). */
#define R1_F_DNS (UINT64_C(1) << 0)
#define R1_F_PROTOCOLS (UINT64_C(0x1f))
#define R1_F_NO_CNAME (UINT64_C(1) << 5)
#define R1_F_NO_SEARCH (UINT64_C(1) << 8)
#define R1_F_AUTHENTICATED (UINT64_C(1) << 9)
#define R1_F_CONFIDENTIAL (UINT64_C(1) << 18)
#define R1_F_SYNTHETIC (UINT64_C(1) << 19)
#define R1_F_FROM_CACHE (UINT64_C(1) << 20)
#define R1_F_FROM_NETWORK (UINT64_C(1) << 23)
#define R1_F_INPUT_MASK (UINT64_C(1) << 18) - 1   /* the flags a caller may pass */

/* One link as recorded. */
struct r1_link {
	struct ds_r1 *r1;
	bool used;
	struct ds_linkconf lc;
};

/* The bus connection's events on the loop (r1_loop.c). */
struct r1_loop {
	struct event_base *base;
	sd_bus *bus;
	struct event *rd, *wr;
	struct ds_timer *timer;
	bool wr_added;
	/* the connection failed (sd_bus_process < 0): the owner drops it */
	void (*on_error)(void *arg, int err);
	void *arg;
};

struct r1_call;
TAILQ_HEAD(r1_call_list, r1_call);

struct ds_r1 {
	struct event_base *base;
	struct ds_r1_opts opts;
	struct ds_r1_hooks hooks;
	sd_bus *bus;                      /* NULL while not connected */
	struct r1_loop loop;
	struct ds_timer *retry;           /* connect again */
	struct ds_timer *drop;            /* close the connection outside its callbacks */
	bool owns_name;
	bool name_taken;                  /* another process owns it: stay idle */
	struct r1_link links[DS_R1_MAX_LINKS];
	struct r1_link scratch;           /* an existing link nothing was set on */
	struct r1_call_list calls;        /* resolve calls in flight */
	unsigned ncalls;
	uint64_t calls_total, calls_refused;
	struct ds_log_rl auth_rl;          /* the refused-caller line */
	struct ds_log_rl limit_rl;         /* the dbus-max-calls line */
};

/* ---- r1_args.c: hostile arguments into values (errors name the
 * argument; nothing is recorded on error) ---- */
/* a(iay) (ex false) or a(iayqs) (ex true) into dns[], at most
 * DS_LINK_MAX_DNS; link-local IPv6 addresses get ifindex as their scope */
int r1_args_read_dns(sd_bus_message *m, bool ex, int ifindex, struct ds_link_dns *dns, int *n,
		     sd_bus_error *err);
/* a(sb) into domains[], at most DS_LINK_MAX_DOMAINS, lower case, no
 * trailing dot ("." is the root, "") */
int r1_args_read_domains(sd_bus_message *m, struct ds_link_domain *dom, int *n,
			 sd_bus_error *err);
/* a domain name as text (no trailing dot kept) into out; 0 or -EINVAL */
int r1_args_domain(const char *s, char *out, size_t outlen);
/* is s one of the modes of what ("DNSSEC", "LLMNR", "MulticastDNS",
 * "DNSOverTLS")?  "" (unset) always is */
bool r1_args_mode_ok(const char *what, const char *s);
/* an ifindex argument: > 0 and a link the kernel has (name into ifname),
 * not loopback; 0 or -errno with err set */
int r1_args_ifindex(int ifindex, char ifname[IF_NAMESIZE], sd_bus_error *err);

/* ---- r1_auth.c ---- */
/* May the sender of m change links?  0 with *uid, or -EACCES with
 * org.freedesktop.DBus.Error.AccessDenied in err (logged). */
int r1_auth_check(struct ds_r1 *r1, sd_bus_message *m, uid_t *uid, sd_bus_error *err);

/* ---- r1_loop.c ---- */
int r1_loop_attach(struct r1_loop *l, struct event_base *base, sd_bus *bus,
		   void (*on_error)(void *arg, int err), void *arg);
void r1_loop_detach(struct r1_loop *l);
/* stop watching (from inside its callbacks: on_error); detach later */
void r1_loop_pause(struct r1_loop *l);
/* after sending outside a bus callback: watch for what the bus needs now */
void r1_loop_kick(struct r1_loop *l);

/* ---- r1_table.c ---- */
/* the record of ifindex, or NULL */
struct r1_link *r1_table_find(struct ds_r1 *r1, int ifindex);
/* the record of ifindex, made if missing; NULL with err when the table is
 * full */
struct r1_link *r1_table_get(struct ds_r1 *r1, int ifindex, const char *ifname,
			     sd_bus_error *err);
void r1_table_drop(struct ds_r1 *r1, int ifindex);
/* drop the records of links the kernel no longer has (or that were
 * replaced by another under the same index); tells the daemon */
void r1_table_sweep(struct ds_r1 *r1);
/* the record to show for an existing link: its own, or r1->scratch */
struct r1_link *r1_table_view(struct ds_r1 *r1, int ifindex, const char *ifname);

/* ---- r1_props.c: property values ---- */
int r1_props_link_dns(sd_bus_message *reply, const struct ds_linkconf *lc, bool ex);
int r1_props_link_domains(sd_bus_message *reply, const struct ds_linkconf *lc);
/* the current server as (iay) or (iayqs) (with_ifindex: (iiay)...) */
int r1_props_current(sd_bus_message *reply, const struct ds_r1_linkstate *st, bool ex,
		     bool with_ifindex);
/* a(iiay) / a(iiayqs): the daemon's own resolvers, then every link's */
int r1_props_all_dns(sd_bus_message *reply, struct ds_r1 *r1, bool ex);
int r1_props_all_domains(sd_bus_message *reply, struct ds_r1 *r1);
const char *r1_props_resolv_conf_mode(const struct ds_r1 *r1);

/* ---- r1_set.c: the Set* methods, shared by the Manager and the Links ---- */
enum r1_set_what {
	R1_SET_DNS, R1_SET_DNS_EX, R1_SET_DOMAINS, R1_SET_DEFAULT_ROUTE, R1_SET_LLMNR,
	R1_SET_MDNS, R1_SET_DOT, R1_SET_DNSSEC, R1_SET_REVERT,
};
/* m's remaining arguments are the value; replies to m */
int r1_set(struct ds_r1 *r1, sd_bus_message *m, int ifindex, enum r1_set_what what,
	   sd_bus_error *err);

/* ---- r1_query.c ---- */
int r1_query_hostname(sd_bus_message *m, void *userdata, sd_bus_error *err);
int r1_query_address(sd_bus_message *m, void *userdata, sd_bus_error *err);
int r1_query_record(sd_bus_message *m, void *userdata, sd_bus_error *err);
/* give up every call in flight (the connection goes) */
void r1_query_cancel_all(struct ds_r1 *r1);

/* ---- r1_manager.c, r1_link.c ---- */
extern const sd_bus_vtable r1_manager_vtable[];
extern const sd_bus_vtable r1_link_vtable[];
int r1_link_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		 sd_bus_error *err);
int r1_link_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
		      sd_bus_error *err);
/* the object path of a link (free it) */
char *r1_link_path(int ifindex);

#endif
