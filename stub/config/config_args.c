/*
 * config_args.c -- dotstubd's command line (dotstub/config.h,
 * ds_config_read): the configuration file -c names (or the default) is read
 * first, then every --KEY VALUE over it, and the flags.
 */
#include "dotstub-config.h"
#include "dotstub/config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"

static bool is_flag(const char *a, char s, const char *l)
{
	return (a[0] == '-' && a[1] == s && a[2] == '\0') || !strcmp(a, l);
}

/* The file named by -c/--config (or the default): first pass over argv. */
static void find_config_file(struct ds_config *c, int argc, char *const argv[])
{
	snprintf(c->config_file, sizeof(c->config_file), "%s", DS_DEFAULT_CONFIG);
	c->config_explicit = false;
	for (int i = 1; i < argc; i++) {
		if (is_flag(argv[i], 'c', "--config") && i + 1 < argc) {
			snprintf(c->config_file, sizeof(c->config_file), "%s", argv[++i]);
			c->config_explicit = true;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			snprintf(c->config_file, sizeof(c->config_file), "%s", argv[i] + 9);
			c->config_explicit = true;
		}
	}
}

/* A flag of the daemon (no value): 1 if a was one, 0 if not. */
static int take_flag(struct ds_config *c, const char *a)
{
	if (is_flag(a, 'f', "--foreground"))
		c->foreground = true;
	else if (is_flag(a, 'n', "--check"))
		c->check_only = true;
	else if (is_flag(a, 'v', "--verbose"))
		c->verbose = true;
	else if (!strcmp(a, "-nv") || !strcmp(a, "-vn"))
		c->check_only = c->verbose = true;
	else if (is_flag(a, 'h', "--help"))
		c->want_help = true;
	else if (is_flag(a, 'V', "--version"))
		c->want_version = true;
	else
		return 0;
	return 1;
}

/* One --KEY VALUE or --KEY=VALUE at argv[*i]; advances *i past a value. */
static int take_option(struct ds_config *c, int argc, char *const argv[], int *i, char *err,
		       size_t errlen)
{
	const char *a = argv[*i], *val, *eq;
	char key[64], sub[512];

	if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
		return config_fail(err, errlen, "unknown argument '%s' (see --help)", a);
	eq = strchr(a, '=');
	if (eq) {
		snprintf(key, sizeof(key), "%.*s", (int)(eq - a - 2), a + 2);
		val = eq + 1;
	} else {
		if (*i + 1 >= argc)
			return config_fail(err, errlen, "%s needs a value", a);
		snprintf(key, sizeof(key), "%s", a + 2);
		val = argv[++*i];
	}
	if (ds_config_set(c, key, val, true, sub, sizeof(sub)) < 0)
		return config_fail(err, errlen, "--%s: %s", key, sub);
	return 0;
}

int ds_config_read(struct ds_config *c, int argc, char *const argv[], char *err, size_t errlen)
{
	int r;

	find_config_file(c, argc, argv);
	for (int i = 1; i < argc; i++)
		if (is_flag(argv[i], 'c', "--config") && i + 1 >= argc)
			return config_fail(err, errlen, "%s needs a file", argv[i]);
	r = ds_config_load(c, c->config_file, err, errlen);
	if (r < 0 && !(r == -ENOENT && !c->config_explicit))
		return r;
	for (int i = 1; i < argc; i++) {
		if (is_flag(argv[i], 'c', "--config")) {
			i++;
			continue;
		}
		if (!strncmp(argv[i], "--config=", 9) || take_flag(c, argv[i]))
			continue;
		if (take_option(c, argc, argv, &i, err, errlen) < 0)
			return -EINVAL;
	}
	if (c->want_help || c->want_version)
		return 0;
	return ds_config_finish(c, err, errlen);
}
