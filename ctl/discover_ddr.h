/*
 * discover_ddr.h -- the DDR part of `dotctl discover`: what the resolver
 * says about its designated resolvers (RFC 9462 4, dotstub/ddr.h), as
 * read (discover_verify.c tries them): a "ddr:" block of text or the
 * "ddr" member of the JSON output.
 */
#ifndef DOTSTUB_CTL_DISCOVER_DDR_H
#define DOTSTUB_CTL_DISCOVER_DDR_H

#include <stdio.h>

#include "dotstub/ddr.h"

/* The "ddr:" lines for the answer q of the resolver addr, port. */
void ctl_ddr_print_text(FILE *f, const struct ddr_query *q, const char *addr, unsigned port);
/* The value of the "ddr" member: one JSON object, no newline. */
void ctl_ddr_print_json(FILE *f, const struct ddr_query *q, const char *addr, unsigned port);

#endif
