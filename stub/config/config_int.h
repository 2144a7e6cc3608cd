/*
 * config_int.h -- what the files of the configuration share.
 */
#ifndef DOTSTUB_CONFIG_INT_H
#define DOTSTUB_CONFIG_INT_H

#include <stddef.h>

/* The message (printf) into err[errlen] if err is set; returns -EINVAL. */
int config_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
