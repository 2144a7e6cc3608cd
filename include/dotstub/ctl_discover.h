/*
 * ctl_discover.h -- `dotctl discover ADDR`: a dry run of the
 * resolver-name.arpa discovery walk (dotstub/discovery.h) against a
 * resolver, printing each step with its validation result and the upstream
 * description it would produce.  Pins nothing, talks to no daemon.
 *
 * Owner: discovery.  Only ctl/dotctl.c calls it.
 */
#ifndef DOTSTUB_CTL_DISCOVER_H
#define DOTSTUB_CTL_DISCOVER_H

/*
 * Run `dotctl discover ADDR... [--port P] [--anchor FILE]... [--json]
 * [--timeout MS] [--confirm-delay MS] [--verbose]`.  argv[0] is "discover".
 * Returns the process exit status (all printed): 0 the walk succeeded,
 * 1 it failed (bogus, anchor mismatch, broken publication, no answer),
 * 2 usage or local error, 3 the resolver does not publish
 * resolver-name.arpa (NXDOMAIN, NODATA, or REFUSED to this client).
 */
int ctl_discover_main(int argc, char **argv);

#endif
