/*
 * pub_int.h -- the publisher's state, shared by publish.c (building and
 * signing) and pub_answer.c (answering).  Internal to stub/publish.
 */
#ifndef DOTSTUB_PUB_INT_H
#define DOTSTUB_PUB_INT_H

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/publish.h"

#define PUB_MAX_ADDRS 16
#define PUB_MAX_UPSTREAMS 8

enum { PUB_ZONE_ARPA, PUB_ZONE_UNIQUE, PUB_NZONES };

struct ds_publisher {
	struct ds_pub_keys keys;
	char name[DS_PUB_NAME_SIZE];
	char addr[PUB_MAX_ADDRS][46];
	size_t naddr;
	char tlsa[160];
	struct ds_pub_upstream *up;	/* PUB_MAX_UPSTREAMS of them */
	size_t nup;
	/* the signed zones answered from, and their apexes (canonical) */
	struct ds_pub_signed *zone[PUB_NZONES];
	ldns_rdf *apex[PUB_NZONES];
	uint32_t serial;
	time_t inception, expiration;
};

#endif
