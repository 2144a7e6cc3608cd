/*
 * ddr_int.h -- what the files of the DDR/DNR parsers share (dotstub/ddr.h
 * is their interface).
 */
#ifndef DOTSTUB_DDR_INT_H
#define DOTSTUB_DDR_INT_H

#include <stddef.h>

#include "dotstub/ddr.h"

/* Write the reason (printf) into reason[reasonlen]; returns -EBADMSG. */
int ddr_reason(char *reason, size_t reasonlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
