/*
 * ub_load.c -- load libunbound for the duration of the walks (ub_load.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dotstub-config.h"
#include "dotstub/log.h"
#include "ub_load.h"

#ifndef DS_LIBUNBOUND_SONAME
#error "the build sets DS_LIBUNBOUND_SONAME (meson option libunbound-soname)"
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *handle;
static unsigned refs;
struct ub_lib ub_lib_fn;

/* sym: look NAME up into *slot; 0, or -1 with the reason in err. */
static int sym(void *h, const char *name, void **slot, char *err, size_t errlen)
{
	const char *why;

	dlerror();
	*slot = dlsym(h, name);
	if (*slot != NULL)
		return 0;
	why = dlerror();
	snprintf(err, errlen, "%s: no %s: %s", DS_LIBUNBOUND_SONAME, name,
		 why != NULL ? why : "null symbol");
	return -1;
}

static int load(char *err, size_t errlen)
{
	struct {
		const char *name;
		void **slot;
	} syms[] = {
		{ "ub_ctx_create", (void **)&ub_lib_fn.ctx_create },
		{ "ub_ctx_delete", (void **)&ub_lib_fn.ctx_delete },
		{ "ub_ctx_set_option", (void **)&ub_lib_fn.ctx_set_option },
		{ "ub_ctx_set_fwd", (void **)&ub_lib_fn.ctx_set_fwd },
		{ "ub_ctx_add_ta", (void **)&ub_lib_fn.ctx_add_ta },
		{ "ub_ctx_async", (void **)&ub_lib_fn.ctx_async },
		{ "ub_fd", (void **)&ub_lib_fn.fd },
		{ "ub_process", (void **)&ub_lib_fn.process },
		{ "ub_resolve_async", (void **)&ub_lib_fn.resolve_async },
		{ "ub_resolve_free", (void **)&ub_lib_fn.resolve_free },
		{ "ub_cancel", (void **)&ub_lib_fn.cancel },
		{ "ub_strerror", (void **)&ub_lib_fn.strerror },
	};
	const char *why;
	void *h;

	h = dlopen(DS_LIBUNBOUND_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		why = dlerror();
		snprintf(err, errlen, "cannot load %s: %s", DS_LIBUNBOUND_SONAME,
			 why != NULL ? why : "unknown error");
		return -1;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (sym(h, syms[i].name, syms[i].slot, err, errlen) < 0) {
			dlclose(h);
			memset(&ub_lib_fn, 0, sizeof(ub_lib_fn));
			return -1;
		}
	}
	handle = h;
	log_debug("discovery: %s loaded", DS_LIBUNBOUND_SONAME);
	return 0;
}

int ub_lib_get(char *err, size_t errlen)
{
	int r = -1;

	pthread_mutex_lock(&lock);
	if (refs > 0 || load(err, errlen) == 0) {
		refs++;
		r = 0;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void ub_lib_put(void)
{
	pthread_mutex_lock(&lock);
	if (refs > 0 && --refs == 0) {
		dlclose(handle);
		handle = NULL;
		memset(&ub_lib_fn, 0, sizeof(ub_lib_fn));
		log_debug("discovery: %s unloaded", DS_LIBUNBOUND_SONAME);
	}
	pthread_mutex_unlock(&lock);
}
