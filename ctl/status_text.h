/*
 * status_text.h -- the text views of `dotctl status` and `dotctl network`,
 * rendered from the daemon's status JSON (stub/daemon/status.c).  Known
 * sections are laid out by hand; a member the renderer does not know is
 * still printed, generically, so that a field the daemon adds shows in the
 * text view as well as in the JSON.
 */
#ifndef DOTSTUB_CTL_STATUS_TEXT_H
#define DOTSTUB_CTL_STATUS_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Render len octets of status JSON onto f.  Returns 0, or -1 with a message
 * in err when the JSON is malformed or not a status object. */
int ctl_status_render(FILE *f, const char *json, size_t len, char *err, size_t errlen);
/* The same for the answer of "network": the current fingerprint. */
int ctl_network_render(FILE *f, const char *json, size_t len, char *err, size_t errlen);

#endif
