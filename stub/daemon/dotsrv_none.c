/*
 * dotsrv_none.c -- a dotstubd built without the DoT server (meson option
 * dot-server=false: the OpenWrt package dotstub-basic, for routers whose
 * flash is small, behind dnsmasq).  The configuration refuses serve-dot
 * and publish yes there (stub/config/config.c), so these are never asked
 * to do anything: they say there is nothing to open, serve or publish.
 */
#include "daemon.h"
#include "dotsrv.h"

#include <errno.h>
#include <event2/buffer.h>
#include <string.h>

int ds_dotsrv_open(struct ds_daemon *d)
{
	(void)d;
	return 0;
}

int ds_dotsrv_start(struct ds_daemon *d)
{
	(void)d;
	return 0;
}

void ds_dotsrv_close(struct ds_daemon *d)
{
	(void)d;
}

int ds_dotsrv_reload_prepare(struct ds_daemon *d, const struct ds_config *n, char *why,
			     size_t whylen)
{
	(void)d, (void)n, (void)why, (void)whylen;
	return 0;
}

void ds_dotsrv_reload_commit(struct ds_daemon *d)
{
	(void)d;
}

void ds_dotsrv_reload_abort(struct ds_daemon *d)
{
	(void)d;
}

void ds_dotsrv_access_changed(struct ds_daemon *d)
{
	(void)d;
}

void ds_dotsrv_get_status(const struct ds_daemon *d, struct ds_dotsrv_status *st)
{
	(void)d;
	memset(st, 0, sizeof(*st));
}

int dotsrv_id_make(const struct ds_serve_dot_config *cfg, const char *state_dir, char *why,
		   size_t whylen)
{
	(void)cfg, (void)state_dir, (void)why, (void)whylen;
	return 0;
}

int ds_publishd_make_keys(const struct ds_config *c)
{
	(void)c;
	return 0;
}

int ds_publishd_open(struct ds_daemon *d, const char *name, const char *tlsa)
{
	(void)d, (void)name, (void)tlsa;
	return 0;
}

void ds_publishd_close(struct ds_daemon *d)
{
	(void)d;
}

bool ds_publishd_answer(struct ds_daemon *d, const struct dns_query *q, const struct ds_origin *o,
			size_t max, uint8_t *out, size_t *outlen)
{
	(void)d, (void)q, (void)o, (void)max, (void)out, (void)outlen;
	return false;
}

void ds_publishd_upstream(struct ds_daemon *d, const struct ds_upstream_desc *desc,
			  const struct trust_dnskey *key)
{
	(void)d, (void)desc, (void)key;
}

int ds_publishctl(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	(void)d;
	if (argc != 2 || strcmp(argv[1], "show") != 0)
		return -EINVAL;
	evbuffer_add_printf(out, "this dotstubd is built without the DoT server and publishing "
				 "(dot-server=false): nothing is published\n");
	return -ENOTSUP;
}
