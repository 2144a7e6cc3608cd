/*
 * ub_load.h -- libunbound, mapped only while a discovery walk runs.
 *
 * dotstubd walks rarely (first use of a network, refresh), and a router
 * with a static upstream never does.  Linked normally, libunbound and what
 * it needs (nettle, hogweed, gmp) would stay mapped for the daemon's whole
 * life, about 0.6 MiB of resident pages.  So discovery/walk/walk_ub.c calls it
 * through this table, which dlopen(3)s the library when the first walk
 * starts and dlclose(3)s it when the last one ends.  The function types
 * come from <unbound.h> itself, so they cannot drift from the library's.
 *
 * Not a public interface: discovery/ only.
 */
#ifndef DOTSTUB_UB_LOAD_H
#define DOTSTUB_UB_LOAD_H

#include <stddef.h>

#include <unbound.h>

struct ub_lib {
	__typeof__(ub_ctx_create) *ctx_create;
	__typeof__(ub_ctx_delete) *ctx_delete;
	__typeof__(ub_ctx_set_option) *ctx_set_option;
	__typeof__(ub_ctx_set_fwd) *ctx_set_fwd;
	__typeof__(ub_ctx_add_ta) *ctx_add_ta;
	__typeof__(ub_ctx_async) *ctx_async;
	__typeof__(ub_fd) *fd;
	__typeof__(ub_process) *process;
	__typeof__(ub_resolve_async) *resolve_async;
	__typeof__(ub_resolve_free) *resolve_free;
	__typeof__(ub_cancel) *cancel;
	__typeof__(ub_strerror) *strerror;
};

/* The functions; valid only between ub_lib_get and ub_lib_put. */
extern struct ub_lib ub_lib_fn;

/* Take a reference, loading the library on the first one: 0, or -1 with
 * the reason in err.  Thread-safe. */
int ub_lib_get(char *err, size_t errlen);

/* Drop a reference taken by ub_lib_get; the last one unloads the library.
 * Nothing from it (contexts, results) may be left at that point. */
void ub_lib_put(void);

#endif
