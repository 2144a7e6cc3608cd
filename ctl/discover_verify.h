/*
 * discover_verify.h -- `dotctl discover` tries the DoT designations a
 * resolver names for itself (RFC 9462): each verified, as RFC 9462 4.2
 * asks (the certificate valid for the ADN under the CA store and carrying
 * the address that was asked), and, where 4.3 allows it (a private
 * resolver's own address), opportunistically.  A dry run: nothing pinned.
 */
#ifndef DOTSTUB_CTL_DISCOVER_VERIFY_H
#define DOTSTUB_CTL_DISCOVER_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "dotstub/ddr.h"
#include "dotstub/ddr_verify.h"


/* Try every designation of q (asked of resolver).  ca_file NULL: the
 * system's store.  Returns how many verdicts were written (<= cap). */
int ctl_ddr_verify(const struct ddr_query *q, const struct sockaddr_storage *resolver,
		   const char *ca_file, unsigned timeout_ms, struct ds_ddr_verdict *out, int cap);
/* "ddr: ..." lines, one or two per verdict */
/* The same for designations g[0..n) (DNR ones: verified by ADN alone). */
int ctl_designations_verify(const struct ddr_designation *g, int n,
			    const struct sockaddr_storage *resolver, const char *ca_file,
			    unsigned timeout_ms, struct ds_ddr_verdict *out, int cap);
void ctl_ddr_verify_print_text(FILE *f, const struct ds_ddr_verdict *v, int n,
			       const char *addr);
/* a JSON array, no newline */
void ctl_ddr_verify_print_json(FILE *f, const struct ds_ddr_verdict *v, int n);

#endif
