/*
 * provision_text.c -- what every provisioning step shares: the error
 * message and the check of a host name given on the command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dotstub/provision.h"

void
ctl_prov_err(const char *fmt, ...)
{
	va_list ap;

	fputs("dotctl provision: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
ctl_prov_name_parse(const char *in, char *out, size_t size)
{
	size_t len = strlen(in), i, label = 0, labels = 1;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || len >= size)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (in[i] == '.') {
			if (label == 0 || in[i - 1] == '-')
				return -EINVAL;
			labels++;
			label = 0;
		} else if (!is_ldh(in[i]) || (in[i] == '-' && label == 0) ||
		    ++label > 63) {
			return -EINVAL;
		}
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' :
		    in[i];
	}
	if (label == 0 || in[len - 1] == '-' || labels < 2)
		return -EINVAL;
	out[len] = '\0';
	return 0;
}
