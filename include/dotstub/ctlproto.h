/*
 * ctlproto.h -- the control protocol between dotctl and dotstubd.
 *
 * A unix stream socket.  The client sends one request line: words separated
 * by single spaces, at most DS_CTL_LINE_MAX octets, ending in '\n'.  The
 * daemon checks the peer's credentials (SO_PEERCRED: root, the daemon's
 * own user, or a member of the daemon's group) before reading it, answers
 * with a first line "ok" or "error: <reason>", then the body, and closes.
 * Requests: "status [json]" and "network [json]" (both answered with one
 * JSON object whether or not "json" is given: the daemon's status as data,
 * stub/daemon/status.c; dotctl renders its text view from it), and those of
 * the trust and discovery parts.
 */
#ifndef DOTSTUB_CTLPROTO_H
#define DOTSTUB_CTLPROTO_H

#define DS_CTL_LINE_MAX 4096
#define DS_CTL_MAX_ARGS 64

#endif
