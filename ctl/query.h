/*
 * query.h -- `dotctl query NAME [TYPE]` (query.c): the request line for
 * the daemon, and its answer rendered.
 */
#ifndef DOTSTUB_CTL_QUERY_H
#define DOTSTUB_CTL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* "query HEX": a recursive query for NAME (presentation form) and TYPE (a
 * number or a mnemonic; NULL: A), class IN, with EDNS(0).  Returns 0, or
 * -EINVAL / -E2BIG with a message in err. */
int ctl_query_request(const char *name, const char *type, char *line, size_t cap, char *err,
		      size_t errlen);
/* Render the daemon's answer (JSON, untrusted) as text or JSON.  Returns
 * 0 for an answer, 1 for SERVFAIL, -EINVAL with err if it is not valid. */
int ctl_query_render(FILE *f, const char *text, size_t len, bool json, char *err, size_t errlen);

#endif
