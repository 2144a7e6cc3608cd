/*
 * peers.h -- what the network manager and the query path talk to, played
 * by the timing harness: the walk job (results handed in by the test), the
 * netlink watcher (fingerprints handed in by the test), the DoT and
 * plain-DNS clients (they record what they were asked).  The manager, the
 * policy, the trust store, the cache and the query path are the real ones.
 */
#ifndef DOTSTUB_TEST_PEERS_H
#define DOTSTUB_TEST_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include "dotstub/discovery.h"
#include "dotstub/netinfo.h"

#define PEERS_MAX_WALKS 64

struct peers {
	/* walks started, in order */
	struct {
		uint64_t at_ms;
		char resolver[DISC_ADDR_STR_MAX];
		int nanchors;
	} walks[PEERS_MAX_WALKS];
	int nwalks;
	bool walk_running;
	/* DoT client */
	int up_created;
	char up_name[DNS_NAME_MAX + 1];
	uint64_t up_handshakes;   /* what the client's status says */
	uint64_t up_fail_auth;
	uint64_t up_submitted;
	/* plain client */
	int plain_created;
	uint64_t plain_submitted;
	/* the netlink watcher's resolvers */
	int watch_nres;
};
extern struct peers peers;

void peers_reset(void);
/* the netlink watcher reports fp (DS_NETWATCH_* flags) */
void peers_netwatch_report(const struct ds_netfp *fp, unsigned flags);
/* the running walk ends with rc and res (res owned by the callee) */
void peers_walk_finish(int rc, struct disc_result *res);

#endif
