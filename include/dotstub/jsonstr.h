/*
 * jsonstr.h -- strings in JSON (RFC 8259 7), the one escaping every part
 * uses: dotctl's output, a walk's result, the daemon's status.  Quotes
 * and backslashes get a backslash; control characters and octets outside
 * printable ASCII become \u00XX, so the output is ASCII whatever the
 * string holds.
 */
#ifndef DOTSTUB_JSONSTR_H
#define DOTSTUB_JSONSTR_H

#include <stddef.h>
#include <stdio.h>

/* The JSON form of the octet c into out (NUL-terminated, at most 6
 * octets and the NUL); returns its length. */
size_t ds_json_escape(unsigned char c, char out[8]);
/* s as a JSON string onto f, the quotes included. */
void ds_json_fputs(FILE *f, const char *s);

#endif
