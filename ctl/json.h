/*
 * json.h -- a small, strict JSON parser (RFC 8259) for what dotctl reads
 * from the daemon, and the string writer of what dotctl prints itself.  The input is treated as untrusted: its size, the
 * nesting depth and the number of values are bounded; anything that is not
 * exactly JSON (trailing commas, comments, bare words, control characters
 * or invalid UTF-8 in strings, lone surrogates, \u0000, duplicate keys,
 * trailing data) is an error with its offset.  Numbers are kept as their
 * text; strings are decoded to NUL-terminated UTF-8.
 */
#ifndef DOTSTUB_CTL_JSON_H
#define DOTSTUB_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CJ_MAX_INPUT (1u << 20)   /* octets */
#define CJ_MAX_DEPTH 32           /* nested arrays and objects */
#define CJ_MAX_VALUES 8192        /* values in one document */

enum cj_type { CJ_NULL, CJ_BOOL, CJ_NUMBER, CJ_STRING, CJ_ARRAY, CJ_OBJECT };

struct cj_value {
	enum cj_type type;
	bool boolean;               /* CJ_BOOL */
	char *text;                 /* CJ_STRING: decoded; CJ_NUMBER: as written */
	char *key;                  /* a member of an object: its name */
	struct cj_value *child;     /* CJ_ARRAY, CJ_OBJECT: the first element */
	struct cj_value *next;      /* the next element of the parent */
	size_t count;               /* CJ_ARRAY, CJ_OBJECT: elements */
	bool used;                  /* set by the lookups below (see status_text.c) */
};

/* Parse len octets of text (no NUL needed).  Returns the root, or NULL with
 * a message in err ("offset N: ..."). */
struct cj_value *cj_parse(const char *text, size_t len, char *err, size_t errlen);
void cj_free(struct cj_value *v);

/* The member key of object obj, or NULL (also when obj is not an object).
 * Does not mark it used. */
struct cj_value *cj_get(struct cj_value *obj, const char *key);
/* Typed lookups: true and *out set (and the member marked used) only when
 * the member exists with that type; a number must be a non-negative
 * integer that fits. */
bool cj_get_str(struct cj_value *obj, const char *key, const char **out);
bool cj_get_u64(struct cj_value *obj, const char *key, uint64_t *out);
bool cj_get_bool(struct cj_value *obj, const char *key, bool *out);
/* A number value as uint64 (same rule); does not mark. */
bool cj_u64(const struct cj_value *v, uint64_t *out);


#endif
