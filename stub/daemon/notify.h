/*
 * notify.h -- telling the service manager (systemd's sd_notify protocol,
 * without libsystemd) that dotstubd is ready, reloading or stopping.
 * Every function does nothing when $NOTIFY_SOCKET was not set.
 */
#ifndef DOTSTUB_NOTIFY_H
#define DOTSTUB_NOTIFY_H

#include <stdbool.h>

#include "daemon.h"

/* Read $NOTIFY_SOCKET ("/path" or "@abstract") and unset it.  0 if it is
 * unset or usable; -errno (logged) if it is not. */
int ds_notify_init(void);
void ds_notify_close(void);
/* One datagram of KEY=VALUE lines.  0 or -errno (logged). */
int ds_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* READY=1 with STATUS= a one-line summary of what d serves. */
void ds_notify_ready(const struct ds_daemon *d);
/* READY=1 with this STATUS= (made one line of printable ASCII). */
void ds_notify_ready_status(const char *status);
/* The network process: its READY=1 goes to fn (the store process says
 * it); RELOADING=1 and STOPPING=1 are the store process's own. */
void ds_notify_relay(void (*fn)(void *arg, const char *status), void *arg);
bool ds_notify_ready_sent(void);
/* RELOADING=1; STOPPING=1 */
void ds_notify_reloading(void);
void ds_notify_stopping(void);

#endif
